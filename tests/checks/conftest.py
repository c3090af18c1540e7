"""Fixtures of the checks tests: audio with a known truth, HTTP helpers, real Celery workers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kombu.pools
import numpy as np
import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from config.celery import app as celery_app
from fingerprinting import synth
from policies import services as policy_services

REPO = Path(__file__).resolve().parents[2]
RATE = 44100
BROKERS = {
    "redis": ("redis://127.0.0.1:6379/15", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}
# Workers of the shared pool hold each check "processing" this long, so that a client
# polling the API sees every status; the checks themselves take a fraction of a second.
POOL_DELAY_S = 0.5

# The truth the checks must find in QUERY: 15 s of unregistered music, then 15 s of the
# registered reference taken from 12.5 s on, then 15 s of other unregistered music.
REFERENCE_S = 40.0
EXCERPT_FROM_S = 12.5
EXCERPT_S = 15.0
LEAD_S = 15.0
TAIL_S = 15.0
QUERY_S = LEAD_S + EXCERPT_S + TAIL_S


@dataclass(frozen=True)
class AudioFiles:
    reference: Path  # 40 s, FLAC: the label registers it
    decoy: Path  # 20 s, FLAC: registered too, never in any query
    query: Path  # 45 s, MP3 128k: see the truth above
    unrelated: Path  # 20 s, MP3: nothing registered in it
    ai_song: Path  # 20 s, FLAC: an AI provider's registered generation
    ai_song_mp3: Path  # the same generation re-encoded
    silent: Path  # 10 s of digital silence, WAV
    truncated: Path  # a 10 s WAV cut to its first half (the header still says 10 s)
    not_audio: Path  # text named .mp3
    empty: Path  # zero bytes named .wav

    def sha256(self, name: str) -> str:
        return hashlib.sha256(getattr(self, name).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFiles:
    root = tmp_path_factory.mktemp("checks-audio")
    reference = synth.music(seed=4101, duration_s=REFERENCE_S)
    start = round(EXCERPT_FROM_S * RATE)
    excerpt = reference[start : start + round(EXCERPT_S * RATE)]
    query = np.concatenate(
        [
            synth.music(seed=4201, duration_s=LEAD_S),
            excerpt,
            synth.music(seed=4202, duration_s=TAIL_S),
        ]
    )
    ai_song = synth.music(seed=4301, duration_s=20)
    files = AudioFiles(
        reference=root / "northern-lights-master-take-3.flac",
        decoy=root / "decoy.flac",
        query=root / "upload.mp3",
        unrelated=root / "unrelated.mp3",
        ai_song=root / "tunesmith-job-77.flac",
        ai_song_mp3=root / "ai-reupload.mp3",
        silent=root / "silent.wav",
        truncated=root / "truncated.wav",
        not_audio=root / "notes.mp3",
        empty=root / "empty.wav",
    )
    synth.write(files.reference, reference, RATE, "flac")
    synth.write(files.decoy, synth.music(seed=4102, duration_s=20), RATE, "flac")
    synth.write(files.query, query, RATE, "mp3", bitrate=128_000)
    synth.write(files.unrelated, synth.music(seed=4203, duration_s=20), RATE, "mp3")
    synth.write(files.ai_song, ai_song, RATE, "flac")
    synth.write(files.ai_song_mp3, ai_song, RATE, "mp3", bitrate=128_000)
    synth.write(files.silent, synth.silence(10), RATE, "wav")
    whole = root / "whole.wav"
    synth.write(whole, synth.music(seed=4401, duration_s=10), RATE, "wav")
    data = whole.read_bytes()
    files.truncated.write_bytes(data[: len(data) // 2])
    files.not_audio.write_bytes(b"These are liner notes, not audio.\n" * 300)
    files.empty.write_bytes(b"")
    return files


@pytest.fixture(autouse=True)
def _checks_world(db: Any, settings: Any, tmp_path: Path) -> None:
    # Transactional tests flush the data migration's default policy: put it back.
    policy_services.install_default_policy()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STEMMA_TEST_CHECK_DELAY_S = 0
    # These tests are about the checks' flow; the spectral source has its own tests
    # (test_ai_evidence_sources.py turns it back on).
    settings.STEMMA_AI_DETECTOR_ENABLED = False


# ---------------------------------------------------------------- HTTP helpers


def upload(path: Path, filename: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(filename or path.name, path.read_bytes())


def register_recording(
    client: Any, path: Path, metadata: dict[str, Any], filename: str | None = None
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/recordings/",
        {"metadata": json.dumps(metadata), "audio": upload(path, filename)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def submit_check(
    client: Any, path: Path, metadata: dict[str, Any] | None = None, filename: str | None = None
) -> Any:
    parts: dict[str, Any] = {"audio": upload(path, filename)}
    if metadata is not None:
        parts["metadata"] = json.dumps(metadata)
    return client.post("/api/v1/checks/", parts, format="multipart")


def wait_until(
    probe: Callable[[], Any], *, timeout_s: float = 60, interval_s: float = 0.05, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or probe}")
        time.sleep(interval_s)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed(): ...``: then run the on-commit callbacks (tasks run inline, eager)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# ---------------------------------------------------------------- a webhook receiver


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server that records each POST and answers with the next scripted status."""

    url: str
    statuses: list[int]
    received: list[Received] = field(default_factory=list)
    location: str = ""  # sent with 3xx answers
    gate: threading.Event | None = None  # when set, each answer waits for it


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            hook = box["receiver"]
            hook.received.append(
                Received(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
            )
            status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
            if hook.gate is not None:
                hook.gate.wait(timeout=30)
            self.send_response(status)
            if 300 <= status < 400 and hook.location:
                self.send_header("Location", hook.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["receiver"] = Receiver(f"http://127.0.0.1:{server.server_port}/hooks/stemma", [200])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield box["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- real workers


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _reset_connections() -> None:
    """Drop pooled broker connections so the next send uses the current broker_url."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # kombu keeps producer pools per broker URL too: a closed one would be handed out again.
    kombu.pools.reset()


@dataclass
class Worker:
    broker: str
    broker_url: str
    queue: str
    media_root: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once, as a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        # Idle by now, on a throwaway queue: a warm shutdown would only wait ~2.5 s on the broker.
        if self.process.poll() is None:
            self.kill()


def start_worker(
    broker: str, *, queue: str, media_root: Path, log_path: Path, delay_s: float = 0.0
) -> Worker:
    """A `celery -A config worker` process on the test database, consuming only ``queue``."""
    broker_url, port = BROKERS[broker]
    if not _listening(port):
        pytest.fail(f"{broker} is not listening on 127.0.0.1:{port}; start it (see README)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.checks.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(media_root),
        "STEMMA_TEST_CHECK_DELAY_S": str(delay_s),
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1"),
            *("--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle"),
            *("--without-heartbeat", "-n", f"{queue}@%h"),
        ],
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
        start_new_session=True,  # its own process group: kill() reaches the pool children
    )
    worker = Worker(broker, broker_url, queue, media_root, log_path, process)
    try:
        wait_until(
            lambda: process.poll() is not None or " ready." in worker.log(),
            timeout_s=30,
            interval_s=0.1,
            what=f"the {broker} worker to be ready",
        )
    except AssertionError:
        worker.stop()
        raise
    if process.poll() is not None:
        pytest.fail(f"the {broker} worker exited:\n{worker.log()[-3000:]}")
    return worker


def forget_redis_queue(broker_url: str, queue: str) -> None:
    """Leave nothing of a throwaway queue in Redis: messages, bindings, unacknowledged ones."""
    client = redis.Redis.from_url(broker_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, raw in client.hscan_iter("unacked"):
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def queue_name(broker: str) -> str:
    return f"test-checks-{broker}-{os.getpid()}-{time.monotonic_ns()}"


@contextlib.contextmanager
def producing_to(broker_url: str, queue: str) -> Iterator[None]:
    """Send the tasks this process queues to ``queue`` on that broker (not inline)."""
    keys = ("broker_url", "task_always_eager", "task_default_queue")
    previous = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue)
    _reset_connections()
    try:
        yield
    finally:
        celery_app.conf.update(**previous)
        _reset_connections()


class WorkerPool:
    """One long-lived worker per broker, started on first use and shared by the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media_root = root / "media"
        self.workers: dict[str, Worker] = {}

    def get(self, broker: str) -> Worker:
        worker = self.workers.get(broker)
        if worker is None or worker.process.poll() is not None:
            worker = self.workers[broker] = start_worker(
                broker,
                queue=queue_name(broker),
                media_root=self.media_root,
                log_path=self.root / f"worker-{broker}.log",
                delay_s=POOL_DELAY_S,
            )
        return worker

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()
            if worker.broker == "redis":
                forget_redis_queue(worker.broker_url, worker.queue)


@pytest.fixture(scope="session")
def worker_pool(
    django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerPool]:
    pool = WorkerPool(tmp_path_factory.mktemp("checks-workers"))
    try:
        yield pool
    finally:
        pool.stop()


@pytest.fixture
def use_worker(
    transactional_db: Any, worker_pool: WorkerPool, settings: Any
) -> Iterator[Callable[[str], Worker]]:
    """``use_worker("redis")``: this test's tasks go to the pool's worker on that broker."""
    with contextlib.ExitStack() as stack:

        def use(broker: str) -> Worker:
            worker = worker_pool.get(broker)
            settings.MEDIA_ROOT = worker.media_root  # the worker reads what the API stored
            stack.enter_context(producing_to(worker.broker_url, worker.queue))
            return worker

        yield use
