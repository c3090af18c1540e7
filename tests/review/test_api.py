"""The review API end to end: disputes of checks and conflicts, their outcome, a check's review."""

from __future__ import annotations

import pytest

from checks.models import CheckMatch
from registry.models import OwnershipConflict
from registry.provenance import Actor
from review import services
from review.models import Dispute, ReviewItem

from .conftest import Found, make_check

pytestmark = pytest.mark.django_db


def dispute_check(client, check, **body):
    return client.post(f"/api/v1/checks/{check.pk}/disputes/", body, format="json")


def test_the_submitter_disputes_a_decision_and_it_joins_the_queue(catalogue, licence_check):
    response = dispute_check(catalogue.distributor, licence_check, reason="We hold a licence.")

    assert response.status_code == 201, response.json()
    body = response.json()
    dispute = Dispute.objects.get()
    item = ReviewItem.objects.get(dispute=dispute)
    assert response["Location"] == f"/api/v1/disputes/{dispute.pk}/"
    assert body == {
        "id": dispute.pk,
        "subject": "decision",
        "check": licence_check.pk,
        "match": None,
        "conflict": None,
        "reason": "We hold a licence.",
        "state": "open",
        "created_at": body["created_at"],
        "resolved_at": None,
        "outcome": {
            "state": "open",
            "final_action": None,
            "note": "",
            "resolved_at": None,
            "reviewer": None,
            "due_at": body["outcome"]["due_at"],
        },
        "url": f"/api/v1/disputes/{dispute.pk}/",
    }
    assert (item.kind, item.submission_id, item.reason, item.detail) == (
        "dispute",
        licence_check.pk,
        "dispute of a decision",
        "We hold a licence.",
    )
    assert item.priority == "high"  # a licence is required: the submitter is held back
    assert {o.name for o in item.organizations.all()} == {
        "Riverside Distribution",
        "Aurora Records",
    }
    assert dispute.opened_by == catalogue.distributor.user


def test_a_match_is_disputed_by_its_id(catalogue, licence_check):
    match = CheckMatch.objects.get(submission=licence_check)

    response = dispute_check(
        catalogue.distributor, licence_check, reason="That is our own intro.", match=match.pk
    )

    assert response.status_code == 201, response.json()
    assert response.json()["subject"] == "match"
    assert response.json()["match"] == {
        "match": match.pk,
        "recording": catalogue.plain_recording.pk,
        "title": "Tidal Lines",
        "query_start_s": 5.0,
        "query_end_s": 25.0,
        "reference_start_s": 0.0,
        "reference_end_s": 20.0,
        "score": 0.9,
    }
    assert ReviewItem.objects.get().reason == "dispute of a match"


def test_a_match_of_another_check_is_refused(catalogue, licence_check, review_check):
    other = CheckMatch.objects.get(submission=review_check)

    response = dispute_check(catalogue.distributor, licence_check, reason="x", match=other.pk)

    assert response.status_code == 400
    assert response.json()["code"] == "MATCH_NOT_IN_CHECK"
    assert response.json()["detail"] == {"field": "match", "value": other.pk}


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_dispute_needs_a_reason(catalogue, licence_check, body):
    response = catalogue.distributor.post(
        f"/api/v1/checks/{licence_check.pk}/disputes/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "DISPUTE_REASON_REQUIRED"
    assert response.json()["detail"] == {"field": "reason"}
    assert Dispute.objects.count() == 0


def test_only_the_submitter_disputes_its_check(catalogue, licence_check, make_org):
    for client in (catalogue.label, make_org("distributor")):
        response = dispute_check(client, licence_check, reason="not ours to dispute")
        assert response.status_code == 404
        assert response.json()["code"] == "CHECK_NOT_FOUND"
    assert Dispute.objects.count() == 0


def test_an_unfinished_check_cannot_be_disputed(catalogue, licence_check):
    licence_check.status = "processing"
    licence_check.save(update_fields=["status"])

    response = dispute_check(catalogue.distributor, licence_check, reason="too early")

    assert response.status_code == 409
    assert response.json()["code"] == "CHECK_NOT_DONE"


def test_one_open_dispute_per_check(catalogue, licence_check, reviewer):
    first = dispute_check(catalogue.distributor, licence_check, reason="first")

    second = dispute_check(catalogue.distributor, licence_check, reason="second")

    assert second.status_code == 409
    assert second.json()["code"] == "DISPUTE_EXISTS"
    assert second.json()["detail"] == {"dispute": first.json()["id"]}
    item = ReviewItem.objects.get(dispute_id=first.json()["id"])
    services.review_resolve(actor=Actor.for_user(reviewer), item=item, action="reject", note="No.")
    assert (
        dispute_check(catalogue.distributor, licence_check, reason="new facts").status_code == 201
    )


def test_an_involved_organisation_disputes_a_conflict(conflict, rival):
    response = rival.post(
        f"/api/v1/conflicts/{conflict.pk}/disputes/",
        {"reason": "Aurora's share expired in 2025."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subject"], body["conflict"], body["check"]) == ("conflict", conflict.pk, None)
    item = ReviewItem.objects.get(dispute_id=body["id"])
    assert (item.reason, item.conflict_id, item.fallback_action, item.territories) == (
        "dispute of an ownership conflict",
        conflict.pk,
        "escalate",
        ["WORLD"],
    )


def test_an_uninvolved_organisation_cannot_dispute_a_conflict(conflict, make_org):
    response = make_org("label").post(
        f"/api/v1/conflicts/{conflict.pk}/disputes/", {"reason": "me too"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "CONFLICT_NOT_FOUND"


def test_a_resolved_conflict_cannot_be_disputed(conflict, rival):
    OwnershipConflict.objects.filter(pk=conflict.pk).update(status="resolved")

    response = rival.post(
        f"/api/v1/conflicts/{conflict.pk}/disputes/", {"reason": "late"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT_NOT_OPEN"


def test_disputes_are_listed_and_read_by_their_organisation_only(
    catalogue, licence_check, conflict, rival
):
    mine = dispute_check(catalogue.distributor, licence_check, reason="ours").json()
    theirs = rival.post(
        f"/api/v1/conflicts/{conflict.pk}/disputes/", {"reason": "theirs"}, format="json"
    ).json()

    listed = catalogue.distributor.get("/api/v1/disputes/").json()
    assert [d["id"] for d in listed["results"]] == [mine["id"]]
    assert catalogue.distributor.get(f"/api/v1/disputes/{mine['id']}/").json()["reason"] == "ours"
    hidden = catalogue.distributor.get(f"/api/v1/disputes/{theirs['id']}/")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "DISPUTE_NOT_FOUND"
    assert [d["id"] for d in rival.get("/api/v1/disputes/?state=open").json()["results"]] == [
        theirs["id"]
    ]
    assert rival.get("/api/v1/disputes/?state=resolved").json()["results"] == []


def test_the_outcome_comes_back_through_the_api(catalogue, licence_check, reviewer):
    created = dispute_check(
        catalogue.distributor, licence_check, reason="We hold a licence."
    ).json()
    item = ReviewItem.objects.get(dispute_id=created["id"])
    services.review_resolve(
        actor=Actor.for_user(reviewer), item=item, action="approve", note="Licence seen: allowed."
    )

    body = catalogue.distributor.get(f"/api/v1/disputes/{created['id']}/").json()

    assert body["state"] == "resolved"
    assert body["resolved_at"] is not None
    assert {k: body["outcome"][k] for k in ("state", "final_action", "note", "reviewer")} == {
        "state": "approved",
        "final_action": "allow",
        "note": "Licence seen: allowed.",
        "reviewer": "rita-reviewer",
    }
    review = catalogue.distributor.get(f"/api/v1/checks/{licence_check.pk}/review/").json()
    assert (review["state"], review["final_action"], review["note"]) == (
        "approved",
        "allow",
        "Licence seen: allowed.",
    )


def test_a_checks_review_is_its_submitters_and_operators_to_read(catalogue, review_check, make_org):
    services.review_open_for_check(check=review_check, decision=review_check.decision)

    own = catalogue.distributor.get(f"/api/v1/checks/{review_check.pk}/review/")
    operator = make_org("operator").get(f"/api/v1/checks/{review_check.pk}/review/")
    other = catalogue.label.get(f"/api/v1/checks/{review_check.pk}/review/")

    assert own.status_code == operator.status_code == 200
    assert (own.json()["state"], own.json()["final_action"], own.json()["open"]) == (
        "open",
        None,
        True,
    )
    assert other.status_code == 404 and other.json()["code"] == "CHECK_NOT_FOUND"


def test_anonymous_callers_are_refused(anonymous, licence_check):
    assert anonymous.get("/api/v1/disputes/").status_code == 401
    assert (
        anonymous.post(
            f"/api/v1/checks/{licence_check.pk}/disputes/", {"reason": "x"}, format="json"
        ).status_code
        == 401
    )


def test_a_second_check_of_the_same_audio_has_its_own_disputes(catalogue):
    a = make_check(catalogue.distributor, [Found(catalogue.plain_recording, 0, 20, 0, 20)])
    b = make_check(catalogue.distributor, [Found(catalogue.plain_recording, 0, 20, 0, 20)])

    assert dispute_check(catalogue.distributor, a, reason="a").status_code == 201
    assert dispute_check(catalogue.distributor, b, reason="b").status_code == 201
    assert Dispute.objects.filter(organization=catalogue.distributor.organization).count() == 2
