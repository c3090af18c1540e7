"""The rule schema: valid rules are normalised and hashed; invalid ones are refused by field path."""

from __future__ import annotations

import pytest

from policies.defaults import DEFAULT_RULES_V1
from policies.rules import MAX_RULES, PolicyInvalid, parse_rules

from .builders import rule


def test_valid_rules_come_back_in_canonical_form():
    ruleset = parse_rules(
        [
            {
                "id": "r1",
                "conditions": {
                    "territories": {"in": ["fr", "de", "FR"], "not_in": ["us"]},
                    "match_duration_s": {"between": [10, 30.5]},
                    "detected_ai": {},
                    "usage_types": {"in": ["sync", "stream"]},
                },
                "action": {"type": "review", "reason": " look at it "},
            },
            {"id": "r2", "action": {"type": "monetize"}, "conditions": {"score": {"gte": 0.5}}},
        ]
    )

    assert ruleset.to_json() == [
        {
            "id": "r1",
            "description": "",
            "conditions": {
                "territories": {"in": ["DE", "FR"], "not_in": ["US"]},
                "usage_types": {"in": ["stream", "sync"]},
                "detected_ai": {"evidence": True, "min_score": 0.5},
                "match_duration_s": {"between": [10, 30.5]},
            },
            "action": {"type": "review", "reason": "look at it", "priority": "normal"},
        },
        {
            "id": "r2",
            "description": "",
            "conditions": {"score": {"gte": 0.5}},
            "action": {"type": "monetize", "reason": ""},
        },
    ]
    # The canonical form parses to itself, so its hash is stable.
    assert parse_rules(ruleset.to_json()).sha256() == ruleset.sha256()


def test_the_hash_ignores_key_order_and_duplicates_but_not_meaning():
    a = parse_rules([rule(territories={"in": ["FR", "DE"]})])
    b = parse_rules(
        [
            {
                "action": {"type": "block"},
                "conditions": {"territories": {"in": ["de", "fr", "fr"]}},
                "id": "r",
            }
        ]
    )
    c = parse_rules([rule(territories={"in": ["FR"]})])

    assert a.sha256() == b.sha256() != c.sha256()
    assert len(a.sha256()) == 64


def test_the_default_rules_are_valid():
    assert [r.id for r in parse_rules(DEFAULT_RULES_V1).rules] == [
        "reuse-needs-licence",
        "ai-generation-as-human",
        "undisclosed-ai",
        "nothing-found",
    ]


def test_monetize_without_an_owner_is_fine_in_an_owners_policy():
    ruleset = parse_rules([rule(action="monetize")], owner_scoped=True)

    assert ruleset.rules[0].action.owner is None


def _three_rules_with_a_bad_third():
    return [
        rule("a"),
        rule("b"),
        rule("c", match_duration_s={"gte": "ten"}),
    ]


@pytest.mark.parametrize(
    ("rules", "field", "code", "message"),
    [
        (
            _three_rules_with_a_bad_third(),
            "rules[2].conditions.match_duration_s.gte",
            "POLICY_VALUE_INVALID",
            "must be a number, not a string",
        ),
        ({"rules": []}, "rules", "POLICY_INVALID", "the rules are a list of rule objects"),
        (["block"], "rules[0]", "POLICY_VALUE_INVALID", "must be an object, not a string"),
        (
            [{"action": {"type": "block"}}],
            "rules[0].id",
            "POLICY_FIELD_REQUIRED",
            "this field is required",
        ),
        (
            [rule("Bad Id")],
            "rules[0].id",
            "POLICY_VALUE_INVALID",
            "'Bad Id' does not match [a-z0-9][a-z0-9_.-]{0,63}",
        ),
        (
            [{**rule(), "when": "always"}],
            "rules[0].when",
            "POLICY_FIELD_UNKNOWN",
            "unknown field; expected one of action, conditions, description, id",
        ),
        (
            [rule(colour={"eq": "blue"})],
            "rules[0].conditions.colour",
            "POLICY_CONDITION_UNKNOWN",
            None,
        ),
        (
            [{**rule(), "conditions": ["score"]}],
            "rules[0].conditions",
            "POLICY_VALUE_INVALID",
            "conditions are an object: {condition name: test}",
        ),
        (
            [rule(score={"regex": ".*"})],
            "rules[0].conditions.score.regex",
            "POLICY_OPERATOR_UNKNOWN",
            "unknown operator; expected one of eq, gt, gte, lt, lte, between",
        ),
        (
            [rule(score={"lambda": "__import__('os').system('true')"})],
            "rules[0].conditions.score.lambda",
            "POLICY_OPERATOR_UNKNOWN",
            None,
        ),
        (
            [rule(score={"gte": 1.5})],
            "rules[0].conditions.score.gte",
            "POLICY_VALUE_INVALID",
            "must be between 0 and 1 (got 1.5)",
        ),
        (
            [rule(score={"gte": True})],
            "rules[0].conditions.score.gte",
            "POLICY_VALUE_INVALID",
            "must be a number, not a boolean",
        ),
        (
            [rule(score={"gte": float("nan")})],
            "rules[0].conditions.score.gte",
            "POLICY_VALUE_INVALID",
            "must be a finite number",
        ),
        (
            [rule(score={})],
            "rules[0].conditions.score",
            "POLICY_VALUE_INVALID",
            "must be an object with one of eq, gt, gte, lt, lte, between",
        ),
        (
            [rule(match_duration_s={"between": [30, 10]})],
            "rules[0].conditions.match_duration_s.between",
            "POLICY_VALUE_INVALID",
            "low 30 is above high 10",
        ),
        (
            [rule(match_duration_s={"between": [10]})],
            "rules[0].conditions.match_duration_s.between",
            "POLICY_VALUE_INVALID",
            "between takes [low, high]",
        ),
        (
            [rule(query_coverage_pct={"lte": 101})],
            "rules[0].conditions.query_coverage_pct.lte",
            "POLICY_VALUE_INVALID",
            "must be between 0 and 100 (got 101)",
        ),
        (
            [rule(match_count={"gte": 1.5})],
            "rules[0].conditions.match_count.gte",
            "POLICY_VALUE_INVALID",
            "must be a whole number",
        ),
        (
            [rule(match_owner={"eq": "everyone"})],
            "rules[0].conditions.match_owner.eq",
            "POLICY_VALUE_INVALID",
            "must be one of anyone, submitter, other (got 'everyone')",
        ),
        (
            [rule(match_owner={"eq": "other", "in": ["other"]})],
            "rules[0].conditions.match_owner",
            "POLICY_VALUE_INVALID",
            "use one operator of eq, in, not_in, not several",
        ),
        (
            [rule(match_ai_disclosure={"in": []})],
            "rules[0].conditions.match_ai_disclosure.in",
            "POLICY_VALUE_INVALID",
            "must not be empty",
        ),
        (
            [rule(territories={"in": ["UK"]})],
            "rules[0].conditions.territories.in",
            "POLICY_VALUE_INVALID",
            "Unknown territory code: 'UK'. Use ISO 3166-1 alpha-2 codes (e.g. GB, US) or WORLD. "
            "Did you mean GB for 'UK'?",
        ),
        (
            [rule(territories={"not_in": ["WORLD"]})],
            "rules[0].conditions.territories.not_in",
            "POLICY_VALUE_INVALID",
            "WORLD cannot be excluded",
        ),
        (
            [rule(territories={"in": ["FR"], "not_in": ["FR"]})],
            "rules[0].conditions.territories",
            "POLICY_VALUE_INVALID",
            "the exclusions leave no territory",
        ),
        (
            [rule(usage_types={"in": ["Stream!"]})],
            "rules[0].conditions.usage_types.in[0]",
            "POLICY_VALUE_INVALID",
            None,
        ),
        (
            [rule(usage_types={"eq": "stream"})],
            "rules[0].conditions.usage_types.eq",
            "POLICY_OPERATOR_UNKNOWN",
            "unknown operator; expected one of in, not_in",
        ),
        (
            [rule(declared_ai={})],
            "rules[0].conditions.declared_ai",
            "POLICY_VALUE_INVALID",
            "must be an object with disclosure and/or elements",
        ),
        (
            [rule(declared_ai={"disclosure": {"eq": "some"}})],
            "rules[0].conditions.declared_ai.disclosure.eq",
            "POLICY_VALUE_INVALID",
            "must be one of none, partly, all (got 'some')",
        ),
        (
            [rule(declared_ai={"elements": {"in": ["drums"]}})],
            "rules[0].conditions.declared_ai.elements.in[0]",
            "POLICY_VALUE_INVALID",
            None,
        ),
        (
            [rule(detected_ai={"sources": ["radio"]})],
            "rules[0].conditions.detected_ai.sources[0]",
            "POLICY_VALUE_INVALID",
            "must be one of registry, c2pa, tags, spectral (got 'radio')",
        ),
        (
            [rule(detected_ai={"min_score": 2})],
            "rules[0].conditions.detected_ai.min_score",
            "POLICY_VALUE_INVALID",
            "must be between 0 and 1 (got 2)",
        ),
        (
            [rule(undisclosed_ai={"min_score": 0.5})],
            "rules[0].conditions.undisclosed_ai.eq",
            "POLICY_FIELD_REQUIRED",
            "this field is required",
        ),
        (
            [rule(ai_generation={"eq": True, "providers": "Suno"})],
            "rules[0].conditions.ai_generation.providers",
            "POLICY_VALUE_INVALID",
            "must be a list, not a string",
        ),
        (
            [rule(ownership_conflict={"eq": "yes"})],
            "rules[0].conditions.ownership_conflict.eq",
            "POLICY_VALUE_INVALID",
            "must be true or false, not a string",
        ),
        (
            [rule(submitter_holds_rights=True)],
            "rules[0].conditions.submitter_holds_rights",
            "POLICY_VALUE_INVALID",
            "must be an object with one of eq",
        ),
        (
            [{"id": "r"}],
            "rules[0].action",
            "POLICY_FIELD_REQUIRED",
            "this field is required",
        ),
        (
            [rule(action="delete")],
            "rules[0].action.type",
            "POLICY_ACTION_INVALID",
            "unknown action 'delete'; expected one of allow, track, monetize, review, "
            "require_licence, block",
        ),
        (
            [rule(action="review")],
            "rules[0].action.reason",
            "POLICY_FIELD_REQUIRED",
            "a review says why (reason)",
        ),
        (
            [rule(action={"type": "review", "reason": "x", "priority": "asap"})],
            "rules[0].action.priority",
            "POLICY_VALUE_INVALID",
            "must be one of low, normal, high, urgent (got 'asap')",
        ),
        (
            [rule(action={"type": "block", "priority": "high"})],
            "rules[0].action.priority",
            "POLICY_VALUE_INVALID",
            "only a review has a priority",
        ),
        (
            [rule(action={"type": "block", "owner": 3})],
            "rules[0].action.owner",
            "POLICY_VALUE_INVALID",
            "only monetize names an owner",
        ),
        (
            [rule(action="monetize")],
            "rules[0].action.owner",
            "POLICY_FIELD_REQUIRED",
            "monetize in a rule without match conditions must name the owner",
        ),
        (
            [rule("same"), rule("same")],
            "rules[1].id",
            "POLICY_RULE_DUPLICATE",
            "rule id 'same' is already used by rules[0]",
        ),
        (
            [rule(f"r{i}") for i in range(MAX_RULES + 1)],
            "rules",
            "POLICY_TOO_LARGE",
            f"at most {MAX_RULES} rules (got {MAX_RULES + 1})",
        ),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(rules, field, code, message):
    with pytest.raises(PolicyInvalid) as caught:
        parse_rules(rules)

    error = caught.value
    assert (error.code, error.detail["field"]) == (code, field)
    assert error.detail["errors"][0] == {
        "field": field,
        "code": code,
        "message": message or error.detail["errors"][0]["message"],
    }
    assert error.message.startswith(f"{field}: ")


def test_every_problem_is_listed_not_only_the_first():
    with pytest.raises(PolicyInvalid) as caught:
        parse_rules([rule("a", score={"gte": 2}), rule("b", action="nope", colour={})])

    assert [(e["field"], e["code"]) for e in caught.value.detail["errors"]] == [
        ("rules[0].conditions.score.gte", "POLICY_VALUE_INVALID"),
        ("rules[1].conditions.colour", "POLICY_CONDITION_UNKNOWN"),
        ("rules[1].action.type", "POLICY_ACTION_INVALID"),
    ]
