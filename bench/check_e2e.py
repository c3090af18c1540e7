"""Print the wall time of a distributor check end to end, per stage, and checks per minute.

Catalogue: the 10,000-recording bench database of index_scale.py (``stemma_bench_10000``:
the 40 real wesnoth tracks and 9,960 synthetic ones), built first if missing.
Submissions, each a 4-minute MP3 at 192k (44.1 kHz stereo), cached:
- "match": the first 4 minutes of a registered wesnoth track (one match expected);
- "no match": 4 minutes of the project's synthetic music (fingerprinting.synth), not
  registered: the common case for a distributor, and the slow one, since the matcher then
  also tries the query at 12 other speeds (search() with SpeedVariants).

1. Stages, in this process: ``checks.services.check_submit`` (store: hash, copy to
   storage, the row and its provenance; the file is removed from storage first so that each
   run copies it, as a new upload would) then ``check_process`` with its steps timed by
   wrappers (decode + fingerprint, search with its SQL and speed variants, evidence,
   facts + decision; "other" is the rest: claiming the row, storing matches, provenance,
   commit), then the verdict read (``checks.selectors.verdict``). Median of 5 runs.
2. Upload to verdict through HTTP (test client: POST /api/v1/checks/, then GET until
   done) with one real Celery worker on Redis: the latency a client sees.
3. Throughput: N checks submitted at once, with ``celery -A config worker -c 1`` and
   then ``-c 2`` (broker redis://127.0.0.1:6379/14), first submit to last verdict.

    .venv/bin/python bench/check_e2e.py [--quick] [--checks N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import bench_common as common

BROKER = os.environ.get("STEMMA_BENCH_BROKER", "redis://127.0.0.1:6379/14")
DATABASE = f"{common.BENCH_DB_PREFIX}_10000"
QUERY_DIR = common.CACHE_DIR / "checks"
DURATION_S = 240.0

# Before Django is set up: the bench process enqueues to Redis like a web process would.
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def submissions() -> dict[str, Path]:
    from fingerprinting import synth

    real = common.real_fingerprints()
    name = min((n for n, v in real.items() if v[1] >= DURATION_S + 5), key=lambda n: n)
    source = next(p for p in common.music_paths() if p.stem == name)
    match = common.encode_mp3(
        source, QUERY_DIR / f"match-{name}-240s-192k.mp3", bitrate=192_000, duration_s=DURATION_S
    )
    no_match = QUERY_DIR / "nomatch-synth-240s-192k.mp3"
    if not no_match.exists():
        no_match.parent.mkdir(parents=True, exist_ok=True)
        synth.write(no_match, synth.music(424242, DURATION_S), 44100, "mp3", bitrate=192_000)
    return {"match": match, "no match": no_match}


# ---------------------------------------------------------------- stage timing


class Stages:
    """Wall time per stage, gathered by wrapping the functions check_process calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def wrap(self, owner: object, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self.counts[stage] += 1

        setattr(owner, attribute, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.counts.clear()


def instrument() -> Stages:
    from checks import services
    from fingerprinting import evidence, matching, speed
    from fingerprinting.index import DatabaseIndex
    from policies import selectors as policy_selectors
    from policies import services as policy_services

    stages = Stages()
    stages.wrap(services, "_decode", "decode + fingerprint")
    stages.wrap(matching, "search", "search")
    stages.wrap(DatabaseIndex, "postings", "  of which SQL postings")
    stages.wrap(DatabaseIndex, "items", "  of which candidate fingerprints")
    stages.wrap(speed.SpeedVariants, "__call__", "  of which speed variants (resample + fp)")
    stages.wrap(services, "_registry_evidence", "evidence")
    stages.wrap(services, "_c2pa_evidence", "evidence")
    stages.wrap(evidence, "assess", "evidence")
    stages.wrap(policy_selectors, "build_facts", "facts + decision")
    stages.wrap(policy_services, "decide", "facts + decision")
    return stages


def submitter():
    from registry import services
    from registry.models import Organization, User
    from registry.provenance import Actor

    org = Organization.objects.filter(name="Bench Distributor").first()
    if org is None:
        services.organization_create(
            name="Bench Distributor",
            kind="distributor",
            username="bench-distributor",
            password="bench distributor password",  # noqa: S106 -- a bench-only user
        )
        org = Organization.objects.get(name="Bench Distributor")
    user = User.objects.get(username="bench-distributor")
    return Actor.for_user(user), user


def _unstore(path: Path) -> None:
    """Remove a previous copy of this audio from storage, so that storing it copies again."""
    import hashlib

    from django.core.files.storage import default_storage

    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    name = f"audio/{sha[:2]}/{sha}{path.suffix}"
    if default_storage.exists(name):
        default_storage.delete(name)


def stage_runs(files: dict[str, Path], runs: int) -> dict[str, dict[str, float]]:
    from django.core.files import File

    from checks import selectors, services
    from checks.models import Check

    actor, _ = submitter()
    stages = instrument()
    original_enqueue = services._enqueue
    services._enqueue = lambda check_id: None  # processed below, in this process
    out: dict[str, dict[str, list[float]]] = {}
    try:
        for case, path in files.items():
            per: dict[str, list[float]] = defaultdict(list)
            for run in range(runs + 1):  # the first run warms up and is not counted
                _unstore(path)
                stages.reset()
                t0, cpu0 = time.perf_counter(), time.process_time()
                with open(path, "rb") as handle:
                    check, _ = services.check_submit(
                        actor=actor,
                        audio=File(handle, name=path.name),
                        metadata={
                            "title": "bench",
                            "idempotency_key": f"stage-{case}-{time.time_ns()}",
                        },
                    )
                t1 = time.perf_counter()
                outcome = services.check_process(check.pk)
                t2 = time.perf_counter()
                check = Check.objects.get(pk=check.pk)
                verdict = selectors.verdict(check, viewer=actor.organization)
                t3, cpu3 = time.perf_counter(), time.process_time()
                assert outcome.status == "done", outcome
                if run == 0:
                    print(
                        f"  {case}: {len(verdict.get('matches', []))} match(es), "
                        f"decision {check.decision.action if check.decision else None}",
                        file=sys.stderr,
                    )
                    continue
                per["store (submit)"].append(t1 - t0)
                named = 0.0
                for stage, seconds in stages.seconds.items():
                    per[stage].append(seconds)
                    if not stage.startswith("  "):
                        named += seconds
                per["other (claim, matches, provenance, commit)"].append((t2 - t1) - named)
                per["verdict read"].append(t3 - t2)
                per["total"].append(t3 - t0)
                per["total CPU of this process"].append(cpu3 - cpu0)
                per["speed variants tried"].append(
                    stages.counts.get("  of which speed variants (resample + fp)", 0)
                )
                per["matches"].append(len(verdict.get("matches", [])))
            out[case] = {k: statistics.median(v) for k, v in per.items()}
    finally:
        services._enqueue = original_enqueue
    return out


# ---------------------------------------------------------------- workers


@contextmanager
def worker(concurrency: int, extra_env: dict[str, str] | None = None):
    """A Celery worker (prefork, ``-c concurrency``) on the bench database and broker."""
    from django.conf import settings

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        + "/"
        + settings.DATABASES["default"]["NAME"],
        CELERY_BROKER_URL=BROKER,
        CELERY_TASK_ALWAYS_EAGER="0",
        LOG_LEVEL="WARNING",
        **(extra_env or {}),
    )
    log = open(common.CACHE_DIR / f"worker-c{concurrency}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-c",
            str(concurrency),
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=common.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by the live processes of a process group (the worker's)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # the bench's own broker database only


def _wait_done(ids: list[int], timeout_s: float) -> float:
    from checks.models import Check

    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        finished = Check.objects.filter(pk__in=ids, status__in=["done", "failed"]).count()
        if finished == len(ids):
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError(f"checks not finished after {timeout_s} s")


def http_latency(client, path: Path, runs: int) -> list[float]:
    """Upload to verdict through HTTP with a worker running: POST, then GET until done."""
    out = []
    for run in range(runs + 1):
        _unstore(path)
        t0 = time.perf_counter()
        with open(path, "rb") as handle:
            response = client.post(
                "/api/v1/checks/",
                {
                    "audio": handle,
                    "metadata": json.dumps(
                        {"title": "bench", "idempotency_key": f"http-{time.time_ns()}"}
                    ),
                },
                format="multipart",
            )
        assert response.status_code == 202, response.content
        url = response.json()["url"]
        while True:
            body = client.get(url).json()
            if body["status"] in ("done", "failed"):
                break
            time.sleep(0.01)
        if run:
            out.append(time.perf_counter() - t0)
        assert body["status"] == "done", body
    return out


def throughput(
    files: dict[str, Path],
    n_checks: int,
    concurrency: int,
    http_runs: int,
    extra_env: dict[str, str] | None = None,
):
    from django.core.files import File
    from rest_framework.test import APIClient

    from checks import services

    actor, user = submitter()
    _flush_broker()
    results = {}
    with worker(concurrency, extra_env) as process:
        # Warm-up: the worker is up, connected and has loaded everything.
        with open(files["match"], "rb") as handle:
            check, _ = services.check_submit(
                actor=actor,
                audio=File(handle, name=files["match"].name),
                metadata={"title": "bench", "idempotency_key": f"warm-{time.time_ns()}"},
            )
        _wait_done([check.pk], 120)
        if http_runs:
            client = APIClient()
            client.force_authenticate(user)
            results["http"] = http_latency(client, files["match"], http_runs)
        for case, path in files.items():
            ids = []
            cpu0, busy0 = _group_cpu_s(process.pid), _machine_busy_s()
            t0 = time.perf_counter()
            for i in range(n_checks):
                with open(path, "rb") as handle:
                    check, _ = services.check_submit(
                        actor=actor,
                        audio=File(handle, name=path.name),
                        metadata={
                            "title": "bench",
                            "idempotency_key": f"tp-{case}-{i}-{time.time_ns()}",
                        },
                    )
                ids.append(check.pk)
            t_end = _wait_done(ids, 60 + 30 * n_checks)
            wall = t_end - t0
            worker_cores = (_group_cpu_s(process.pid) - cpu0) / wall
            busy_cores = (_machine_busy_s() - busy0) / wall
            per_check = worker_cores * wall / n_checks
            results[case] = (n_checks / (wall / 60), worker_cores, per_check, busy_cores)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs per stage, 6 checks")
    parser.add_argument("--checks", type=int, default=None, help="checks per throughput run (20)")
    args = parser.parse_args()
    runs = 2 if args.quick else 5
    n_checks = args.checks or (6 if args.quick else 20)
    common.print_header("A check end to end: stages and throughput", sys.argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    common.setup_django(common.TEMPLATE_DB)
    if not common.database_exists(DATABASE):
        import index_scale

        log(f"{DATABASE} is missing: building it (index_scale.py) ...")
        index_scale.prepare(10000, common.real_fingerprints(), False, log)
    common.ensure_database(DATABASE)
    from registry.models import Recording

    catalogue = Recording.objects.filter(status="active").count()
    files = submissions()
    log("stage timing ...")
    stages = stage_runs(files, runs)

    log("workers ...")
    # The third row: the same 2 workers with OpenBLAS kept to one thread. numpy's float dot
    # product in audio._levels_dbfs starts OpenBLAS threads that spin on the other core.
    cells = {
        "1": (1, None),
        "2": (2, None),
        "2, OPENBLAS_NUM_THREADS=1": (2, {"OPENBLAS_NUM_THREADS": "1"}),
    }
    tp = {
        label: throughput(files, n_checks, c, http_runs=3 if c == 1 else 0, extra_env=env)
        for label, (c, env) in cells.items()
    }

    print(
        f"catalogue: {catalogue:,} active recordings ({DATABASE}); submissions: 4 min MP3 192k "
        f"({', '.join(p.name for p in files.values())}); median of {runs} runs after one warm-up."
    )
    print()
    names = [
        "store (submit)",
        "decode + fingerprint",
        "search",
        "  of which SQL postings",
        "  of which candidate fingerprints",
        "  of which speed variants (resample + fp)",
        "evidence",
        "facts + decision",
        "other (claim, matches, provenance, commit)",
        "verdict read",
        "total",
        "total CPU of this process",
        "speed variants tried",
        "matches",
    ]
    rows = []
    for name in names:
        unit = "" if name in ("speed variants tried", "matches") else " s"
        row = [name + unit]
        for case in files:
            value = stages[case].get(name, 0.0)
            row.append(int(value) if not unit else round(value, 3))
        rows.append(row)
    print(common.table(["stage (wall)", *files], rows))
    print()
    http = tp["1"].get("http", [])
    print(
        f"upload to verdict through HTTP with 1 worker (match case, {len(http)} runs): "
        f"median {statistics.median(http):.2f} s, max {max(http):.2f} s"
    )
    print()
    print(
        common.table(
            [
                "workers (celery -c)",
                *[
                    f"{case}: {what}"
                    for case in files
                    for what in ("checks/min", "worker cores", "worker CPU s/check", "busy cores")
                ],
            ],
            [[label, *[v for case in files for v in tp[label][case]]] for label in tp],
        )
    )
    print(
        "worker cores: CPU used by the worker's processes / wall time; busy cores: "
        f"all processes (PostgreSQL, this script, other users) out of {os.cpu_count()}."
    )
    print(f"({n_checks} checks submitted at once per cell, first submit to last verdict)")


if __name__ == "__main__":
    main()
