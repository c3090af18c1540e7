"""Reads other code calls: what an organisation may see, loaded with what it needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Prefetch, Q, QuerySet

from common.errors import NotFound

from .models import (
    Contribution,
    GenerationRecord,
    Organization,
    OwnershipConflict,
    Party,
    Recording,
    Release,
    ReleaseTrack,
    RightsShare,
    Work,
)


def owned_or_404(model: type[Model], org: Organization, pk: Any, *, name: str) -> Any:
    """An object the organisation owns (for writing); anything else does not exist for it."""
    try:
        obj = model._default_manager.get(pk=int(pk), organization=org)
    except (model.DoesNotExist, TypeError, ValueError):  # type: ignore[attr-defined]
        raise NotFound(f"{name} {pk} not found", code=f"{name.upper()}_NOT_FOUND") from None
    return obj


def _scoped(qs: QuerySet, org: Organization) -> QuerySet:
    return qs if org.is_operator else qs.filter(organization=org)


def parties_visible(org: Organization) -> QuerySet[Party]:
    return _scoped(Party.objects.all(), org)


def works_visible(org: Organization) -> QuerySet[Work]:
    return _scoped(Work.objects.all(), org).prefetch_related(
        "writers__party", Prefetch("rights", queryset=RightsShare.objects.select_related("owner"))
    )


def recordings_visible(org: Organization) -> QuerySet[Recording]:
    return (
        _scoped(Recording.objects.all(), org)
        .select_related("work")
        .prefetch_related(
            Prefetch("contributions", queryset=Contribution.objects.select_related("party")),
            Prefetch(
                "generations",
                queryset=GenerationRecord.objects.select_related("ai_system").prefetch_related(
                    "inputs"
                ),
            ),
            Prefetch("rights", queryset=RightsShare.objects.select_related("owner")),
        )
    )


def releases_visible(org: Organization) -> QuerySet[Release]:
    return _scoped(Release.objects.all(), org).prefetch_related(
        Prefetch("tracks", queryset=ReleaseTrack.objects.select_related("recording"))
    )


def conflicts_involving(org: Organization) -> QuerySet[OwnershipConflict]:
    qs = OwnershipConflict.objects.all()
    if not org.is_operator:
        qs = qs.filter(organizations=org)
    return qs.prefetch_related(
        Prefetch(
            "shares", queryset=RightsShare.objects.select_related("owner", "recording", "work")
        ),
        "organizations",
    ).distinct()


def recordings_with_audio(sha256: str) -> QuerySet[Recording]:
    return Recording.objects.filter(audio_sha256=sha256)


def open_conflict_count(org: Organization) -> int:
    return conflicts_involving(org).filter(status=OwnershipConflict.Status.OPEN).count()


def organizations_named(query: str) -> QuerySet[Organization]:
    return Organization.objects.filter(Q(name__icontains=query))
