"""AI-origin evidence: independent signals, each scored and explained, and their combination (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

ASSESSMENT_VERSION = "stemma-ai-origin/1"

# How much one source can say on its own. A weak source never makes "AI" alone.
STRONG = "strong"  # names the generation or carries a trusted signature
MEDIUM = "medium"  # a measured signal with a known error rate
WEAK = "weak"  # anyone can write it (file tags, an untrusted manifest)

DETECTED_AI = "detected_ai"  # strong evidence, or medium evidence seconded by another source
DECLARED_AI = "declared_ai"  # the submitter says so; nothing detected contradicts or confirms
POSSIBLE_AI = "possible_ai"  # hints only: worth a look, never an accusation
NO_EVIDENCE = "no_evidence"
ASSESSMENTS = (DETECTED_AI, DECLARED_AI, POSSIBLE_AI, NO_EVIDENCE)


@dataclass(frozen=True)
class Evidence:
    """One signal about AI origin, with where it comes from and how sure it is."""

    source: str  # registry | c2pa | tags | spectral
    score: float  # 0..1: how strongly this signal says "machine-made"
    strength: str  # strong | medium | weak
    detail: str  # one sentence a reviewer can read
    algorithm: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Assessment:
    assessment: str
    confidence: float
    evidence: tuple[Evidence, ...]
    declared: str | None  # none | partly | all, or None when nothing was declared
    undisclosed: bool  # detected AI where the submitter declared none (or less)
    version: str = ASSESSMENT_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "assessment": self.assessment,
            "confidence": round(self.confidence, 4),
            "declared": self.declared,
            "undisclosed": self.undisclosed,
            "version": self.version,
            "evidence": [e.as_dict() for e in self.evidence],
        }

    def as_fact(self) -> dict[str, Any]:
        """What the policies get as ``detected_ai`` (policies.facts): the outcome and each
        signal's source, score and detail."""
        return {
            "assessment": self.assessment,
            "confidence": round(self.confidence, 4),
            "evidence": [
                {"source": e.source, "score": e.score, "detail": e.detail} for e in self.evidence
            ],
        }


def assess(evidence: Iterable[Evidence], *, declared: str | None) -> Assessment:
    """Combine the signals; only AI-positive scores above one half count as pointing to AI."""
    items = tuple(sorted(evidence, key=lambda e: (-e.score, e.source, e.detail)))
    positive = [e for e in items if e.score >= 0.5]
    strong = [e for e in positive if e.strength == STRONG]
    medium = [e for e in positive if e.strength == MEDIUM]
    weak = [e for e in positive if e.strength == WEAK]
    sources = {e.source for e in positive}
    if strong:
        assessment, confidence = DETECTED_AI, max(e.score for e in strong)
    elif medium and len(sources) >= 2:
        # Two independent sources agreeing: their errors multiply.
        miss = 1.0
        for e in medium + weak:
            miss *= 1.0 - e.score * (0.5 if e.strength == WEAK else 1.0)
        assessment, confidence = DETECTED_AI, 1.0 - miss
    elif declared in ("partly", "all"):
        assessment, confidence = DECLARED_AI, 1.0
    elif medium or weak:
        assessment = POSSIBLE_AI
        confidence = max(e.score * (0.5 if e.strength == WEAK else 1.0) for e in medium + weak)
    else:
        assessment, confidence = NO_EVIDENCE, 0.0
    undisclosed = assessment == DETECTED_AI and declared in (None, "none")
    return Assessment(assessment, confidence, items, declared, undisclosed)


def registry_evidence(
    *,
    exact_generation: Sequence[dict[str, Any]] = (),
    exact_ai_recording: Sequence[dict[str, Any]] = (),
    matched_ai_recordings: Sequence[dict[str, Any]] = (),
) -> list[Evidence]:
    """Evidence from the registry: the audio is a registered AI output, exactly or by fingerprint."""
    found: list[Evidence] = []
    for g in exact_generation:
        found.append(
            Evidence(
                "registry",
                1.0,
                STRONG,
                f"byte-identical to the output of a generation by {g['provider']} "
                f"{g['model_name']} {g.get('model_version') or ''}".strip(),
                algorithm="sha256",
                data=g,
            )
        )
    for r in exact_ai_recording:
        found.append(
            Evidence(
                "registry",
                1.0,
                STRONG,
                f"byte-identical to recording {r['recording_id']}, registered as "
                f"{r['ai_disclosure']} AI",
                algorithm="sha256",
                data=r,
            )
        )
    for r in matched_ai_recordings:
        share = 1.0 if r["ai_disclosure"] == "all" else 0.8
        found.append(
            Evidence(
                "registry",
                round(min(1.0, r["score"]) * share, 4),
                STRONG,
                f"contains {r['duration_s']:.0f} s of recording {r['recording_id']}, "
                f"registered as {r['ai_disclosure']} AI"
                + (f" ({', '.join(r['models'])})" if r.get("models") else ""),
                algorithm=r.get("algorithm", ""),
                data=r,
            )
        )
    return found


AI_SOURCE_TYPES = {
    "trainedAlgorithmicMedia": 1.0,
    "compositeWithTrainedAlgorithmicMedia": 0.8,
    "algorithmicMedia": 0.7,
    "compositeSynthetic": 0.7,
}


def c2pa_evidence(summary: dict[str, Any] | None) -> list[Evidence]:
    """Evidence from an embedded C2PA manifest: trusted AI source types are strong, others weak."""
    if not summary:
        return []
    # IPTC source types are IRIs; the last path segment is the term.
    types = [
        str(a.get("digital_source_type") or "").rsplit("/", 1)[-1]
        for a in summary.get("actions", [])
        if a.get("digital_source_type")
    ]
    scores = [AI_SOURCE_TYPES[t] for t in types if t in AI_SOURCE_TYPES]
    trusted = bool(summary.get("trusted"))
    valid = bool(summary.get("signature_valid"))
    if not scores:
        return [
            Evidence(
                "c2pa",
                0.0,
                STRONG if trusted else WEAK,
                "a C2PA manifest declares no AI source type"
                + (" (trusted signer)" if trusted else " (signer not trusted)"),
                algorithm="c2pa",
                data={"trusted": trusted, "signature_valid": valid, "source_types": types},
            )
        ]
    agents = sorted(
        {str(a.get("name")) for a in summary.get("software_agents", []) if a.get("name")}
    )
    score = max(scores)
    strength = STRONG if trusted and valid else WEAK
    return [
        Evidence(
            "c2pa",
            score,
            strength,
            f"C2PA manifest says {types[0] or 'AI'}"
            + (f" by {', '.join(agents)}" if agents else "")
            + ("" if trusted and valid else " (signature not trusted: a hint only)"),
            algorithm="c2pa",
            data={
                "trusted": trusted,
                "signature_valid": valid,
                "source_types": types,
                "agents": agents,
            },
        )
    ]
