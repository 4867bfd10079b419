"""Save a PNG of a report page with a headless Chromium (a development aid, not used by runs).

    python -m farm.report._screenshot report.html report.png [--chromium /usr/bin/chromium]

Needs the `playwright` package and a Chromium binary; it never downloads a browser.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from farm.errors import FarmError

#: Flags that keep Chromium from contacting any service while it renders a local file.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def screenshot(
    html_path: Path,
    png_path: Path,
    chromium: Path = Path("/usr/bin/chromium"),
    open_first_conversation: bool = True,
    width: int = 1400,
) -> Path:
    """Render `html_path` and save a full-page PNG, optionally with one transcript open."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise FarmError(
            "screenshots need playwright: pip install playwright (no browser download needed)."
        ) from error
    if not chromium.is_file():
        raise FarmError(f"Chromium not found at {chromium}; pass --chromium PATH.")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(html_path.resolve().as_uri())
            page.wait_for_selector("body[data-transcripts-ready='true']", timeout=30_000)
            if open_first_conversation and page.locator("#conversation-list tr").count():
                page.locator("#conversation-list tr").first.click()
                page.wait_for_selector("#conversation-view h3", timeout=30_000)
            page.screenshot(path=str(png_path), full_page=True)
        finally:
            browser.close()
    return png_path


def _main() -> None:
    parser = argparse.ArgumentParser(description="Save a PNG screenshot of a farm HTML report.")
    parser.add_argument("html", type=Path, help="report HTML file")
    parser.add_argument("png", type=Path, help="PNG file to write")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    arguments = parser.parse_args()
    print(screenshot(arguments.html, arguments.png, arguments.chromium))


if __name__ == "__main__":
    _main()
