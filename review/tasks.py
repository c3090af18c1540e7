"""Celery tasks of the review app: thin, idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="review.resolve_overdue", soft_time_limit=300, time_limit=360)
def resolve_overdue_reviews() -> int:
    """Resolve the review items left past their due date, as their policy says."""
    from . import services

    return len(services.reviews_resolve_overdue())
