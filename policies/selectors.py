"""Reads others call: visible policies and decisions, the policies that apply, and the facts builder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from common.errors import NotFound
from registry.models import (
    GenerationRecord,
    Involvement,
    Organization,
    OwnershipConflict,
    Recording,
)

from . import engine
from .facts import Facts
from .models import Decision, Policy, PolicyVersion
from .rules import parse_rules


def policies_visible(org: Organization) -> QuerySet[Policy]:
    """Operators see every policy; others their own and the global ones (which apply to them)."""
    qs = Policy.objects.select_related("organization").prefetch_related(
        Prefetch("versions", queryset=PolicyVersion.objects.order_by("number"))
    )
    if org.is_operator:
        return qs
    return qs.filter(Q(scope=Policy.Scope.GLOBAL) | Q(organization=org))


def policy_or_404(org: Organization, pk: Any) -> Policy:
    try:
        return policies_visible(org).get(pk=int(pk))
    except (Policy.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"policy {pk} not found", code="POLICY_NOT_FOUND") from None


def version_or_404(policy: Policy, number: Any) -> PolicyVersion:
    try:
        return PolicyVersion.objects.select_related("policy", "created_by", "published_by").get(
            policy=policy, number=int(number)
        )
    except (PolicyVersion.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            f"version {number} of policy {policy.pk} not found", code="POLICY_VERSION_NOT_FOUND"
        ) from None


def decisions_visible(org: Organization) -> QuerySet[Decision]:
    """Operators see all; others the decisions they asked for or that matched their recordings."""
    qs = Decision.objects.prefetch_related("versions__policy")
    if org.is_operator:
        return qs
    owned = Decision.objects.filter(matched_owners=org).values("pk")
    return qs.filter(Q(submitter=org) | Q(pk__in=owned))


def latest_decision(subject_type: str, subject_id: str | int) -> Decision | None:
    return (
        Decision.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .order_by("-id")
        .first()
    )


def policy_order(policy: Policy) -> tuple[int, int, int]:
    """Global policies first (the system's before the operators'), then owners', by id."""
    return (
        0 if policy.is_global else 1,
        0 if policy.organization_id is None else 1,
        policy.pk,
    )


def applicable_versions(facts: Facts) -> list[PolicyVersion]:
    """The published versions that apply: every global policy, and the matched owners' policies."""
    owners = {m.owner_id for m in facts.matches}
    versions = PolicyVersion.objects.select_related("policy").filter(
        Q(policy__scope=Policy.Scope.GLOBAL)
        | Q(policy__scope=Policy.Scope.OWNER, policy__organization_id__in=owners),
        status=PolicyVersion.Status.PUBLISHED,
    )
    return sorted(versions, key=lambda v: policy_order(v.policy))


def policy_input(version: PolicyVersion) -> engine.PolicyInput:
    policy = version.policy
    owner = None if policy.is_global else policy.organization_id
    return engine.PolicyInput(
        policy_id=policy.pk,
        name=policy.name,
        version_id=version.pk,
        number=version.number,
        owner_id=owner,
        rules=parse_rules(version.rules, owner_scoped=owner is not None),
    )


# ---------------------------------------------------------------- the facts builder


@dataclass(frozen=True)
class MatchInput:
    """What matching found, as the checks app knows it (fingerprinting.matching.Match)."""

    recording_id: int
    score: float
    query_start_s: float
    query_end_s: float
    query_coverage_pct: float
    reference_coverage_pct: float


def build_facts(
    *,
    submitter: Organization,
    territories: Sequence[str],
    usage_types: Sequence[str],
    declared_ai: Mapping[str, Any] | None,
    detected_ai: Mapping[str, Any] | None,
    matches: Sequence[MatchInput],
    evaluation_date: dt.date | None = None,
) -> Facts:
    """The facts of a check: what the submitter sent and what was found, plus the registry's view.

    ``declared_ai`` is ``{"disclosure", "elements"}`` or None when nothing was declared;
    ``detected_ai`` is ``{"assessment", "confidence", "evidence": [{"source", "score",
    "detail"}]}`` or None when detection did not run. Rights and conflicts are read as
    they are now; ``evaluation_date`` (default today, UTC) picks the shares in force.
    Raises FactsInvalid (FACTS_INVALID) on malformed input, NotFound for an unknown recording.
    """
    ids = [m.recording_id for m in matches]
    recordings = {
        r.pk: r
        for r in Recording.objects.filter(pk__in=ids).prefetch_related(
            "rights",
            "contributions",
            Prefetch(
                "generations",
                queryset=GenerationRecord.objects.prefetch_related("inputs__recording"),
            ),
        )
    }
    missing = sorted(set(ids) - set(recordings))
    if missing:
        raise NotFound(
            f"recording {missing[0]} not found",
            code="RECORDING_NOT_FOUND",
            detail={"recordings": missing},
        )
    input_isrcs = {
        i.isrc
        for r in recordings.values()
        for g in r.generations.all()
        for i in g.inputs.all()
        if i.recording is None and i.isrc
    }
    isrc_owners: dict[str, set[int]] = {}
    for isrc, org in Recording.objects.filter(
        isrc__in=input_isrcs, status=Recording.Status.ACTIVE
    ).values_list("isrc", "organization_id"):
        if isrc:
            isrc_owners.setdefault(isrc, set()).add(org)

    conflicts: dict[int, set[str]] = {}
    for conflict in (
        OwnershipConflict.objects.filter(
            status=OwnershipConflict.Status.OPEN, shares__recording_id__in=ids
        )
        .distinct()
        .prefetch_related("shares")
    ):
        for share in conflict.shares.all():
            if share.recording_id in recordings:
                conflicts.setdefault(share.recording_id, set()).update(conflict.territories)

    data = {
        "submitter": {"organization_id": submitter.pk, "kind": submitter.kind},
        "territories": list(territories),
        "usage_types": [str(u).strip().lower() for u in usage_types],
        "evaluation_date": (evaluation_date or timezone.now().date()).isoformat(),
        "declared_ai": dict(declared_ai) if declared_ai is not None else None,
        "detected_ai": dict(detected_ai) if detected_ai is not None else None,
        "matches": [
            _match_json(m, recordings[m.recording_id], submitter, isrc_owners) for m in matches
        ],
        "conflicts": [
            {"recording_id": pk, "territories": sorted(codes)}
            for pk, codes in sorted(conflicts.items())
        ],
    }
    return Facts.from_json(data)


def _match_json(
    found: MatchInput,
    recording: Recording,
    submitter: Organization,
    isrc_owners: Mapping[str, set[int]],
) -> dict[str, Any]:
    owner = recording.organization_id
    generations = list(recording.generations.all())
    ai_contribution = any(
        c.involvement == Involvement.AI_GENERATED for c in recording.contributions.all()
    )
    inputs_owned_by_others = False
    for generation in generations:
        for source in generation.inputs.all():
            # An input named by ISRC only belongs to whoever registered that ISRC.
            owners = (
                {source.recording.organization_id}
                if source.recording is not None
                else isrc_owners.get(source.isrc, set())
            )
            if owners - {owner}:
                inputs_owned_by_others = True
    return {
        "recording_id": recording.pk,
        "title": recording.title,
        "isrc": recording.isrc,
        "owner_id": owner,
        "owner_is_submitter": owner == submitter.pk,
        "duration_s": round(max(0.0, found.query_end_s - found.query_start_s), 3),
        "query_coverage_pct": round(found.query_coverage_pct, 3),
        "reference_coverage_pct": round(found.reference_coverage_pct, 3),
        "score": round(found.score, 4),
        "ai_disclosure": recording.ai_disclosure,
        "is_ai_generation": bool(generations) or ai_contribution,
        "ai_providers": sorted({g.provider for g in generations}),
        "ai_models": sorted({g.model_name for g in generations}),
        "inputs_owned_by_others": inputs_owned_by_others,
        "rights": [
            {
                "owner_id": share.owner_id,
                "kind": "share",
                "share_pct": f"{share.share_pct:.3f}",
                "territories": share.territories,
                "exclude_territories": share.exclude_territories,
                "start": share.start.isoformat() if share.start else None,
                "end": share.end.isoformat() if share.end else None,
                "usage_types": share.usage_types,
            }
            for share in recording.rights.all()
        ],
    }
