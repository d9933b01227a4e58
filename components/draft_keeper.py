"""The unsent text of a box survives a reload of the same browser (localStorage, in that browser only).

A reload starts a new Streamlit session, which knows nothing of what was typed. The browser keeps the
box's text in its own localStorage as it is typed and puts it back into an empty box after a reload; the
restored text is committed like typed text. Only boxes named here are kept: never a key or a password.
"""

from __future__ import annotations

from components import page_js

STORAGE_PREFIX = "nano-banana-studio.draft."

_SCRIPT = """
const kept = (window.__studioDrafts = window.__studioDrafts || new Set());
kept.add(ARGS.box);
const storageKey = (box) => ARGS.prefix + box;
if (!window.__studioDraftListener) {
  window.__studioDraftListener = true;
  document.addEventListener("input", (event) => {
    const target = event.target;
    if (!target || !target.closest || event.__studioRestore) return;
    for (const box of window.__studioDrafts) {
      if (!target.closest(".st-key-" + box)) continue;
      try {
        if (target.value) localStorage.setItem(storageKey(box), target.value);
        else localStorage.removeItem(storageKey(box));
      } catch (e) { /* storage full or blocked: nothing to keep */ }
    }
  }, true);
}
let saved = null;
try { saved = localStorage.getItem(storageKey(ARGS.box)); } catch (e) { return; }
if (!saved) return;
const started = Date.now();
const restore = () => {
  const box = document.querySelector(".st-key-" + ARGS.box + " textarea, .st-key-" + ARGS.box + " input");
  if (!box) { if (Date.now() - started < 10000) setTimeout(restore, 100); return; }
  if (box.value || box.dataset.draftRestored) return;
  box.dataset.draftRestored = "1";
  const proto = box instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(box, saved);
  box.dispatchEvent(new Event("input", { bubbles: true }));
  box.dispatchEvent(new FocusEvent("focusout", { bubbles: true }));  // commits it, as leaving the box does
};
restore();
"""


def keep_draft(box_key: str) -> None:
    """Keep the text of the box keyed ``box_key`` in this browser until the box is emptied."""
    page_js.run(f"draft_{box_key}", _SCRIPT, box=box_key, prefix=STORAGE_PREFIX)
