"""The live panel's first picture reaches the browser first: its frame leaves before the wait, not after.

The panel's run draws the grid's containers, waits for the runner, then draws the answer's picture into its
card. Drawn after the wait, those containers were eight messages the browser took ahead of the picture
(docs/PERFORMANCE.md, "the frame before the wait"). The page records each websocket message it receives and
when a run starts; the emulator records when it began the request, so "before the answer" is certain.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench import studio_page
from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer

from .test_jobs import LANDED_S, connect, open_buttons

pytestmark = pytest.mark.browser
LATENCY_S = 0.7  # under the panel's wait budget (0.9 s): the answer comes while the panel's run waits

# every message the page receives (wall-clock ms, whether it carries the live picture) and every run's start
_SPY_JS = """(() => {
  window.__messages = [];
  window.__runs = [];
  const Native = window.WebSocket;
  const words = new TextDecoder();
  class Spy extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => {
        const text = e.data instanceof ArrayBuffer ? words.decode(e.data) : String(e.data);
        window.__messages.push([Date.now(), text.includes('Saving to History')]);
      });
    }
  }
  window.WebSocket = Spy;
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid=stApp]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state !== window.__lastState) {
      window.__lastState = state;
      if (state === 'running') window.__runs.push(Date.now());
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
})()"""


def test_the_live_picture_is_the_first_message_after_the_answer(
        page: Page, start_studio: Callable[..., StudioProcess],
        fresh_emulator: Callable[..., EmulatorServer]) -> None:
    api = fresh_emulator(latency_s=LATENCY_S)
    begun: list[float] = []
    real_begin = api.state.begin

    def begin(method: str) -> int:
        begun.append(time.time() * 1000)
        return real_begin(method)

    api.state.begin = begin  # type: ignore[method-assign]  # our emulator, counted: not the SDK
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})
    page.add_init_script(_SPY_JS)
    connect(page, studio.url)
    checked, skipped = 0, []
    for round_ in range(4):  # two checked rounds: the second time the grid has a card already, drawn early too
        page.evaluate("() => { window.__messages = []; window.__runs = []; }")
        studio_page.generate(page, f"a picture that leaves first #{round_}")
        expect(open_buttons(page)).to_have_count(round_ + 1, timeout=LANDED_S)
        answered_after = begun[-1] + LATENCY_S * 1000  # the emulator cannot answer earlier than this
        messages = page.evaluate("() => window.__messages")
        runs = page.evaluate("() => window.__runs")
        timeline = (f"{len(begun)} requests, {len(messages)} messages since the click; "
                    f"ms after the earliest answer: runs {[round(t - answered_after) for t in runs]}, messages "
                    f"{[(round(t - answered_after), 'picture' if p else '') for t, p in messages if t > answered_after - 300]}")
        pictures = [i for i, (_, has_picture) in enumerate(messages) if has_picture]
        picture_at = messages[pictures[0]][0] if pictures else None
        run_started = max((t for t in runs if picture_at is not None and t <= picture_at), default=None)
        if picture_at is None or run_started is None or run_started >= answered_after:
            # a loaded machine may land the final image before the panel drew its picture, or start the panel's
            # run only after the answer: then there is no waiting run to check this time
            skipped.append(timeline)
            continue
        ahead = [t for t, _ in messages[:pictures[0]] if t >= answered_after]
        assert not ahead, f"{len(ahead)} message(s) of the panel reached the page after the answer and before " \
                          f"its picture: {timeline}"
        checked += 1
        if checked == 2:
            break
    assert checked == 2, f"no waiting run drew the picture in {len(skipped)} of 4 rounds: {skipped}"
