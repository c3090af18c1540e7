"""Compare two versions' rules: added, removed, changed (field by field) and moved rules (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a rule by its dotted path; lists are leaves (their order is canonical)."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}.{key}" if path else str(key)))
        return out
    return {path: value}


def compare_rules(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A rule diff keyed by rule id. ``old``/``new`` are canonical rules (as versions store them).

    ``changed`` lists each differing leaf with its old and new value (null where absent);
    ``moved`` lists rules whose position among the rules both versions share changed,
    which matters because ties between equally restrictive rules go to the earlier one.
    """
    old_ids = [rule["id"] for rule in old]
    new_ids = [rule["id"] for rule in new]
    old_by_id = {rule["id"]: rule for rule in old}
    new_by_id = {rule["id"]: rule for rule in new}
    changed = []
    unchanged = []
    for rule_id in new_ids:
        if rule_id not in old_by_id:
            continue
        before, after = _leaves(old_by_id[rule_id]), _leaves(new_by_id[rule_id])
        fields = [
            {"path": path, "old": before.get(path), "new": after.get(path)}
            for path in sorted(before.keys() | after.keys())
            if before.get(path, _ABSENT) != after.get(path, _ABSENT)
        ]
        if fields:
            changed.append({"rule": rule_id, "changes": fields})
        else:
            unchanged.append(rule_id)
    shared_old = [i for i in old_ids if i in new_by_id]
    shared_new = [i for i in new_ids if i in old_by_id]
    moved = [
        {
            "rule": rule_id,
            "old_position": old_ids.index(rule_id),
            "new_position": new_ids.index(rule_id),
        }
        for rule_id in shared_new
        if shared_old.index(rule_id) != shared_new.index(rule_id)
    ]
    result = {
        "added": [new_by_id[i] for i in new_ids if i not in old_by_id],
        "removed": [old_by_id[i] for i in old_ids if i not in new_by_id],
        "changed": changed,
        "moved": moved,
        "unchanged": unchanged,
    }
    result["identical"] = not (result["added"] or result["removed"] or changed or moved)
    return result


_ABSENT = object()
