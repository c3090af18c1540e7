"""The review dashboard in the admin: who gets in, the queue and its filters, the page, the actions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from registry.models import ProvenanceEvent
from registry.provenance import Actor
from review import services
from review.models import ReviewItem

from .conftest import Found, make_check, make_staff

pytestmark = pytest.mark.django_db
QUEUE = "/admin/review/reviewitem/"


def page_url(item: ReviewItem) -> str:
    return f"{QUEUE}{item.pk}/review/"


def open_item(check) -> ReviewItem:
    item = services.review_open_for_check(check=check, decision=check.decision)
    assert item is not None
    return item


def listed(response) -> list[int]:
    return [item.pk for item in response.context["cl"].result_list]


# ---------------------------------------------------------------- who gets in


def test_organisation_users_never_reach_the_admin(client, catalogue, review_check):
    item = open_item(review_check)
    client.force_login(catalogue.distributor.user)

    for url in (QUEUE, page_url(item), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_review_permissions_are_refused(client, review_check):
    item = open_item(review_check)
    client.force_login(make_staff("sam-staff"))

    assert client.get(QUEUE).status_code == 403
    assert client.get(page_url(item)).status_code == 403
    assert client.post(page_url(item), {"action": "approve", "note": "x"}).status_code == 403
    assert b"review-queue-panel" not in client.get("/admin/").content
    item.refresh_from_db()
    assert item.state == "open"


def test_a_viewer_sees_but_cannot_act(client, viewer, review_check):
    item = open_item(review_check)
    client.force_login(viewer)

    page = client.get(page_url(item))
    assert page.status_code == 200
    assert b'id="rv-action-form"' not in page.content
    assert b"acting needs the" in page.content
    assert client.post(page_url(item), {"action": "approve", "note": "x"}).status_code == 403
    item.refresh_from_db()
    assert item.state == "open"


# ---------------------------------------------------------------- the queue


def test_the_queue_is_ordered_by_priority_then_age(client, reviewer, catalogue, conflict):
    now = timezone.now()
    made = {}
    for name, priority, age_days in [
        ("normal-old", "normal", 9),
        ("urgent-new", "urgent", 1),
        ("low-oldest", "low", 20),
        ("normal-new", "normal", 2),
        ("urgent-old", "urgent", 5),
    ]:
        check = make_check(catalogue.distributor, [Found(catalogue.ai_recording, 0, 15, 0, 15)])
        item = open_item(check)
        ReviewItem.objects.filter(pk=item.pk).update(
            priority=priority,
            priority_rank={"low": 0, "normal": 1, "urgent": 3}[priority],
            created_at=now - dt.timedelta(days=age_days),
        )
        made[name] = item.pk
    client.force_login(reviewer)

    response = client.get(QUEUE)

    assert response.status_code == 200
    # The conflict's own item, opened when the registry detected it (normal, today).
    conflict_item = ReviewItem.objects.get(conflict=conflict).pk
    assert listed(response) == [
        made["urgent-old"],
        made["urgent-new"],
        made["normal-old"],
        made["normal-new"],
        conflict_item,
        made["low-oldest"],
    ]


def test_the_queue_shows_what_waits_and_hides_what_is_decided(client, reviewer, review_check):
    item = open_item(review_check)
    client.force_login(reviewer)
    assert listed(client.get(QUEUE)) == [item.pk]

    services.review_resolve(actor=Actor.for_user(reviewer), item=item, action="approve", note="ok")

    assert listed(client.get(QUEUE)) == []
    assert listed(client.get(QUEUE + "?state=all")) == [item.pk]
    assert listed(client.get(QUEUE + "?state=approved")) == [item.pk]


@pytest.fixture
def mixed_queue(catalogue, conflict, review_check, licence_check, make_org):
    """A check in review (US, GB, DE; AI detected), a dispute (WORLD), a conflict (WORLD)."""
    check_item = open_item(review_check)
    dispute = services.dispute_open_for_check(
        actor=catalogue.distributor_actor, check=licence_check, reason="We hold a licence."
    )
    conflict_item = services.review_open_for_conflict(conflict=conflict, actor=Actor.system("r"))
    japan = make_check(
        catalogue.distributor,
        [Found(catalogue.ai_recording, 0, 15, 0, 15)],
        territories=["JP"],
    )
    return {
        "check": check_item,
        "dispute": ReviewItem.objects.get(dispute=dispute),
        "conflict": conflict_item,
        "japan": open_item(japan),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=conflict", ["conflict"]),
        ("reason=dispute+of+a+decision", ["dispute"]),
        ("territory=US", ["check", "dispute", "conflict"]),  # worldwide items include the US
        ("territory=JP", ["dispute", "conflict", "japan"]),
        ("territory=WORLD", ["dispute", "conflict"]),
        ("ai=detected_ai", ["check", "japan"]),
        ("ai=no_evidence", ["dispute"]),
        ("ai_source=spectral", ["check"]),
        ("ai_source=registry", ["check", "japan"]),
        ("priority=high", ["check", "dispute", "japan"]),
    ],
)
def test_the_queue_filters(client, reviewer, mixed_queue, query, expected):
    client.force_login(reviewer)

    response = client.get(f"{QUEUE}?{query}")

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(mixed_queue[name].pk for name in expected)


def test_the_queue_filters_by_organisation(client, reviewer, mixed_queue, rival):
    client.force_login(reviewer)

    response = client.get(f"{QUEUE}?organizations__id__exact={rival.organization.pk}")

    assert listed(response) == [mixed_queue["conflict"].pk]


def test_overdue_items_are_marked_and_filtered(client, reviewer, mixed_queue):
    late = mixed_queue["conflict"]
    ReviewItem.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(reviewer)

    response = client.get(f"{QUEUE}?due=overdue")

    assert listed(response) == [late.pk]
    assert b'class="rv-overdue rv-nowrap">overdue' in response.content


def test_the_admin_index_counts_the_queue(client, reviewer, mixed_queue):
    ReviewItem.objects.filter(pk=mixed_queue["conflict"].pk).update(
        due_at=timezone.now() - dt.timedelta(days=1)
    )
    client.force_login(reviewer)

    html = client.get("/admin/").content.decode()

    counts = dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', html))
    assert counts == {"waiting": "4", "overdue": "1", "due-soon": "0", "escalated": "0"}
    check_row = re.search(r'<tr data-kind="check">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r'data-priority="(\w+)">(?:<a [^>]*>)?(\d+)', check_row) == [
        ("low", "0"),
        ("normal", "0"),
        ("high", "2"),
        ("urgent", "0"),
    ]
    assert 'href="/admin/review/reviewitem/?due=overdue"' in html


# ---------------------------------------------------------------- one item


def test_the_review_page_shows_the_evidence_at_a_glance(client, reviewer, catalogue, review_check):
    item = open_item(review_check)
    client.force_login(reviewer)

    response = client.get(page_url(item))

    assert response.status_code == 200
    html = response.content.decode()
    # The match: the segment on the submission, and where it comes from in the reference.
    (segment,) = re.findall(r'<rect class="segment"[^>]*>', html)
    assert f'data-recording="{catalogue.ai_recording.pk}"' in segment
    assert 'data-query-start-s="15.00"' in segment and 'data-query-end-s="30.00"' in segment
    assert 'data-reference-start-s="60.00"' in segment and 'data-reference-end-s="75.00"' in segment
    assert len(re.findall(r'<rect class="reference-segment"', html)) == 1
    # Side by side: what was declared against what is registered, differences marked.
    title = response.context["comparison"][0]
    assert (title.label, title.submission, title.references[0].text) == (
        "Title",
        review_check.declared["title"],
        "Glass Harbour",
    )
    assert title.references[0].differs
    ai_row = next(r for r in response.context["comparison"] if r.label == "AI involvement")
    assert ai_row.submission == "none"
    assert ai_row.references[0].text == "all (Sonic Forge AI Forge-2)"
    assert ai_row.references[0].differs
    # The evidence (strongest first), its spectral plot, the C2PA summary.
    assert re.findall(r'<tr data-source="(\w+)"', html) == ["c2pa", "registry", "spectral"]
    assert '<svg class="review-fakeprint"' in html
    assert 'data-peaks="2"' in html and "peaks at 11.03, 16.54 kHz" in html
    assert "signed by a trusted signer" in html and "trainedAlgorithmicMedia" in html
    # The decision, with the rules that fired.
    assert re.findall(r'data-rule="([\w.-]+)"', html) == [
        "ai-generation-as-human",
        "undisclosed-ai",
    ]
    assert "Decision: send to review (high priority)." in html
    # The provenance of every object involved.
    labels = [h["label"] for h in response.context["histories"]]
    assert labels == [
        f"Review item #{item.pk}",
        f"Check #{review_check.pk}",
        f"Decision #{review_check.decision_id}",
        f"Recording #{catalogue.ai_recording.pk} \u201cGlass Harbour\u201d",
    ]
    assert 'data-action="review.open"' in html and 'data-action="recording.register"' in html
    assert 'data-action="decision.create"' in html
    assert "If nobody decides by" in html and "<strong>allow</strong>" in html


def test_a_page_without_ai_evidence_or_plots_still_reads(
    client, reviewer, catalogue, licence_check
):
    dispute = services.dispute_open_for_check(
        actor=catalogue.distributor_actor, check=licence_check, reason="We hold a <b>licence</b>."
    )
    item = ReviewItem.objects.get(dispute=dispute)
    client.force_login(reviewer)

    html = client.get(page_url(item)).content.decode()

    assert "No evidence of AI origin was found." in html
    assert "review-fakeprint" not in html and "C2PA manifest" not in html
    assert "We hold a &lt;b&gt;licence&lt;/b&gt;." in html
    assert "the decision in force stands (<strong>require_licence</strong>)" in html


def test_a_conflict_page_shows_the_shares(client, reviewer, conflict):
    item = services.review_open_for_conflict(conflict=conflict, actor=Actor.system("r"))
    client.force_login(reviewer)

    response = client.get(page_url(item))

    assert response.status_code == 200
    shares = response.context["conflict"]["shares"]
    assert sorted((s["owner"], str(s["share_pct"])) for s in shares) == [
        ("Aurora Records", "100.000"),
        ("Southern Cross Music", "100.000"),
    ]
    assert "Recording QZ-DA6-26-00302</strong>: shares add up to" in response.content.decode()
    assert b'<strong class="rv-warn">200%</strong> worldwide, for every usage' in response.content
    assert b"it is escalated (ownership has no automatic outcome)" in response.content
    labels = [h["label"] for h in response.context["histories"]]
    assert labels == [f"Review item #{item.pk}", f"Conflict #{conflict.pk}"]


def test_the_stock_change_page_leads_to_the_review_page(client, reviewer, review_check):
    item = open_item(review_check)
    client.force_login(reviewer)

    response = client.get(f"{QUEUE}{item.pk}/change/")

    assert (response.status_code, response["Location"]) == (302, page_url(item))


def test_an_unknown_item_is_a_404(client, reviewer):
    client.force_login(reviewer)

    assert client.get(f"{QUEUE}999999/review/").status_code == 404


# ---------------------------------------------------------------- acting


def test_an_empty_note_is_refused_and_nothing_changes(client, reviewer, review_check):
    item = open_item(review_check)
    client.force_login(reviewer)

    response = client.post(page_url(item), {"action": "approve", "note": "   "})

    assert response.status_code == 400
    assert b"Write a note: every review action needs one." in response.content
    item.refresh_from_db()
    assert item.state == "open"
    assert not ProvenanceEvent.objects.filter(action="review.resolve").exists()
    assert LogEntry.objects.count() == 0


def test_approving_with_a_note_decides_logs_and_returns_to_the_queue(
    client, reviewer, review_check
):
    item = open_item(review_check)
    client.force_login(reviewer)

    response = client.post(
        page_url(item), {"action": "approve", "note": "Licensed generation; disclosure fixed."}
    )

    assert (response.status_code, response["Location"]) == (302, QUEUE)
    item.refresh_from_db()
    assert (item.state, item.final_action, item.resolved_by) == ("approved", "allow", reviewer)
    (entry,) = LogEntry.objects.all()
    assert entry.object_id == str(item.pk)
    assert entry.get_change_message() == "Approve (allow): Licensed generation; disclosure fixed."
    queue = client.get(QUEUE)
    assert [str(m) for m in queue.context["messages"]] == [
        f"Review #{item.pk} (check {review_check.pk}): approve (allow). The organisation is notified."
    ]
    page = client.get(page_url(item)).content.decode()
    assert 'id="rv-action-form"' not in page
    assert '<strong id="rv-final-action">allow</strong>' in page


def test_acting_on_a_decided_item_says_so(client, reviewer, review_check):
    item = open_item(review_check)
    services.review_resolve(actor=Actor.for_user(reviewer), item=item, action="reject", note="No.")
    client.force_login(reviewer)

    response = client.post(page_url(item), {"action": "approve", "note": "Yes?"})

    assert response.status_code == 400
    assert b"is rejected already" in response.content
    item.refresh_from_db()
    assert item.final_action == "block"
