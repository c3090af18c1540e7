"""The facts contract: what a check hands to the policies, typed, with one canonical JSON form (pure).

The checks app builds a :class:`Facts` (see ``policies.selectors.build_facts``), the
engine evaluates it, and the decision stores ``to_json()`` and the sha256 of its
canonical bytes. ``from_json(to_json(f)) == f`` and the JSON form is canonical: lists
whose order carries no meaning are sorted, numbers are floats where the field is one,
so hashing the same facts always gives the same digest. docs/policies.md describes
every field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from common.errors import ValidationError

from .canonical import canonical_json, sha256_of
from .validation import REQUIRED, TOO_LARGE, UNKNOWN, VALUE, FieldErrors, join

FACTS_FORMAT = "stemma.facts/1"

# The same values as registry.models (a test keeps them in step; this module imports no Django).
ORGANIZATION_KINDS = ("label", "distributor", "ai_provider", "operator")
AI_DISCLOSURES = ("none", "partly", "all")
AI_ELEMENTS = (
    "composition",
    "lyrics",
    "vocals",
    "instrumentation",
    "production",
    "post_production",
    "artwork",
)
EVIDENCE_SOURCES = ("registry", "c2pa", "tags", "spectral")
RIGHTS_KINDS = ("share", "licence")
# Usage types are an open vocabulary (rights shares store any); these are the usual ones.
COMMON_USAGE_TYPES = (
    "stream",
    "download",
    "sync",
    "broadcast",
    "public_performance",
    "ai_training",
)
USAGE_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")

MAX_MATCHES = 200
MAX_LIST = 300


class FactsInvalid(ValidationError):
    code = "FACTS_INVALID"


# The checks app builds facts, so one code is enough; detail.field says where.
_CODES = dict.fromkeys((UNKNOWN, REQUIRED, VALUE, TOO_LARGE), "FACTS_INVALID")


@dataclass(frozen=True)
class Submitter:
    organization_id: int
    kind: str


@dataclass(frozen=True)
class DeclaredAI:
    """What the uploader declares (DDEX ``ContainsAI``), and for which elements."""

    disclosure: str
    elements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    source: str
    score: float
    detail: str = ""


@dataclass(frozen=True)
class DetectedAI:
    """What AI-origin detection found; ``Facts.detected_ai is None`` means it was not run."""

    assessment: str
    confidence: float
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class RightsFact:
    """One rights share (or licence) of a matched recording, as registered."""

    owner_id: int
    share_pct: Decimal
    territories: tuple[str, ...]
    exclude_territories: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    usage_types: tuple[str, ...] = ()  # empty: every usage
    kind: str = "share"

    def active_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def covers_usage(self, usage: str) -> bool:
        return not self.usage_types or usage in self.usage_types


@dataclass(frozen=True)
class MatchFact:
    """A registered recording found in the submission, with what the registry knows of it."""

    recording_id: int
    title: str
    isrc: str | None
    owner_id: int
    owner_is_submitter: bool
    duration_s: float  # of the matching stretch, in the submission
    query_coverage_pct: float  # of the submission
    reference_coverage_pct: float  # of the registered recording
    score: float
    ai_disclosure: str
    is_ai_generation: bool
    ai_providers: tuple[str, ...] = ()
    ai_models: tuple[str, ...] = ()
    inputs_owned_by_others: bool = False
    rights: tuple[RightsFact, ...] = ()


@dataclass(frozen=True)
class ConflictFact:
    """Open ownership conflicts of a matched recording: where its shares exceed 100%."""

    recording_id: int
    territories: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    submitter: Submitter
    territories: tuple[str, ...]  # ISO codes, or ("WORLD",)
    usage_types: tuple[str, ...]
    evaluation_date: dt.date
    declared_ai: DeclaredAI | None = None  # None: the uploader declared nothing
    detected_ai: DetectedAI | None = None  # None: no detection was run
    matches: tuple[MatchFact, ...] = ()
    conflicts: tuple[ConflictFact, ...] = ()

    # ------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FACTS_FORMAT,
            "submitter": {
                "organization_id": self.submitter.organization_id,
                "kind": self.submitter.kind,
            },
            "territories": list(self.territories),
            "usage_types": list(self.usage_types),
            "evaluation_date": self.evaluation_date.isoformat(),
            "declared_ai": None
            if self.declared_ai is None
            else {
                "disclosure": self.declared_ai.disclosure,
                "elements": list(self.declared_ai.elements),
            },
            "detected_ai": None
            if self.detected_ai is None
            else {
                "assessment": self.detected_ai.assessment,
                "confidence": self.detected_ai.confidence,
                "evidence": [
                    {"source": e.source, "score": e.score, "detail": e.detail}
                    for e in self.detected_ai.evidence
                ],
            },
            "matches": [_match_json(m) for m in self.matches],
            "conflicts": [
                {"recording_id": c.recording_id, "territories": list(c.territories)}
                for c in self.conflicts
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> Facts:
        """Parse and validate; raises FactsInvalid (FACTS_INVALID) naming every bad field."""
        errors = FieldErrors(FactsInvalid, _CODES)
        facts = _parse(errors, data)
        errors.raise_if_any()
        assert facts is not None  # no errors means every part parsed
        return facts

    def canonical(self) -> bytes:
        return canonical_json(self.to_json())

    def sha256(self) -> str:
        return sha256_of(self.to_json())

    def conflict_territories(self, recording_id: int) -> tuple[str, ...]:
        found: set[str] = set()
        for conflict in self.conflicts:
            if conflict.recording_id == recording_id:
                found.update(conflict.territories)
        return tuple(sorted(found))


def _match_json(m: MatchFact) -> dict[str, Any]:
    return {
        "recording_id": m.recording_id,
        "title": m.title,
        "isrc": m.isrc,
        "owner_id": m.owner_id,
        "owner_is_submitter": m.owner_is_submitter,
        "duration_s": m.duration_s,
        "query_coverage_pct": m.query_coverage_pct,
        "reference_coverage_pct": m.reference_coverage_pct,
        "score": m.score,
        "ai_disclosure": m.ai_disclosure,
        "is_ai_generation": m.is_ai_generation,
        "ai_providers": list(m.ai_providers),
        "ai_models": list(m.ai_models),
        "inputs_owned_by_others": m.inputs_owned_by_others,
        "rights": [
            {
                "owner_id": r.owner_id,
                "kind": r.kind,
                "share_pct": _pct_text(r.share_pct),
                "territories": list(r.territories),
                "exclude_territories": list(r.exclude_territories),
                "start": r.start.isoformat() if r.start else None,
                "end": r.end.isoformat() if r.end else None,
                "usage_types": list(r.usage_types),
            }
            for r in m.rights
        ],
    }


def _pct_text(value: Decimal) -> str:
    # The registry's form for shares: a decimal string with three decimals ("50.000").
    return f"{value.quantize(Decimal('0.001')):f}"


# ---------------------------------------------------------------- parsing

_TOP = (
    "format",
    "submitter",
    "territories",
    "usage_types",
    "evaluation_date",
    "declared_ai",
    "detected_ai",
    "matches",
    "conflicts",
)
_MATCH_FIELDS = (
    "recording_id",
    "title",
    "isrc",
    "owner_id",
    "owner_is_submitter",
    "duration_s",
    "query_coverage_pct",
    "reference_coverage_pct",
    "score",
    "ai_disclosure",
    "is_ai_generation",
    "ai_providers",
    "ai_models",
    "inputs_owned_by_others",
    "rights",
)
_MATCH_REQUIRED = (
    "recording_id",
    "owner_id",
    "duration_s",
    "query_coverage_pct",
    "reference_coverage_pct",
    "score",
)
_RIGHTS_FIELDS = (
    "owner_id",
    "kind",
    "share_pct",
    "territories",
    "exclude_territories",
    "start",
    "end",
    "usage_types",
)
MAX_ID = 2**63 - 1
MAX_DURATION_S = 1e6


def _territories(
    errors: FieldErrors, value: Any, path: str, *, allow_empty: bool
) -> tuple[str, ...] | None:
    empty = None if allow_empty else "must name at least one territory (or WORLD)"
    return errors.territories(value, path, max_items=MAX_LIST, empty=empty)


def _id(errors: FieldErrors, value: Any, path: str) -> int | None:
    number = errors.number(value, path, low=1, high=MAX_ID, integer=True)
    return None if number is None else int(number)


def _float(errors: FieldErrors, value: Any, path: str, high: float) -> float | None:
    number = errors.number(value, path, low=0, high=high)
    return None if number is None else float(number) + 0.0


def _parse(errors: FieldErrors, data: Any) -> Facts | None:
    top = errors.object(
        data, "", allowed=_TOP, required=("submitter", "territories", "evaluation_date")
    )
    if top is None:
        return None
    if "format" in top and top["format"] != FACTS_FORMAT:
        errors.add("format", VALUE, f"must be {FACTS_FORMAT!r} (got {top['format']!r})")

    submitter = None
    raw = None
    if "submitter" in top:
        raw = errors.object(
            top["submitter"],
            "submitter",
            allowed=("organization_id", "kind"),
            required=("organization_id", "kind"),
        )
    if raw is not None and "organization_id" in raw and "kind" in raw:
        org = _id(errors, raw["organization_id"], "submitter.organization_id")
        kind = errors.choice(raw["kind"], "submitter.kind", ORGANIZATION_KINDS)
        if org is not None and kind is not None:
            submitter = Submitter(org, kind)

    territories = (
        _territories(errors, top["territories"], "territories", allow_empty=False)
        if "territories" in top
        else None
    )
    usage_types = errors.strings(
        top.get("usage_types", []), "usage_types", max_items=50, pattern=USAGE_TYPE
    )
    day = (
        errors.date(top["evaluation_date"], "evaluation_date") if "evaluation_date" in top else None
    )
    declared = _declared(errors, top.get("declared_ai"))
    detected = _detected(errors, top.get("detected_ai"))

    matches: list[MatchFact] = []
    raw_matches = errors.list(top.get("matches", []), "matches", max_items=MAX_MATCHES) or []
    for index, item in enumerate(raw_matches):
        match = _match(errors, item, join("matches", index), submitter)
        if match is not None:
            matches.append(match)

    conflicts: list[ConflictFact] = []
    raw_conflicts = errors.list(top.get("conflicts", []), "conflicts", max_items=MAX_MATCHES) or []
    for index, item in enumerate(raw_conflicts):
        path = join("conflicts", index)
        obj = errors.object(
            item, path, allowed=("recording_id", "territories"), required=("recording_id",)
        )
        if obj is None or "recording_id" not in obj:
            continue
        recording = _id(errors, obj["recording_id"], join(path, "recording_id"))
        where = _territories(
            errors, obj.get("territories", []), join(path, "territories"), allow_empty=True
        )
        if recording is not None and where is not None:
            conflicts.append(ConflictFact(recording, where))
    conflicts.sort(key=lambda c: (c.recording_id, c.territories))

    if errors.items:
        return None
    assert submitter is not None and territories is not None and day is not None
    assert usage_types is not None
    return Facts(
        submitter=submitter,
        territories=territories,
        usage_types=usage_types,
        evaluation_date=day,
        declared_ai=declared,
        detected_ai=detected,
        matches=tuple(matches),
        conflicts=tuple(conflicts),
    )


def _declared(errors: FieldErrors, value: Any) -> DeclaredAI | None:
    if value is None:
        return None
    obj = errors.object(
        value, "declared_ai", allowed=("disclosure", "elements"), required=("disclosure",)
    )
    if obj is None or "disclosure" not in obj:
        return None
    disclosure = errors.choice(obj["disclosure"], "declared_ai.disclosure", AI_DISCLOSURES)
    elements = errors.strings(
        obj.get("elements", []), "declared_ai.elements", max_items=20, choices=AI_ELEMENTS
    )
    if disclosure is None or elements is None:
        return None
    return DeclaredAI(disclosure, elements)


def _detected(errors: FieldErrors, value: Any) -> DetectedAI | None:
    if value is None:
        return None
    obj = errors.object(
        value,
        "detected_ai",
        allowed=("assessment", "confidence", "evidence"),
        required=("assessment", "confidence"),
    )
    if obj is None or "assessment" not in obj or "confidence" not in obj:
        return None
    assessment = errors.string(obj["assessment"], "detected_ai.assessment", max_length=40)
    confidence = _float(errors, obj["confidence"], "detected_ai.confidence", 1)
    evidence: list[Evidence] = []
    items = errors.list(obj.get("evidence", []), "detected_ai.evidence", max_items=MAX_LIST) or []
    for index, item in enumerate(items):
        path = join("detected_ai.evidence", index)
        raw = errors.object(
            item, path, allowed=("source", "score", "detail"), required=("source", "score")
        )
        if raw is None or "source" not in raw or "score" not in raw:
            continue
        source = errors.choice(raw["source"], join(path, "source"), EVIDENCE_SOURCES)
        score = _float(errors, raw["score"], join(path, "score"), 1)
        detail = errors.string(raw.get("detail", ""), join(path, "detail"), max_length=2000)
        if source is not None and score is not None and detail is not None:
            evidence.append(Evidence(source, score, detail))
    if assessment is None or confidence is None:
        return None
    return DetectedAI(assessment, confidence, tuple(evidence))


def _match(
    errors: FieldErrors, value: Any, path: str, submitter: Submitter | None
) -> MatchFact | None:
    obj = errors.object(value, path, allowed=_MATCH_FIELDS, required=_MATCH_REQUIRED)
    if obj is None or any(key not in obj for key in _MATCH_REQUIRED):
        return None
    before = len(errors.items)
    recording = _id(errors, obj["recording_id"], join(path, "recording_id"))
    owner = _id(errors, obj["owner_id"], join(path, "owner_id"))
    title = errors.string(obj.get("title", ""), join(path, "title"), max_length=500)
    isrc = obj.get("isrc")
    if isrc is not None:
        isrc = errors.string(
            isrc, join(path, "isrc"), max_length=12, pattern=re.compile(r"[A-Z0-9]{12}")
        )
    duration = _float(errors, obj["duration_s"], join(path, "duration_s"), MAX_DURATION_S)
    query_pct = _float(errors, obj["query_coverage_pct"], join(path, "query_coverage_pct"), 100)
    ref_pct = _float(
        errors, obj["reference_coverage_pct"], join(path, "reference_coverage_pct"), 100
    )
    score = _float(errors, obj["score"], join(path, "score"), 1)
    disclosure = errors.choice(
        obj.get("ai_disclosure", "none"), join(path, "ai_disclosure"), AI_DISCLOSURES
    )
    generation = errors.boolean(obj.get("is_ai_generation", False), join(path, "is_ai_generation"))
    providers = errors.strings(
        obj.get("ai_providers", []), join(path, "ai_providers"), max_items=50
    )
    models = errors.strings(obj.get("ai_models", []), join(path, "ai_models"), max_items=50)
    inputs_others = errors.boolean(
        obj.get("inputs_owned_by_others", False), join(path, "inputs_owned_by_others")
    )
    rights: list[RightsFact] = []
    items = errors.list(obj.get("rights", []), join(path, "rights"), max_items=MAX_LIST) or []
    for index, item in enumerate(items):
        share = _rights(errors, item, join(path, f"rights[{index}]"))
        if share is not None:
            rights.append(share)
    if len(errors.items) > before or owner is None or recording is None:
        return None
    is_submitter = submitter is not None and owner == submitter.organization_id
    if "owner_is_submitter" in obj and obj["owner_is_submitter"] is not is_submitter:
        # Derived from the ids; a disagreeing value means the builder has a bug.
        errors.add(
            join(path, "owner_is_submitter"),
            VALUE,
            f"must be {str(is_submitter).lower()}: owner_id and submitter.organization_id say so",
        )
        return None
    assert title is not None and duration is not None and query_pct is not None
    assert ref_pct is not None and score is not None and disclosure is not None
    assert generation is not None and providers is not None and models is not None
    assert inputs_others is not None
    return MatchFact(
        recording_id=recording,
        title=title,
        isrc=isrc,
        owner_id=owner,
        owner_is_submitter=is_submitter,
        duration_s=duration,
        query_coverage_pct=query_pct,
        reference_coverage_pct=ref_pct,
        score=score,
        ai_disclosure=disclosure,
        is_ai_generation=generation,
        ai_providers=providers,
        ai_models=models,
        inputs_owned_by_others=inputs_others,
        rights=tuple(rights),
    )


def _rights(errors: FieldErrors, value: Any, path: str) -> RightsFact | None:
    obj = errors.object(
        value, path, allowed=_RIGHTS_FIELDS, required=("owner_id", "share_pct", "territories")
    )
    if obj is None or any(k not in obj for k in ("owner_id", "share_pct", "territories")):
        return None
    before = len(errors.items)
    owner = _id(errors, obj["owner_id"], join(path, "owner_id"))
    kind = errors.choice(obj.get("kind", "share"), join(path, "kind"), RIGHTS_KINDS)
    pct = _share_pct(errors, obj["share_pct"], join(path, "share_pct"))
    include = _territories(errors, obj["territories"], join(path, "territories"), allow_empty=False)
    exclude = _territories(
        errors,
        obj.get("exclude_territories", []),
        join(path, "exclude_territories"),
        allow_empty=True,
    )
    start = None if obj.get("start") is None else errors.date(obj["start"], join(path, "start"))
    end = None if obj.get("end") is None else errors.date(obj["end"], join(path, "end"))
    usages = errors.strings(
        obj.get("usage_types", []), join(path, "usage_types"), max_items=50, pattern=USAGE_TYPE
    )
    if len(errors.items) > before:
        return None
    assert owner is not None and kind is not None and pct is not None
    assert include is not None and exclude is not None and usages is not None
    return RightsFact(owner, pct, include, exclude, start, end, usages, kind)


def _share_pct(errors: FieldErrors, value: Any, path: str) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.add(path, VALUE, "must be a percentage (a decimal string or a number)")
        return None
    try:
        pct = Decimal(str(value))
    except InvalidOperation:
        pct = Decimal("NaN")
    if not pct.is_finite() or not (0 <= pct <= 100):
        errors.add(path, VALUE, f"must be a percentage from 0 to 100 (got {value!r})")
        return None
    return pct.quantize(Decimal("0.001"))
