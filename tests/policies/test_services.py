"""Services on PostgreSQL: versions and publishing, decide and replay, simulation, the facts builder."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from policies import selectors, services
from policies.canonical import canonical_json, sha256_of
from policies.defaults import DEFAULT_POLICY_NAME, DEFAULT_RULES_V1
from policies.facts import Facts
from policies.models import Decision, Policy, PolicyVersion
from policies.rules import parse_rules
from policies.selectors import MatchInput
from registry.models import ProvenanceEvent
from registry.provenance import Actor
from tests.registry.factories import register_recording

from .builders import facts_json, match, rule, share

pytestmark = pytest.mark.django_db

CHECKS = Actor.system("checks")


@pytest.fixture
def distributor(make_org):
    return make_org("distributor", "Riverside Distribution")


def actor(client):
    return Actor.for_user(client.user)


def reuse_facts(distributor, owner, **fields):
    """A distributor's check that matched one recording of ``owner`` (no rights of its own)."""
    data = {
        "submitter": {"organization_id": distributor.organization.pk, "kind": "distributor"},
        "matches": [
            match(owner_id=owner.organization.pk, rights=[share(owner_id=owner.organization.pk)])
        ],
        **fields,
    }
    return Facts.from_json(facts_json(**data))


def clean_facts(distributor):
    return Facts.from_json(
        facts_json(
            submitter={"organization_id": distributor.organization.pk, "kind": "distributor"}
        )
    )


def events(obj_type, obj_id):
    return list(
        ProvenanceEvent.objects.filter(object_type=obj_type, object_id=str(obj_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


# ---------------------------------------------------------------- the default policy


def test_the_default_policy_ships_published_and_installs_once(default_policy):
    (version,) = default_policy.versions.all()

    assert (default_policy.scope, default_policy.organization_id) == ("global", None)
    assert (version.number, version.status) == (1, "published")
    assert version.rules == parse_rules(DEFAULT_RULES_V1).to_json()
    assert version.rules_sha256 == sha256_of(version.rules)
    assert events("policies.policyversion", version.pk) == ["policy_version.publish"]
    assert services.install_default_policy() is False
    assert Policy.objects.filter(name=DEFAULT_POLICY_NAME).count() == 1


@pytest.mark.parametrize(
    ("fields", "action", "priority", "rule_id"),
    [
        ({}, "allow", None, "nothing-found"),
        ({"matches": [match(owner_id="OWNER")]}, "require_licence", None, "reuse-needs-licence"),
        (
            {
                "detected_ai": {
                    "assessment": "detected_ai",
                    "confidence": 0.9,
                    "evidence": [{"source": "spectral", "score": 0.9}],
                }
            },
            "review",
            "normal",
            "undisclosed-ai",
        ),
        (
            {
                "matches": [
                    match(owner_id="SUBMITTER", is_ai_generation=True, ai_providers=["Udio"])
                ]
            },
            "review",
            "high",
            "ai-generation-as-human",
        ),
    ],
)
def test_the_default_policy_does_what_the_docs_say(
    default_policy, distributor, label, fields, action, priority, rule_id
):
    ids = {"OWNER": label.organization.pk, "SUBMITTER": distributor.organization.pk}
    for item in fields.get("matches", []):
        item["owner_id"] = ids[item["owner_id"]]
        item["rights"] = [share(owner_id=item["owner_id"])]
    facts = Facts.from_json(
        facts_json(
            submitter={"organization_id": distributor.organization.pk, "kind": "distributor"},
            **fields,
        )
    )

    decision = services.decide(facts=facts, subject_type="check", subject_id="1", actor=CHECKS)

    assert (decision.action, decision.priority or None) == (action, priority)
    assert decision.territories == {"WORLD": action}
    assert decision.outcome["won_by"]["rule"] == rule_id


# ---------------------------------------------------------------- versions


def test_publishing_retires_the_previous_version_and_changes_nothing_else(label):
    policy = services.policy_create(actor=actor(label), name="Ours", rules=[rule("a", "track")])
    v1 = policy.versions.get()
    services.version_publish(actor=actor(label), version=v1)
    v1_before = PolicyVersion.objects.values("rules", "rules_sha256", "note").get(pk=v1.pk)
    v2 = services.version_create(actor=actor(label), policy=policy, rules=[rule("b", "block")])

    services.version_publish(actor=actor(label), version=v2)

    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("retired", "published")
    assert PolicyVersion.objects.values("rules", "rules_sha256", "note").get(pk=v1.pk) == v1_before
    assert v2.published_by == label.user and v2.published_at is not None
    assert v1.retired_at == v2.published_at
    assert events("policies.policyversion", v1.pk) == [
        "policy_version.create",
        "policy_version.publish",
        "policy_version.retire",
    ]
    assert events("policies.policy", policy.pk) == ["policy.create"]
    assert policy.scope == "owner" and policy.organization == label.organization


def test_only_drafts_change_or_publish(label):
    policy = services.policy_create(actor=actor(label), name="Ours", rules=[rule()])
    version = services.version_publish(actor=actor(label), version=policy.versions.get())

    with pytest.raises(Conflict) as updating:
        services.version_update(actor=actor(label), version=version, rules=[])
    with pytest.raises(Conflict) as publishing:
        services.version_publish(actor=actor(label), version=version)
    draft = services.version_create(actor=actor(label), policy=policy, rules=[])
    with pytest.raises(Conflict) as retiring:
        services.version_retire(actor=actor(label), version=draft)

    assert updating.value.code == publishing.value.code == "POLICY_VERSION_NOT_DRAFT"
    assert retiring.value.code == "POLICY_VERSION_NOT_PUBLISHED"


def test_a_draft_can_change_and_its_hash_follows(label):
    policy = services.policy_create(actor=actor(label), name="Ours", rules=[rule("a")])
    draft = policy.versions.get()

    services.version_update(
        actor=actor(label), version=draft, rules=[rule("a", "track")], note="softer"
    )

    draft.refresh_from_db()
    assert draft.rules[0]["action"] == {"type": "track", "reason": ""}
    assert draft.rules_sha256 == parse_rules([rule("a", "track")]).sha256()
    assert draft.note == "softer"


def test_one_published_version_per_policy_is_a_database_constraint(label):
    policy = services.policy_create(actor=actor(label), name="Ours", rules=[rule()])
    services.version_publish(actor=actor(label), version=policy.versions.get())

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            policy=policy,
            number=2,
            status="published",
            published_at=dt.datetime.now(dt.UTC),
            rules_sha256="0" * 64,
        )


def test_who_may_manage_which_policy(label, other_label, operator, default_policy):
    own = services.policy_create(actor=actor(label), name="Ours")
    global_ = services.policy_create(actor=actor(operator), name="Stricter")

    assert global_.scope == "global" and global_.organization == operator.organization
    assert services.may_manage(actor(operator), default_policy)
    assert services.may_manage(actor(label), own)
    assert not services.may_manage(actor(other_label), own)
    assert not services.may_manage(actor(operator), own)
    assert not services.may_manage(actor(label), default_policy)
    with pytest.raises(PermissionDenied) as caught:
        services.version_create(actor=actor(label), policy=global_, rules=[])
    assert caught.value.code == "POLICY_READ_ONLY"


def test_policy_names_are_unique_per_owner_and_among_global_ones(label, other_label, operator):
    services.policy_create(actor=actor(label), name="Ours")
    services.policy_create(actor=actor(other_label), name="Ours")
    services.policy_create(actor=actor(operator), name="Ours")

    with pytest.raises(Conflict) as caught:
        services.policy_create(actor=actor(label), name="Ours")
    assert caught.value.code == "POLICY_EXISTS"


# ---------------------------------------------------------------- decide and replay


def test_decide_stores_everything_and_logs_it(default_policy, distributor, label):
    facts = reuse_facts(distributor, label)

    decision = services.decide(facts=facts, subject_type="check", subject_id=42, actor=CHECKS)

    decision.refresh_from_db()
    (version,) = default_policy.versions.all()
    assert (decision.subject_type, decision.subject_id) == ("check", "42")
    assert (decision.action, decision.priority) == ("require_licence", "")
    assert decision.territories == {"WORLD": "require_licence"}
    assert list(decision.versions.all()) == [version]
    assert list(decision.matched_owners.all()) == [label.organization]
    assert decision.submitter == distributor.organization
    assert decision.facts == facts.to_json()
    assert decision.facts_sha256 == facts.sha256() == decision.outcome["facts_sha256"]
    assert decision.outcome_sha256 == sha256_of(decision.outcome)
    assert decision.outcome["policies"] == [
        {
            "policy": default_policy.pk,
            "name": "Stemma default",
            "version": version.pk,
            "number": 1,
            "owner": None,
            "rules_sha256": version.rules_sha256,
        }
    ]
    assert decision.explanation.startswith(
        "Decision: require a licence.\nRequire a licence (reuse of another owner's recording) "
        'worldwide: rule "reuse-needs-licence"'
    )
    event = ProvenanceEvent.objects.get(action="decision.create", object_id=str(decision.pk))
    assert event.actor_user == "checks"
    assert event.after == {
        "subject": "check:42",
        "action": "require_licence",
        "territories": {"WORLD": "require_licence"},
        "versions": [version.pk],
        "facts_sha256": decision.facts_sha256,
        "outcome_sha256": decision.outcome_sha256,
    }


def test_replay_gives_the_same_bytes_even_after_a_new_version_is_published(
    default_policy, distributor, label, operator
):
    decision = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="1", actor=CHECKS
    )
    v2 = services.version_create(
        actor=actor(operator), policy=default_policy, rules=[rule("everything-blocked")]
    )
    services.version_publish(actor=actor(operator), version=v2)

    decision = Decision.objects.get(pk=decision.pk)  # as stored, through jsonb
    replayed = services.replay(decision=decision)

    assert replayed.identical is True
    assert replayed.outcome.canonical() == canonical_json(decision.outcome)
    assert replayed.outcome.sha256() == decision.outcome_sha256
    later = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="1", actor=CHECKS
    )
    assert (later.action, list(later.versions.all())) == ("block", [v2])


def test_replay_notices_a_stored_outcome_that_was_altered(default_policy, distributor, label):
    decision = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="1", actor=CHECKS
    )
    altered = {**decision.outcome, "action": "allow"}
    Decision.objects.filter(pk=decision.pk).update(outcome=altered)

    assert services.replay(decision=Decision.objects.get(pk=decision.pk)).identical is False


def test_an_owners_policy_applies_only_to_its_own_recordings(
    default_policy, distributor, label, other_label
):
    mine = services.policy_create(
        actor=actor(label), name="Block in France", rules=[rule("fr", territories={"in": ["FR"]})]
    )
    mine_v1 = services.version_publish(actor=actor(label), version=mine.versions.get())

    ours = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="1", actor=CHECKS
    )
    theirs = services.decide(
        facts=reuse_facts(distributor, other_label),
        subject_type="check",
        subject_id="2",
        actor=CHECKS,
    )

    assert [p["policy"] for p in ours.outcome["policies"]] == [default_policy.pk, mine.pk]
    assert set(ours.versions.all()) == {default_policy.versions.get(), mine_v1}
    assert ours.territories["FR"] == "block" and ours.territories["US"] == "require_licence"
    assert ours.outcome["won_by"] == {
        "policy": mine.pk,
        "version": mine_v1.pk,
        "number": 1,
        "rule": "fr",
        "match": 101,
    }
    assert [p["policy"] for p in theirs.outcome["policies"]] == [default_policy.pk]
    assert theirs.territories == {"WORLD": "require_licence"}


def test_a_retired_policy_no_longer_applies(label, distributor, default_policy):
    mine = services.policy_create(actor=actor(label), name="Ours", rules=[rule()])
    version = services.version_publish(actor=actor(label), version=mine.versions.get())
    services.version_retire(actor=actor(label), version=version)

    applied = selectors.applicable_versions(reuse_facts(distributor, label))

    assert [v.policy_id for v in applied] == [default_policy.pk]


def test_decide_checks_the_subject_and_the_submitter(default_policy, distributor):
    with pytest.raises(ValidationError) as bad_subject:
        services.decide(
            facts=clean_facts(distributor), subject_type="Check!", subject_id="1", actor=CHECKS
        )
    facts = Facts.from_json(facts_json(submitter={"organization_id": 999999, "kind": "label"}))
    with pytest.raises(ValidationError) as bad_submitter:
        services.decide(facts=facts, subject_type="check", subject_id="1", actor=CHECKS)

    assert (bad_subject.value.code, bad_subject.value.detail["field"]) == (
        "SUBJECT_INVALID",
        "subject_type",
    )
    assert (bad_submitter.value.code, bad_submitter.value.detail["field"]) == (
        "FACTS_INVALID",
        "submitter.organization_id",
    )


# ---------------------------------------------------------------- simulation


def test_simulation_lists_what_a_draft_would_change(default_policy, distributor, label, operator):
    reuse = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="7", actor=CHECKS
    )
    services.decide(
        facts=clean_facts(distributor), subject_type="check", subject_id="8", actor=CHECKS
    )
    stricter = [
        {**r, **({"action": {"type": "block"}} if r["id"] == "reuse-needs-licence" else {})}
        for r in DEFAULT_RULES_V1
    ]
    draft = services.version_create(actor=actor(operator), policy=default_policy, rules=stricter)

    result = services.simulate(actor=actor(operator), version=draft)

    assert result.considered == 2
    assert result.changes == [
        {
            "decision": reuse.pk,
            "subject_type": "check",
            "subject_id": "7",
            "decided_at": reuse.created_at.isoformat(),
            "old_action": "require_licence",
            "new_action": "block",
            "territories": {"WORLD": {"old": "require_licence", "new": "block"}},
            "new_explanation": result.changes[0]["new_explanation"],
        }
    ]
    assert result.changes[0]["new_explanation"].startswith("Decision: block.")
    # Simulating changes nothing.
    assert Decision.objects.get(pk=reuse.pk).action == "require_licence"
    assert draft.status == "draft"


def test_an_owners_draft_is_simulated_on_its_recordings_decisions_only(
    default_policy, distributor, label, other_label
):
    ours = services.decide(
        facts=reuse_facts(distributor, label), subject_type="check", subject_id="1", actor=CHECKS
    )
    services.decide(
        facts=reuse_facts(distributor, other_label),
        subject_type="check",
        subject_id="2",
        actor=CHECKS,
    )
    mine = services.policy_create(
        actor=actor(label), name="Ours", rules=[rule("block-in-fr", territories={"in": ["FR"]})]
    )

    result = services.simulate(actor=actor(label), version=mine.versions.get())

    assert result.considered == 1
    assert [(c["decision"], c["territories"]) for c in result.changes] == [
        (ours.pk, {"FR": {"old": "require_licence", "new": "block"}})
    ]
    with pytest.raises(PermissionDenied):
        services.simulate(actor=actor(other_label), version=mine.versions.get())
    with pytest.raises(ValidationError) as caught:
        services.simulate(actor=actor(label), version=mine.versions.get(), limit=0)
    assert caught.value.code == "LIMIT_INVALID"


# ---------------------------------------------------------------- the facts builder

ISRC = "GBAAA2630001"


def test_build_facts_reads_rights_generations_and_conflicts(
    label, other_label, distributor, make_org
):
    provider = make_org("ai_provider", "Sonic Forge AI")
    dist = distributor.organization.pk
    tide = register_recording(
        label,
        title="Tide",
        isrc=ISRC,
        rights=[
            {"share_pct": "60", "territories": ["WORLD"]},
            {
                "owner": dist,
                "share_pct": "40",
                "territories": ["FR"],
                "usage_types": ["stream"],
                "start": "2026-01-01",
            },
        ],
    )
    register_recording(
        other_label, title="Tide", isrc=ISRC, rights=[{"share_pct": "50", "territories": ["FR"]}]
    )
    remix = register_recording(
        provider,
        title="Tide (machine remix)",
        isrc="QZAAA2600001",
        ai_disclosure="all",
        generations=[
            {
                "provider": "Sonic Forge",
                "model_name": "forge-2",
                "input_recordings": [{"isrc": ISRC, "title": "Tide"}],
            }
        ],
    )

    facts = selectors.build_facts(
        submitter=distributor.organization,
        territories=["WORLD"],
        usage_types=["Stream"],
        declared_ai={"disclosure": "none", "elements": []},
        detected_ai=None,
        matches=[
            MatchInput(tide["id"], 0.931234, 10.0, 52.5, 35.123456, 20.0),
            MatchInput(remix["id"], 0.8, 0.0, 120.0, 100.0, 98.5),
        ],
        evaluation_date=dt.date(2026, 3, 1),
    )

    label_id = label.organization.pk
    assert facts.to_json() == {
        "format": "stemma.facts/1",
        "submitter": {"organization_id": dist, "kind": "distributor"},
        "territories": ["WORLD"],
        "usage_types": ["stream"],
        "evaluation_date": "2026-03-01",
        "declared_ai": {"disclosure": "none", "elements": []},
        "detected_ai": None,
        "matches": [
            {
                "recording_id": tide["id"],
                "title": "Tide",
                "isrc": ISRC,
                "owner_id": label_id,
                "owner_is_submitter": False,
                "duration_s": 42.5,
                "query_coverage_pct": 35.123,
                "reference_coverage_pct": 20.0,
                "score": 0.9312,
                "ai_disclosure": "none",
                "is_ai_generation": False,
                "ai_providers": [],
                "ai_models": [],
                "inputs_owned_by_others": False,
                "rights": [
                    share(owner_id=label_id, share_pct="60.000"),
                    share(
                        owner_id=dist,
                        share_pct="40.000",
                        territories=["FR"],
                        usage_types=["stream"],
                        start="2026-01-01",
                    ),
                ],
            },
            {
                "recording_id": remix["id"],
                "title": "Tide (machine remix)",
                "isrc": "QZAAA2600001",
                "owner_id": provider.organization.pk,
                "owner_is_submitter": False,
                "duration_s": 120.0,
                "query_coverage_pct": 100.0,
                "reference_coverage_pct": 98.5,
                "score": 0.8,
                "ai_disclosure": "all",
                "is_ai_generation": True,
                "ai_providers": ["Sonic Forge"],
                "ai_models": ["forge-2"],
                "inputs_owned_by_others": True,
                "rights": [],
            },
        ],
        "conflicts": [{"recording_id": tide["id"], "territories": ["FR"]}],
    }


def test_an_ai_generated_contribution_makes_a_recording_an_ai_generation(label, distributor):
    recording = register_recording(
        label,
        contributions=[
            {
                "party": {"name": "Tonewright", "kind": "ai_system"},
                "role": "producer",
                "element": "instrumentation",
                "involvement": "ai_generated",
            }
        ],
    )

    facts = selectors.build_facts(
        submitter=distributor.organization,
        territories=["FR"],
        usage_types=["stream"],
        declared_ai=None,
        detected_ai=None,
        matches=[MatchInput(recording["id"], 1.0, 0.0, 30.0, 100.0, 100.0)],
    )

    assert facts.matches[0].is_ai_generation is True
    assert facts.matches[0].ai_providers == ()


def test_build_facts_refuses_an_unknown_recording(distributor):
    with pytest.raises(NotFound) as caught:
        selectors.build_facts(
            submitter=distributor.organization,
            territories=["WORLD"],
            usage_types=["stream"],
            declared_ai=None,
            detected_ai=None,
            matches=[MatchInput(987654, 1.0, 0.0, 30.0, 100.0, 100.0)],
        )

    assert (caught.value.code, caught.value.detail) == (
        "RECORDING_NOT_FOUND",
        {"recordings": [987654]},
    )
