"""Reads of the checks app: the verdict as its submitter may see it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from common.errors import NotFound
from registry import identifiers
from registry.models import Organization
from review.selectors import review_for_check

from .models import Check, CheckMatch, WebhookEndpoint


def checks_visible(org: Organization) -> QuerySet[Check]:
    qs = Check.objects.select_related("decision", "organization")
    return qs if org.is_operator else qs.filter(organization=org)


def check_for(org: Organization, pk: Any) -> Check:
    try:
        return checks_visible(org).get(pk=int(pk))
    except (Check.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"check {pk} not found", code="CHECK_NOT_FOUND") from None


def _match(match: CheckMatch) -> dict[str, Any]:
    recording = match.recording
    # Only a matched recording's public facts: never another organisation's private data.
    return {
        "id": match.pk,  # what a dispute of this match names
        "recording": {
            "id": recording.pk,
            "title": recording.title,
            "isrc": recording.isrc,
            "isrc_display": identifiers.format_isrc(recording.isrc) if recording.isrc else None,
            "display_artist": recording.display_artist,
            "owner": {"id": recording.organization_id, "name": recording.organization.name},
            "ai_disclosure": recording.ai_disclosure,
        },
        "score": round(match.score, 4),
        "query_start_s": round(match.query_start_s, 2),
        "query_end_s": round(match.query_end_s, 2),
        "reference_start_s": round(match.reference_start_s, 2),
        "reference_end_s": round(match.reference_end_s, 2),
        "query_coverage_pct": round(match.query_coverage_pct, 2),
        "reference_coverage_pct": round(match.reference_coverage_pct, 2),
        "bit_error_rate": round(match.bit_error_rate, 4),
        "speed_factor": round(match.speed_factor, 4),
        "algorithm": match.algorithm,
    }


def _ai_origin(check: Check) -> dict[str, Any] | None:
    if check.ai_origin is None:
        return None
    origin = dict(check.ai_origin)
    # Evidence data can name other organisations' generations: keep the sentence, drop the rest.
    origin["evidence"] = [
        {k: e[k] for k in ("source", "score", "strength", "detail", "algorithm") if k in e}
        for e in origin.get("evidence", [])
    ]
    return origin


def _decision(check: Check) -> dict[str, Any] | None:
    decision = check.decision
    if decision is None:
        return None
    outcome = decision.outcome or {}
    names = {p["version"]: p for p in outcome.get("policies", [])}
    return {
        "id": decision.pk,
        "action": decision.action,
        "priority": decision.priority or None,
        "territories": decision.territories,
        "rules": [
            {
                "policy": names.get(r["version"], {}).get("name"),
                "policy_version": names.get(r["version"], {}).get("number"),
                "rule": r["rule"],
                "action": r["action"],
            }
            for r in outcome.get("rules", [])
            if r.get("fired")
        ],
        "won_by": outcome.get("won_by"),
        "explanation": decision.explanation,
        "policy": ", ".join(p["name"] for p in outcome.get("policies", [])),
        "policy_version": ", ".join(
            f"{p['name']} v{p['number']}" for p in outcome.get("policies", [])
        ),
    }


def verdict(check: Check, *, viewer: Organization) -> dict[str, Any]:
    """The check as the API shows it to ``viewer`` (its submitter, or an operator)."""
    matches = (
        CheckMatch.objects.filter(submission=check)
        .select_related("recording__organization")
        .order_by("query_start_s", "id")
    )
    return {
        "id": check.pk,
        "status": check.status,
        "error": check.error or None,
        "error_message": check.error_message or None,
        "declared": check.declared,
        "audio": {
            "filename": check.audio_filename,
            "sha256": check.audio_sha256,
            "size_bytes": check.audio_size_bytes,
            "duration_s": check.duration_s,
        },
        "matches": [_match(m) for m in matches],
        "ai_origin": _ai_origin(check),
        "decision": _decision(check),
        "review": review_for_check(check),
        "algorithm": check.algorithm or None,
        "attempts": check.attempts,
        "created_at": check.created_at,
        "finished_at": check.finished_at,
        "processing_seconds": check.processing_seconds,
        "url": f"/api/v1/checks/{check.pk}/",
    }


def webhook_describe(org: Organization) -> dict[str, Any]:
    endpoint = WebhookEndpoint.objects.filter(organization=org).first()
    if endpoint is None:
        raise NotFound("no webhook is configured", code="WEBHOOK_NOT_FOUND")
    return {"url": endpoint.url, "active": endpoint.active}
