"""Shared helpers of the speed benchmarks: real music, the bench databases, timing, tables."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/NAME.py` from anywhere
    sys.path.insert(0, str(ROOT))

MUSIC_DIR = Path("/work/cache/wesnoth")
CACHE_DIR = Path(os.environ.get("STEMMA_BENCH_CACHE", "/work/cache/bench-scale"))
PG_URL = os.environ.get("STEMMA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TEMPLATE_DB = "stemma_bench_template"
# Databases these benchmarks create and own; nothing else is ever written to.
BENCH_DB_PREFIX = "stemma_bench"


# ---------------------------------------------------------------- real music


def music_paths(music_dir: Path = MUSIC_DIR) -> list[Path]:
    """The wesnoth tracks, sorted by name; silence.ogg (not music) left out."""
    paths = sorted(p for p in music_dir.rglob("*.ogg") if p.name != "silence.ogg")
    if not paths:
        raise SystemExit(
            f"no OGG files under {music_dir}: see bench/README.md (wesnoth-1.16-music) first"
        )
    return paths


def decode_pcm(path: Path, rate: int = 11025) -> np.ndarray:
    """Mono int16 at ``rate`` (the project's decoder, no consumers)."""
    from fingerprinting import audio

    return audio.decode(path, sample_rate=rate, min_duration_s=0.0).samples


def fingerprint_path(path: Path) -> tuple[np.ndarray, float]:
    """(raw items, duration_s) of a file through the project's pipeline: decode -> Fingerprinter."""
    from fingerprinting import audio, chromaprint

    fingerprinter = chromaprint.Fingerprinter()
    decoded = audio.decode(path, consumers=(fingerprinter,))
    return fingerprinter.finish(), decoded.duration_s


def encode_mp3(
    source: Path,
    target: Path,
    *,
    bitrate: int,
    start_s: float = 0.0,
    duration_s: float | None = None,
    stereo: bool = True,
) -> Path:
    """Encode (part of) ``source`` to MP3 with PyAV (LAME), at 44.1 kHz; cached by path."""
    import av

    if target.exists() and target.stat().st_size > 0:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    layout = "stereo" if stereo else "mono"
    tmp = target.with_suffix(".part.mp3")
    with av.open(str(source)) as src, av.open(str(tmp), "w", format="mp3") as dst:
        out = dst.add_stream("libmp3lame", rate=44100, layout=layout)
        out.bit_rate = bitrate
        resampler = av.AudioResampler(format="s16p", layout=layout, rate=44100)
        first = round(start_s * 44100)
        last = None if duration_s is None else first + round(duration_s * 44100)
        done = 0  # samples at 44.1 kHz seen so far
        pts = 0

        def emit(frames: Iterable[Any]) -> None:
            nonlocal done, pts
            for frame in frames:
                n = frame.samples
                lo, hi = max(first - done, 0), n if last is None else min(n, last - done)
                done += n
                if hi <= lo:
                    continue
                if lo > 0 or hi < n:
                    data = frame.to_ndarray()[:, lo:hi]
                    frame = av.AudioFrame.from_ndarray(
                        np.ascontiguousarray(data), format="s16p", layout=layout
                    )
                    frame.sample_rate = 44100
                frame.pts, frame.time_base = pts, Fraction(1, 44100)
                pts += frame.samples
                for packet in out.encode(frame):
                    dst.mux(packet)

        for frame in src.decode(audio=0):
            emit(resampler.resample(frame))
            if last is not None and done >= last:
                break
        emit(resampler.resample(None))
        for packet in out.encode(None):
            dst.mux(packet)
    tmp.rename(target)
    return target


# ---------------------------------------------------------------- databases


def _admin_connect() -> Any:
    import psycopg

    # The maintenance database is used only to CREATE/DROP the bench databases.
    return psycopg.connect(f"{PG_URL}/postgres", autocommit=True)


def database_exists(name: str) -> bool:
    with _admin_connect() as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def _check_name(name: str) -> None:
    if not re.fullmatch(rf"{BENCH_DB_PREFIX}[a-z0-9_]*", name):
        raise ValueError(f"{name!r} is not a bench database")


def drop_database(name: str) -> None:
    _check_name(name)
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name: str, *, from_template: bool = True) -> None:
    """Create a bench database, by copying the migrated template when there is one."""
    _check_name(name)
    with _admin_connect() as conn:
        if from_template and name != TEMPLATE_DB:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(database: str, *, media_root: Path | None = None) -> None:
    """Point Django (test settings: real PostgreSQL) at a bench database, made and migrated.

    Bench databases start as a copy of a migrated template, so that each costs seconds.
    Everything the code under test stores on disk goes under the cache, not the repo.
    """
    _check_name(database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    os.environ["DATABASE_URL"] = f"{PG_URL}/{database}"
    os.environ["MEDIA_ROOT"] = str(media_root or CACHE_DIR / "media")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not database_exists(TEMPLATE_DB):
        create_database(TEMPLATE_DB, from_template=False)
    import django

    django.setup()
    ensure_database(database)


def ensure_database(name: str) -> bool:
    """Make ``name`` the default connection, creating it from the template if needed.

    Returns True when the database was created now. Migrations run either way (a no-op
    when the schema is current).
    """
    from django.core.management import call_command

    _check_name(name)
    created = False
    if not database_exists(name):
        use_database(TEMPLATE_DB)
        call_command("migrate", verbosity=0, interactive=False)
        use_database(TEMPLATE_DB, connect=False)  # CREATE ... TEMPLATE needs it unused
        create_database(name)
        created = True
    use_database(name)
    call_command("migrate", verbosity=0, interactive=False)
    return created


def use_database(name: str, *, connect: bool = True) -> None:
    """Switch Django's default connection to another bench database."""
    from django.db import connections

    _check_name(name)
    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = name
    if connect:
        conn.ensure_connection()


# ---------------------------------------------------------------- real fingerprints


def real_fingerprints() -> dict[str, tuple[np.ndarray, float, str]]:
    """name -> (items, duration_s, sha256 of the file) of every track, through our pipeline.

    Cached in CACHE_DIR/real_fingerprints.npz (computed again if the library changes).
    """
    from fingerprinting import chromaprint

    path = CACHE_DIR / "real_fingerprints.npz"
    tracks = music_paths()
    if path.exists():
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["__meta__"]))
        if meta.get("library") == chromaprint.LIBRARY_VERSION and set(meta["tracks"]) == {
            p.stem for p in tracks
        }:
            return {
                name: (data[name], meta["tracks"][name][0], meta["tracks"][name][1])
                for name in meta["tracks"]
            }
    out: dict[str, tuple[np.ndarray, float, str]] = {}
    for p in tracks:
        items, duration_s = fingerprint_path(p)
        out[p.stem] = (items, duration_s, hashlib.sha256(p.read_bytes()).hexdigest())
    meta = {
        "library": chromaprint.LIBRARY_VERSION,
        "tracks": {name: [d, sha] for name, (_, d, sha) in out.items()},
    }
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, __meta__=json.dumps(meta), **{name: v[0] for name, v in out.items()})
    return out


# ---------------------------------------------------------------- figures


def percentiles(values_ms: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> list[float]:
    if not len(values_ms):
        return [float("nan")] * len(qs)
    return [float(np.percentile(np.asarray(values_ms), q)) for q in qs]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (prints readably and pastes into docs/benchmarks.md as is)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            if value != value:
                return "-"
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = [[str(h) for h in headers]] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(lines[0], widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines[1:]:
        out.append("| " + " | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + " |")
    return "\n".join(out)


def machine() -> dict[str, str]:
    """Date and machine, as docs/benchmarks.md states them."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = "unknown"
    try:
        with _admin_connect() as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # only informative
        pg = f"unknown ({type(exc).__name__})"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {cpu}, {mem_gib:.0f} GiB RAM, "
        f"PostgreSQL {pg}, Python {platform.python_version()}",
        "load": f"load average at start: {load}",
    }


def print_header(title: str, argv: Sequence[str]) -> None:
    info = machine()
    print(f"# {title}")
    print(f"{info['date']}; {info['machine']}; {info['load']}")
    print("command: .venv/bin/python " + " ".join(["bench/" + Path(argv[0]).name, *argv[1:]]))
    print()


def stable_sha256(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


class Stopwatch:
    """``with Stopwatch() as t: ...``; then ``t.s`` (wall) and ``t.cpu_s`` (this process)."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu
