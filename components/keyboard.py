"""Ctrl+Enter (Cmd+Enter on a Mac) in a text box presses the page's main button.

Generic on purpose: the Generate page pairs its prompt box with Generate, the Edit page its instruction box
with Apply edit (``submit_on_ctrl_enter("<box key>", "<button key>")`` anywhere on the page).
Streamlit's own Ctrl+Enter commits the box's text first; the click follows in the next task, so the run it
starts carries the text as typed.
"""

from __future__ import annotations

from components import page_js

_SCRIPT = """
const pairs = (window.__studioSubmitPairs = window.__studioSubmitPairs || {});
pairs[ARGS.box] = ARGS.button;
if (window.__studioSubmitKeys) return;
window.__studioSubmitKeys = true;
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
  const target = event.target;
  if (!target || !target.closest) return;
  for (const [box, button] of Object.entries(window.__studioSubmitPairs)) {
    if (!target.closest(".st-key-" + box)) continue;
    event.preventDefault();
    setTimeout(() => {
      const pressed = document.querySelector(".st-key-" + button + " button");
      if (pressed && !pressed.disabled) pressed.click();
    }, 0);
    return;
  }
}, true);
"""


def submit_on_ctrl_enter(box_key: str, button_key: str) -> None:
    """Ctrl/Cmd+Enter in the widget keyed ``box_key`` clicks the button keyed ``button_key``."""
    page_js.run(f"keys_{box_key}", _SCRIPT, box=box_key, button=button_key)
