"""Compare two images: side by side, and a before/after slider dragged on the image itself.

The slider runs in the browser (a small inline component, plain JS, no build step): a drag moves a clip
on two stacked pictures and never reaches the server. Both pictures travel downscaled, with the run that draws them.
"""

from __future__ import annotations

import streamlit as st

from components import services
from components.plain import md_escape
from studio import images
from studio.history import Entry

SLIDER_SIDE = 1024  # the slider's pictures: sharp enough beside the page, small on the wire (sent with each run)

_CSS = """
.nb-cmp {position: relative; width: 100%; user-select: none; touch-action: none; cursor: ew-resize;
  line-height: 0; border-radius: .5rem; overflow: hidden;}
.nb-cmp img {width: 100%; height: auto; display: block; pointer-events: none;}
.nb-cmp .nb-before {position: absolute; inset: 0; clip-path: inset(0 50% 0 0);}
.nb-cmp .nb-line {position: absolute; top: 0; bottom: 0; left: 50%; width: 3px; margin-left: -1px;
  background: #fff; box-shadow: 0 0 4px rgba(0,0,0,.6);}
.nb-cmp .nb-knob {position: absolute; top: 50%; left: 50%; width: 44px; height: 44px; margin: -22px 0 0 -22px;
  border-radius: 50%; background: #fff; color: #333; font: 600 16px/44px sans-serif; text-align: center;
  box-shadow: 0 1px 6px rgba(0,0,0,.5);}
.nb-cmp .nb-tag {position: absolute; top: 8px; padding: 2px 8px; border-radius: 4px; background: rgba(0,0,0,.6);
  color: #fff; font: 13px/20px sans-serif;}
.nb-cmp .nb-tag.left {left: 8px;} .nb-cmp .nb-tag.right {right: 8px;}
.nb-cmp-pos {text-align: center; font: 14px/28px sans-serif; color: var(--st-text-color, inherit);}
"""

_JS = """
export default function(component) {
  const { data, parentElement } = component;
  let root = parentElement.querySelector('.nb-cmp-root');
  if (!root) { root = document.createElement('div'); root.className = 'nb-cmp-root'; parentElement.appendChild(root); }
  if (root.dataset.key === data.key) return;  // same pair: keep where the person left the line
  root.dataset.key = data.key;
  root.innerHTML = '';
  const box = document.createElement('div');
  box.className = 'nb-cmp'; box.tabIndex = 0; box.setAttribute('role', 'slider');
  box.setAttribute('aria-label', 'Before and after: drag to compare');
  box.setAttribute('aria-valuemin', '0'); box.setAttribute('aria-valuemax', '100');
  const after = new Image(); after.src = data.after; after.alt = 'After';
  const before = new Image(); before.src = data.before; before.alt = 'Before'; before.className = 'nb-before';
  const line = document.createElement('div'); line.className = 'nb-line';
  const knob = document.createElement('div'); knob.className = 'nb-knob'; knob.textContent = '⇔';
  const left = document.createElement('span'); left.className = 'nb-tag left'; left.textContent = data.before_label;
  const right = document.createElement('span'); right.className = 'nb-tag right'; right.textContent = data.after_label;
  box.append(after, before, line, knob, left, right);
  const pos = document.createElement('div'); pos.className = 'nb-cmp-pos';
  root.append(box, pos);
  const show = (p) => {
    p = Math.max(0, Math.min(100, p));
    before.style.clipPath = `inset(0 ${100 - p}% 0 0)`;
    line.style.left = knob.style.left = p + '%';
    box.setAttribute('aria-valuenow', String(Math.round(p)));
    pos.textContent = `Before ◀ ${Math.round(p)}% ▶ After`;
  };
  const at = (e) => { const r = box.getBoundingClientRect(); return (e.clientX - r.left) / r.width * 100; };
  let dragging = false;
  box.addEventListener('pointerdown', (e) => { dragging = true; box.setPointerCapture(e.pointerId); show(at(e)); });
  box.addEventListener('pointermove', (e) => { if (dragging) show(at(e)); });
  box.addEventListener('pointerup', () => { dragging = false; });
  box.addEventListener('keydown', (e) => {
    const now = Number(box.getAttribute('aria-valuenow'));
    const to = {ArrowLeft: now - 5, ArrowRight: now + 5, Home: 0, End: 100}[e.key];
    if (to !== undefined) { e.preventDefault(); show(to); }
  });
  show(50);
}
"""

_SLIDER = st.components.v2.component("nano_banana_compare_slider", css=_CSS, js=_JS)


def label(entry: Entry, number: int | None = None) -> str:
    head = f"v{number}" if number is not None else entry.created.strftime("%Y-%m-%d %H:%M")
    return f"{head} · {md_escape(entry.prompt, limit=41)}"  # a caption is markdown: the prompt is not ours


@st.cache_data(max_entries=16, show_spinner=False)
def _slider_picture(namespace: str, entry_id: str) -> str | None:
    """A downscaled data: URL, keyed by entry id (an entry's image never changes), so 4K bytes are never hashed."""
    data = services.get_store().read_image(namespace, entry_id)
    if data is None:
        return None
    try:
        return images.data_url(images.make_thumbnail(data, SLIDER_SIDE), "image/jpeg")
    except OSError:
        return None


def render_compare(first: Entry, second: Entry, key: str, first_label: str = "", second_label: str = "") -> None:
    """The before/after slider on the image itself (left of the line the first), then both side by side."""
    store, namespace = services.get_store(), services.current_namespace()
    before, after = _slider_picture(namespace, first.id), _slider_picture(namespace, second.id)
    if before is None or after is None:
        st.warning("One of these images is no longer in History, so they cannot be compared.", icon="🖼️")
        return
    first_label, second_label = first_label or label(first), second_label or label(second)
    _SLIDER(key=f"compare_slider_{key}", data={
        "key": f"{first.id}:{second.id}", "before": before, "after": after,
        # plain text in the picture (set as textContent): the short head of each label, never markdown
        "before_label": "◀ " + first_label.split(" · ")[0],
        "after_label": second_label.split(" · ")[0] + " ▶"})
    left, right = st.columns(2)
    for column, entry, picture, caption in ((left, first, before, f"Before · {first_label}"),
                                            (right, second, after, f"After · {second_label}")):
        column.image(store.read_thumbnail(namespace, entry.id) or picture, caption=caption, width="stretch")
