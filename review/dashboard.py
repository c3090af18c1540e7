"""What one review page shows: the evidence behind an item, gathered and shaped for the template."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Prefetch
from django.utils.safestring import SafeString, mark_safe

from checks.models import Check, CheckMatch
from policies.engine import ACTION_WORDS
from policies.models import Decision
from registry import identifiers
from registry.models import Contribution, OwnershipConflict, Recording, RightsShare
from registry.provenance import history

from . import svg
from .models import ReviewItem
from .services import compact_territories

DASH = svg.DASH
HISTORY_LIMIT = 100
AI_LABELS = {
    "detected_ai": "Detected AI",
    "possible_ai": "Possible AI",
    "declared_ai": "Declared AI",
    "no_evidence": "No evidence",
}
C2PA_LABELS = {
    "trusted": "Signer trusted",
    "signature_valid": "Signature valid",
    "source_types": "Digital source type",
    "agents": "Software agents",
    "claim_generator": "Claim generator",
    "title": "Title",
    "signer": "Signer",
    "validation_errors": "Validation errors",
}


def _isrc(value: str | None) -> str:
    return identifiers.format_isrc(value) if value else ""


def _text(value: Any) -> str:
    """A declared value as one line of text, whatever shape the uploader sent."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, Mapping):
        name = value.get("name") or value.get("party") or ""
        rest = [str(v) for k, v in value.items() if k not in ("name", "party") and v]
        return f"{name} ({', '.join(rest)})" if name and rest else str(name or ", ".join(rest))
    if isinstance(value, list | tuple):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _clock(seconds: float | None) -> str:
    return svg.clock(seconds) if seconds is not None else ""


# ---------------------------------------------------------------- side by side


@dataclass
class Cell:
    text: str
    differs: bool = False  # marked: not what the submission says
    alert: bool = False  # highlighted: a difference that matters (AI, identifiers)


@dataclass
class Row:
    label: str
    submission: str
    references: list[Cell] = field(default_factory=list)


def _declared_ai(declared: Mapping[str, Any]) -> str:
    ai = declared.get("declared_ai")
    if not ai:
        return "not declared"
    elements = ", ".join(ai.get("elements") or [])
    return ai.get("disclosure", "none") + (f" ({elements})" if elements else "")


def _recording_ai(recording: Recording) -> str:
    models_ = sorted(
        {
            f"{g.provider} {g.model_name} {g.model_version}".strip()
            for g in recording.generations.all()
        }
    )
    ai_parts = [
        f"{c.element}: {c.involvement.replace('_', ' ')}"
        for c in recording.contributions.all()
        if c.involvement != "human"
    ]
    text = recording.ai_disclosure
    extra = ", ".join([*models_, *ai_parts])
    return text + (f" ({extra})" if extra else "")


def _contributions(recording: Recording) -> str:
    return "; ".join(
        f"{c.party.name} ({c.get_role_display().lower()}, {c.involvement.replace('_', ' ')})"
        for c in recording.contributions.all()
    )


def _shares(shares: Iterable[RightsShare]) -> str:
    return "; ".join(
        f"{s.owner.name} {s.share_pct.normalize():f}% in {', '.join(s.territories[:6])}"
        + (f" except {', '.join(s.exclude_territories[:6])}" if s.exclude_territories else "")
        + (f" ({', '.join(s.usage_types)})" if s.usage_types else "")
        for s in shares
    )


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def comparison(check: Check, recordings: list[Recording]) -> list[Row]:
    """The submission's declared metadata beside each matched reference's registered metadata."""
    declared = check.declared or {}
    declared_ai = (declared.get("declared_ai") or {}).get("disclosure", "none")
    title = str(declared.get("title") or "")
    isrc = _isrc(declared.get("isrc"))
    rows = [
        Row("Title", title),
        Row("Artist", str(declared.get("artist") or "")),
        Row("ISRC", isrc),
        Row("AI involvement", _declared_ai(declared)),
        Row("Contributors", _text(declared.get("contributors"))),
        Row("Organisation", f"{check.organization.name} (submitter)"),
        Row(
            "Rights",
            "requested "
            + ", ".join(declared.get("territories") or [])
            + f" for {', '.join(declared.get('usage_types') or [])}",
        ),
        Row(
            "Audio",
            f"{check.audio_filename or '—'} · {_clock(check.duration_s)} · "
            f"sha256 {check.audio_sha256[:12]}…",
        ),
        Row("Work", ""),
        Row("Date", f"submitted {check.created_at:%Y-%m-%d %H:%M}"),
    ]
    for rec in recordings:
        ref_isrc = _isrc(rec.isrc)
        rows[0].references.append(Cell(rec.title, bool(title) and not _same(title, rec.title)))
        rows[1].references.append(
            Cell(
                rec.display_artist,
                bool(declared.get("artist"))
                and not _same(str(declared.get("artist")), rec.display_artist),
            )
        )
        isrc_differs = bool(isrc) and isrc != ref_isrc
        rows[2].references.append(Cell(ref_isrc, isrc_differs, isrc_differs))
        hidden_ai = rec.ai_disclosure != "none" and declared_ai == "none"
        rows[3].references.append(Cell(_recording_ai(rec), hidden_ai, hidden_ai))
        rows[4].references.append(Cell(_contributions(rec)))
        rows[5].references.append(Cell(f"{rec.organization.name} (owner)"))
        rows[6].references.append(Cell(_shares(rec.rights.all())))
        rows[7].references.append(Cell(f"{rec.audio_filename or '—'} · {_clock(rec.duration_s)}"))
        work = rec.work
        rows[8].references.append(
            Cell(
                f"{work.title}" + (f" ({identifiers.format_iswc(work.iswc)})" if work.iswc else "")
                if work
                else ""
            )
        )
        rows[9].references.append(Cell(f"registered {rec.created_at:%Y-%m-%d}"))
    return rows


# ---------------------------------------------------------------- the match


def matches_of(check: Check) -> list[CheckMatch]:
    return list(
        CheckMatch.objects.filter(submission=check)
        .select_related("recording__organization", "recording__work")
        .prefetch_related(
            Prefetch(
                "recording__contributions", queryset=Contribution.objects.select_related("party")
            ),
            "recording__generations",
            Prefetch("recording__rights", queryset=RightsShare.objects.select_related("owner")),
        )
        .order_by("query_start_s", "id")
    )


def segments_of(matches: list[CheckMatch]) -> list[svg.Segment]:
    return [
        svg.Segment(
            match_id=m.pk,
            recording_id=m.recording_id,
            title=m.recording.title,
            isrc=_isrc(m.recording.isrc),
            owner=m.recording.organization.name,
            query_start_s=m.query_start_s,
            query_end_s=m.query_end_s,
            reference_start_s=m.reference_start_s,
            reference_end_s=m.reference_end_s,
            reference_duration_s=m.recording.duration_s,
            score=m.score,
            speed_factor=m.speed_factor,
        )
        for m in matches
    ]


def timeline(check: Check, segments: list[svg.Segment]) -> SafeString:
    return mark_safe(svg.match_timeline(check.duration_s, segments))  # noqa: S308 -- built escaped


# ---------------------------------------------------------------- evidence


def evidence(check: Check) -> dict[str, Any]:
    """The AI-origin assessment, each signal, the fakeprint plots, and the C2PA summary."""
    origin = check.ai_origin or {}
    items = []
    plots = []
    manifests = []
    for e in origin.get("evidence", []):
        if not isinstance(e, Mapping):
            continue
        score = float(e.get("score") or 0.0)
        raw = e.get("data")
        data: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        items.append(
            {
                "source": e.get("source", ""),
                "strength": e.get("strength", ""),
                "score": score,
                "score_pct": round(max(0.0, min(1.0, score)) * 100),
                "detail": e.get("detail", ""),
                "algorithm": e.get("algorithm", ""),
                "positive": score >= 0.5,
            }
        )
        fakeprint = svg.fakeprint_from(data)
        if fakeprint is not None:
            plots.append(
                {
                    "detail": e.get("detail", ""),
                    "svg": mark_safe(svg.fakeprint_plot(fakeprint)),  # noqa: S308 -- built escaped
                    "peaks_khz": [round(p / 1000, 2) for p in sorted(fakeprint.peaks_hz)],
                }
            )
        if e.get("source") == "c2pa":
            manifests.append(c2pa_summary(data, e))
    return {
        "assessment": origin.get("assessment") or "",
        "confidence": origin.get("confidence"),
        "declared": origin.get("declared"),
        "undisclosed": origin.get("undisclosed"),
        "version": origin.get("version", ""),
        "items": items,
        "plots": plots,
        "c2pa": manifests,
    }


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items() if v not in (None, "", []))
    return "—" if value in (None, "") else str(value)


def c2pa_summary(data: dict[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    rows = [(label, _value(data[key])) for key, label in C2PA_LABELS.items() if key in data]
    rows += [
        (key.replace("_", " ").capitalize(), _value(value))
        for key, value in sorted(data.items())
        if key not in C2PA_LABELS
    ]
    return {
        "detail": item.get("detail", ""),
        "trusted": bool(data.get("trusted")),
        "valid": bool(data.get("signature_valid")),
        "rows": rows,
    }


# ---------------------------------------------------------------- the decision


def decision_view(decision: Decision) -> dict[str, Any]:
    outcome = decision.outcome or {}
    versions = {p["version"]: p for p in outcome.get("policies", [])}
    fired = []
    for rule in outcome.get("rules", []):
        if not rule.get("fired"):
            continue
        policy = versions.get(rule.get("version"), {})
        runs = [r for r in rule.get("results", []) if r.get("fired")]
        because: list[str] = []
        where: list[str] = []
        for run in runs:
            because.extend(b for b in run.get("because", []) if b not in because)
            codes = run.get("territories") or []
            text = ", ".join(codes) + (
                f" except {', '.join(run['exclude_territories'])}"
                if run.get("exclude_territories")
                else ""
            )
            if text and text not in where:
                where.append(text)
        fired.append(
            {
                "policy": f"{policy.get('name', '?')} v{policy.get('number', '?')}",
                "rule": rule.get("rule"),
                "action": rule.get("action"),
                "action_words": ACTION_WORDS.get(str(rule.get("action")), rule.get("action")),
                "because": because,
                "where": "; ".join(where),
                "matches": [r.get("match") for r in runs if r.get("match") is not None],
                "won": (outcome.get("won_by") or {}).get("rule") == rule.get("rule")
                and (outcome.get("won_by") or {}).get("version") == rule.get("version"),
            }
        )
    return {
        "decision": decision,
        "action_words": ACTION_WORDS.get(decision.action, decision.action),
        "territories": sorted((decision.territories or {}).items()),
        "fired": fired,
        "not_fired": sum(1 for r in outcome.get("rules", []) if not r.get("fired")),
        "policies": [f"{p['name']} v{p['number']}" for p in outcome.get("policies", [])],
    }


# ---------------------------------------------------------------- the conflict


def conflict_subject(conflict: OwnershipConflict) -> str:
    key = conflict.subject_key
    if ":" not in key:
        key = _isrc(key) if conflict.subject_kind == "recording" else identifiers.format_iswc(key)
    return f"{conflict.get_subject_kind_display()} {key}"


def conflict_view(conflict: OwnershipConflict) -> dict[str, Any]:
    shares = conflict.shares.select_related("owner", "registered_by", "recording", "work")
    codes = compact_territories(conflict.territories)
    where = (
        "worldwide"
        if codes == ["WORLD"]
        else "in "
        + ", ".join(codes[:20])
        + (f" and {len(codes) - 20} more" if len(codes) > 20 else "")
    )
    usages = [u for u in conflict.usage_types if u != "*"]
    period = ""
    if conflict.start or conflict.end:
        period = f"from {conflict.start or 'the start'} to {conflict.end or 'no end'}"
    return {
        "conflict": conflict,
        "subject": conflict_subject(conflict),
        "total_pct": f"{conflict.total_pct.normalize():f}",
        "territories": where,
        "usage": ", ".join(usages) if usages else "every usage",
        "period": period,
        "shares": [
            {
                "owner": s.owner.name,
                "registered_by": s.registered_by.name,
                "share_pct": s.share_pct,
                "territories": ", ".join(s.territories[:10])
                + (" …" if len(s.territories) > 10 else ""),
                "exclude": ", ".join(s.exclude_territories),
                "usage": ", ".join(s.usage_types) or "all",
                "period": f"{s.start or '…'} {DASH} {s.end or '…'}",
                "subject": s.recording or s.work,
            }
            for s in shares
        ],
    }


# ---------------------------------------------------------------- provenance


def _events(obj: models.Model) -> list[dict[str, Any]]:
    events = list(history(obj).order_by("-id")[:HISTORY_LIMIT])
    return [
        {
            "id": e.pk,
            "at": e.created_at,
            "action": e.action,
            "actor": e.actor_user or "—",
            "organization": e.actor_organization,
            "before": _pretty(e.before) if e.before is not None else "",
            "after": _pretty(e.after) if e.after is not None else "",
        }
        for e in reversed(events)
    ]


def histories(item: ReviewItem, recordings: list[Recording]) -> list[dict[str, Any]]:
    """The provenance of every object involved, oldest event first within each."""
    objects: list[tuple[str, models.Model]] = [(f"Review item #{item.pk}", item)]
    if item.dispute is not None:
        objects.append((f"Dispute #{item.dispute.pk}", item.dispute))
    if item.submission is not None:
        objects.append((f"Check #{item.submission.pk}", item.submission))
    if item.decision is not None:
        objects.append((f"Decision #{item.decision.pk}", item.decision))
    for rec in recordings:
        objects.append((f"Recording #{rec.pk} “{rec.title}”", rec))
    if item.conflict is not None:
        objects.append((f"Conflict #{item.conflict.pk}", item.conflict))
    return [{"label": label, "events": _events(obj)} for label, obj in objects]


# ---------------------------------------------------------------- the page


def heading(item: ReviewItem) -> str:
    """What the item is about, in a few words: the check and its title, or the conflict."""
    check = item.submission
    if check is not None:
        title = str((check.declared or {}).get("title") or check.audio_filename or "")
        prefix = "Dispute of check" if item.kind == ReviewItem.Kind.DISPUTE else "Check"
        return f"{prefix} {check.pk}" + (f" \u00b7 \u201c{title}\u201d" if title else "")
    if item.conflict is not None:
        prefix = "Dispute of conflict" if item.kind == ReviewItem.Kind.DISPUTE else "Conflict"
        return f"{prefix} {item.conflict.pk} \u00b7 {conflict_subject(item.conflict)}"
    return item.subject_label


def page(item: ReviewItem) -> dict[str, Any]:
    """Everything the review page shows about ``item``."""
    codes = list(item.territories or [])
    context: dict[str, Any] = {
        "item": item,
        "heading": heading(item),
        "ai_label": AI_LABELS.get(item.ai_assessment, item.ai_assessment.replace("_", " ")),
        "territories_text": "worldwide"
        if codes == ["WORLD"]
        else ", ".join(codes[:12]) + (f" and {len(codes) - 12} more" if len(codes) > 12 else ""),
    }
    recordings: list[Recording] = []
    check = item.submission
    if check is not None:
        matches = matches_of(check)
        seen: dict[int, Recording] = {}
        for m in matches:
            seen.setdefault(m.recording_id, m.recording)
        recordings = list(seen.values())
        letters = {m.pk: chr(65 + i % 26) for i, m in enumerate(matches)}
        segments = segments_of(matches)
        colours = svg.recording_colours(segments)
        context.update(
            {
                "check": check,
                "matches": [
                    {
                        "match": m,
                        "letter": letters[m.pk],
                        "colour": colours[m.recording_id],
                        "isrc": _isrc(m.recording.isrc),
                        "query": f"{_clock(m.query_start_s)}{DASH}{_clock(m.query_end_s)}",
                        "reference": f"{_clock(m.reference_start_s)}{DASH}{_clock(m.reference_end_s)}",
                        "length": _clock(m.query_end_s - m.query_start_s),
                    }
                    for m in matches
                ],
                "timeline_svg": timeline(check, segments),
                "comparison": comparison(check, recordings),
                "references": recordings,
                "evidence": evidence(check),
            }
        )
    decision = item.decision or (check.decision if check is not None else None)
    if decision is not None:
        context["decision"] = decision_view(decision)
    if item.conflict is not None:
        context["conflict"] = conflict_view(item.conflict)
    related = ReviewItem.objects.exclude(pk=item.pk)
    if check is not None:
        related = related.filter(submission=check)
    elif item.conflict is not None:
        related = related.filter(conflict=item.conflict)
    else:
        related = related.none()
    context["related"] = list(related.select_related("resolved_by").order_by("-created_at"))
    context["histories"] = histories(item, recordings)
    return context
