"""A real Celery worker, over a real broker (Redis, and RabbitMQ), fingerprints uploaded audio."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from fingerprinting import synth
from registry.models import Recording

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/15", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}


def _reset_connections() -> None:
    """Drop pooled broker connections so the next send uses the current broker_url."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(params=sorted(BROKERS))
def worker(request, transactional_db, tmp_path, settings) -> Iterator[str]:
    broker, port = BROKERS[request.param]
    if not _listening(port):
        pytest.fail(f"{request.param} is not listening on 127.0.0.1:{port}; start it (see README)")
    media = tmp_path / "media"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(media),
    }
    queue = f"test-{request.param}-{os.getpid()}-{time.monotonic_ns()}"
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "--pool",
            "prefork",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    previous = dict(celery_app.conf)
    celery_app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)
    _reset_connections()
    settings.MEDIA_ROOT = media  # the fixture resets the storage too
    try:
        yield str(log)
    finally:
        celery_app.conf.update(
            broker_url=previous["broker_url"],
            task_always_eager=previous["task_always_eager"],
            task_default_queue=previous["task_default_queue"],
        )
        _reset_connections()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_uploaded_audio_is_fingerprinted_by_a_worker(worker, make_org, tmp_path):
    label = make_org("label")
    path = tmp_path / "song.mp3"
    synth.write(path, synth.music(seed=21, duration_s=10), 44100, "mp3")
    with path.open("rb") as handle:
        response = label.post(
            "/api/v1/recordings/",
            {
                "metadata": json.dumps({"title": "Via worker", "isrc": "GBAAA2600099"}),
                "audio": handle,
            },
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    assert response.json()["fingerprint_status"] == "pending"
    recording_id = response.json()["id"]

    deadline = time.monotonic() + 90
    status = "pending"
    while time.monotonic() < deadline:
        status = label.get(f"/api/v1/recordings/{recording_id}/").json()["fingerprint_status"]
        if status != "pending":
            break
        time.sleep(0.2)
    log = Path(worker).read_text()
    recording = Recording.objects.get(pk=recording_id)
    assert status == "done", f"{recording.fingerprint_error}; worker log:\n{log[-3000:]}"
    assert recording.duration_s == pytest.approx(10.0, abs=0.1)
    assert "fingerprinting.fingerprint_recording" in log
