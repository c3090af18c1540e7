"""The evaluation engine, without a database: every condition, action, precedence, territory, replay."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from policies import engine
from policies.canonical import canonical_json
from policies.facts import Facts
from policies.rules import ACTIONS
from registry.territories import ISO_3166_ALPHA2

from .builders import (
    OTHER_OWNER,
    OWNER,
    SUBMITTER,
    facts,
    facts_json,
    fired,
    first_result,
    match,
    policy,
    rule,
    run,
    share,
)

ALL = len(ISO_3166_ALPHA2)


def test_the_engine_imports_no_django():
    code = "import sys, policies.engine; print(any(m.startswith('django') for m in sys.modules))"
    result = subprocess.run(  # a fresh interpreter: this one has Django loaded by pytest-django
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------- check-level conditions


def test_territories_in_fires_only_there_and_the_map_lists_every_code():
    outcome = run(facts(), rule(territories={"in": ["fr", "DE"]}))

    assert outcome.territories["FR"] == outcome.territories["DE"] == "block"
    assert outcome.territories["US"] == "allow"
    assert len(outcome.territories) == ALL
    assert outcome.action == "block"


def test_territories_not_in_excludes_from_a_world_request():
    outcome = run(facts(), rule(territories={"in": ["WORLD"], "not_in": ["US", "CA"]}))

    assert {code for code, action in outcome.territories.items() if action == "allow"} == {
        "US",
        "CA",
    }
    assert outcome.to_json()["verdicts"][0]["exclude_territories"] == ["CA", "US"]
    assert outcome.to_json()["verdicts"][0]["territories"] == ["WORLD"]


def test_territories_only_not_in_means_everywhere_else():
    outcome = run(facts(territories=["FR", "US"]), rule(territories={"not_in": ["US"]}))

    assert outcome.territories == {"FR": "block", "US": "allow"}


def test_territories_outside_the_request_do_not_fire():
    outcome = run(facts(territories=["US"]), rule(territories={"in": ["FR"]}))

    assert not fired(outcome)
    assert first_result(outcome) == {
        "match": None,
        "fired": False,
        "condition": "territories",
        "reason": "requested US; the rule applies in FR",
        "missing": False,
    }


@pytest.mark.parametrize(
    ("requested", "test", "fires"),
    [
        (["stream"], {"in": ["sync"]}, False),
        (["stream", "sync"], {"in": ["sync"]}, True),
        (["stream"], {"not_in": ["sync"]}, True),
        (["stream", "sync"], {"not_in": ["sync"]}, False),
    ],
)
def test_usage_types(requested, test, fires):
    assert fired(run(facts(usage_types=requested), rule(usage_types=test))) is fires


def test_usage_types_missing_do_not_hold():
    outcome = run(facts(usage_types=[]), rule(usage_types={"not_in": ["sync"]}))

    assert first_result(outcome)["condition"] == "usage_types"
    assert first_result(outcome)["missing"] is True
    assert first_result(outcome)["reason"] == "no usage type was requested"


@pytest.mark.parametrize(
    ("matches", "test", "fires"),
    [
        ([], {"eq": 0}, True),
        ([match()], {"eq": 0}, False),
        ([match(), match(recording_id=102)], {"gte": 2}, True),
        ([match()], {"between": [2, 5]}, False),
    ],
)
def test_match_count(matches, test, fires):
    assert fired(run(facts(matches=matches), rule(match_count=test))) is fires


@pytest.mark.parametrize(
    ("declared", "test", "fires"),
    [
        ({"disclosure": "none"}, {"disclosure": {"eq": "none"}}, True),
        ({"disclosure": "partly"}, {"disclosure": {"eq": "none"}}, False),
        ({"disclosure": "partly"}, {"disclosure": {"in": ["partly", "all"]}}, True),
        ({"disclosure": "all"}, {"disclosure": {"not_in": ["all"]}}, False),
        (
            {"disclosure": "partly", "elements": ["vocals", "lyrics"]},
            {"elements": {"in": ["vocals"]}},
            True,
        ),
        (
            {"disclosure": "partly", "elements": ["lyrics"]},
            {"disclosure": {"eq": "partly"}, "elements": {"not_in": ["vocals"]}},
            True,
        ),
        (
            {"disclosure": "partly", "elements": ["vocals"]},
            {"elements": {"not_in": ["vocals"]}},
            False,
        ),
    ],
)
def test_declared_ai(declared, test, fires):
    assert fired(run(facts(declared_ai=declared), rule(declared_ai=test))) is fires


def test_declared_ai_failure_names_the_declaration():
    outcome = run(
        facts(declared_ai={"disclosure": "partly", "elements": ["vocals"]}),
        rule(declared_ai={"disclosure": {"eq": "none"}}),
    )

    assert first_result(outcome)["reason"] == (
        "declared AI partly (elements: vocals) (needs disclosure = none)"
    )


def test_declared_ai_missing_does_not_hold_even_when_negated():
    outcome = run(facts(declared_ai=None), rule(declared_ai={"disclosure": {"not_in": ["all"]}}))

    assert first_result(outcome)["missing"] is True
    assert first_result(outcome)["reason"] == "nothing was declared about AI"


def _detected(*evidence, assessment="detected_ai", confidence=0.8):
    return {
        "assessment": assessment,
        "confidence": confidence,
        "evidence": [{"source": s, "score": score, "detail": ""} for s, score in evidence],
    }


@pytest.mark.parametrize(
    ("detected", "test", "fires"),
    [
        (_detected(("spectral", 0.9)), {}, True),  # defaults: some evidence >= 0.5, any source
        (_detected(("spectral", 0.4)), {}, False),
        (_detected(("spectral", 0.9)), {"sources": ["c2pa", "tags"]}, False),
        (_detected(("c2pa", 1.0)), {"sources": ["c2pa"], "min_score": 1.0}, True),
        (_detected(("tags", 0.6)), {"min_score": 0.7}, False),
        (_detected(), {"evidence": False}, True),
        (_detected(("spectral", 0.3)), {"evidence": False}, True),
        (_detected(("spectral", 0.9)), {"evidence": False}, False),
        (_detected(("spectral", 0.9)), {"assessment": {"eq": "detected_ai"}}, True),
        (_detected(("spectral", 0.9)), {"assessment": {"in": ["declared_ai"]}}, False),
        (_detected(("spectral", 0.9), confidence=0.6), {"confidence": {"gte": 0.7}}, False),
    ],
)
def test_detected_ai(detected, test, fires):
    assert fired(run(facts(detected_ai=detected), rule(detected_ai=test))) is fires


def test_detected_ai_reason_counts_the_evidence():
    outcome = run(
        facts(detected_ai=_detected(("spectral", 0.9), ("tags", 0.2))),
        rule(detected_ai={"evidence": False}),
    )

    assert first_result(outcome)["reason"] == (
        "1 AI evidence item(s) from any source scoring >= 0.5, assessment detected_ai "
        "at confidence 0.8 (needs no evidence)"
    )


@pytest.mark.parametrize("evidence", [True, False])
def test_detected_ai_not_gathered_does_not_hold_either_way(evidence):
    outcome = run(facts(detected_ai=None), rule(detected_ai={"evidence": evidence}))

    assert first_result(outcome) == {
        "match": None,
        "fired": False,
        "condition": "detected_ai",
        "reason": "no AI detection was run",
        "missing": True,
    }


@pytest.mark.parametrize(
    ("declared", "detected", "matches", "expected"),
    [
        ("none", _detected(("spectral", 0.8)), [], True),
        ("none", _detected(("spectral", 0.3)), [], False),
        ("partly", _detected(("spectral", 0.8)), [], False),  # detection shows "partly" at most
        ("none", _detected(), [match(ai_disclosure="partly")], True),
        ("none", _detected(), [match(is_ai_generation=True)], True),
        ("partly", _detected(), [match(ai_disclosure="all", query_coverage_pct=95.0)], True),
        ("partly", _detected(), [match(ai_disclosure="all", query_coverage_pct=50.0)], False),
        ("all", _detected(("spectral", 1.0)), [match(ai_disclosure="all")], False),
        ("none", None, [match(ai_disclosure="partly")], True),  # the registry suffices
    ],
)
def test_undisclosed_ai(declared, detected, matches, expected):
    the_facts = facts(declared_ai={"disclosure": declared}, detected_ai=detected, matches=matches)

    assert fired(run(the_facts, rule(undisclosed_ai={"eq": True}))) is expected
    assert fired(run(the_facts, rule(undisclosed_ai={"eq": False}))) is not expected


def test_undisclosed_ai_min_score_sets_what_counts_as_detected():
    the_facts = facts(detected_ai=_detected(("spectral", 0.6)))

    assert fired(run(the_facts, rule(undisclosed_ai={"eq": True, "min_score": 0.5})))
    assert not fired(run(the_facts, rule(undisclosed_ai={"eq": True, "min_score": 0.7})))


@pytest.mark.parametrize("value", [True, False])
def test_undisclosed_ai_is_unknown_without_detection_when_the_registry_shows_nothing(value):
    outcome = run(facts(detected_ai=None), rule(undisclosed_ai={"eq": value}))

    assert first_result(outcome)["missing"] is True
    assert first_result(outcome)["reason"] == (
        f"declared AI none; registry and detection show none (needs undisclosed AI "
        f"{str(value).lower()}); no AI detection was run"
    )


def test_saying_nothing_about_ai_counts_as_declaring_none():
    # facts() detects no AI by default: nothing undisclosed, whatever was (not) declared.
    quiet = run(facts(declared_ai=None), rule(undisclosed_ai={"eq": True}))
    assert first_result(quiet)["missing"] is False
    assert first_result(quiet)["fired"] is False

    detected = facts(
        declared_ai=None,
        detected_ai={
            "assessment": "detected_ai",
            "confidence": 0.95,
            "evidence": [{"source": "c2pa", "score": 0.95, "detail": "trained model"}],
        },
    )
    outcome = run(detected, rule(undisclosed_ai={"eq": True}))
    assert outcome.to_json()["rules_fired"] != []
    assert "nothing declared about AI" in outcome.explanation


# ---------------------------------------------------------------- match conditions


@pytest.mark.parametrize(
    ("owner", "test", "fires"),
    [
        (OWNER, {"eq": "other"}, True),
        (OWNER, {"eq": "submitter"}, False),
        (SUBMITTER, {"eq": "submitter"}, True),
        (SUBMITTER, {"eq": "other"}, False),
        (SUBMITTER, {"eq": "anyone"}, True),
        (OWNER, {"in": ["submitter", "other"]}, True),
        (OWNER, {"not_in": ["other"]}, False),
        (SUBMITTER, {"not_in": ["other"]}, True),
    ],
)
def test_match_owner(owner, test, fires):
    outcome = run(facts(matches=[match(owner_id=owner)]), rule(match_owner=test))

    assert fired(outcome) is fires


@pytest.mark.parametrize(
    ("condition", "attribute", "value", "test", "fires"),
    [
        ("match_duration_s", "duration_s", 10.0, {"gte": 10}, True),
        ("match_duration_s", "duration_s", 9.99, {"gte": 10}, False),
        ("match_duration_s", "duration_s", 10.0, {"gt": 10}, False),
        ("match_duration_s", "duration_s", 30.0, {"between": [10, 30]}, True),
        ("match_duration_s", "duration_s", 30.5, {"between": [10, 30]}, False),
        ("match_duration_s", "duration_s", 5.0, {"lt": 5}, False),
        ("match_duration_s", "duration_s", 5.0, {"lte": 5}, True),
        ("match_duration_s", "duration_s", 12.0, {"gte": 10, "lte": 20}, True),
        ("match_duration_s", "duration_s", 25.0, {"gte": 10, "lte": 20}, False),
        ("query_coverage_pct", "query_coverage_pct", 80.0, {"gte": 50}, True),
        ("query_coverage_pct", "query_coverage_pct", 20.0, {"gte": 50}, False),
        ("reference_coverage_pct", "reference_coverage_pct", 100.0, {"eq": 100}, True),
        ("reference_coverage_pct", "reference_coverage_pct", 99.0, {"eq": 100}, False),
        ("score", "score", 0.8, {"gte": 0.8}, True),
        ("score", "score", 0.79, {"gte": 0.8}, False),
    ],
)
def test_numeric_match_conditions(condition, attribute, value, test, fires):
    outcome = run(facts(matches=[match(**{attribute: value})]), rule(**{condition: test}))

    assert fired(outcome) is fires


def test_a_numeric_failure_says_the_value_and_the_need():
    outcome = run(facts(matches=[match(duration_s=8.0)]), rule(match_duration_s={"gte": 10}))

    assert first_result(outcome) == {
        "match": 101,
        "fired": False,
        "condition": "match_duration_s",
        "reason": "match duration 8 s (needs >= 10)",
        "missing": False,
    }


@pytest.mark.parametrize(
    ("disclosure", "test", "fires"),
    [("all", {"eq": "all"}, True), ("none", {"in": ["partly", "all"]}, False)],
)
def test_match_ai_disclosure(disclosure, test, fires):
    outcome = run(facts(matches=[match(ai_disclosure=disclosure)]), rule(match_ai_disclosure=test))

    assert fired(outcome) is fires


GENERATED = {"is_ai_generation": True, "ai_providers": ["Sonic Forge"], "ai_models": ["forge-2"]}


@pytest.mark.parametrize(
    ("recording", "test", "fires"),
    [
        (GENERATED, {"eq": True}, True),
        ({}, {"eq": True}, False),
        ({}, {"eq": False}, True),
        (GENERATED, {"eq": True, "providers": ["sonic forge"]}, True),  # case-insensitive
        (GENERATED, {"eq": True, "providers": ["Other AI"]}, False),
        (GENERATED, {"eq": True, "models": ["FORGE-2"]}, True),
        (GENERATED, {"eq": True, "providers": ["Sonic Forge"], "models": ["forge-1"]}, False),
        (GENERATED, {"eq": False, "providers": ["Other AI"]}, True),
    ],
)
def test_ai_generation(recording, test, fires):
    outcome = run(facts(matches=[match(**recording)]), rule(ai_generation=test))

    assert fired(outcome) is fires


def test_ai_generation_text_names_provider_and_model():
    outcome = run(facts(matches=[match(**GENERATED)]), rule(ai_generation={"eq": False}))

    assert first_result(outcome)["reason"] == (
        "recording is a registered AI generation (Sonic Forge, forge-2) (needs not an AI generation)"
    )


@pytest.mark.parametrize(("value", "test", "fires"), [(True, True, True), (False, True, False)])
def test_inputs_owned_by_others(value, test, fires):
    outcome = run(
        facts(matches=[match(inputs_owned_by_others=value)]),
        rule(inputs_owned_by_others={"eq": test}),
    )

    assert fired(outcome) is fires


# ---------------------------------------------------------------- rights and conflicts


def _holds(*rights, usages=("stream",), territories=("WORLD",)):
    """Where ``submitter_holds_rights eq true`` fires for a match with these rights."""
    outcome = run(
        facts(
            matches=[match(rights=list(rights))],
            usage_types=list(usages),
            territories=list(territories),
        ),
        rule(submitter_holds_rights={"eq": True}),
    )
    return {code for code, action in outcome.territories.items() if action == "block"} or (
        {"WORLD"} if outcome.territories == {"WORLD": "block"} else set()
    )


def test_submitter_rights_cover_their_territories():
    assert _holds(share(owner_id=SUBMITTER, territories=["FR", "BE"])) == {"FR", "BE"}
    assert _holds(share(owner_id=SUBMITTER)) == {"WORLD"}
    assert _holds(share(owner_id=SUBMITTER, exclude_territories=["FR"])) == ISO_3166_ALPHA2 - {"FR"}


def test_other_owners_rights_do_not_count_for_the_submitter():
    assert _holds(share(owner_id=OWNER)) == set()


def test_submitter_rights_count_only_on_the_evaluation_date():
    assert _holds(share(owner_id=SUBMITTER, end="2026-02-28")) == set()  # expired the day before
    assert _holds(share(owner_id=SUBMITTER, start="2026-03-02")) == set()  # not yet
    assert _holds(share(owner_id=SUBMITTER, start="2026-03-01", end="2026-03-01")) == {"WORLD"}


def test_submitter_rights_must_cover_every_requested_usage():
    stream = share(owner_id=SUBMITTER, territories=["FR", "DE"], usage_types=["stream"])
    download = share(owner_id=SUBMITTER, territories=["FR"], usage_types=["download"])

    assert _holds(stream, download, usages=("stream", "download"), territories=("FR", "DE")) == {
        "FR"
    }
    assert _holds(stream, usages=("sync",), territories=("FR",)) == set()


def test_a_licence_counts_like_a_share():
    assert _holds(share(owner_id=SUBMITTER, kind="licence", share_pct="0.001")) == {"WORLD"}


def test_submitter_holds_rights_false_fires_where_it_holds_none():
    outcome = run(
        facts(
            territories=["FR", "DE"],
            matches=[match(rights=[share(owner_id=SUBMITTER, territories=["FR"])])],
        ),
        rule(submitter_holds_rights={"eq": False}),
    )

    assert outcome.territories == {"DE": "block", "FR": "allow"}
    assert outcome.to_json()["verdicts"][0]["because"] == [
        "the submitter holds a share or licence for stream on 2026-03-01 in FR (needs false)"
    ]


def test_ownership_conflict_fires_in_the_conflicting_territories():
    the_facts = facts(
        territories=["FR", "DE", "US"],
        matches=[match()],
        conflicts=[{"recording_id": 101, "territories": ["FR", "DE"]}],
    )

    assert run(the_facts, rule(ownership_conflict={"eq": True})).territories == {
        "DE": "block",
        "FR": "block",
        "US": "allow",
    }
    assert run(the_facts, rule(ownership_conflict={"eq": False})).territories == {
        "DE": "allow",
        "FR": "allow",
        "US": "block",
    }


def test_a_conflict_about_another_recording_does_not_count():
    the_facts = facts(
        matches=[match()], conflicts=[{"recording_id": 999, "territories": ["WORLD"]}]
    )

    assert not fired(run(the_facts, rule(ownership_conflict={"eq": True})))


# ---------------------------------------------------------------- rules, matches, missing


def test_a_rule_without_conditions_fires_everywhere():
    outcome = run(facts(), rule(action="track"))

    assert outcome.territories == {"WORLD": "track"}
    assert outcome.to_json()["verdicts"][0]["because"] == []


def test_a_match_rule_with_nothing_matched_does_not_fire():
    outcome = run(facts(), rule(score={"gte": 0}))

    assert first_result(outcome) == {
        "match": None,
        "fired": False,
        "condition": "matches",
        "reason": "nothing matched, and the rule has match conditions",
        "missing": False,
    }


def test_a_match_rule_runs_once_per_match():
    the_facts = facts(matches=[match(score=0.5), match(recording_id=102, score=0.95)])
    outcome = run(the_facts, rule(score={"gte": 0.9}))

    results = outcome.to_json()["rules"][0]["results"]
    assert [(r["match"], r["fired"]) for r in results] == [(101, False), (102, True)]
    assert outcome.to_json()["won_by"] == {
        "policy": 1,
        "version": 11,
        "number": 1,
        "rule": "r",
        "match": 102,
    }


def test_the_first_failing_condition_is_reported_in_the_engines_order():
    # Written in another order; territories are tested before match conditions.
    outcome = run(
        facts(territories=["US"], matches=[match(score=0.1)]),
        rule(score={"gte": 0.9}, territories={"in": ["FR"]}),
    )

    assert first_result(outcome)["condition"] == "territories"


def test_conditions_that_held_are_kept_as_the_reason_why():
    outcome = run(
        facts(matches=[match()]),
        rule(match_owner={"eq": "other"}, match_duration_s={"gte": 30}),
    )

    assert outcome.to_json()["verdicts"][0]["because"] == [
        "recording owned by another organisation (organisation 20) (needs owner = other)",
        "match duration 42 s (needs >= 30)",
    ]


# ---------------------------------------------------------------- actions and precedence


def test_every_action_appears_in_the_verdict_with_its_details():
    the_facts = facts(territories=["FR"], matches=[match()])
    expected = {
        "allow": (None, None, ""),
        "track": (None, None, ""),
        "block": (None, None, "no licence"),
        "require_licence": (None, None, ""),
        "monetize": (None, OWNER, ""),
        "review": ("urgent", None, "check the stems"),
    }
    for action, (priority, owner, reason) in expected.items():
        spec = {"type": action, "reason": reason}
        if priority:
            spec["priority"] = priority
        outcome = run(the_facts, rule(action=spec, score={"gte": 0}))
        verdict = outcome.to_json()["verdicts"][0]
        assert (verdict["action"], verdict["priority"], verdict["owner"], verdict["reason"]) == (
            action,
            priority,
            owner,
            reason,
        ), action
        assert outcome.action == action


def test_monetize_for_a_named_owner():
    outcome = run(
        facts(matches=[match()]), rule(action={"type": "monetize", "owner": 77}, score={"gte": 0})
    )

    assert outcome.to_json()["verdicts"][0]["owner"] == 77
    assert "Monetize for organisation 77 worldwide" in outcome.explanation


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(ACTIONS, 2)))
def test_the_most_restrictive_action_wins_whatever_the_order(first, second):
    review = {"reason": "look", "priority": "normal"}
    specs = [
        {
            "type": a,
            **(review if a == "review" else {}),
            **({"owner": 5} if a == "monetize" else {}),
        }
        for a in (first, second)
    ]
    outcome = run(facts(), rule("a", specs[0]), rule("b", specs[1]))

    winner = max(first, second, key=ACTIONS.index)
    assert outcome.territories == {"WORLD": winner}
    assert outcome.to_json()["won_by"]["rule"] == ("a" if winner == first else "b")


def test_among_reviews_the_most_urgent_wins_and_sets_the_priority():
    outcome = run(
        facts(),
        rule("normal", {"type": "review", "reason": "one", "priority": "normal"}),
        rule("urgent", {"type": "review", "reason": "two", "priority": "urgent"}),
        rule("low", {"type": "review", "reason": "three", "priority": "low"}),
    )

    assert (outcome.action, outcome.priority) == ("review", "urgent")
    assert outcome.to_json()["won_by"]["rule"] == "urgent"


def test_among_equal_actions_the_first_rule_wins():
    outcome = run(facts(), rule("first", "block"), rule("second", "block"))

    assert outcome.to_json()["won_by"]["rule"] == "first"
    assert outcome.explanation.endswith('Also fired, outweighed: "second" (block).')


def test_nothing_fired_means_allow():
    outcome = run(facts(), rule(match_count={"gte": 1}))

    assert outcome.to_json()["territories"] == {"WORLD": "allow"}
    assert outcome.to_json()["won_by"] is None
    assert outcome.to_json()["verdicts"] == [
        {
            "action": "allow",
            "priority": None,
            "owner": None,
            "reason": "",
            "territories": ["WORLD"],
            "exclude_territories": [],
            "won_by": None,
            "because": [],
        }
    ]
    assert outcome.explanation == "Decision: allow.\nAllow worldwide: no rule fired."


# ---------------------------------------------------------------- territories in the outcome


def test_a_uniform_world_request_compresses_to_world():
    assert run(facts(), rule()).territories == {"WORLD": "block"}


def test_a_uniform_list_request_stays_per_code():
    assert run(facts(territories=["fr", "de"]), rule()).territories == {
        "DE": "block",
        "FR": "block",
    }


def test_a_mixed_world_request_lists_every_code():
    outcome = run(facts(), rule(territories={"in": ["JP"]}))

    assert len(outcome.territories) == ALL
    assert outcome.action == "block"
    assert [v["action"] for v in outcome.to_json()["verdicts"]] == ["block", "allow"]
    assert outcome.to_json()["verdicts"][1]["exclude_territories"] == ["JP"]


# ---------------------------------------------------------------- several matches and owners


def test_several_owners_policies_combine_per_territory():
    the_facts = facts(
        matches=[
            match(recording_id=101, owner_id=OWNER, title="Tide"),
            match(recording_id=202, owner_id=OTHER_OWNER, title="Ebb", isrc=None),
        ]
    )
    global_policy = policy(rule("track-all", "track"), name="Global")
    owner_policy = policy(
        rule("monetize-mine", "monetize"), policy_id=2, version_id=21, owner_id=OWNER, name="A"
    )
    other_policy = policy(
        rule("block-in-fr", "block", territories={"in": ["FR"]}),
        policy_id=3,
        version_id=31,
        owner_id=OTHER_OWNER,
        name="B",
    )

    outcome = engine.evaluate(the_facts, [global_policy, owner_policy, other_policy])

    assert outcome.territories["FR"] == "block"
    assert outcome.territories["US"] == "monetize"
    assert outcome.action == "block"
    verdicts = outcome.to_json()["verdicts"]
    assert [(v["action"], v["won_by"], v["owner"]) for v in verdicts] == [
        (
            "block",
            {"policy": 3, "version": 31, "number": 1, "rule": "block-in-fr", "match": 202},
            None,
        ),
        (
            "monetize",
            {"policy": 2, "version": 21, "number": 1, "rule": "monetize-mine", "match": 101},
            OWNER,
        ),
    ]
    # Each owner's rules ran only on its own recording's match.
    rules = outcome.to_json()["rules"]
    assert [[r["match"] for r in rule_["results"]] for rule_ in rules] == [[None], [101], [202]]
    assert outcome.explanation == (
        "Decision: block.\n"
        'Block in FR: rule "block-in-fr" of policy "B" version 1 for recording 202 "Ebb": '
        "requested WORLD; the rule applies in FR.\n"
        'Monetize for organisation 20 worldwide except FR: rule "monetize-mine" of policy "A" '
        'version 1 for recording 101 "Tide" (ISRC GBAAA2630001): the rule has no conditions.\n'
        'Also fired, outweighed: "track-all" (track).'
    )


def test_an_owner_policy_without_its_recording_matched_does_not_apply():
    outcome = engine.evaluate(
        facts(matches=[match(owner_id=OTHER_OWNER)]),
        [policy(rule("mine"), owner_id=OWNER)],
    )

    assert outcome.action == "allow"
    assert first_result(outcome) == {
        "match": None,
        "fired": False,
        "condition": "matches",
        "reason": "no match of organisation 20's recordings",
        "missing": False,
    }


def test_the_outcome_names_every_policy_version_used():
    outcome = engine.evaluate(facts(), [policy(rule()), policy(policy_id=2, version_id=22)])

    assert [(p["policy"], p["version"], p["number"]) for p in outcome.to_json()["policies"]] == [
        (1, 11, 1),
        (2, 22, 1),
    ]
    assert outcome.to_json()["policies"][1]["rules_sha256"] == policy().rules.sha256()


# ---------------------------------------------------------------- replay


def test_the_same_facts_and_versions_give_the_same_bytes():
    raw = facts_json(
        territories=["FR", "DE", "US"],
        matches=[match(), match(recording_id=102, owner_id=OTHER_OWNER)],
        conflicts=[{"recording_id": 101, "territories": ["FR"]}],
    )
    policies = [
        policy(
            rule(
                "a",
                {"type": "review", "reason": "x", "priority": "high"},
                ownership_conflict={"eq": True},
            ),
            rule("b", "require_licence", match_owner={"eq": "other"}),
        )
    ]

    first = engine.evaluate(Facts.from_json(raw), policies)
    # Stored and read back: the JSON form goes through a database and comes back equal.
    stored_facts = json.loads(json.dumps(first.facts.to_json()))
    stored_outcome = json.loads(json.dumps(first.to_json()))
    second = engine.evaluate(Facts.from_json(stored_facts), policies)

    assert second.canonical() == first.canonical() == canonical_json(stored_outcome)
    assert second.sha256() == first.sha256()
    assert first.to_json()["facts_sha256"] == Facts.from_json(stored_facts).sha256()


def test_a_different_version_gives_a_different_outcome_hash():
    the_facts = facts()
    first = engine.evaluate(the_facts, [policy(rule(), version_id=11)])
    second = engine.evaluate(the_facts, [policy(rule(), version_id=12)])

    assert first.territories == second.territories
    assert first.sha256() != second.sha256()


# ---------------------------------------------------------------- comparing outcomes


def test_territory_changes_compress_a_uniform_world_change():
    assert engine.territory_changes({"WORLD": "allow"}, {"WORLD": "block"}, world=True) == {
        "WORLD": {"old": "allow", "new": "block"}
    }
    mixed = dict.fromkeys(ISO_3166_ALPHA2, "allow") | {"FR": "review"}
    assert engine.territory_changes({"WORLD": "allow"}, mixed, world=True) == {
        "FR": {"old": "allow", "new": "review"}
    }
    assert engine.territory_changes({"FR": "allow"}, {"FR": "allow"}, world=False) == {}
