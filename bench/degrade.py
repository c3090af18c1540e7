"""Build the degraded evaluation set of issue 3 from real music, cached in /work/cache/bench."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/degrade.py` from anywhere
    sys.path.insert(0, str(ROOT))

from fingerprinting import synth  # noqa: E402

MUSIC_GLOB = "**/*.ogg"
MUSIC_DIR = Path("/work/cache/wesnoth")
CACHE_DIR = Path("/work/cache/bench")
RATE = 44100
SET_VERSION = 3  # bump when a case changes, so that stale caches are rebuilt


@dataclass(frozen=True)
class Query:
    """One query file and what a perfect matcher would report for it."""

    case: str
    group: str  # whole, excerpt, planted, noise, speed, negative
    path: str
    source: str | None  # the registered track it reuses; None for a negative
    host: str | None = None  # the unregistered track it is planted in (removed from the index)
    query_start_s: float = 0.0  # where the reused part starts in the query
    reference_start_s: float = 0.0  # where it starts in the source
    duration_s: float = 0.0  # length of the reused part, in reference time
    speed: float = 1.0  # query speed relative to the reference (1.02: 2% faster)


def music_paths(music_dir: Path = MUSIC_DIR) -> list[Path]:
    """The real tracks, sorted; wesnoth's silence.ogg is a negative, not music."""
    paths = sorted(music_dir.glob(MUSIC_GLOB))
    return [p for p in paths if p.stem != "silence"]


def silence_path(music_dir: Path = MUSIC_DIR) -> Path | None:
    found = sorted(music_dir.glob("**/silence.ogg"))
    return found[0] if found else None


def rng_for(*parts: object) -> np.random.Generator:
    """A generator seeded from the names, so every run builds byte-identical inputs."""
    return np.random.default_rng(zlib.crc32("/".join(map(str, parts)).encode()))


def load(path: Path) -> np.ndarray:
    """Decode a file to float32 stereo at 44.1 kHz, shape (n, 2)."""
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    return np.ascontiguousarray(np.concatenate(chunks, axis=1).T.astype(np.float32))


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """FFmpeg's resampler over float (n, ch) samples: sample-rate changes and speed changes."""
    channels = samples.shape[1]
    layout = {1: "mono", 2: "stereo"}[channels]
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=to_rate)
    out = []
    block = 1 << 16
    for start in range(0, len(samples), block):
        piece = np.ascontiguousarray(samples[start : start + block].T)
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
        frame.sample_rate = from_rate
        frame.pts = start
        frame.time_base = Fraction(1, from_rate)
        out.extend(f.to_ndarray() for f in resampler.resample(frame))
    out.extend(f.to_ndarray() for f in resampler.resample(None))
    return np.ascontiguousarray(np.concatenate(out, axis=1).T.astype(np.float32))


def change_speed(samples: np.ndarray, speed: float) -> np.ndarray:
    """Play ``speed`` times faster, pitch and tempo together (a fast turntable)."""
    return resample(samples, round(RATE * speed), RATE)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12)


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the signal's RMS over the whole clip."""
    noise = rng.standard_normal(samples.shape).astype(np.float32)
    noise *= rms(samples) / rms(noise) * 10 ** (-snr_db / 20)
    return samples + noise


def fade(samples: np.ndarray, fade_s: float = 0.02) -> np.ndarray:
    n = min(len(samples) // 2, int(fade_s * RATE))
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    out = samples.copy()
    out[:n] *= ramp
    out[len(out) - n :] *= ramp[::-1]
    return out


def cut(samples: np.ndarray, start_s: float, duration_s: float) -> np.ndarray:
    start = round(start_s * RATE)
    return samples[start : start + round(duration_s * RATE)]


# Whole-recording degradations: name -> (transform, format, bitrate, output rate).
Transform = Callable[[np.ndarray], np.ndarray]
Audio = Callable[[], np.ndarray]  # made only when the file is not cached yet
Planned = tuple["Query", Audio, str, int | None, int]  # query, audio, format, bitrate, rate
WHOLE: dict[str, tuple[Transform, str, int | None, int]] = {
    "whole_mp3_64k": (lambda x: x, "mp3", 64_000, RATE),
    "whole_mp3_320k": (lambda x: x, "mp3", 320_000, RATE),
    "whole_opus_32k": (lambda x: x, "opus", 32_000, RATE),
    "whole_vorbis": (lambda x: x, "ogg", None, RATE),
    "whole_aac_96k": (lambda x: x, "m4a", 96_000, RATE),
    "whole_gain_-20db": (lambda x: x * np.float32(0.1), "mp3", 128_000, RATE),
    # +6 dB clips: that is what a careless loudness boost does.
    "whole_gain_+6db": (lambda x: x * np.float32(2.0), "mp3", 128_000, RATE),
    "whole_sr_8k": (lambda x: resample(x, RATE, 8000), "flac", None, 8000),
    "whole_sr_96k": (lambda x: resample(x, RATE, 96000), "flac", None, 96000),
    "whole_mono": (lambda x: x.mean(axis=1, keepdims=True), "mp3", 128_000, RATE),
}
EXCERPTS_PER_TRACK = 2
# Off the search grid on purpose: x.x25 and x.x75 are as far as can be from 0.5% steps.
SPEEDS = (0.98, 0.9825, 0.9875, 0.9925, 0.9975, 1.0025, 1.0075, 1.0125, 1.0175, 1.02)
PLANT_HOST_S = 45.0
QUICK_WHOLE = ("whole_mp3_64k", "whole_opus_32k")


def _host_for(index: int, tracks: list[tuple[str, np.ndarray]], salt: str) -> int:
    """A deterministic other track long enough to host a planted excerpt."""
    rng = rng_for("host", salt, index)
    for _ in range(1000):
        j = int(rng.integers(len(tracks)))
        if j != index and len(tracks[j][1]) >= PLANT_HOST_S * RATE + RATE:
            return j
    raise RuntimeError("no host track long enough")


def positive_queries(
    name: str, samples: np.ndarray, index: int, tracks: list[tuple[str, np.ndarray]]
) -> Iterator[Planned]:
    """Every degraded query made from one registered track, with how to encode it."""
    duration = len(samples) / RATE
    for case, (transform, fmt, bitrate, rate) in WHOLE.items():
        query = Query(case, "whole", "", name, duration_s=duration)
        yield query, partial(transform, samples), fmt, bitrate, rate

    def excerpt_cases() -> Iterator[tuple[str, float, str, int | None, float | None]]:
        yield "excerpt_10s_mp3_128k", 10.0, "mp3", 128_000, None
        yield "excerpt_10s_opus_32k", 10.0, "opus", 32_000, None
        yield "excerpt_30s_aac_96k", 30.0, "m4a", 96_000, None
        # Shorter than the 10 s: measured to know where the matcher stops working.
        yield "excerpt_8s_mp3_128k", 8.0, "mp3", 128_000, None
        yield "excerpt_6s_mp3_128k", 6.0, "mp3", 128_000, None
        yield "noise_15db_30s_mp3_128k", 30.0, "mp3", 128_000, 15.0
        yield "noise_15db_10s_mp3_128k", 10.0, "mp3", 128_000, 15.0

    for case, length, fmt, bitrate, snr in excerpt_cases():
        if duration < length + 2:
            continue
        for k in range(EXCERPTS_PER_TRACK):
            rng = rng_for(case, name, k)
            start = float(rng.uniform(0, duration - length))
            clip = cut(samples, start, length)
            group = "excerpt"
            if snr is not None:
                clip = add_noise(clip, snr, rng)
                group = "noise"
            query = Query(f"{case}", group, "", name, reference_start_s=start, duration_s=length)
            yield query, partial(fade, clip), fmt, bitrate, RATE

    for length in (10.0, 20.0):
        if duration < length + 2:
            continue
        for k in range(EXCERPTS_PER_TRACK):
            case = f"planted_{length:.0f}s_mp3_128k"
            rng = rng_for(case, name, k)
            host_index = _host_for(index, tracks, f"{case}/{k}")
            host_name, host_samples = tracks[host_index]
            host_start = float(rng.uniform(0, len(host_samples) / RATE - PLANT_HOST_S))
            host = cut(host_samples, host_start, PLANT_HOST_S).copy()
            start = float(rng.uniform(0, duration - length))
            at = float(rng.uniform(2.0, PLANT_HOST_S - length - 2.0))
            clip = fade(cut(samples, start, length))
            a = round(at * RATE)
            host[a : a + len(clip)] = clip
            query = Query(
                case,
                "planted",
                "",
                name,
                host=host_name,
                query_start_s=at,
                reference_start_s=start,
                duration_s=length,
            )
            yield query, partial(np.asarray, host), "mp3", 128_000, RATE

    if duration >= 32:
        for speed in SPEEDS:
            case = f"speed_{(speed - 1) * 100:+.2f}pct_30s_mp3_128k"
            rng = rng_for(case, name)
            start = float(rng.uniform(0, duration - 30.0))
            clip = fade(cut(samples, start, 30.0))
            query = Query(
                case, "speed", "", name, reference_start_s=start, duration_s=30.0, speed=speed
            )
            yield query, partial(change_speed, clip, speed), "mp3", 128_000, RATE


def negative_queries(
    tracks: list[tuple[str, np.ndarray]],
) -> Iterator[Planned]:
    """Audio that must match nothing: near-silence, clicks, drones, loops, unrelated music."""
    rng = rng_for("negative")
    n30 = round(30 * RATE)
    t = np.arange(n30, dtype=np.float64) / RATE

    def stereo(mono: np.ndarray) -> np.ndarray:
        return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)

    def neg(case: str, samples: np.ndarray, fmt: str = "mp3") -> Planned:
        bitrate = 128_000 if fmt == "mp3" else None
        return Query(case, "negative", "", None), partial(np.asarray, samples), fmt, bitrate, RATE

    # -55 dBFS: just above the decoder's -60 dBFS "silent" rejection, so it is fingerprinted
    # (in FLAC: LAME would drop noise that faint, and the decoder would then refuse it).
    yield neg("neg_near_silence", stereo(rng.standard_normal(n30) * 10 ** (-55 / 20)), "flac")
    hum = 10 ** (-50 / 20) * np.sin(2 * np.pi * 50 * t) + rng.standard_normal(n30) * 1e-4
    yield neg("neg_hum", stereo(hum))
    yield neg("neg_white_noise", stereo(np.clip(rng.standard_normal(n30) * 0.1, -1, 1)))
    clicks = np.zeros(n30)
    for beat in np.arange(0, 30, 0.5):  # 120 bpm, accented every 4th beat
        i = round(beat * RATE)
        freq = 1500.0 if round(beat * 2) % 4 == 0 else 1000.0
        m = np.arange(min(2000, n30 - i)) / RATE
        clicks[i : i + len(m)] += 0.5 * np.sin(2 * np.pi * freq * m) * np.exp(-m * 200)
    yield neg("neg_click_track", stereo(clicks))
    drone = sum(
        0.15 * np.sin(2 * np.pi * f * t * (1 + 0.002 * np.sin(2 * np.pi * 0.2 * t)))
        for f in (110.0, 165.0, 220.0, 330.0)
    )
    yield neg("neg_drone", stereo(drone))
    for seed in range(10):
        yield neg(f"neg_synth_music_{seed}", synth.music(10_000 + seed, 30.0, RATE, 2))
    loop = synth.music(20_000, 2.0, RATE, 2)
    yield neg("neg_loop_synth_2s", np.tile(loop, (15, 1)))
    # Two-second loops of registered tracks: they reuse 2 s, far below 10 s; any match
    # claiming more than that would be false.
    for k in range(5):
        _, samples = tracks[int(rng.integers(len(tracks)))]
        start = float(rng.uniform(0, max(0.0, len(samples) / RATE - 3)))
        piece = cut(samples, start, 2.0)
        yield neg(f"neg_loop_real_2s_{k}", np.tile(piece, (15, 1)))


_TRACKS: list[tuple[str, np.ndarray]] = []


def _emit(
    out_dir: Path, q: Query, make: Audio, fmt: str, bitrate: int | None, rate: int
) -> tuple[Query, bool]:
    """Encode one query unless its file is already cached; return it with its path."""
    ext = synth.FORMATS[fmt].extension
    stem = f"{q.case}__{q.source or 'none'}__{q.reference_start_s:.3f}__{q.host or ''}"
    path = out_dir / q.case / f"{stem}{ext}"
    made = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp" + ext)
        synth.write(tmp, make(), rate, fmt, bitrate=bitrate)
        tmp.rename(path)
        made = True
    return Query(**{**asdict(q), "path": str(path)}), made


def _build_track(job: tuple[int, Path, bool]) -> tuple[list[Query], int]:
    index, out_dir, quick = job
    tracks = _TRACKS
    if index < 0:
        made = [_emit(out_dir, *args) for args in negative_queries(tracks)]
    else:
        name, samples = tracks[index]
        made = [
            _emit(out_dir, q, data, fmt, bitrate, rate)
            for q, data, fmt, bitrate, rate in positive_queries(name, samples, index, tracks)
            if not (quick and q.group == "whole" and q.case not in QUICK_WHOLE)
        ]
    return [q for q, _ in made], sum(m for _, m in made)


def build(cache_dir: Path, n_tracks: int | None, quick: bool) -> list[Query]:
    """Write every query file (skipping those already there) and the manifest."""
    paths = music_paths()
    if not paths:
        raise SystemExit(f"no music under {MUSIC_DIR}: extract Debian's wesnoth-music there")
    if n_tracks:
        paths = paths[:n_tracks]
    tracks = [(p.stem, load(p)) for p in paths]
    out_dir = cache_dir / f"v{SET_VERSION}"
    out_dir.mkdir(parents=True, exist_ok=True)
    queries: list[Query] = []
    made = 0
    started = time.monotonic()

    global _TRACKS
    _TRACKS = tracks
    jobs = [(i, out_dir, quick) for i in range(len(tracks))] + [(-1, out_dir, quick)]
    # Encoding (LAME above all) dominates: one process per core, tracks shared by fork.
    with multiprocessing.get_context("fork").Pool(max(1, os.cpu_count() or 1)) as pool:
        for done, (track_queries, track_made) in enumerate(pool.imap(_build_track, jobs), 1):
            queries.extend(track_queries)
            made += track_made
            print(f"  {done}/{len(jobs)} tracks: {len(queries)} queries", file=sys.stderr)
    silence = silence_path()
    if silence is not None:
        queries.append(Query("neg_silence_file", "negative", str(silence), None))
    manifest = {
        "version": SET_VERSION,
        "tracks": {p.stem: str(p) for p in paths},
        "queries": [asdict(q) for q in queries],
    }
    suffix = f"_{n_tracks}" if n_tracks else ""
    suffix += "_quick" if quick else ""
    (out_dir / f"manifest{suffix}.json").write_text(json.dumps(manifest, indent=1))
    print(
        f"{len(queries)} queries ({made} encoded now) in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return queries


def manifest_path(cache_dir: Path, n_tracks: int | None, quick: bool) -> Path:
    suffix = f"_{n_tracks}" if n_tracks else ""
    suffix += "_quick" if quick else ""
    return cache_dir / f"v{SET_VERSION}" / f"manifest{suffix}.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=None, help="use the first N tracks only")
    parser.add_argument("--quick", action="store_true", help="two whole-track cases only")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    args = parser.parse_args()
    build(args.cache, args.tracks, args.quick)


if __name__ == "__main__":
    main()
