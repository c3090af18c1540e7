"""Every write of the review app: open items (checks, conflicts, disputes), act on them, resolve the overdue.

A reviewer's action (approve, reject, require licence, escalate) always carries a
note, is stored on the item, recorded in the provenance log with before and after,
and announced to the organisations concerned by webhook. Items nobody decided by
their due date are resolved as the policy says (see :func:`reviews_resolve_overdue`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from checks.models import Check, CheckMatch, WebhookDelivery, WebhookEndpoint
from common.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from policies.models import Decision
from policies.rules import SEVERITY
from registry import provenance
from registry.models import Organization, OwnershipConflict
from registry.provenance import Actor
from registry.territories import ISO_3166_ALPHA2, WORLD

from . import selectors
from .models import PRIORITY_RANK, Dispute, ReviewItem

SYSTEM = Actor.system("review")
State = ReviewItem.State
Kind = ReviewItem.Kind

# A reviewer's action: the state it leaves the item in, and the final action it stands for.
ACTIONS: dict[str, tuple[str, str]] = {
    "approve": (State.APPROVED, "allow"),
    "reject": (State.REJECTED, "block"),
    "require_licence": (State.LICENCE_REQUIRED, "require_licence"),
    "escalate": (State.ESCALATED, ""),
}
ESCALATE = "escalate"  # a fallback: nothing decides an ownership question by default
CONFLICT_REASON = "ownership shares over 100%"
DISPUTE_REASONS = {
    Dispute.Subject.MATCH: "dispute of a match",
    Dispute.Subject.DECISION: "dispute of a decision",
    Dispute.Subject.CONFLICT: "dispute of an ownership conflict",
}
MAX_REASON_CHARS = 2000
MAX_NOTE_CHARS = 5000


# ---------------------------------------------------------------- helpers


def deadline_days() -> int:
    return int(settings.STEMMA_REVIEW_DEADLINE_DAYS)


def _due(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=deadline_days())


def _snapshot(item: ReviewItem) -> dict[str, Any]:
    return provenance.jsonable(
        {
            "kind": item.kind,
            "check": item.submission_id,
            "conflict": item.conflict_id,
            "dispute": item.dispute_id,
            "decision": item.decision_id,
            "state": item.state,
            "priority": item.priority,
            "reason": item.reason,
            "fallback_action": item.fallback_action,
            "due_at": item.due_at,
            "final_action": item.final_action,
            "resolution_note": item.resolution_note,
            "resolved_by": item.resolved_by.get_username() if item.resolved_by else None,
            "resolved_at": item.resolved_at,
            "escalation_note": item.escalation_note,
        }
    )


def _require_org(actor: Actor) -> Organization:
    if actor.organization is None:
        raise DomainError("this action needs an organisation", code="NO_ORGANIZATION", status=403)
    return actor.organization


def _require_reviewer(actor: Actor) -> None:
    if actor.user is None:
        return  # the system itself (the overdue sweep, commands)
    if not selectors.is_reviewer(actor.user):
        raise PermissionDenied(
            "only reviewers may act on review items",
            code="REVIEW_FORBIDDEN",
            detail={"permission": "review.resolve_reviewitem"},
        )


def _clean_text(value: Any, *, field: str, code: str, limit: int, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{what} is required", code=code, detail={"field": field})
    if len(text) > limit:
        raise ValidationError(
            f"{field} is at most {limit} characters",
            code="TOO_LONG",
            detail={"field": field, "max_length": limit},
        )
    return text


def compact_territories(codes: Iterable[str]) -> list[str]:
    """Territory codes as stored on an item: ``["WORLD"]`` when they cover every country."""
    found = sorted(set(codes))
    if WORLD in found or set(found) >= ISO_3166_ALPHA2:
        return [WORLD]
    return found


def _ai_fields(check: Check | None) -> dict[str, Any]:
    origin = (check.ai_origin if check is not None else None) or {}
    sources = sorted(
        {
            str(e.get("source"))
            for e in origin.get("evidence", [])
            if isinstance(e, dict) and float(e.get("score") or 0) >= 0.5
        }
    )
    return {"ai_assessment": str(origin.get("assessment") or ""), "ai_sources": sources}


def check_fallback(decision: Decision) -> str:
    """What a review decision falls back to when nobody reviews it in time.

    The most restrictive action the policy reached other than review: the outweighed
    rules that fired, and the other territories' actions. Allow when there is none.
    """
    outcome = decision.outcome or {}
    actions = [
        str(rule.get("action"))
        for rule in outcome.get("rules", [])
        if rule.get("fired") and rule.get("action") != "review"
    ]
    actions += [str(a) for a in (decision.territories or {}).values() if a != "review"]
    known = [a for a in actions if a in SEVERITY]
    return max(known, key=SEVERITY.__getitem__, default="allow")


def _review_verdict(decision: Decision) -> dict[str, Any]:
    """The winning verdict that says review (the engine sorts the most urgent first)."""
    for verdict in (decision.outcome or {}).get("verdicts", []):
        if verdict.get("action") == "review":
            return dict(verdict)
    return {}


def _orgs_of_check(check: Check, decision: Decision | None) -> set[int]:
    orgs = {check.organization_id}
    if decision is not None:
        orgs |= set(decision.matched_owners.values_list("pk", flat=True))
    return orgs


def _create_item(organizations: Iterable[int], **fields: Any) -> ReviewItem:
    now = timezone.now()
    priority = fields.setdefault("priority", ReviewItem.Priority.NORMAL)
    item = ReviewItem.objects.create(
        created_at=now, due_at=_due(now), priority_rank=PRIORITY_RANK[priority], **fields
    )
    item.organizations.set(Organization.objects.filter(pk__in=set(organizations)))
    provenance.record(actor=SYSTEM, action="review.open", obj=item, after=_snapshot(item))
    return item


# ---------------------------------------------------------------- opening items


@transaction.atomic
def review_open_for_check(*, check: Check, decision: Decision) -> ReviewItem | None:
    """Queue a check whose policy decision is "review"; None for any other decision.

    Idempotent: the same decision returns its item. A check decided again (a new
    decision) closes its earlier open item as superseded.
    """
    if decision.action != "review":
        return None
    existing = ReviewItem.objects.filter(kind=Kind.CHECK, decision=decision).first()
    if existing is not None:
        return existing
    stale = ReviewItem.objects.select_for_update().filter(
        kind=Kind.CHECK, submission=check, state__in=ReviewItem.ACTIONABLE
    )
    for old in stale:
        _finish(
            old,
            state=State.AUTO_RESOLVED,
            final_action="",
            note=f"Superseded: the check was decided again (decision {decision.pk}).",
            actor=SYSTEM,
            event="review.supersede",
        )
    verdict = _review_verdict(decision)
    won_by = verdict.get("won_by") or {}
    priority = decision.priority or verdict.get("priority") or ReviewItem.Priority.NORMAL
    review_codes = [
        code for code, action in (decision.territories or {}).items() if action == "review"
    ]
    return _create_item(
        _orgs_of_check(check, decision),
        kind=Kind.CHECK,
        submission=check,
        decision=decision,
        reason=str(verdict.get("reason") or "the policy asks for a review")[:500],
        detail="; ".join(verdict.get("because") or []),
        rule=str(won_by.get("rule") or "")[:100],
        priority=priority if priority in PRIORITY_RANK else ReviewItem.Priority.NORMAL,
        territories=compact_territories(review_codes or check.declared.get("territories", [])),
        fallback_action=check_fallback(decision),
        **_ai_fields(check),
    )


def _conflict_detail(conflict: OwnershipConflict) -> str:
    where = compact_territories(conflict.territories)
    places = "worldwide" if where == [WORLD] else "in " + ", ".join(where[:12])
    if len(where) > 12:
        places += f" and {len(where) - 12} more"
    total = f"{conflict.total_pct.normalize():f}"
    return f"{conflict.subject_kind} {conflict.subject_key}: shares add up to {total}% {places}"


@transaction.atomic
def review_open_for_conflict(*, conflict: OwnershipConflict, actor: Actor) -> ReviewItem:
    """Queue an ownership conflict the registry detected (idempotent)."""
    existing = ReviewItem.objects.filter(kind=Kind.CONFLICT, conflict=conflict).first()
    if existing is not None:
        return existing
    return _create_item(
        conflict.organizations.values_list("pk", flat=True),
        kind=Kind.CONFLICT,
        conflict=conflict,
        reason=CONFLICT_REASON,
        detail=_conflict_detail(conflict),
        territories=compact_territories(conflict.territories),
        fallback_action=ESCALATE,
    )


@transaction.atomic
def review_close_for_conflict(*, conflict: OwnershipConflict, actor: Actor) -> list[ReviewItem]:
    """The registry resolved the conflict (the shares changed): its open items close themselves."""
    closed = []
    items = ReviewItem.objects.select_for_update().filter(
        conflict=conflict, state__in=ReviewItem.ACTIONABLE
    )
    for item in items:
        _finish(
            item,
            state=State.AUTO_RESOLVED,
            final_action="",
            note="The registry resolved the conflict: the shares no longer exceed 100%.",
            actor=actor,
            event="review.auto_resolve",
        )
        closed.append(item)
    return closed


# ---------------------------------------------------------------- disputes


def _match_snapshot(match: CheckMatch) -> dict[str, Any]:
    return {
        "match": match.pk,
        "recording": match.recording_id,
        "title": match.recording.title,
        "query_start_s": round(match.query_start_s, 2),
        "query_end_s": round(match.query_end_s, 2),
        "reference_start_s": round(match.reference_start_s, 2),
        "reference_end_s": round(match.reference_end_s, 2),
        "score": round(match.score, 4),
    }


def _refuse_a_second_open_dispute(org: Organization, what: str, **about: Any) -> None:
    """DISPUTE_EXISTS (409) while the organisation's dispute about the same thing is open."""
    existing = Dispute.objects.filter(organization=org, state=Dispute.State.OPEN, **about).first()
    if existing is not None:
        raise Conflict(
            f"dispute {existing.pk} about this {what} is still open",
            code="DISPUTE_EXISTS",
            detail={"dispute": existing.pk},
        )


def _open_dispute(**fields: Any) -> Dispute:
    try:
        with transaction.atomic():
            return Dispute.objects.create(**fields)
    except IntegrityError:
        raise Conflict(
            "you already have an open dispute about this",
            code="DISPUTE_EXISTS",
        ) from None


@transaction.atomic
def dispute_open_for_check(
    *, actor: Actor, check: Check, reason: str, match: CheckMatch | None = None
) -> Dispute:
    """The check's submitter disputes its decision, or one of its matches (with ``match``)."""
    org = _require_org(actor)
    if check.organization_id != org.pk:
        raise NotFound(f"check {check.pk} not found", code="CHECK_NOT_FOUND")
    reason = _clean_text(
        reason,
        field="reason",
        code="DISPUTE_REASON_REQUIRED",
        limit=MAX_REASON_CHARS,
        what="a reason",
    )
    check = Check.objects.select_for_update().get(pk=check.pk)
    if check.status != Check.Status.DONE or check.decision_id is None:
        raise Conflict(
            "only a finished check can be disputed",
            code="CHECK_NOT_DONE",
            detail={"status": check.status},
        )
    if match is not None and match.submission_id != check.pk:
        raise ValidationError(
            f"match {match.pk} is not a match of check {check.pk}",
            code="MATCH_NOT_IN_CHECK",
            detail={"field": "match", "value": match.pk},
        )
    _refuse_a_second_open_dispute(org, "check", submission=check)
    subject = Dispute.Subject.MATCH if match is not None else Dispute.Subject.DECISION
    dispute = _open_dispute(
        organization=org,
        opened_by=actor.user,
        subject=subject,
        submission=check,
        match=match,
        match_snapshot=_match_snapshot(match) if match is not None else None,
        reason=reason,
    )
    provenance.record(
        actor=actor,
        action="dispute.open",
        obj=dispute,
        after={
            "check": check.pk,
            "subject": subject,
            "match": dispute.match_snapshot,
            "reason": reason,
        },
    )
    decision = check.decision
    assert decision is not None
    orgs = {org.pk, check.organization_id}
    orgs |= (
        {match.recording.organization_id} if match is not None else _orgs_of_check(check, decision)
    )
    # Being blocked (or asked for a licence) is what hurts a submitter most: those go first.
    in_force = selectors.action_in_force(check)
    restrictive = SEVERITY.get(in_force, 0) >= SEVERITY["require_licence"]
    _create_item(
        orgs,
        kind=Kind.DISPUTE,
        dispute=dispute,
        submission=check,
        decision=decision,
        reason=DISPUTE_REASONS[subject],
        detail=reason,
        priority=ReviewItem.Priority.HIGH if restrictive else ReviewItem.Priority.NORMAL,
        territories=compact_territories(check.declared.get("territories", [])),
        fallback_action=in_force,
        **_ai_fields(check),
    )
    return dispute


@transaction.atomic
def dispute_open_for_conflict(*, actor: Actor, conflict: OwnershipConflict, reason: str) -> Dispute:
    """An organisation involved in an ownership conflict disputes it."""
    org = _require_org(actor)
    if not conflict.organizations.filter(pk=org.pk).exists():
        raise NotFound(f"conflict {conflict.pk} not found", code="CONFLICT_NOT_FOUND")
    reason = _clean_text(
        reason,
        field="reason",
        code="DISPUTE_REASON_REQUIRED",
        limit=MAX_REASON_CHARS,
        what="a reason",
    )
    if conflict.status != OwnershipConflict.Status.OPEN:
        raise Conflict(
            "this conflict is resolved already",
            code="CONFLICT_NOT_OPEN",
            detail={"status": conflict.status},
        )
    _refuse_a_second_open_dispute(org, "conflict", conflict=conflict)
    dispute = _open_dispute(
        organization=org,
        opened_by=actor.user,
        subject=Dispute.Subject.CONFLICT,
        conflict=conflict,
        reason=reason,
    )
    provenance.record(
        actor=actor,
        action="dispute.open",
        obj=dispute,
        after={"conflict": conflict.pk, "subject": "conflict", "reason": reason},
    )
    _create_item(
        {org.pk, *conflict.organizations.values_list("pk", flat=True)},
        kind=Kind.DISPUTE,
        dispute=dispute,
        conflict=conflict,
        reason=DISPUTE_REASONS[Dispute.Subject.CONFLICT],
        detail=reason,
        territories=compact_territories(conflict.territories),
        fallback_action=ESCALATE,
    )
    return dispute


# ---------------------------------------------------------------- acting


@transaction.atomic
def review_resolve(*, actor: Actor, item: ReviewItem, action: str, note: str) -> ReviewItem:
    """A reviewer's action on an open (or escalated) item: approve, reject, require_licence, escalate.

    The note is mandatory. Approve, reject and require licence are final: their action
    (allow, block, require_licence) becomes the check's final decision. Escalate raises
    the item to urgent and leaves it in the queue for a final action.
    """
    _require_reviewer(actor)
    if action not in ACTIONS:
        raise ValidationError(
            f"action must be one of {', '.join(ACTIONS)}",
            code="REVIEW_ACTION_INVALID",
            detail={"field": "action", "value": action},
        )
    note = _clean_text(
        note,
        field="note",
        code="REVIEW_NOTE_REQUIRED",
        limit=MAX_NOTE_CHARS,
        what="a note (for every review action)",
    )
    item = (
        ReviewItem.objects.select_for_update(of=("self",)).select_related("dispute").get(pk=item.pk)
    )
    if not item.is_actionable:
        raise Conflict(
            f"review {item.pk} is {item.get_state_display().lower()} already",
            code="REVIEW_ALREADY_RESOLVED",
            detail={"state": item.state},
        )
    state, final_action = ACTIONS[action]
    if action == "escalate":
        if item.state == State.ESCALATED:
            raise Conflict(
                f"review {item.pk} is escalated already",
                code="REVIEW_ALREADY_ESCALATED",
                detail={"state": item.state},
            )
        _escalate(item, actor=actor, note=note, event="review.escalate")
    else:
        _finish(
            item,
            state=state,
            final_action=final_action,
            note=note,
            actor=actor,
            event="review.resolve",
        )
    return item


def _escalate(item: ReviewItem, *, actor: Actor, note: str, event: str) -> None:
    before = _snapshot(item)
    item.state = State.ESCALATED
    item.priority = ReviewItem.Priority.URGENT
    item.priority_rank = PRIORITY_RANK["urgent"]
    item.escalation_note = note
    item.escalated_by = actor.user
    item.escalated_at = timezone.now()
    item.save()
    provenance.record(actor=actor, action=event, obj=item, before=before, after=_snapshot(item))
    _notify(item)


def _finish(
    item: ReviewItem, *, state: str, final_action: str, note: str, actor: Actor, event: str
) -> None:
    before = _snapshot(item)
    item.state = state
    item.final_action = final_action
    item.resolution_note = note
    item.resolved_by = actor.user
    item.resolved_at = timezone.now()
    item.save()
    provenance.record(actor=actor, action=event, obj=item, before=before, after=_snapshot(item))
    dispute = item.dispute
    if dispute is not None and dispute.state == Dispute.State.OPEN:
        dispute.state = Dispute.State.RESOLVED
        dispute.resolved_at = item.resolved_at
        dispute.save(update_fields=["state", "resolved_at"])
        provenance.record(
            actor=actor,
            action="dispute.resolve",
            obj=dispute,
            before={"state": "open"},
            after={"state": "resolved", "review_state": state, "final_action": final_action},
        )
    _notify(item)


def _notify(item: ReviewItem) -> None:
    """Tell the organisations: the check's submitter (its review changed), and the disputer."""
    from checks.webhooks import queue_delivery

    if item.submission_id is not None:
        check = Check.objects.select_related("decision", "organization").get(pk=item.submission_id)
        queue_delivery(check, "check.decision_changed")
    dispute = item.dispute
    if dispute is not None and dispute.state == Dispute.State.RESOLVED:
        _queue_dispute_delivery(dispute, "dispute.resolved")


def _queue_dispute_delivery(dispute: Dispute, event: str) -> WebhookDelivery | None:
    """A signed delivery to the disputer's webhook, sent after commit (as checks' own are)."""
    endpoint = WebhookEndpoint.objects.filter(
        organization_id=dispute.organization_id, active=True
    ).first()
    if endpoint is None:
        return None
    payload = {"event": event, "dispute": selectors.dispute_view(dispute)}
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        submission_id=dispute.submission_id,
        payload=json.loads(json.dumps(payload, default=str)),
    )
    from checks.tasks import deliver_webhook

    delivery_id = delivery.pk
    transaction.on_commit(lambda: deliver_webhook.delay(delivery_id))
    return delivery


# ---------------------------------------------------------------- the deadline


def _fallback_note(item: ReviewItem, outcome: str) -> str:
    return f"Not reviewed by {item.due_at:%Y-%m-%d %H:%M} UTC: {outcome}."


def _apply_fallback(item: ReviewItem) -> None:
    if item.kind == Kind.CHECK:
        action = item.fallback_action or "allow"
        _finish(
            item,
            state=State.AUTO_RESOLVED,
            final_action=action,
            note=_fallback_note(item, f"resolved as the policy says ({action})"),
            actor=SYSTEM,
            event="review.auto_resolve",
        )
    elif item.submission_id is not None:  # a dispute of a check: the decision in force stands
        assert item.submission is not None
        action = selectors.action_in_force(item.submission, exclude=item)
        _finish(
            item,
            state=State.AUTO_RESOLVED,
            final_action=action,
            note=_fallback_note(item, f"the decision in force stands ({action})"),
            actor=SYSTEM,
            event="review.auto_resolve",
        )
    else:  # ownership: nothing decides it by default, a person must
        _escalate(
            item,
            actor=SYSTEM,
            note=_fallback_note(
                item, "escalated, as an ownership question has no automatic outcome"
            ),
            event="review.auto_escalate",
        )


def reviews_resolve_overdue(*, now: dt.datetime | None = None) -> list[int]:
    """Apply the fallback to every open item past its due date; return their ids.

    Checks: the policy's own fallback (see :func:`check_fallback`). Disputes of a check:
    the decision in force stands. Conflicts and their disputes: escalated. Escalated
    items wait for a person. Each item is done in its own transaction, skipping any a
    reviewer holds at that moment, so the sweep is safe to run twice and alongside people.
    """
    now = now or timezone.now()
    candidates = list(
        ReviewItem.objects.filter(state=State.OPEN, due_at__lt=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )
    done = []
    for pk in candidates:
        with transaction.atomic():
            item = (
                ReviewItem.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("submission", "dispute")
                .filter(pk=pk, state=State.OPEN, due_at__lt=now)
                .first()
            )
            if item is None:
                continue
            _apply_fallback(item)
            done.append(pk)
    return done
