"""Celery tasks of the fingerprinting app: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="fingerprinting.fingerprint_recording",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def fingerprint_recording(recording_id: int) -> str:
    # Imported here so that web processes, which only queue tasks, need no libchromaprint.
    from fingerprinting import services

    return services.recording_fingerprint(recording_id)
