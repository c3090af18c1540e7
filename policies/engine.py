"""Policy evaluation: facts and policy versions in, an explained action per territory out (pure).

How a rule is evaluated (docs/policies.md says the same for policy authors):

- A rule's conditions must all hold; a condition the rule does not name holds.
- Each condition yields the requested territories where it holds (territory-free
  conditions hold everywhere or nowhere); the rule fires where they all hold.
- A rule naming any match condition runs once per match ("for some match"); other
  rules run once per check. Every rule of an organisation's policy runs once per
  match of that organisation's recordings, and only then.
- A condition about facts that were not gathered (``declared_ai`` or ``detected_ai``
  is null, no usage types) does not hold: the outcome says "missing", and the rule
  does not fire. Unknown never counts as true, nor as false.
- Per territory, the most restrictive action of every rule that fired wins
  (block > require_licence > review > monetize > track > allow); among equals, the
  most urgent review, then the first in policy and rule order. Where nothing fired,
  the action is allow.

The same facts and policy versions always give the same :class:`Outcome`, and its
JSON form is canonical, so a stored decision can be replayed and compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.territories import ISO_3166_ALPHA2, WORLD, effective_territories

from .canonical import canonical_json, sha256_of
from .facts import AI_DISCLOSURES, Facts, MatchFact
from .rules import (
    PRIORITY_RANK,
    SEVERITY,
    AiGenerationTest,
    Choice,
    DeclaredAiTest,
    DetectedAiTest,
    Flag,
    Numeric,
    Rule,
    RuleSet,
    TerritoryTest,
    UndisclosedAiTest,
)

ENGINE_VERSION = "stemma-policy/1"
ALL = ISO_3166_ALPHA2
NOWHERE: frozenset[str] = frozenset()
# A registered "all AI" recording says the whole submission is AI only when it covers
# (nearly) all of it; a shorter excerpt makes the submission partly AI.
WHOLE_SUBMISSION_PCT = 90.0
DISCLOSURE_RANK = {value: rank for rank, value in enumerate(AI_DISCLOSURES)}


@dataclass(frozen=True)
class PolicyInput:
    """One policy version to apply; ``owner_id`` None is a global (operator) policy."""

    policy_id: int
    name: str
    version_id: int
    number: int
    owner_id: int | None
    rules: RuleSet

    def ref(self) -> dict[str, Any]:
        return {
            "policy": self.policy_id,
            "name": self.name,
            "version": self.version_id,
            "number": self.number,
            "owner": self.owner_id,
            "rules_sha256": self.rules.sha256(),
        }


@dataclass(frozen=True)
class Held:
    """Where one condition holds among the requested territories, and what the facts were."""

    holds: frozenset[str]
    text: str
    missing: bool = False


@dataclass(frozen=True)
class ContextResult:
    """A rule run once: for one match (``match`` is its recording id) or for the check."""

    match: int | None
    fired: bool
    territories: frozenset[str]
    because: tuple[str, ...]  # the texts of the conditions that held
    condition: str | None = None  # the first one that did not
    reason: str = ""
    missing: bool = False


@dataclass(frozen=True)
class RuleResult:
    policy: PolicyInput
    rule: Rule
    results: tuple[ContextResult, ...]

    @property
    def fired(self) -> bool:
        return any(result.fired for result in self.results)


@dataclass(frozen=True)
class Firing:
    order: int
    policy: PolicyInput
    rule: Rule
    match: MatchFact | None
    territories: frozenset[str]
    because: tuple[str, ...]

    @property
    def rank(self) -> tuple[int, int, int]:
        action = self.rule.action
        urgency = PRIORITY_RANK[action.priority] if action.priority else 0
        return (action.severity, urgency, -self.order)

    @property
    def owner(self) -> int | None:
        if self.rule.action.type != "monetize":
            return None
        if self.rule.action.owner is not None:
            return self.rule.action.owner
        return self.match.owner_id if self.match is not None else self.policy.owner_id


@dataclass(frozen=True)
class Verdict:
    """The action in a set of territories, and the firing that won there (None: nothing fired)."""

    territories: frozenset[str]
    firing: Firing | None

    @property
    def action(self) -> str:
        return self.firing.rule.action.type if self.firing else "allow"

    @property
    def priority(self) -> str | None:
        return self.firing.rule.action.priority if self.firing else None


@dataclass(frozen=True)
class Outcome:
    facts: Facts
    facts_sha256: str
    policies: tuple[PolicyInput, ...]
    rules: tuple[RuleResult, ...]
    verdicts: tuple[Verdict, ...]
    by_territory: Mapping[str, str]  # every requested ISO code -> action

    @property
    def action(self) -> str:
        return max(self.by_territory.values(), key=SEVERITY.__getitem__, default="allow")

    @property
    def priority(self) -> str | None:
        if self.action != "review":
            return None
        priorities = [v.priority for v in self.verdicts if v.action == "review" and v.priority]
        return max(priorities, key=PRIORITY_RANK.__getitem__)

    @property
    def territories(self) -> dict[str, str]:
        """The action per requested code; one ``WORLD`` entry when a WORLD request agrees."""
        actions = set(self.by_territory.values())
        if self.facts.territories == (WORLD,) and len(actions) == 1:
            return {WORLD: actions.pop()}
        return dict(sorted(self.by_territory.items()))

    @property
    def rules_fired(self) -> list[dict[str, Any]]:
        return [
            {"policy": r.policy.policy_id, "version": r.policy.version_id, "rule": r.rule.id}
            for r in self.rules
            if r.fired
        ]

    @property
    def winner(self) -> Verdict | None:
        """The verdict that set the overall action (the first, as verdicts are sorted)."""
        return self.verdicts[0] if self.verdicts and self.verdicts[0].firing else None

    def to_json(self) -> dict[str, Any]:
        winner = self.winner
        return {
            "engine": ENGINE_VERSION,
            "facts_sha256": self.facts_sha256,
            "policies": [policy.ref() for policy in self.policies],
            "action": self.action,
            "priority": self.priority,
            "territories": self.territories,
            "won_by": None if winner is None else _firing_ref(winner.firing),
            "verdicts": [_verdict_json(v) for v in self.verdicts],
            "rules": [_rule_json(r) for r in self.rules],
            "rules_fired": self.rules_fired,
            "explanation": self.explanation,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.to_json())

    def sha256(self) -> str:
        return sha256_of(self.to_json())

    @property
    def explanation(self) -> str:
        return _explain(self)


# ---------------------------------------------------------------- evaluation


def evaluate(facts: Facts, policies: Sequence[PolicyInput]) -> Outcome:
    """Apply the policies, in order, to the facts; see the module docstring for the semantics."""
    context = _Context(facts)
    results: list[RuleResult] = []
    firings: list[Firing] = []
    for policy in policies:
        for rule in policy.rules.rules:
            contexts: Sequence[MatchFact | None]
            if policy.owner_id is not None:
                contexts = [m for m in facts.matches if m.owner_id == policy.owner_id]
                absent = f"no match of organisation {policy.owner_id}'s recordings"
            elif rule.per_match:
                contexts = facts.matches
                absent = "nothing matched, and the rule has match conditions"
            else:
                contexts = [None]
                absent = ""
            runs = [context.run(rule, match) for match in contexts]
            if not runs:
                runs = [ContextResult(None, False, NOWHERE, (), "matches", absent)]
            for match, run in zip(contexts, runs, strict=False):
                if run.fired:
                    firings.append(
                        Firing(len(firings), policy, rule, match, run.territories, run.because)
                    )
            results.append(RuleResult(policy, rule, tuple(runs)))

    best: dict[str, Firing] = {}
    for firing in firings:
        for code in firing.territories:
            current = best.get(code)
            if current is None or firing.rank > current.rank:
                best[code] = firing
    groups: dict[int | None, set[str]] = {}
    for code in context.requested:
        winner = best.get(code)
        groups.setdefault(winner.order if winner else None, set()).add(code)
    verdicts = [
        Verdict(frozenset(codes), firings[order] if order is not None else None)
        for order, codes in groups.items()
    ]
    verdicts.sort(
        key=lambda v: (
            (-v.firing.rank[0], -v.firing.rank[1], v.firing.order) if v.firing else (1, 0, 0)
        )
    )
    return Outcome(
        facts=facts,
        facts_sha256=facts.sha256(),
        policies=tuple(policies),
        rules=tuple(results),
        verdicts=tuple(verdicts),
        by_territory={
            code: best[code].rule.action.type if code in best else "allow"
            for code in context.requested
        },
    )


class _Context:
    """The facts, with what several conditions derive from them computed once."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.requested = effective_territories(facts.territories)
        self._held: dict[int, frozenset[str]] = {}

    def everywhere(self, ok: bool, text: str) -> Held:
        return Held(self.requested if ok else NOWHERE, text)

    def missing(self, text: str) -> Held:
        return Held(NOWHERE, text, missing=True)

    def where(self, codes: frozenset[str]) -> str:
        return describe_territories(codes, self.requested, world=self.facts.territories == (WORLD,))

    def run(self, rule: Rule, match: MatchFact | None) -> ContextResult:
        recording = match.recording_id if match is not None else None
        where = self.requested
        because: list[str] = []
        for name, condition in rule.conditions:
            test = _EVALUATORS[name](self, condition, match)
            where = where & test.holds
            if not where:
                return ContextResult(
                    recording, False, NOWHERE, tuple(because), name, test.text, test.missing
                )
            because.append(test.text)
        return ContextResult(recording, True, where, tuple(because))

    def submitter_holds(self, match: MatchFact) -> frozenset[str]:
        """Requested territories where the submitter's shares or licences cover every usage."""
        if match.recording_id not in self._held:
            facts = self.facts
            mine = [
                r
                for r in match.rights
                if r.owner_id == facts.submitter.organization_id
                and r.share_pct > 0
                and r.active_on(facts.evaluation_date)
            ]
            held = self.requested
            # Every requested usage must be covered, each by any of the shares.
            for usage in facts.usage_types or ("",):
                covering = NOWHERE.union(
                    *(
                        effective_territories(r.territories, r.exclude_territories)
                        for r in mine
                        if not usage or r.covers_usage(usage)
                    )
                )
                held = held & covering
            self._held[match.recording_id] = held
        return self._held[match.recording_id]


def describe_territories(codes: frozenset[str], requested: frozenset[str], *, world: bool) -> str:
    """Plain words for a set of territories: "worldwide", "worldwide except FR", "in DE, FR"."""
    if not codes:
        return "in no requested territory"
    if world and codes == requested == ALL:
        return "worldwide"
    if len(codes) > len(ALL) / 2:
        return "worldwide except " + ", ".join(sorted(ALL - codes))
    return "in " + ", ".join(sorted(codes))


def span(codes: frozenset[str]) -> dict[str, list[str]]:
    """A territory set in the registry's include/exclude form, whichever is shorter."""
    if len(codes) > len(ALL) / 2:
        return {"territories": [WORLD], "exclude_territories": sorted(ALL - codes)}
    return {"territories": sorted(codes), "exclude_territories": []}


# ---------------------------------------------------------------- conditions

Evaluator = Callable[[_Context, Any, MatchFact | None], Held]


def _match(match: MatchFact | None) -> MatchFact:
    assert match is not None, "match conditions only run with a match"
    return match


def _territories(ctx: _Context, test: TerritoryTest, _: MatchFact | None) -> Held:
    requested = ", ".join(ctx.facts.territories)
    return Held(
        ctx.requested & test.covered(), f"requested {requested}; the rule applies {test.describe()}"
    )


def _usage_types(ctx: _Context, test: Choice, _: MatchFact | None) -> Held:
    usages = ctx.facts.usage_types
    if not usages:
        return ctx.missing("no usage type was requested")
    return ctx.everywhere(
        test.holds_any(usages), f"usage types {', '.join(usages)} (needs {test.describe()})"
    )


def _match_count(ctx: _Context, test: Numeric, _: MatchFact | None) -> Held:
    count = len(ctx.facts.matches)
    return ctx.everywhere(test.holds(count), f"{count} match(es) (needs {test.describe()})")


def _declared_ai(ctx: _Context, test: DeclaredAiTest, _: MatchFact | None) -> Held:
    declared = ctx.facts.declared_ai
    if declared is None:
        return ctx.missing("nothing was declared about AI")
    ok = True
    needs = []
    if test.disclosure is not None:
        ok = ok and test.disclosure.holds(declared.disclosure)
        needs.append(f"disclosure {test.disclosure.describe()}")
    if test.elements is not None:
        ok = ok and test.elements.holds_any(declared.elements)
        needs.append(f"elements {test.elements.describe()}")
    elements = ", ".join(declared.elements) or "none"
    return ctx.everywhere(
        ok,
        f"declared AI {declared.disclosure} (elements: {elements}) (needs {'; '.join(needs)})",
    )


def _detected_ai(ctx: _Context, test: DetectedAiTest, _: MatchFact | None) -> Held:
    detected = ctx.facts.detected_ai
    if detected is None:
        return ctx.missing("no AI detection was run")
    hits = [
        e
        for e in detected.evidence
        if (not test.sources or e.source in test.sources) and e.score >= test.min_score
    ]
    sources = ", ".join(test.sources) if test.sources else "any source"
    ok = bool(hits) == test.evidence
    needs = [f"{'some' if test.evidence else 'no'} evidence"]
    if test.assessment is not None:
        ok = ok and test.assessment.holds(detected.assessment)
        needs.append(f"assessment {test.assessment.describe()}")
    if test.confidence is not None:
        ok = ok and test.confidence.holds(detected.confidence)
        needs.append(f"confidence {test.confidence.describe()}")
    text = (
        f"{len(hits)} AI evidence item(s) from {sources} scoring >= {test.min_score:g}, "
        f"assessment {detected.assessment} at confidence {detected.confidence:g} "
        f"(needs {'; '.join(needs)})"
    )
    return ctx.everywhere(ok, text)


def observed_ai(facts: Facts, min_score: float) -> tuple[str, bool]:
    """The AI involvement the registry and detection show, and whether detection ran.

    A detected evidence item at ``min_score`` or above shows "partly" (detectors cannot
    tell how much); a match shows its recording's disclosure, at least "partly" when it is
    a registered generation, and "all" only when it covers the whole submission.
    """
    rank = 0
    detected = facts.detected_ai
    if detected is not None and any(e.score >= min_score for e in detected.evidence):
        rank = 1
    for match in facts.matches:
        shown = DISCLOSURE_RANK[match.ai_disclosure]
        if match.is_ai_generation:
            shown = max(shown, 1)
        if shown == 2 and match.query_coverage_pct < WHOLE_SUBMISSION_PCT:
            shown = 1
        rank = max(rank, shown)
    return AI_DISCLOSURES[rank], detected is not None


def _undisclosed_ai(ctx: _Context, test: UndisclosedAiTest, _: MatchFact | None) -> Held:
    declared = ctx.facts.declared_ai
    # Saying nothing about AI discloses nothing: it counts as declaring none.
    disclosure = declared.disclosure if declared is not None else "none"
    observed, detection_ran = observed_ai(ctx.facts, test.min_score)
    undisclosed = DISCLOSURE_RANK[observed] > DISCLOSURE_RANK[disclosure]
    said = f"declared AI {disclosure}" if declared is not None else "nothing declared about AI"
    text = (
        f"{said}; registry and detection show {observed} "
        f"(needs undisclosed AI {'true' if test.value else 'false'})"
    )
    if not undisclosed and not detection_ran:
        # Detection might have shown more: whether AI went undisclosed is unknown.
        return ctx.missing(text + "; no AI detection was run")
    return ctx.everywhere(undisclosed == test.value, text)


def _match_owner(ctx: _Context, test: Choice, match: MatchFact | None) -> Held:
    m = _match(match)
    role = "submitter" if m.owner_is_submitter else "other"
    ok = (
        "anyone" not in test.values and test.holds(role)
        if test.op == "not_in"
        else "anyone" in test.values or test.holds(role)
    )
    who = "the submitter" if m.owner_is_submitter else "another organisation"
    return ctx.everywhere(
        ok, f"recording owned by {who} (organisation {m.owner_id}) (needs owner {test.describe()})"
    )


def _numeric(label: str, unit: str, attribute: str) -> Evaluator:
    def evaluate(ctx: _Context, test: Numeric, match: MatchFact | None) -> Held:
        value = getattr(_match(match), attribute)
        return ctx.everywhere(
            test.holds(value), f"{label} {value:g}{unit} (needs {test.describe()})"
        )

    return evaluate


def _match_ai_disclosure(ctx: _Context, test: Choice, match: MatchFact | None) -> Held:
    value = _match(match).ai_disclosure
    return ctx.everywhere(
        test.holds(value), f"recording's AI disclosure {value} (needs {test.describe()})"
    )


def _ai_generation(ctx: _Context, test: AiGenerationTest, match: MatchFact | None) -> Held:
    m = _match(match)
    providers = {p.casefold() for p in m.ai_providers}
    models = {p.casefold() for p in m.ai_models}
    is_one = (
        m.is_ai_generation
        and (not test.providers or bool(providers & {p.casefold() for p in test.providers}))
        and (not test.models or bool(models & {p.casefold() for p in test.models}))
    )
    needs = "an AI generation" if test.value else "not an AI generation"
    if test.providers:
        needs += f" by {', '.join(test.providers)}"
    if test.models:
        needs += f" with model {', '.join(test.models)}"
    if m.is_ai_generation:
        made = "a registered AI generation"
        if m.ai_providers or m.ai_models:
            made += f" ({', '.join((*m.ai_providers, *m.ai_models))})"
    else:
        made = "not a registered AI generation"
    return ctx.everywhere(is_one == test.value, f"recording is {made} (needs {needs})")


def _inputs_owned_by_others(ctx: _Context, test: Flag, match: MatchFact | None) -> Held:
    value = _match(match).inputs_owned_by_others
    return ctx.everywhere(
        value == test.value,
        f"generation inputs owned by others: {str(value).lower()} (needs {test.describe()})",
    )


def _submitter_holds_rights(ctx: _Context, test: Flag, match: MatchFact | None) -> Held:
    held = ctx.submitter_holds(_match(match))
    usages = ", ".join(ctx.facts.usage_types) or "any usage"
    text = (
        f"the submitter holds a share or licence for {usages} on "
        f"{ctx.facts.evaluation_date.isoformat()} {ctx.where(held)} "
        f"(needs {test.describe()})"
    )
    return Held(held if test.value else ctx.requested - held, text)


def _ownership_conflict(ctx: _Context, test: Flag, match: MatchFact | None) -> Held:
    m = _match(match)
    conflicted = ctx.requested & effective_territories(
        ctx.facts.conflict_territories(m.recording_id)
    )
    text = f"open ownership conflict {ctx.where(conflicted)} (needs {test.describe()})"
    return Held(conflicted if test.value else ctx.requested - conflicted, text)


_EVALUATORS: dict[str, Evaluator] = {
    "territories": _territories,
    "usage_types": _usage_types,
    "match_count": _match_count,
    "declared_ai": _declared_ai,
    "detected_ai": _detected_ai,
    "undisclosed_ai": _undisclosed_ai,
    "match_owner": _match_owner,
    "match_duration_s": _numeric("match duration", " s", "duration_s"),
    "query_coverage_pct": _numeric("coverage of the submission", "%", "query_coverage_pct"),
    "reference_coverage_pct": _numeric(
        "coverage of the registered recording", "%", "reference_coverage_pct"
    ),
    "score": _numeric("match score", "", "score"),
    "match_ai_disclosure": _match_ai_disclosure,
    "ai_generation": _ai_generation,
    "inputs_owned_by_others": _inputs_owned_by_others,
    "submitter_holds_rights": _submitter_holds_rights,
    "ownership_conflict": _ownership_conflict,
}


# ---------------------------------------------------------------- JSON and words


def _firing_ref(firing: Firing | None) -> dict[str, Any] | None:
    if firing is None:
        return None
    return {
        "policy": firing.policy.policy_id,
        "version": firing.policy.version_id,
        "number": firing.policy.number,
        "rule": firing.rule.id,
        "match": firing.match.recording_id if firing.match else None,
    }


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    firing = verdict.firing
    return {
        "action": verdict.action,
        "priority": verdict.priority,
        "owner": firing.owner if firing else None,
        "reason": firing.rule.action.reason if firing else "",
        **span(verdict.territories),
        "won_by": _firing_ref(firing),
        "because": list(firing.because) if firing else [],
    }


def _rule_json(result: RuleResult) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for run in result.results:
        if run.fired:
            runs.append(
                {
                    "match": run.match,
                    "fired": True,
                    **span(run.territories),
                    "because": list(run.because),
                }
            )
        else:
            runs.append(
                {
                    "match": run.match,
                    "fired": False,
                    "condition": run.condition,
                    "reason": run.reason,
                    "missing": run.missing,
                }
            )
    return {
        "policy": result.policy.policy_id,
        "version": result.policy.version_id,
        "rule": result.rule.id,
        "action": result.rule.action.type,
        "fired": result.fired,
        "results": runs,
    }


ACTION_WORDS = {
    "allow": "allow",
    "track": "track",
    "monetize": "monetize",
    "review": "send to review",
    "require_licence": "require a licence",
    "block": "block",
}


def _action_phrase(verdict: Verdict) -> str:
    firing = verdict.firing
    words = ACTION_WORDS[verdict.action]
    if firing is None:
        return words
    action = firing.rule.action
    if action.type == "monetize":
        words += f" for organisation {firing.owner}"
    details = [f"{action.priority} priority"] if action.priority else []
    if action.reason:
        details.append(action.reason)
    return words + (f" ({': '.join(details)})" if details else "")


def _explain(outcome: Outcome) -> str:
    facts = outcome.facts
    world = facts.territories == (WORLD,)
    requested = effective_territories(facts.territories)
    head = ACTION_WORDS[outcome.action]
    if outcome.priority:
        head += f" ({outcome.priority} priority)"
    lines = [f"Decision: {head}."]
    shown: set[tuple[int, str]] = set()
    for verdict in outcome.verdicts:
        where = describe_territories(verdict.territories, requested, world=world)
        phrase = _action_phrase(verdict)
        phrase = phrase[0].upper() + phrase[1:]
        firing = verdict.firing
        if firing is None:
            lines.append(f"{phrase} {where}: no rule fired.")
            continue
        shown.add((firing.policy.version_id, firing.rule.id))
        subject = ""
        if firing.match is not None:
            m = firing.match
            subject = f' for recording {m.recording_id} "{m.title}"'
            if m.isrc:
                subject += f" (ISRC {m.isrc})"
        reasons = "; ".join(firing.because) or "the rule has no conditions"
        description = f" ({firing.rule.description})" if firing.rule.description else ""
        lines.append(
            f'{phrase} {where}: rule "{firing.rule.id}"{description} of policy '
            f'"{firing.policy.name}" version {firing.policy.number}{subject}: {reasons}.'
        )
    others = [
        f'"{r.rule.id}" ({ACTION_WORDS[r.rule.action.type]})'
        for r in outcome.rules
        if r.fired and (r.policy.version_id, r.rule.id) not in shown
    ]
    if others:
        lines.append("Also fired, outweighed: " + ", ".join(others) + ".")
    return "\n".join(lines)


# ---------------------------------------------------------------- comparing outcomes


def expand_territories(territories: Mapping[str, str]) -> dict[str, str]:
    """A decision's territory map with WORLD spelled out as every ISO code."""
    if WORLD in territories:
        return dict.fromkeys(sorted(ALL), territories[WORLD])
    return dict(territories)


def territory_changes(
    old: Mapping[str, str], new: Mapping[str, str], *, world: bool
) -> dict[str, dict[str, str]]:
    """Per territory, the old and new action where they differ (one WORLD entry if uniform)."""
    before, after = expand_territories(old), expand_territories(new)
    changes = {
        code: {"old": before.get(code, "allow"), "new": after.get(code, "allow")}
        for code in sorted(before.keys() | after.keys())
        if before.get(code) != after.get(code)
    }
    kinds = {(c["old"], c["new"]) for c in changes.values()}
    if world and len(changes) == len(ALL) and len(kinds) == 1:
        old_action, new_action = kinds.pop()
        return {WORLD: {"old": old_action, "new": new_action}}
    return changes
