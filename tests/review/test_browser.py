"""The review dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

The whole pipeline runs first (audio registered and fingerprinted, a medley submitted,
matched and decided by the shipped policy: review), then a reviewer logs in, opens the
queue and the item, sees the match timeline, is refused an empty note, approves with a
note, and the distributor reads the final decision from the API.

No database access happens while Playwright runs: its sync API keeps an event loop
running in this thread, where Django refuses synchronous ORM calls.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from checks.models import CheckMatch
from registry.models import ProvenanceEvent
from review import demo
from review.models import ReviewItem

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
    ),
]


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def test_a_reviewer_approves_a_flagged_check_in_the_browser(
    live_server: Any, media_root: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    built = demo.build(seconds=40.0)
    check = built.review_check
    item = built.check_item
    token = Token.objects.get(user=built.distributor_user).key
    expected = [
        {
            "data-recording": str(m.recording_id),
            "data-query-start-s": f"{m.query_start_s:.2f}",
            "data-query-end-s": f"{m.query_end_s:.2f}",
            "data-reference-start-s": f"{m.reference_start_s:.2f}",
            "data-reference-end-s": f"{m.reference_end_s:.2f}",
        }
        for m in CheckMatch.objects.filter(submission=check).order_by("query_start_s", "id")
    ]
    assert len(expected) == 2  # the medley reuses two registered recordings
    queue_order = [built.check_item.pk, built.dispute_item.pk, built.conflict_item.pk]  # type: ignore[union-attr]
    base = live_server.url
    note = "Generation licensed from Sonic Forge AI; the distributor corrects the AI disclosure."

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            # Log in: the admin index counts the queue.
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", demo.REVIEWER)
            page.fill("#id_password", demo.PASSWORD)
            page.click("input[type=submit]")
            panel = page.locator("#review-queue-panel")
            expect(panel.locator("[data-count=waiting]")).to_have_text("3")
            expect(panel.locator("[data-count=overdue]")).to_have_text("0")

            # The queue: most urgent first, then oldest.
            panel.get_by_role("link", name="Review queue").click()
            expect(page.locator("h1")).to_have_text("Review queue")
            links = page.locator("#result_list a.rv-item-link")
            expect(links).to_have_count(3)
            hrefs = [links.nth(i).get_attribute("href") for i in range(3)]
            assert hrefs == [f"/admin/review/reviewitem/{pk}/review/" for pk in queue_order]

            # The item: the match timeline, each segment with where it comes from.
            links.first.click()
            expect(page.locator(".rv-kicker")).to_have_text(f"Review #{item.pk} · Check")
            expect(page.locator("h1")).to_have_text(
                f"Check {check.pk} · \u201cHarbour Nights\u201d"
            )
            segments = page.locator("svg.review-timeline rect.segment")
            expect(segments).to_have_count(2)
            for index, attributes in enumerate(expected):
                segment = segments.nth(index)
                expect(segment).to_be_visible()
                for name, value in attributes.items():
                    expect(segment).to_have_attribute(name, value)
            expect(page.locator("svg.review-timeline rect.reference-segment")).to_have_count(2)
            box = segments.first.bounding_box()
            assert box is not None and box["width"] > 50  # 14 s of 43 s is drawn, not a sliver
            expect(page.locator("#rv-decision")).to_contain_text("ai-generation-as-human")
            expect(page.locator("#rv-evidence")).to_contain_text("registered as all AI")

            # An empty note is refused, and nothing changes.
            page.click("button[value=approve]")
            expect(page.locator("#rv-form-error")).to_have_text(
                "Write a note: every review action needs one."
            )
            expect(page.locator("#rv-state")).to_have_text("Open")

            # Approve with a note: back to the queue, which no longer holds the item.
            page.fill("#id_note", note)
            page.click("button[value=approve]")
            expect(page.locator("ul.messagelist")).to_contain_text(
                f"Review #{item.pk} (check {check.pk}): approve (allow)."
            )
            expect(page.locator("#result_list a.rv-item-link")).to_have_count(2)

            # The distributor reads the final decision from the API.
            response = page.request.get(
                f"{base}/api/v1/checks/{check.pk}/review/",
                headers={"Authorization": f"Token {token}"},
            )
            assert response.status == 200
            review = response.json()
            # ... and the same in the check's own verdict.
            verdict = page.request.get(
                f"{base}/api/v1/checks/{check.pk}/", headers={"Authorization": f"Token {token}"}
            ).json()
            assert verdict["review"]["final_action"] == "allow"
            assert verdict["review"]["state"] == "approved"
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    assert {k: review[k] for k in ("state", "final_action", "note", "reviewer")} == {
        "state": "approved",
        "final_action": "allow",
        "note": note,
        "reviewer": demo.REVIEWER,
    }
    item.refresh_from_db()
    assert (item.state, item.final_action, item.resolution_note) == ("approved", "allow", note)
    event = ProvenanceEvent.objects.get(
        action="review.resolve", object_type="review.reviewitem", object_id=str(item.pk)
    )
    assert (event.actor_user, event.before["state"], event.after["final_action"]) == (
        demo.REVIEWER,
        "open",
        "allow",
    )
    assert ReviewItem.objects.filter(state="open").count() == 2
