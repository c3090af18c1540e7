"""Comparing two versions' rules: added, removed, changed field by field, moved."""

from __future__ import annotations

from policies.diff import compare_rules
from policies.rules import parse_rules

from .builders import rule


def canonical(*rules):
    return parse_rules(list(rules)).to_json()


def test_identical_rules():
    rules = canonical(rule("a"), rule("b"))

    assert compare_rules(rules, rules) == {
        "added": [],
        "removed": [],
        "changed": [],
        "moved": [],
        "unchanged": ["a", "b"],
        "identical": True,
    }


def test_added_removed_changed_and_moved_rules():
    old = canonical(
        rule("keep", "track"),
        rule("tune", "block", match_duration_s={"gte": 10}, score={"gte": 0.5}),
        rule("drop", "allow"),
    )
    new = canonical(
        rule(
            "tune", "require_licence", match_duration_s={"gte": 20}, query_coverage_pct={"gte": 5}
        ),
        rule("keep", "track"),
        rule("fresh", {"type": "review", "reason": "new", "priority": "high"}),
    )

    result = compare_rules(old, new)

    assert result["added"] == [new[2]]
    assert result["removed"] == [old[2]]
    assert result["changed"] == [
        {
            "rule": "tune",
            "changes": [
                {"path": "action.type", "old": "block", "new": "require_licence"},
                {"path": "conditions.match_duration_s.gte", "old": 10, "new": 20},
                {"path": "conditions.query_coverage_pct.gte", "old": None, "new": 5},
                {"path": "conditions.score.gte", "old": 0.5, "new": None},
            ],
        }
    ]
    assert result["moved"] == [
        {"rule": "tune", "old_position": 1, "new_position": 0},
        {"rule": "keep", "old_position": 0, "new_position": 1},
    ]
    assert result["unchanged"] == ["keep"]
    assert result["identical"] is False
