"""Review services: items opened from checks and conflicts, reviewers' actions, the deadline."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from checks import services as check_services
from checks.models import WebhookDelivery
from common.errors import Conflict, PermissionDenied, ValidationError
from policies import services as policy_services
from policies.facts import Facts
from policies.models import Decision
from registry import services as registry_services
from registry.models import ProvenanceEvent, User
from registry.provenance import Actor
from review import selectors, services, tasks
from review.models import Dispute, ReviewItem

from .conftest import Found, make_check, make_staff

pytestmark = pytest.mark.django_db


def events(obj, action=None):
    qs = ProvenanceEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    if action:
        qs = qs.filter(action=action)
    return list(qs.order_by("id"))


def open_item(check) -> ReviewItem:
    item = services.review_open_for_check(check=check, decision=check.decision)
    assert item is not None
    return item


def with_webhook(org_client) -> None:
    check_services.webhook_configure(
        actor=Actor.for_user(org_client.user), url="https://hooks.example.test/stemma", active=True
    )


# ---------------------------------------------------------------- opening


def test_a_check_the_policy_sent_to_review_joins_the_queue(catalogue, review_check):
    before = timezone.now()
    item = open_item(review_check)

    assert review_check.decision.action == "review"
    assert (item.kind, item.state, item.priority, item.priority_rank) == (
        "check",
        "open",
        "high",
        2,
    )
    assert item.reason == "a registered AI generation submitted as human work"
    assert item.rule == "ai-generation-as-human"
    assert "recording is a registered AI generation" in item.detail
    assert item.territories == ["DE", "GB", "US"]
    assert (item.ai_assessment, item.ai_sources) == (
        "detected_ai",
        ["c2pa", "registry", "spectral"],
    )
    assert item.fallback_action == "allow"  # nothing but review fired where it applies
    assert {o.name for o in item.organizations.all()} == {
        "Riverside Distribution",
        "Aurora Records",
    }
    assert before + dt.timedelta(days=30) <= item.due_at <= timezone.now() + dt.timedelta(days=30)
    (event,) = events(item)
    assert (event.action, event.actor_user) == ("review.open", "review")
    assert event.after["state"] == "open" and event.after["check"] == review_check.pk


def test_the_deadline_is_configurable(settings, review_check):
    settings.STEMMA_REVIEW_DEADLINE_DAYS = 7

    item = open_item(review_check)

    assert item.due_at - item.created_at == dt.timedelta(days=7)


def test_other_decisions_do_not_join_the_queue(licence_check):
    assert licence_check.decision.action == "require_licence"

    assert (
        services.review_open_for_check(check=licence_check, decision=licence_check.decision) is None
    )
    assert ReviewItem.objects.count() == 0


def test_opening_twice_for_one_decision_gives_the_same_item(review_check):
    first = open_item(review_check)
    second = open_item(review_check)

    assert first.pk == second.pk
    assert len(events(first)) == 1


def test_a_check_decided_again_supersedes_its_open_item(review_check):
    old = open_item(review_check)
    facts_decision = review_check.decision
    again = policy_services.decide(
        facts=Facts.from_json(facts_decision.facts),
        subject_type="check",
        subject_id=review_check.pk,
        actor=Actor.system("checker"),
    )

    new = services.review_open_for_check(check=review_check, decision=again)

    old.refresh_from_db()
    assert new is not None and new.pk != old.pk and new.state == "open"
    assert (old.state, old.final_action) == ("auto_resolved", "")
    assert old.resolution_note == f"Superseded: the check was decided again (decision {again.pk})."
    assert [e.action for e in events(old)] == ["review.open", "review.supersede"]


def test_the_fallback_is_the_policys_own_non_review_action(catalogue, make_org):
    operator = make_org("operator", "Stemma Operations")
    actor = Actor.for_user(operator.user)
    policy = policy_services.policy_create(
        actor=actor,
        name="Track every match",
        rules=[
            {
                "id": "track-matches",
                "conditions": {"match_count": {"gte": 1}},
                "action": {"type": "track"},
            }
        ],
    )
    policy_services.version_publish(actor=actor, version=policy.versions.get())
    check = make_check(catalogue.distributor, [Found(catalogue.ai_recording, 0, 15, 0, 15)])

    item = open_item(check)

    assert check.decision.action == "review"  # review outweighs track...
    assert item.fallback_action == "track"  # ...and track is what stands if nobody reviews


@pytest.mark.parametrize(
    ("rules", "territories", "fallback"),
    [
        ([], {"WORLD": "review"}, "allow"),
        ([{"fired": True, "action": "review"}], {"WORLD": "review"}, "allow"),
        (
            [{"fired": True, "action": "monetize"}, {"fired": False, "action": "block"}],
            {},
            "monetize",
        ),
        ([{"fired": True, "action": "track"}], {"US": "review", "FR": "monetize"}, "monetize"),
    ],
)
def test_check_fallback(rules, territories, fallback):
    decision = Decision(action="review", outcome={"rules": rules}, territories=territories)

    assert services.check_fallback(decision) == fallback


def test_a_conflict_joins_the_queue_and_leaves_it_when_the_registry_resolves_it(
    catalogue, conflict, rival
):
    item = services.review_open_for_conflict(conflict=conflict, actor=Actor.system("registry"))

    assert (item.kind, item.priority, item.territories) == ("conflict", "normal", ["WORLD"])
    assert item.reason == "ownership shares over 100%"
    assert item.detail == "recording QZDA62600302: shares add up to 200% worldwide"
    assert item.fallback_action == "escalate"
    assert {o.name for o in item.organizations.all()} == {"Aurora Records", "Southern Cross Music"}
    assert (
        services.review_open_for_conflict(conflict=conflict, actor=Actor.system("x")).pk == item.pk
    )

    closed = services.review_close_for_conflict(conflict=conflict, actor=Actor.system("registry"))

    item.refresh_from_db()
    assert [c.pk for c in closed] == [item.pk]
    assert (item.state, item.final_action) == ("auto_resolved", "")
    assert (
        item.resolution_note
        == "The registry resolved the conflict: the shares no longer exceed 100%."
    )
    assert [e.action for e in events(item)] == ["review.open", "review.auto_resolve"]


# ---------------------------------------------------------------- acting


@pytest.mark.parametrize(
    ("action", "state", "final"),
    [
        ("approve", "approved", "allow"),
        ("reject", "rejected", "block"),
        ("require_licence", "licence_required", "require_licence"),
    ],
)
def test_an_action_becomes_the_final_decision_is_logged_and_announced(
    catalogue, review_check, reviewer, action, state, final
):
    with_webhook(catalogue.distributor)
    item = open_item(review_check)

    services.review_resolve(
        actor=Actor.for_user(reviewer), item=item, action=action, note="  Checked the stems.  "
    )

    item.refresh_from_db()
    assert (item.state, item.final_action) == (state, final)
    assert item.resolution_note == "Checked the stems."
    assert item.resolved_by == reviewer and item.resolved_at is not None
    event = events(item, "review.resolve")[0]
    assert event.actor_user == "rita-reviewer"
    assert (event.before["state"], event.before["final_action"]) == ("open", "")
    assert (event.after["state"], event.after["final_action"]) == (state, final)
    assert event.after["resolution_note"] == "Checked the stems."
    assert event.after["resolved_by"] == "rita-reviewer"
    (delivery,) = WebhookDelivery.objects.filter(event="check.decision_changed")
    assert delivery.submission_id == review_check.pk
    assert delivery.endpoint.organization == catalogue.distributor.organization
    assert delivery.payload["check"]["id"] == review_check.pk
    assert selectors.review_for_check(review_check) == {
        "state": state,
        "note": "Checked the stems.",
        "final_action": final,
        "resolved_at": item.resolved_at,
        "reviewer": "rita-reviewer",
        "kind": "check",
        "priority": "high",
        "open": False,
        "due_at": None,
    }


@pytest.mark.parametrize("note", ["", "   \n  ", None])
def test_every_action_needs_a_note(review_check, reviewer, note):
    item = open_item(review_check)

    with pytest.raises(ValidationError) as caught:
        services.review_resolve(
            actor=Actor.for_user(reviewer), item=item, action="approve", note=note
        )

    assert (caught.value.code, caught.value.detail) == ("REVIEW_NOTE_REQUIRED", {"field": "note"})
    item.refresh_from_db()
    assert item.state == "open"
    assert [e.action for e in events(item)] == ["review.open"]


def test_an_unknown_action_is_refused(review_check, reviewer):
    item = open_item(review_check)

    with pytest.raises(ValidationError) as caught:
        services.review_resolve(
            actor=Actor.for_user(reviewer), item=item, action="delete", note="x"
        )

    assert caught.value.code == "REVIEW_ACTION_INVALID"


def test_only_reviewers_act(catalogue, review_check):
    item = open_item(review_check)
    staff = make_staff("sam-staff")
    viewer = make_staff("vera", permission="review.view_reviewitem")

    for user in (staff, viewer, catalogue.distributor.user):
        with pytest.raises(PermissionDenied) as caught:
            services.review_resolve(
                actor=Actor.for_user(user), item=item, action="approve", note="ok"
            )
        assert caught.value.code == "REVIEW_FORBIDDEN"
    boss = make_staff("boss", superuser=True)
    services.review_resolve(actor=Actor.for_user(boss), item=item, action="approve", note="ok")
    item.refresh_from_db()
    assert item.state == "approved"


def test_an_inactive_reviewer_cannot_act(review_check, reviewer):
    item = open_item(review_check)
    User.objects.filter(pk=reviewer.pk).update(is_active=False)

    with pytest.raises(PermissionDenied):
        services.review_resolve(
            actor=Actor.for_user(User.objects.get(pk=reviewer.pk)),
            item=item,
            action="approve",
            note="x",
        )


def test_a_decided_item_cannot_be_decided_again(review_check, reviewer):
    item = open_item(review_check)
    actor = Actor.for_user(reviewer)
    services.review_resolve(actor=actor, item=item, action="reject", note="AI passed off as human.")

    with pytest.raises(Conflict) as caught:
        services.review_resolve(actor=actor, item=item, action="approve", note="changed my mind")

    assert (caught.value.code, caught.value.detail) == (
        "REVIEW_ALREADY_RESOLVED",
        {"state": "rejected"},
    )
    item.refresh_from_db()
    assert item.final_action == "block"


def test_escalation_raises_the_item_and_leaves_it_to_decide(catalogue, review_check, reviewer):
    with_webhook(catalogue.distributor)
    item = open_item(review_check)
    actor = Actor.for_user(reviewer)

    services.review_resolve(actor=actor, item=item, action="escalate", note="Legal should look.")

    item.refresh_from_db()
    assert (item.state, item.priority, item.priority_rank) == ("escalated", "urgent", 3)
    assert (item.escalation_note, item.escalated_by, item.final_action) == (
        "Legal should look.",
        reviewer,
        "",
    )
    assert item.resolved_at is None and item.is_actionable
    assert selectors.review_for_check(review_check)["state"] == "escalated"
    assert selectors.review_for_check(review_check)["note"] == "Legal should look."
    assert WebhookDelivery.objects.filter(event="check.decision_changed").count() == 1
    with pytest.raises(Conflict) as caught:
        services.review_resolve(actor=actor, item=item, action="escalate", note="again")
    assert caught.value.code == "REVIEW_ALREADY_ESCALATED"

    services.review_resolve(actor=actor, item=item, action="approve", note="Legal cleared it.")

    item.refresh_from_db()
    assert (item.state, item.final_action, item.escalation_note) == (
        "approved",
        "allow",
        "Legal should look.",
    )
    assert [e.action for e in events(item)] == ["review.open", "review.escalate", "review.resolve"]


def test_a_check_never_reviewed_has_no_review(licence_check):
    assert selectors.review_for_check(licence_check) == {
        "state": "none",
        "note": "",
        "final_action": None,
        "resolved_at": None,
        "reviewer": None,
    }


def test_an_open_review_shows_as_open_with_nothing_final(review_check):
    item = open_item(review_check)

    assert selectors.review_for_check(review_check) == {
        "state": "open",
        "note": "",
        "final_action": None,
        "resolved_at": None,
        "reviewer": None,
        "kind": "check",
        "priority": "high",
        "open": True,
        "due_at": item.due_at,
    }


# ---------------------------------------------------------------- disputes, resolved


def test_a_resolved_dispute_changes_the_checks_final_decision_and_tells_the_disputer(
    catalogue, licence_check, reviewer
):
    with_webhook(catalogue.distributor)
    dispute = services.dispute_open_for_check(
        actor=catalogue.distributor_actor, check=licence_check, reason="We hold a licence."
    )
    item = ReviewItem.objects.get(dispute=dispute)
    assert (item.priority, item.fallback_action) == ("high", "require_licence")

    services.review_resolve(
        actor=Actor.for_user(reviewer), item=item, action="approve", note="Licence SCM-114 seen."
    )

    dispute.refresh_from_db()
    assert dispute.state == "resolved" and dispute.resolved_at is not None
    assert [e.action for e in events(dispute)] == ["dispute.open", "dispute.resolve"]
    review = selectors.review_for_check(licence_check)
    assert (review["state"], review["final_action"], review["note"]) == (
        "approved",
        "allow",
        "Licence SCM-114 seen.",
    )
    deliveries = {d.event: d for d in WebhookDelivery.objects.all()}
    assert set(deliveries) == {"check.decision_changed", "dispute.resolved"}
    body = deliveries["dispute.resolved"].payload
    assert body["event"] == "dispute.resolved"
    assert body["dispute"]["id"] == dispute.pk
    assert body["dispute"]["outcome"]["final_action"] == "allow"
    assert body["dispute"]["outcome"]["note"] == "Licence SCM-114 seen."


# ---------------------------------------------------------------- the deadline


def overdue(item: ReviewItem, days: int = 1) -> ReviewItem:
    ReviewItem.objects.filter(pk=item.pk).update(due_at=timezone.now() - dt.timedelta(days=days))
    item.refresh_from_db()
    return item


def test_an_overdue_check_is_resolved_as_the_policy_says(catalogue, review_check):
    with_webhook(catalogue.distributor)
    item = overdue(open_item(review_check))

    done = services.reviews_resolve_overdue()

    item.refresh_from_db()
    assert done == [item.pk]
    assert (item.state, item.final_action, item.resolved_by) == ("auto_resolved", "allow", None)
    assert item.resolution_note == (
        f"Not reviewed by {item.due_at:%Y-%m-%d %H:%M} UTC: resolved as the policy says (allow)."
    )
    event = events(item, "review.auto_resolve")[0]
    assert (event.actor_user, event.before["state"], event.after["final_action"]) == (
        "review",
        "open",
        "allow",
    )
    assert WebhookDelivery.objects.filter(event="check.decision_changed").count() == 1
    review = selectors.review_for_check(review_check)
    assert (review["state"], review["final_action"], review["reviewer"]) == (
        "auto_resolved",
        "allow",
        None,
    )
    assert services.reviews_resolve_overdue() == []  # safe to run again


def test_items_not_yet_due_and_escalated_ones_wait(review_check, reviewer, catalogue):
    waiting = open_item(review_check)
    other = make_check(catalogue.distributor, [Found(catalogue.ai_recording, 0, 15, 0, 15)])
    escalated = overdue(open_item(other))
    services.review_resolve(
        actor=Actor.for_user(reviewer), item=escalated, action="escalate", note="Legal."
    )

    assert services.reviews_resolve_overdue() == []
    waiting.refresh_from_db()
    escalated.refresh_from_db()
    assert (waiting.state, escalated.state) == ("open", "escalated")


def test_an_overdue_conflict_is_escalated_never_decided(conflict):
    item = overdue(services.review_open_for_conflict(conflict=conflict, actor=Actor.system("r")))

    assert services.reviews_resolve_overdue() == [item.pk]

    item.refresh_from_db()
    assert (item.state, item.priority, item.final_action, item.resolved_at) == (
        "escalated",
        "urgent",
        "",
        None,
    )
    assert "escalated, as an ownership question has no automatic outcome" in item.escalation_note
    assert [e.action for e in events(item)] == ["review.open", "review.auto_escalate"]
    assert services.reviews_resolve_overdue() == []


def test_an_overdue_dispute_of_a_check_keeps_the_decision_in_force(catalogue, licence_check):
    dispute = services.dispute_open_for_check(
        actor=catalogue.distributor_actor, check=licence_check, reason="We hold a licence."
    )
    item = overdue(ReviewItem.objects.get(dispute=dispute))

    services.reviews_resolve_overdue()

    item.refresh_from_db()
    dispute.refresh_from_db()
    assert (item.state, item.final_action) == ("auto_resolved", "require_licence")
    assert "the decision in force stands (require_licence)" in item.resolution_note
    assert dispute.state == Dispute.State.RESOLVED


def test_the_command_and_the_task_resolve_the_overdue(review_check, conflict):
    check_item = overdue(open_item(review_check))
    conflict_item = overdue(
        services.review_open_for_conflict(conflict=conflict, actor=Actor.system("r"))
    )

    dry = StringIO()
    call_command("resolve_overdue_reviews", "--dry-run", stdout=dry)
    assert f"review {check_item.pk} (check {review_check.pk})" in dry.getvalue()
    assert "2 overdue review item(s); nothing changed" in dry.getvalue()
    assert ReviewItem.objects.filter(state="open").count() == 2

    out = StringIO()
    call_command("resolve_overdue_reviews", stdout=out)
    assert f"review {check_item.pk} (check {review_check.pk}): allow" in out.getvalue()
    assert f"review {conflict_item.pk} (conflict {conflict.pk}): escalated" in out.getvalue()
    assert "2 overdue review item(s) resolved" in out.getvalue()

    assert tasks.resolve_overdue_reviews.apply().get() == 0


def test_a_check_with_a_recording_withdrawn_still_shows_its_review(
    catalogue, review_check, reviewer
):
    item = open_item(review_check)
    registry_services.recording_withdraw(
        actor=catalogue.label_actor, recording=catalogue.ai_recording
    )

    services.review_resolve(actor=Actor.for_user(reviewer), item=item, action="approve", note="ok")

    assert selectors.review_for_check(review_check)["final_action"] == "allow"
