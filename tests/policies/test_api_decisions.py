"""Decisions end to end: who sees which, what a matched owner sees, filters, replay, read-only."""

from __future__ import annotations

import copy

import pytest

from policies import services
from policies.facts import Facts
from registry.provenance import Actor
from tests.registry.factories import assert_error, expect, get, ids

from .builders import facts_json, match, share

pytestmark = pytest.mark.django_db

URL = "/api/v1/decisions/"


@pytest.fixture
def distributor(make_org):
    return make_org("distributor", "Riverside Distribution")


@pytest.fixture
def decision(default_policy, distributor, label):
    """The distributor's check 'c-1' matched one of the label's recordings."""
    owner = label.organization.pk
    facts = facts_json(
        submitter={"organization_id": distributor.organization.pk, "kind": "distributor"},
        matches=[match(owner_id=owner, rights=[share(owner_id=owner)])],
    )
    return services.decide(
        facts=Facts.from_json(facts),
        subject_type="check",
        subject_id="c-1",
        actor=Actor.system("checks"),
    )


def test_the_submitter_reads_the_whole_decision(distributor, decision, default_policy):
    body = get(distributor, f"{URL}{decision.pk}/")

    version = default_policy.versions.get()
    # The matched recordings' owners' shares are theirs to see, not the submitter's.
    facts = copy.deepcopy(decision.facts)
    for found in facts["matches"]:
        found["rights"] = [
            r for r in found["rights"] if r["owner_id"] == distributor.organization.pk
        ]
    assert decision.facts["matches"][0]["rights"] != []  # there was something to hide
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "id": decision.pk,
        "subject_type": "check",
        "subject_id": "c-1",
        "submitter": distributor.organization.pk,
        "action": "require_licence",
        "priority": None,
        "territories": {"WORLD": "require_licence"},
        "explanation": decision.explanation,
        "won_by": {
            "policy": default_policy.pk,
            "version": version.pk,
            "number": 1,
            "rule": "reuse-needs-licence",
            "match": 101,
        },
        "rules_fired": [
            {"policy": default_policy.pk, "version": version.pk, "rule": "reuse-needs-licence"}
        ],
        "policies": decision.outcome["policies"],
        "facts": facts,
        "facts_sha256": decision.facts_sha256,
        "outcome": decision.outcome,
        "outcome_sha256": decision.outcome_sha256,
        "redacted": False,
    }


def test_the_matched_owner_sees_the_verdict_but_not_the_whole_checks_facts(label, decision):
    body = get(label, f"{URL}{decision.pk}/")

    assert (body["action"], body["territories"], body["redacted"]) == (
        "require_licence",
        {"WORLD": "require_licence"},
        True,
    )
    assert (body["facts"], body["outcome"]) == (None, None)
    assert ids(get(label, URL)) == [decision.pk]


def test_others_do_not_see_the_decision_and_operators_see_all(other_label, operator, decision):
    assert get(other_label, URL)["count"] == 0
    assert_error(other_label.get(f"{URL}{decision.pk}/"), 404, "DECISION_NOT_FOUND")
    assert_error(other_label.get(f"{URL}{decision.pk}/replay/"), 404, "DECISION_NOT_FOUND")

    body = get(operator, f"{URL}{decision.pk}/")
    assert (body["redacted"], body["facts"]) == (False, decision.facts)


def test_decisions_filter_by_subject_and_action(distributor, decision):
    assert ids(get(distributor, URL, subject_type="check", subject_id="c-1")) == [decision.pk]
    assert ids(get(distributor, URL, subject_id="c-2")) == []
    assert ids(get(distributor, URL, action="block")) == []


def test_replaying_a_decision_over_http(distributor, decision):
    body = get(distributor, f"{URL}{decision.pk}/replay/")

    assert body == {
        "decision": decision.pk,
        "identical": True,
        "outcome_sha256": decision.outcome_sha256,
        "stored_outcome_sha256": decision.outcome_sha256,
    }


def test_decisions_are_read_only(distributor, decision):
    assert_error(distributor.post(URL, {}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert_error(distributor.delete(f"{URL}{decision.pk}/"), 405, "METHOD_NOT_ALLOWED")
    assert expect(distributor.get(f"{URL}{decision.pk}/"), 200)["action"] == "require_licence"
