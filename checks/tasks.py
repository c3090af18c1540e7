"""Celery tasks of the checks app: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(
    name="checks.process_check",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=300,
    time_limit=360,
)
def process_check(check_id: int) -> str:
    from . import services

    return services.check_process(check_id).status


@shared_task(name="checks.sweep")
def sweep_checks() -> int:
    from . import services

    return len(services.checks_sweep())


class WebhookNotDelivered(Exception):
    pass


@shared_task(
    bind=True,
    name="checks.deliver_webhook",
    acks_late=True,
    autoretry_for=(WebhookNotDelivered,),
    retry_backoff=5,
    retry_backoff_max=3600,
    retry_jitter=False,
    max_retries=settings.STEMMA_WEBHOOK_MAX_RETRIES,
)
def deliver_webhook(self: object, delivery_id: int) -> bool:
    from . import webhooks

    if webhooks.attempt(delivery_id):
        return True
    if getattr(self, "request").retries >= settings.STEMMA_WEBHOOK_MAX_RETRIES:  # noqa: B009
        webhooks.give_up(delivery_id)
        return False
    raise WebhookNotDelivered(delivery_id)
