"""A worker killed mid-check: the check is done later, exactly once (redelivery or the sweeper)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from checks import services
from checks.models import Check, CheckMatch, WebhookDelivery
from policies.models import Decision
from registry.models import ProvenanceEvent

from .conftest import (
    Worker,
    forget_redis_queue,
    producing_to,
    queue_name,
    register_recording,
    start_worker,
    submit_check,
    wait_until,
)

pytestmark = pytest.mark.worker


@pytest.fixture
def workers(transactional_db: Any, tmp_path: Any, settings: Any) -> Iterator[list[Worker]]:
    """Workers this test starts (and kills); whatever is left is stopped afterwards."""
    settings.MEDIA_ROOT = tmp_path / "media"
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()
            if worker.broker == "redis":  # the dead worker's message, still unacknowledged
                forget_redis_queue(worker.broker_url, worker.queue)


def check_row(check_id: int) -> Check:
    return Check.objects.get(pk=check_id)


@pytest.mark.parametrize("broker", ["rabbitmq", "redis"])
def test_a_check_whose_worker_is_killed_is_done_exactly_once(
    broker, workers, settings, tmp_path, make_org, audio
):
    queue = queue_name(broker)

    def start(name: str, delay_s: float) -> Worker:
        worker = start_worker(
            broker,
            queue=queue,
            media_root=settings.MEDIA_ROOT,
            log_path=tmp_path / f"{name}.log",
            delay_s=delay_s,
        )
        workers.append(worker)
        return worker

    # Given a worker that holds every check "processing" for a minute (the test hook)
    doomed = start("doomed", delay_s=60)
    label = make_org("label")
    distributor = make_org("distributor")
    with producing_to(doomed.broker_url, queue):
        recording = register_recording(
            label,
            audio.reference,
            {"title": "Aurora", "rights": [{"share_pct": "100", "territories": ["WORLD"]}]},
        )
        wait_until(
            lambda: (
                label.get(f"/api/v1/recordings/{recording['id']}/").json()["fingerprint_status"]
                == "done"
            ),
            what="the recording's fingerprint",
        )
        response = submit_check(distributor, audio.query)
        assert response.status_code == 202
        check_id = response.json()["id"]
        wait_until(
            lambda: check_row(check_id).status == "processing",
            timeout_s=30,
            what="the doomed worker to claim the check",
        )

        # When the worker dies mid-check (main process and pool child, SIGKILL)
        doomed.kill()
        assert "checks.process_check[" in doomed.log()
        stuck = check_row(check_id)
        assert (stuck.status, stuck.attempts, stuck.decision_id) == ("processing", 1, None)
        assert CheckMatch.objects.filter(submission_id=check_id).count() == 0

        # Then a new worker finishes it: RabbitMQ redelivers the unacknowledged task at
        # once; Redis holds it for the visibility timeout (an hour), so the sweeper re-queues.
        rescuer = start("rescuer", delay_s=0)
        if broker == "redis":
            requeued = wait_until(
                lambda: services.checks_sweep(stale_after_s=0),
                timeout_s=10,
                interval_s=0.1,
                what="the dead worker's row lock to go",
            )
            assert requeued == [check_id]
        wait_until(
            lambda: check_row(check_id).status in ("done", "failed"),
            timeout_s=60,
            what=f"the rescued check; log:\n{rescuer.log()[-2000:]}",
        )

    done = check_row(check_id)
    assert (done.status, done.error, done.attempts) == ("done", "", 2)
    assert "checks.process_check[" in rescuer.log()
    # Exactly once: one set of matches, one decision, one completion in the log
    assert list(
        CheckMatch.objects.filter(submission_id=check_id).values_list("recording_id", flat=True)
    ) == [recording["id"]]
    decisions = Decision.objects.filter(subject_type="check", subject_id=str(check_id))
    assert list(decisions.values_list("pk", flat=True)) == [done.decision_id]
    assert decisions.get().action == "require_licence"
    actions = list(
        ProvenanceEvent.objects.filter(object_type="checks.check", object_id=str(check_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["check.submit", "check.complete"]
    # A late duplicate of the task (Redis restores the dead worker's message after the
    # visibility timeout) changes nothing.
    assert services.check_process(check_id).status == "skipped"
    assert CheckMatch.objects.filter(submission_id=check_id).count() == 1
    assert decisions.count() == 1
    assert WebhookDelivery.objects.count() == 0  # no webhook configured: nothing to send
