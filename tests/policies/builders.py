"""Builders for policy tests: facts and policies as plain data, with only what a test changes."""

from __future__ import annotations

import copy
from typing import Any

from policies import engine
from policies.facts import Facts
from policies.rules import parse_rules

SUBMITTER = 10  # a distributor
OWNER = 20  # a label whose recording matched
OTHER_OWNER = 30  # another label
DAY = "2026-03-01"


def share(**fields: Any) -> dict[str, Any]:
    data = {
        "owner_id": OWNER,
        "kind": "share",
        "share_pct": "100.000",
        "territories": ["WORLD"],
        "exclude_territories": [],
        "start": None,
        "end": None,
        "usage_types": [],
    }
    data.update(fields)
    return data


def match(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "recording_id": 101,
        "title": "Tide",
        "isrc": "GBAAA2630001",
        "owner_id": OWNER,
        "duration_s": 42.0,
        "query_coverage_pct": 35.0,
        "reference_coverage_pct": 20.0,
        "score": 0.93,
        "ai_disclosure": "none",
        "is_ai_generation": False,
        "ai_providers": [],
        "ai_models": [],
        "inputs_owned_by_others": False,
        "rights": [share()],
    }
    data.update(fields)
    return data


def facts_json(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "submitter": {"organization_id": SUBMITTER, "kind": "distributor"},
        "territories": ["WORLD"],
        "usage_types": ["stream"],
        "evaluation_date": DAY,
        "declared_ai": {"disclosure": "none", "elements": []},
        "detected_ai": {"assessment": "no_evidence", "confidence": 0.0, "evidence": []},
        "matches": [],
        "conflicts": [],
    }
    data.update(copy.deepcopy(fields))
    return data


def facts(**fields: Any) -> Facts:
    return Facts.from_json(facts_json(**fields))


def rule(rule_id: str = "r", action: Any = "block", **conditions: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "conditions": conditions,
        "action": action if isinstance(action, dict) else {"type": action},
    }


def policy(
    *rules: dict[str, Any],
    policy_id: int = 1,
    version_id: int = 11,
    number: int = 1,
    owner_id: int | None = None,
    name: str = "Test policy",
) -> engine.PolicyInput:
    return engine.PolicyInput(
        policy_id=policy_id,
        name=name,
        version_id=version_id,
        number=number,
        owner_id=owner_id,
        rules=parse_rules(list(rules), owner_scoped=owner_id is not None),
    )


def run(the_facts: Facts, *rules: dict[str, Any]) -> engine.Outcome:
    """One global policy made of these rules, evaluated on the facts."""
    return engine.evaluate(the_facts, [policy(*rules)])


def fired(outcome: engine.Outcome) -> bool:
    return bool(outcome.rules_fired)


def first_result(outcome: engine.Outcome) -> dict[str, Any]:
    """The JSON result of the first rule's first run."""
    result: dict[str, Any] = outcome.to_json()["rules"][0]["results"][0]
    return result
