"""The check services' guarantees on their own: run twice, swept only when abandoned, given up."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from checks import services
from checks.models import Check, CheckMatch, WebhookDelivery
from policies.models import Decision
from registry.models import ProvenanceEvent

from .conftest import register_recording, submit_check


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Checks queued for a worker; none runs (as with no worker at all)."""
    calls: list[int] = []
    monkeypatch.setattr(services, "_enqueue", calls.append)
    return calls


def actions(check_id: int) -> list[str]:
    return list(
        ProvenanceEvent.objects.filter(object_type="checks.check", object_id=str(check_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_processing_twice_does_the_work_once(make_org, audio, committed, enqueued):
    label = make_org("label")
    distributor = make_org("distributor")
    with committed():
        register_recording(label, audio.reference, {"title": "Aurora"})
        check_id = submit_check(distributor, audio.query).json()["id"]
    assert enqueued == [check_id]
    assert Check.objects.get(pk=check_id).status == "queued"

    assert services.check_process(check_id) == services.Outcome("done")
    assert services.check_process(check_id) == services.Outcome("skipped")

    check = Check.objects.get(pk=check_id)
    assert (check.status, check.attempts) == ("done", 1)
    assert check.processing_seconds is not None and check.processing_seconds > 0
    assert CheckMatch.objects.filter(submission=check).count() == 1
    assert Decision.objects.filter(subject_type="check", subject_id=str(check_id)).count() == 1
    assert actions(check_id) == ["check.submit", "check.complete"]


def test_the_sweeper_leaves_a_check_locked_by_a_live_worker_alone(
    transactional_db, make_org, audio, enqueued
):
    distributor = make_org("distributor")
    check_id = submit_check(distributor, audio.unrelated).json()["id"]
    Check.objects.filter(pk=check_id).update(
        status="processing", attempts=1, started_at=timezone.now()
    )
    locked, release = threading.Event(), threading.Event()

    def live_worker() -> None:  # holds the row as check_process does while it works
        try:
            with transaction.atomic():
                Check.objects.select_for_update().get(pk=check_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=live_worker)
    worker.start()
    try:
        assert locked.wait(timeout=10)
        assert services.checks_sweep(stale_after_s=0) == []
        assert services.check_process(check_id) == services.Outcome("skipped")
    finally:
        release.set()
        worker.join(timeout=30)

    # Once its worker is gone, the check is re-queued, and the next attempt finishes it
    assert services.checks_sweep(stale_after_s=0) == [check_id]
    assert enqueued == [check_id, check_id]
    assert services.check_process(check_id) == services.Outcome("done")
    assert Check.objects.get(pk=check_id).attempts == 2


def test_a_check_that_died_three_times_is_abandoned(make_org, audio, committed, receiver):
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    check = Check.objects.create(
        organization=distributor.organization,
        declared={"territories": ["WORLD"], "usage_types": ["stream"], "declared_ai": None},
        audio="audio/none.mp3",
        audio_sha256="0" * 64,
        audio_size_bytes=1,
        status="processing",
        attempts=services.MAX_ATTEMPTS,
    )
    with committed():
        assert services.check_process(check.pk) == services.Outcome("skipped")

    check.refresh_from_db()
    assert (check.status, check.error, check.attempts) == (
        "failed",
        "PROCESSING_ABANDONED",
        services.MAX_ATTEMPTS,
    )
    assert check.error_message == "gave up after 3 attempts"
    assert actions(check.pk) == ["check.fail"]
    delivery = WebhookDelivery.objects.get(submission=check)
    assert (delivery.event, delivery.status) == ("check.failed", "delivered")
    assert receiver.received[0].json()["check"]["error"] == "PROCESSING_ABANDONED"


def test_audio_gone_from_storage_fails_the_check(make_org, audio, committed, enqueued, settings):
    distributor = make_org("distributor")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]
    check = Check.objects.get(pk=check_id)
    (settings.MEDIA_ROOT / check.audio.name).unlink()

    assert services.check_process(check_id) == services.Outcome("failed", "AUDIO_UNREADABLE")
    assert Check.objects.get(pk=check_id).error == "AUDIO_UNREADABLE"


def test_bad_metadata_is_refused_before_anything_is_stored(make_org, audio, enqueued):
    distributor = make_org("distributor")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"isrc": "not-an-isrc"}, "ISRC_INVALID"),
        ({"territories": ["XX"]}, "TERRITORY_INVALID"),
        ({"declared_ai": {"disclosure": "none", "elements": ["telepathy"]}}, "ELEMENT_INVALID"),
        ({"declared_ai": {"disclosure": "maybe"}}, "VALIDATION_ERROR"),
    ]
    for metadata, code in cases:
        response = submit_check(distributor, audio.unrelated, metadata)
        assert (response.status_code, response.json()["code"]) == (400, code), metadata
    response = distributor.post("/api/v1/checks/", {"metadata": "{not json"}, format="multipart")
    assert response.status_code == 400
    assert Check.objects.count() == 0
    assert enqueued == []
