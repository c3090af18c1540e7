"""The rule schema: a policy version's rules as JSON, validated into typed rules (pure).

Rules are data, never code: each condition has a fixed shape and a whitelist of
operators, values are type- and range-checked, and nothing is evaluated as an
expression. :func:`parse_rules` reports every problem with the path of its field
(``rules[2].conditions.match_duration_s.gte``) and a stable code. docs/policies.md
documents the schema with examples.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import ValidationError
from registry.territories import ISO_3166_ALPHA2, WORLD

from .canonical import sha256_of
from .facts import AI_DISCLOSURES, AI_ELEMENTS, EVIDENCE_SOURCES, USAGE_TYPE
from .validation import REQUIRED, TOO_LARGE, UNKNOWN, VALUE, FieldErrors, join

# Least to most restrictive: when rules disagree about a territory, the later one wins.
ACTIONS = ("allow", "track", "monetize", "review", "require_licence", "block")
SEVERITY = {action: rank for rank, action in enumerate(ACTIONS)}
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
MATCH_OWNERS = ("anyone", "submitter", "other")

NUMERIC_OPS = ("eq", "gt", "gte", "lt", "lte", "between")
CHOICE_OPS = ("eq", "in", "not_in")
SET_OPS = ("in", "not_in")  # for facts that are lists (elements, usage types)

MAX_RULES = 200
MAX_VALUES = 300
MAX_DURATION_S = 1e6
DEFAULT_MIN_SCORE = 0.5
RULE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")

# Conditions on the check as a whole, then conditions on one match, in the order the
# engine tests them (and so the order in which "which condition failed" is reported;
# JSON object keys have no order once stored in PostgreSQL).
CHECK_CONDITIONS = (
    "territories",
    "usage_types",
    "match_count",
    "declared_ai",
    "detected_ai",
    "undisclosed_ai",
)
MATCH_CONDITIONS = (
    "match_owner",
    "match_duration_s",
    "query_coverage_pct",
    "reference_coverage_pct",
    "score",
    "match_ai_disclosure",
    "ai_generation",
    "inputs_owned_by_others",
    "submitter_holds_rights",
    "ownership_conflict",
)
CONDITIONS = CHECK_CONDITIONS + MATCH_CONDITIONS

# Kinds of problem specific to rules (the shared ones are in .validation).
CONDITION = "condition"
OPERATOR = "operator"
ACTION = "action"
DUPLICATE = "duplicate"
INVALID = "invalid"
CODES = {
    INVALID: "POLICY_INVALID",
    UNKNOWN: "POLICY_FIELD_UNKNOWN",
    REQUIRED: "POLICY_FIELD_REQUIRED",
    VALUE: "POLICY_VALUE_INVALID",
    TOO_LARGE: "POLICY_TOO_LARGE",
    CONDITION: "POLICY_CONDITION_UNKNOWN",
    OPERATOR: "POLICY_OPERATOR_UNKNOWN",
    ACTION: "POLICY_ACTION_INVALID",
    DUPLICATE: "POLICY_RULE_DUPLICATE",
}


class PolicyInvalid(ValidationError):
    code = "POLICY_INVALID"


_COMPARE = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _fmt(value: float | int) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------- typed conditions


@dataclass(frozen=True)
class Numeric:
    """Numeric tests that must all hold; ``between`` is inclusive at both ends."""

    tests: tuple[tuple[str, Any], ...]  # (operator, operand), sorted by operator

    def holds(self, value: float) -> bool:
        for op, operand in self.tests:
            if op == "between":
                if not operand[0] <= value <= operand[1]:
                    return False
            elif not _COMPARE[op](value, operand):
                return False
        return True

    def describe(self) -> str:
        words = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        parts = [
            f"between {_fmt(operand[0])} and {_fmt(operand[1])}"
            if op == "between"
            else f"{words[op]} {_fmt(operand)}"
            for op, operand in self.tests
        ]
        return " and ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {op: list(operand) if op == "between" else operand for op, operand in self.tests}


@dataclass(frozen=True)
class Choice:
    """``eq`` one value, ``in`` a list, ``not_in`` a list.

    On a list-valued fact (declared elements, usage types), ``in`` holds when the lists
    share a value and ``not_in`` when they share none.
    """

    op: str
    values: tuple[str, ...]

    def holds(self, value: str) -> bool:
        return (value not in self.values) if self.op == "not_in" else (value in self.values)

    def holds_any(self, values: Iterable[str]) -> bool:
        shared = bool(set(values) & set(self.values))
        return not shared if self.op == "not_in" else shared

    def describe(self) -> str:
        listed = ", ".join(self.values)
        return {"eq": f"= {listed}", "in": f"in {listed}", "not_in": f"not in {listed}"}[self.op]

    def to_json(self) -> dict[str, Any]:
        return {self.op: self.values[0] if self.op == "eq" else list(self.values)}


@dataclass(frozen=True)
class Flag:
    value: bool

    def describe(self) -> str:
        return "true" if self.value else "false"

    def to_json(self) -> dict[str, Any]:
        return {"eq": self.value}


@dataclass(frozen=True)
class TerritoryTest:
    include: tuple[str, ...]  # empty: every territory (only an exclusion was given)
    exclude: tuple[str, ...]

    def covered(self) -> frozenset[str]:
        include = self.include or (WORLD,)
        exclude = set(self.exclude)
        expanded = ISO_3166_ALPHA2 if include == (WORLD,) else frozenset(include)
        return frozenset(expanded - exclude)

    def describe(self) -> str:
        if not self.include or self.include == (WORLD,):
            head = "worldwide"
        else:
            head = "in " + ", ".join(self.include)
        return head + (" except " + ", ".join(self.exclude) if self.exclude else "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.include:
            data["in"] = list(self.include)
        if self.exclude:
            data["not_in"] = list(self.exclude)
        return data


@dataclass(frozen=True)
class DeclaredAiTest:
    disclosure: Choice | None
    elements: Choice | None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.disclosure is not None:
            data["disclosure"] = self.disclosure.to_json()
        if self.elements is not None:
            data["elements"] = self.elements.to_json()
        return data


@dataclass(frozen=True)
class DetectedAiTest:
    """Evidence items from ``sources`` scoring at least ``min_score``: some (or none)."""

    evidence: bool
    sources: tuple[str, ...]  # empty: any source
    min_score: float
    assessment: Choice | None = None
    confidence: Numeric | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"evidence": self.evidence, "min_score": self.min_score}
        if self.sources:
            data["sources"] = list(self.sources)
        if self.assessment is not None:
            data["assessment"] = self.assessment.to_json()
        if self.confidence is not None:
            data["confidence"] = self.confidence.to_json()
        return data


@dataclass(frozen=True)
class UndisclosedAiTest:
    value: bool
    min_score: float

    def to_json(self) -> dict[str, Any]:
        return {"eq": self.value, "min_score": self.min_score}


@dataclass(frozen=True)
class AiGenerationTest:
    """The matched recording is (or is not) an AI generation, optionally by these providers/models."""

    value: bool
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"eq": self.value}
        if self.providers:
            data["providers"] = list(self.providers)
        if self.models:
            data["models"] = list(self.models)
        return data


Condition = (
    Numeric
    | Choice
    | Flag
    | TerritoryTest
    | DeclaredAiTest
    | DetectedAiTest
    | UndisclosedAiTest
    | AiGenerationTest
)


@dataclass(frozen=True)
class Action:
    type: str
    reason: str = ""
    priority: str | None = None  # review only
    owner: int | None = None  # monetize only; None: the matched recording's owner

    @property
    def severity(self) -> int:
        return SEVERITY[self.type]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "reason": self.reason}
        if self.type == "review":
            data["priority"] = self.priority
        if self.type == "monetize" and self.owner is not None:
            data["owner"] = self.owner
        return data


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    conditions: tuple[tuple[str, Condition], ...]  # in CONDITIONS order
    action: Action

    @property
    def per_match(self) -> bool:
        """A rule that tests any match condition is evaluated once per match."""
        return any(name in MATCH_CONDITIONS for name, _ in self.conditions)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "conditions": {name: condition.to_json() for name, condition in self.conditions},
            "action": self.action.to_json(),
        }


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self.rules]

    def sha256(self) -> str:
        return sha256_of(self.to_json())


# ---------------------------------------------------------------- parsing


def parse_rules(value: Any, *, path: str = "rules", owner_scoped: bool = False) -> RuleSet:
    """Validate a rules list and return it typed; raises PolicyInvalid naming every bad field.

    ``owner_scoped``: the rules belong to an organisation's policy, so every rule runs
    once per match of that organisation's recordings (and monetize defaults to it).
    """
    errors = FieldErrors(PolicyInvalid, CODES)
    rules: list[Rule] = []
    if not isinstance(value, list):
        errors.add(path, INVALID, "the rules are a list of rule objects")
    elif len(value) > MAX_RULES:
        errors.add(path, TOO_LARGE, f"at most {MAX_RULES} rules (got {len(value)})")
    else:
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            rule = _rule(errors, item, join(path, index), owner_scoped=owner_scoped)
            if rule is None:
                continue
            if rule.id in seen:
                errors.add(
                    join(join(path, index), "id"),
                    DUPLICATE,
                    f"rule id {rule.id!r} is already used by {path}[{seen[rule.id]}]",
                )
                continue
            seen[rule.id] = index
            rules.append(rule)
    errors.raise_if_any()
    return RuleSet(tuple(rules))


def _rule(errors: FieldErrors, value: Any, path: str, *, owner_scoped: bool) -> Rule | None:
    obj = errors.object(
        value,
        path,
        allowed=("id", "description", "conditions", "action"),
        required=("id", "action"),
    )
    if obj is None:
        return None
    before = len(errors.items)
    rule_id = None
    if "id" in obj:
        rule_id = errors.string(obj["id"], join(path, "id"), max_length=64, pattern=RULE_ID)
    description = errors.string(
        obj.get("description", ""), join(path, "description"), max_length=500
    )
    conditions = _conditions(errors, obj.get("conditions", {}), join(path, "conditions"))
    action = None
    if "action" in obj:
        per_match = owner_scoped or any(name in MATCH_CONDITIONS for name, _ in (conditions or ()))
        action = _action(errors, obj["action"], join(path, "action"), per_match=per_match)
    if len(errors.items) > before or rule_id is None or action is None:
        return None
    assert description is not None and conditions is not None
    return Rule(rule_id, description, conditions, action)


def _conditions(
    errors: FieldErrors, value: Any, path: str
) -> tuple[tuple[str, Condition], ...] | None:
    if not isinstance(value, dict):
        errors.add(path, VALUE, "conditions are an object: {condition name: test}")
        return None
    parsed: dict[str, Condition] = {}
    for name, test in value.items():
        where = join(path, str(name))
        parser = _PARSERS.get(name)
        if parser is None:
            errors.add(
                where, CONDITION, f"unknown condition; expected one of {', '.join(CONDITIONS)}"
            )
            continue
        condition = parser(errors, test, where)
        if condition is not None:
            parsed[name] = condition
    return tuple((name, parsed[name]) for name in CONDITIONS if name in parsed)


def _operators(
    errors: FieldErrors, value: Any, path: str, allowed: Sequence[str]
) -> dict[str, Any] | None:
    """An object of operator -> operand, with at least one operator, all whitelisted."""
    if not isinstance(value, dict) or not value:
        errors.add(path, VALUE, f"must be an object with one of {', '.join(allowed)}")
        return None
    ok = True
    for op in value:
        if op not in allowed:
            errors.add(
                join(path, str(op)),
                OPERATOR,
                f"unknown operator; expected one of {', '.join(allowed)}",
            )
            ok = False
    return value if ok else None


def _numeric(
    errors: FieldErrors,
    value: Any,
    path: str,
    *,
    low: float,
    high: float,
    integer: bool = False,
) -> Numeric | None:
    ops = _operators(errors, value, path, NUMERIC_OPS)
    if ops is None:
        return None
    tests: list[tuple[str, Any]] = []
    before = len(errors.items)
    for op in sorted(ops):
        where = join(path, op)
        if op == "between":
            pair = ops[op]
            if not isinstance(pair, list) or len(pair) != 2:
                errors.add(where, VALUE, "between takes [low, high]")
                continue
            lo = errors.number(pair[0], join(where, 0), low=low, high=high, integer=integer)
            hi = errors.number(pair[1], join(where, 1), low=low, high=high, integer=integer)
            if lo is not None and hi is not None:
                if lo > hi:
                    errors.add(where, VALUE, f"low {_fmt(lo)} is above high {_fmt(hi)}")
                else:
                    tests.append((op, (lo, hi)))
        else:
            number = errors.number(ops[op], where, low=low, high=high, integer=integer)
            if number is not None:
                tests.append((op, number))
    return Numeric(tuple(tests)) if len(errors.items) == before else None


def _choice(
    errors: FieldErrors,
    value: Any,
    path: str,
    *,
    choices: Sequence[str] | None = None,
    pattern: re.Pattern[str] | None = None,
    ops: Sequence[str] = CHOICE_OPS,
) -> Choice | None:
    given = _operators(errors, value, path, ops)
    if given is None:
        return None
    if len(given) > 1:
        errors.add(path, VALUE, f"use one operator of {', '.join(ops)}, not several")
        return None
    ((op, operand),) = given.items()
    where = join(path, op)
    if op == "eq":
        one = (
            errors.choice(operand, where, choices)
            if choices is not None
            else errors.string(operand, where, max_length=200, pattern=pattern, allow_empty=False)
        )
        return None if one is None else Choice(op, (one,))
    values = errors.strings(
        operand, where, max_items=MAX_VALUES, choices=choices, pattern=pattern, non_empty=True
    )
    return None if values is None else Choice(op, values)


def _flag(errors: FieldErrors, value: Any, path: str) -> Flag | None:
    if _operators(errors, value, path, ("eq",)) is None:
        return None
    checked = errors.boolean(value["eq"], join(path, "eq"))
    return None if checked is None else Flag(checked)


def _territory_list(errors: FieldErrors, value: Any, path: str) -> tuple[str, ...] | None:
    return errors.territories(
        value, path, max_items=MAX_VALUES, empty="must name at least one territory"
    )


def _territories(errors: FieldErrors, value: Any, path: str) -> TerritoryTest | None:
    ops = _operators(errors, value, path, SET_OPS)
    if ops is None:
        return None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    before = len(errors.items)
    if "in" in ops:
        include = _territory_list(errors, ops["in"], join(path, "in")) or ()
    if "not_in" in ops:
        exclude = _territory_list(errors, ops["not_in"], join(path, "not_in")) or ()
        if WORLD in exclude:
            errors.add(join(path, "not_in"), VALUE, "WORLD cannot be excluded")
    if len(errors.items) > before:
        return None
    test = TerritoryTest(include, exclude)
    if not test.covered():
        errors.add(path, VALUE, "the exclusions leave no territory")
        return None
    return test


def _score(errors: FieldErrors, obj: dict[str, Any], path: str) -> float | None:
    if "min_score" not in obj:
        return DEFAULT_MIN_SCORE
    number = errors.number(obj["min_score"], join(path, "min_score"), low=0, high=1)
    return None if number is None else float(number)


def _declared_ai(errors: FieldErrors, value: Any, path: str) -> DeclaredAiTest | None:
    if not isinstance(value, dict) or not value:
        errors.add(path, VALUE, "must be an object with disclosure and/or elements")
        return None
    obj = errors.object(value, path, allowed=("disclosure", "elements"))
    assert obj is not None
    before = len(errors.items)
    disclosure = elements = None
    if "disclosure" in obj:
        disclosure = _choice(
            errors, obj["disclosure"], join(path, "disclosure"), choices=AI_DISCLOSURES
        )
    if "elements" in obj:
        elements = _choice(
            errors, obj["elements"], join(path, "elements"), choices=AI_ELEMENTS, ops=SET_OPS
        )
    return DeclaredAiTest(disclosure, elements) if len(errors.items) == before else None


def _detected_ai(errors: FieldErrors, value: Any, path: str) -> DetectedAiTest | None:
    obj = errors.object(
        value, path, allowed=("evidence", "sources", "min_score", "assessment", "confidence")
    )
    if obj is None:
        return None
    before = len(errors.items)
    evidence = errors.boolean(obj.get("evidence", True), join(path, "evidence"))
    sources: tuple[str, ...] | None = ()
    if "sources" in obj:
        sources = errors.strings(
            obj["sources"],
            join(path, "sources"),
            max_items=10,
            choices=EVIDENCE_SOURCES,
            non_empty=True,
        )
    min_score = _score(errors, dict(obj), path)
    assessment = confidence = None
    if "assessment" in obj:
        assessment = _choice(
            errors, obj["assessment"], join(path, "assessment"), pattern=USAGE_TYPE
        )
    if "confidence" in obj:
        confidence = _numeric(errors, obj["confidence"], join(path, "confidence"), low=0, high=1)
    if len(errors.items) > before:
        return None
    assert evidence is not None and sources is not None and min_score is not None
    return DetectedAiTest(evidence, sources, min_score, assessment, confidence)


def _undisclosed_ai(errors: FieldErrors, value: Any, path: str) -> UndisclosedAiTest | None:
    obj = errors.object(value, path, allowed=("eq", "min_score"), required=("eq",))
    if obj is None or "eq" not in obj:
        return None
    flag = errors.boolean(obj["eq"], join(path, "eq"))
    min_score = _score(errors, dict(obj), path)
    if flag is None or min_score is None:
        return None
    return UndisclosedAiTest(flag, min_score)


def _ai_generation(errors: FieldErrors, value: Any, path: str) -> AiGenerationTest | None:
    obj = errors.object(value, path, allowed=("eq", "providers", "models"), required=("eq",))
    if obj is None or "eq" not in obj:
        return None
    before = len(errors.items)
    flag = errors.boolean(obj["eq"], join(path, "eq"))
    providers: tuple[str, ...] | None = ()
    models: tuple[str, ...] | None = ()
    if "providers" in obj:
        providers = errors.strings(
            obj["providers"], join(path, "providers"), max_items=MAX_VALUES, non_empty=True
        )
    if "models" in obj:
        models = errors.strings(
            obj["models"], join(path, "models"), max_items=MAX_VALUES, non_empty=True
        )
    if len(errors.items) > before:
        return None
    assert flag is not None and providers is not None and models is not None
    return AiGenerationTest(flag, providers, models)


_PARSERS: dict[str, Any] = {
    "territories": _territories,
    "usage_types": lambda e, v, p: _choice(e, v, p, pattern=USAGE_TYPE, ops=SET_OPS),
    "match_count": lambda e, v, p: _numeric(e, v, p, low=0, high=MAX_DURATION_S, integer=True),
    "declared_ai": _declared_ai,
    "detected_ai": _detected_ai,
    "undisclosed_ai": _undisclosed_ai,
    "match_owner": lambda e, v, p: _choice(e, v, p, choices=MATCH_OWNERS),
    "match_duration_s": lambda e, v, p: _numeric(e, v, p, low=0, high=MAX_DURATION_S),
    "query_coverage_pct": lambda e, v, p: _numeric(e, v, p, low=0, high=100),
    "reference_coverage_pct": lambda e, v, p: _numeric(e, v, p, low=0, high=100),
    "score": lambda e, v, p: _numeric(e, v, p, low=0, high=1),
    "match_ai_disclosure": lambda e, v, p: _choice(e, v, p, choices=AI_DISCLOSURES),
    "ai_generation": _ai_generation,
    "inputs_owned_by_others": _flag,
    "submitter_holds_rights": _flag,
    "ownership_conflict": _flag,
}
assert set(_PARSERS) == set(CONDITIONS)


def _action(errors: FieldErrors, value: Any, path: str, *, per_match: bool) -> Action | None:
    obj = errors.object(
        value, path, allowed=("type", "reason", "priority", "owner"), required=("type",)
    )
    if obj is None or "type" not in obj:
        return None
    kind = obj["type"]
    if kind not in ACTIONS:
        errors.add(
            join(path, "type"),
            ACTION,
            f"unknown action {kind!r}; expected one of {', '.join(ACTIONS)}",
        )
        return None
    before = len(errors.items)
    reason = errors.string(obj.get("reason", ""), join(path, "reason"), max_length=500)
    if kind == "review" and reason is not None and not reason.strip():
        errors.add(join(path, "reason"), REQUIRED, "a review says why (reason)")
    priority = None
    if "priority" in obj and kind != "review":
        errors.add(join(path, "priority"), VALUE, "only a review has a priority")
    elif kind == "review":
        priority = errors.choice(obj.get("priority", "normal"), join(path, "priority"), PRIORITIES)
    owner = None
    if "owner" in obj and kind != "monetize":
        errors.add(join(path, "owner"), VALUE, "only monetize names an owner")
    elif "owner" in obj:
        number = errors.number(
            obj["owner"], join(path, "owner"), low=1, high=2**63 - 1, integer=True
        )
        owner = None if number is None else int(number)
    elif kind == "monetize" and not per_match:
        # Without a match there is no recording owner to default to.
        errors.add(
            join(path, "owner"),
            REQUIRED,
            "monetize in a rule without match conditions must name the owner",
        )
    if len(errors.items) > before:
        return None
    assert reason is not None
    return Action(kind, reason.strip(), priority, owner)
