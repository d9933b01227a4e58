"""Update docs/screenshot.png, the README's picture, on purpose (the tests never write into docs/).

Starts the studio under `streamlit run` with a throw-away data directory, generates the README's batch
offline in headless Chromium (the same steps tests/browser/test_generate_flow.py checks) and saves the page.

    python scripts/update-screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file, the repository's packages are not on the path

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.studio_page import SHOWCASE_VIEWPORT, launch_chromium, showcase_batch  # noqa: E402
from bench.studio_process import StudioProcess, free_port  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png", help="where to save the PNG")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="studio-screenshot-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "STUDIO_DATA_DIR": str(folder / "data")}
        env.pop("GEMINI_API_KEY", None)  # the picture shows offline mode, whatever this shell is connected to
        env.pop("GOOGLE_API_KEY", None)
        secrets = folder / "secrets.toml"  # empty: a developer's .streamlit/secrets.toml stays out of the picture
        secrets.write_text("")
        studio = StudioProcess(free_port(), env, folder / "streamlit.log", secrets).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                showcase_batch(page, studio.url, folder)
                page.set_viewport_size(SHOWCASE_VIEWPORT)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            studio.stop()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
