"""Reads of the review app: a check's review as its API shows it, disputes, the queue's counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from checks.models import Check
from common.errors import NotFound
from registry.models import Organization, User

from .models import Dispute, ReviewItem

RESOLVE_PERMISSION = "review.resolve_reviewitem"
NO_REVIEW: dict[str, Any] = {
    "state": "none",
    "note": "",
    "final_action": None,
    "resolved_at": None,
    "reviewer": None,
}


def is_reviewer(user: Any) -> bool:
    """Staff with the resolve permission, or a superuser; never an organisation's API user."""
    if user is None or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.is_staff and user.has_perm(RESOLVE_PERMISSION))


def may_view_queue(user: Any) -> bool:
    if is_reviewer(user):
        return True
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and user.has_perm("review.view_reviewitem")
    )


def in_force_item(check: Check, *, exclude: ReviewItem | None = None) -> ReviewItem | None:
    """The latest review that decided something final about the check (None: none did)."""
    qs = ReviewItem.objects.filter(submission=check).exclude(final_action="")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.select_related("resolved_by").order_by("-resolved_at", "-id").first()


def action_in_force(check: Check, *, exclude: ReviewItem | None = None) -> str:
    """The action that applies to the check now: a review's final action, else the policy's.

    A policy decision of "review" not reviewed yet counts as its fallback (what it
    becomes if nobody reviews it in time).
    """
    item = in_force_item(check, exclude=exclude)
    if item is not None:
        return item.final_action
    decision = check.decision
    if decision is None:
        return "allow"
    if decision.action != "review":
        return decision.action
    from .services import check_fallback

    return check_fallback(decision)


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def review_for_check(check: Check) -> dict[str, Any]:
    """The ``review`` block of a check's verdict.

    ``state``: the latest review item's (``none`` when there never was one);
    ``final_action``, ``note``, ``resolved_at``, ``reviewer``: of the review whose
    outcome is in force (``reviewer`` None when the deadline decided); ``open`` says
    whether a review (or dispute) is still waiting.
    """
    latest = (
        ReviewItem.objects.filter(submission=check)
        .select_related("escalated_by")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None:
        return dict(NO_REVIEW)
    decided = in_force_item(check)
    body: dict[str, Any] = {
        "state": latest.state,
        "note": decided.resolution_note if decided else latest.escalation_note,
        "final_action": decided.final_action if decided else None,
        "resolved_at": decided.resolved_at if decided else None,
        "reviewer": _username(decided.resolved_by) if decided else None,
        "kind": latest.kind,
        "priority": latest.priority,
        "open": latest.is_actionable,
        "due_at": latest.due_at if latest.is_actionable else None,
    }
    return body


# ---------------------------------------------------------------- disputes


def disputes_of(org: Organization) -> QuerySet[Dispute]:
    """The disputes an organisation opened (an operator too sees only its own)."""
    return (
        Dispute.objects.filter(organization=org)
        .select_related("review_item__resolved_by", "opened_by")
        .order_by("-id")
    )


def dispute_for(org: Organization, pk: Any) -> Dispute:
    try:
        return disputes_of(org).get(pk=int(pk))
    except (Dispute.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"dispute {pk} not found", code="DISPUTE_NOT_FOUND") from None


def dispute_view(dispute: Dispute) -> dict[str, Any]:
    """A dispute as its organisation sees it, with the review's outcome once there is one."""
    item = getattr(dispute, "review_item", None)
    outcome: dict[str, Any] | None = None
    if item is not None:
        outcome = {
            "state": item.state,
            "final_action": item.final_action or None,
            "note": item.resolution_note or item.escalation_note,
            "resolved_at": item.resolved_at,
            "reviewer": _username(item.resolved_by),
            "due_at": item.due_at,
        }
    return {
        "id": dispute.pk,
        "subject": dispute.subject,
        "check": dispute.submission_id,
        "match": dispute.match_snapshot,
        "conflict": dispute.conflict_id,
        "reason": dispute.reason,
        "state": dispute.state,
        "created_at": dispute.created_at,
        "resolved_at": dispute.resolved_at,
        "outcome": outcome,
        "url": f"/api/v1/disputes/{dispute.pk}/",
    }


# ---------------------------------------------------------------- the queue


def queue_summary(now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts for the admin index: waiting items by kind and priority, overdue, escalated."""
    now = now or timezone.now()
    waiting = ReviewItem.objects.filter(state__in=ReviewItem.ACTIONABLE)
    rows = waiting.values("kind", "priority").annotate(n=Count("id"))
    grid = {
        kind: {priority: 0 for priority in ReviewItem.Priority.values}
        for kind in ReviewItem.Kind.values
    }
    for row in rows:
        grid[row["kind"]][row["priority"]] = row["n"]
    totals = waiting.aggregate(
        total=Count("id"),
        overdue=Count("id", filter=Q(state=ReviewItem.State.OPEN, due_at__lt=now)),
        escalated=Count("id", filter=Q(state=ReviewItem.State.ESCALATED)),
        due_soon=Count(
            "id",
            filter=Q(
                state=ReviewItem.State.OPEN,
                due_at__gte=now,
                due_at__lt=now + dt.timedelta(days=7),
            ),
        ),
    )
    return {
        "rows": [
            {
                "kind": kind,
                "label": ReviewItem.Kind(kind).label,
                "counts": [{"priority": p, "n": grid[kind][p]} for p in ReviewItem.Priority.values],
                "total": sum(grid[kind].values()),
            }
            for kind in ReviewItem.Kind.values
        ],
        "priorities": list(ReviewItem.Priority.values),
        "by_priority": [
            sum(grid[k][p] for k in ReviewItem.Kind.values) for p in ReviewItem.Priority.values
        ],
        **totals,
    }
