"""The unsent text of a box survives a reload of the same browser (localStorage, in that browser only).

A reload starts a new Streamlit session, which knows nothing of what was typed. The browser keeps the
box's text in its own localStorage as it is typed and puts it back into an empty box after a reload; the
restored text is committed like typed text. Only boxes named here are kept: never a key or a password.
A box kept with ``sent_with`` forgets its draft when that button is pressed (by click or Ctrl/Cmd+Enter): a sent
Edit instruction must not come back when the person returns to that version.
"""

from __future__ import annotations

from components import page_js

STORAGE_PREFIX = "nano-banana-studio.draft."

_SCRIPT = """
const kept = (window.__studioDrafts = window.__studioDrafts || new Set());
kept.add(ARGS.box);
const storageKey = (box) => ARGS.prefix + box;
const sentBy = (window.__studioDraftSentBy = window.__studioDraftSentBy || {});
if (ARGS.sentWith) (sentBy[ARGS.box] = sentBy[ARGS.box] || new Set()).add(ARGS.sentWith);
if (!window.__studioDraftSentListener) {
  window.__studioDraftSentListener = true;
  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!target || !target.closest) return;
    for (const [box, buttons] of Object.entries(window.__studioDraftSentBy)) {
      if (![...buttons].some((button) => target.closest(".st-key-" + button))) continue;
      try { localStorage.removeItem(ARGS.prefix + box); } catch (e) { /* blocked: nothing was kept */ }
    }
  }, true);
}
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


def keep_draft(box_key: str, sent_with: str = "") -> None:
    """Keep the text of the box keyed ``box_key`` in this browser until the box is emptied, or until the button
    keyed ``sent_with`` sends it."""
    page_js.run(f"draft_{box_key}", _SCRIPT, box=box_key, prefix=STORAGE_PREFIX, sentWith=sent_with)
