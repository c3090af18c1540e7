"""Screenshots of the review dashboard for docs/review.md: `.venv/bin/python docs/screenshots/take.py`.

Runs a one-off pytest session on a throwaway test database (PostgreSQL, as `make test`
uses): the live server, the demo queue built through the real services (review.demo),
and Debian's chromium driven by Playwright. The PNGs land beside this file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
SHOTS = {
    "review-index.png": "the admin index with the review queue panel",
    "review-queue.png": "the review queue",
    "review-item.png": "the review page of a check the policy sent to review",
    "review-conflict.png": "the review page of an ownership conflict",
}

if __name__ == "__main__":
    import pytest

    os.chdir(ROOT)
    os.environ.setdefault("TEST_DATABASE_NAME", "test_review_screenshots")
    sys.exit(
        pytest.main(
            [
                str(Path(__file__)),
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "python_files=take.py",
                "--rootdir",
                str(ROOT),
            ]
        )
    )

import pytest  # noqa: E402 -- only once pytest runs this file


@pytest.mark.django_db(transaction=True)
def test_take_screenshots(live_server: Any, settings: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from review import demo

    settings.MEDIA_ROOT = tmp_path / "media"
    built = demo.build()
    check_url = f"/admin/review/reviewitem/{built.check_item.pk}/review/"
    conflict_url = f"/admin/review/reviewitem/{built.conflict_item.pk}/review/"  # type: ignore[union-attr]
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", demo.REVIEWER)
        page.fill("#id_password", demo.PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#review-queue-panel")
        page.screenshot(path=str(HERE / "review-index.png"))
        page.goto(f"{base}/admin/review/reviewitem/")
        page.screenshot(path=str(HERE / "review-queue.png"))
        page.goto(f"{base}{check_url}")
        page.fill(
            "#id_note", "Generation licensed from Sonic Forge AI; disclosure to be corrected."
        )
        page.screenshot(path=str(HERE / "review-item.png"), full_page=True)
        page.goto(f"{base}{conflict_url}")
        page.screenshot(path=str(HERE / "review-conflict.png"), full_page=True)
        browser.close()
    for name, what in SHOTS.items():
        print(f"{HERE / name}: {what}")
