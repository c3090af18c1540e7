"""Print fingerprinting throughput, decode included: our pipeline beside fpcalc, in one run.

Ours is what a worker does per file: ``audio.decode(path)`` streaming into a
``chromaprint.Fingerprinter`` (one decode pass, FFmpeg decoding inside its filter graph),
in a long-lived process; the same from a file object is timed beside it. fpcalc is
Debian's ``fpcalc -length 0 -raw`` (the same libchromaprint, FFmpeg's decoders), one
process per file as it is used. Both are pinned to the same single core and run
interleaved, file by file, in a random order per repetition, so that load from other
processes falls on both alike. Throughput is seconds of audio per second of wall time
(and per second of CPU time, which other load disturbs less).

Files: the 40 wesnoth music tracks (OGG Vorbis, silence.ogg left out: our decoder
rejects it as AUDIO_SILENT by design) and the same encoded once to MP3 192k (cached).

    .venv/bin/python bench/fingerprint_throughput.py [--quick] [--repeat N] [--cpu N]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import bench_common as common
import numpy as np

from fingerprinting import audio, chromaprint

MP3_DIR = common.CACHE_DIR / "mp3-192k"


@dataclass
class Totals:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    audio_s: float = 0.0
    walls: list[float] = field(default_factory=list)

    def add(self, wall_s: float, cpu_s: float, audio_s: float) -> None:
        self.wall_s += wall_s
        self.cpu_s += cpu_s
        self.audio_s += audio_s
        self.walls.append(wall_s)


def ours(path: Path) -> tuple[float, float, float, np.ndarray]:
    """(wall_s, cpu_s, audio_s, items): decode streaming into the Fingerprinter."""
    wall, cpu = time.perf_counter(), time.process_time()
    fingerprinter = chromaprint.Fingerprinter()
    decoded = audio.decode(path, consumers=(fingerprinter,))
    items = fingerprinter.finish()
    return time.perf_counter() - wall, time.process_time() - cpu, decoded.duration_s, items


def ours_file_object(path: Path) -> tuple[float, float, float, np.ndarray]:
    """The same from an open file object: PyAV decodes and pushes each frame into the graph
    (what remote storage or a pipe gets); the items must be ours."""
    wall, cpu = time.perf_counter(), time.process_time()
    fingerprinter = chromaprint.Fingerprinter()
    with open(path, "rb") as handle:
        decoded = audio.decode(handle, consumers=(fingerprinter,))
    items = fingerprinter.finish()
    return time.perf_counter() - wall, time.process_time() - cpu, decoded.duration_s, items


def decode_only(path: Path) -> tuple[float, float, np.ndarray]:
    wall, cpu = time.perf_counter(), time.process_time()
    samples = audio.decode(path).samples
    return time.perf_counter() - wall, time.process_time() - cpu, samples


def pyav_decode_only(path: Path) -> float:
    """Wall time of PyAV decoding alone: demux and decode, no resampling, no numpy."""
    import av

    wall = time.perf_counter()
    with open(path, "rb") as handle, av.open(handle) as container:
        for _ in container.decode(container.streams.audio[0]):
            pass
    return time.perf_counter() - wall


def fingerprint_only(samples: np.ndarray) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    chromaprint.fingerprint(samples)
    return time.perf_counter() - wall, time.process_time() - cpu


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fpcalc(binary: str, path: Path) -> tuple[float, float, float, np.ndarray]:
    """(wall_s, cpu_s, audio_s, items) of one ``fpcalc -length 0 -raw`` process."""
    cpu = _children_cpu_s()
    wall = time.perf_counter()
    result = subprocess.run(
        [binary, "-length", "0", "-raw", str(path)], capture_output=True, text=True, check=False
    )
    wall_s = time.perf_counter() - wall
    cpu_s = _children_cpu_s() - cpu
    fields = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    if "FINGERPRINT" not in fields:
        raise RuntimeError(f"fpcalc failed on {path}: {result.stderr.strip()}")
    items = np.array([int(x) for x in fields["FINGERPRINT"].split(",") if x], dtype=np.uint32)
    # fpcalc prints DURATION in whole seconds: the item count gives the audio length better,
    # and the same length is credited to both sides below (ours, from the decoder).
    return wall_s, cpu_s, float(fields.get("DURATION", 0)), items


def _encode_one(path: Path) -> Path:
    return common.encode_mp3(path, MP3_DIR / f"{path.stem}.mp3", bitrate=192_000)


def mp3_copies(paths: list[Path]) -> list[Path]:
    """The tracks as MP3 192k, encoded once into the cache (2 processes)."""
    missing = [p for p in paths if not (MP3_DIR / f"{p.stem}.mp3").exists()]
    if missing:
        print(f"encoding {len(missing)} tracks to MP3 192k into {MP3_DIR} (once) ...", flush=True)
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_encode_one, missing))
    return [MP3_DIR / f"{p.stem}.mp3" for p in paths]


def startup_s(binary: str, tiny: Path, runs: int = 15) -> float:
    """fpcalc's fixed cost per file (exec, dynamic linking, FFmpeg init): median on 4 s of audio."""
    walls = [fpcalc(binary, tiny)[0] for _ in range(runs)]
    return float(np.median(walls))


def make_tiny(paths: list[Path]) -> Path:
    tiny = common.CACHE_DIR / "tiny-4s.mp3"
    return common.encode_mp3(paths[0], tiny, bitrate=192_000, duration_s=4.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 tracks, 1 repetition")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3)")
    parser.add_argument(
        "--cpu",
        type=int,
        default=os.cpu_count() - 1 if os.cpu_count() else 0,
        help="the core both sides are pinned to (-1: no pinning)",
    )
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    binary = shutil.which("fpcalc")
    if binary is None:
        raise SystemExit("fpcalc not found: apt-get install libchromaprint-tools")
    common.print_header("Fingerprinting throughput, decode included: ours vs fpcalc", sys.argv)

    tracks = common.music_paths()
    if args.quick:
        tracks = tracks[:8]
    sets = {"OGG Vorbis": tracks, "MP3 192k": mp3_copies(tracks)}
    tiny = make_tiny(tracks)
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})  # inherited by the fpcalc processes
    version = subprocess.run([binary, "-version"], capture_output=True, text=True).stdout.strip()
    print(
        f"fpcalc: {version}; libchromaprint (ours): {chromaprint.LIBRARY_VERSION}; "
        f"pinned to core {args.cpu if args.cpu >= 0 else 'none'}; {repeat} repetitions"
    )

    # Warm up both (page cache, imports, FFmpeg's tables) before anything is timed.
    for files in sets.values():
        for path in files[:2]:
            if not np.array_equal(ours(path)[3], ours_file_object(path)[3]):
                raise SystemExit(f"a file object gives other items than the path on {path}")
            fpcalc(binary, path)
    fixed_s = startup_s(binary, tiny)

    results: dict[str, dict[str, Totals]] = {
        name: {"ours": Totals(), "fpcalc": Totals(), "file object": Totals()} for name in sets
    }
    same = {name: [0, 0] for name in sets}  # files with identical items, files compared
    bit_errors = {name: [0, 0] for name in sets}  # differing bits, bits compared (ours vs fpcalc)
    rng = random.Random(20240601)
    for rep in range(repeat):
        jobs = [(name, path) for name, files in sets.items() for path in files]
        rng.shuffle(jobs)
        for name, path in jobs:
            order = ["ours", "fpcalc", "file object"]
            rng.shuffle(order)
            timed = {}
            for side in order:
                if side == "ours":
                    *timed[side], audio_s, items_ours = ours(path)
                elif side == "file object":
                    *timed[side], _, _ = ours_file_object(path)
                else:
                    *timed[side], _, items_fpcalc = fpcalc(binary, path)
            # All are credited with the length our decoder measured (fpcalc rounds to 1 s).
            for side, (wall_s, cpu_s) in timed.items():
                results[name][side].add(wall_s, cpu_s, audio_s)
            if rep == 0:
                same[name][1] += 1
                same[name][0] += int(np.array_equal(items_ours, items_fpcalc))
                n = min(len(items_ours), len(items_fpcalc))
                bit_errors[name][0] += int(
                    np.bitwise_count(items_ours[:n] ^ items_fpcalc[:n]).sum()
                )
                bit_errors[name][1] += 32 * n
        print(f"repetition {rep + 1}/{repeat} done", flush=True)

    main_rows, proposal_rows = [], []
    for name, sides in results.items():
        o, f, b = sides["ours"], sides["fpcalc"], sides["file object"]
        f_net = f.wall_s - fixed_s * len(f.walls)
        ours_x, fpcalc_x = o.audio_s / o.wall_s, f.audio_s / f.wall_s
        main_rows.append(
            [
                name,
                len(sets[name]),
                round(o.audio_s / repeat / 3600, 2),
                ours_x,
                fpcalc_x,
                ours_x / fpcalc_x,
                f.audio_s / f_net,
                ours_x / (f.audio_s / f_net),
                o.audio_s / o.cpu_s,
                f.audio_s / f.cpu_s,
                (o.audio_s / o.cpu_s) / (f.audio_s / f.cpu_s),
                f"{same[name][0]}/{same[name][1]}",
                f"{100 * bit_errors[name][0] / max(bit_errors[name][1], 1):.3f}%",
            ]
        )
        proposal_rows.append(
            [name, ours_x / fpcalc_x, b.audio_s / b.wall_s, (b.audio_s / b.wall_s) / fpcalc_x]
        )
    print()
    print("Seconds of audio per second (x real time); ratio = ours / fpcalc (>= 1 meets issue 3).")
    print(
        f"fpcalc's fixed cost per process, measured on 4 s of audio: {fixed_s * 1000:.1f} ms "
        "('fpcalc net' subtracts it from every file). 'identical'/'bits differing': our items "
        "against fpcalc's (same resampler settings; PyAV's FFmpeg is newer than Debian's)."
    )
    print(
        common.table(
            [
                "files",
                "n",
                "audio h",
                "ours wall",
                "fpcalc wall",
                "ratio",
                "fpcalc net",
                "ratio net",
                "ours cpu",
                "fpcalc cpu",
                "ratio cpu",
                "identical",
                "bits differing",
            ],
            main_rows,
        )
    )
    print()
    print(
        "The same files decoded from an open file object (PyAV decodes, frames pushed into the "
        "graph: remote storage, pipes), timed in the same interleaved run."
    )
    print(
        common.table(
            ["files", "ours ratio", "file object wall", "file object ratio"],
            proposal_rows,
        )
    )

    # Where our time goes: the decode alone, and libchromaprint alone on decoded samples.
    print()
    print(
        "Breakdown of ours (one pass over every file, x real time of the wall time): PyAV's decode"
    )
    print("alone (no resampling), audio.decode (decode + resampling to 11025 Hz mono + checks),")
    print("libchromaprint alone on the decoded samples, and both as timed above.")
    rows = []
    for name, files in sets.items():
        dec_w = fp_w = raw_w = total_audio = 0.0
        for path in files:
            raw_w += pyav_decode_only(path)
            wall_s, _, samples = decode_only(path)
            dec_w += wall_s
            fp_w += fingerprint_only(samples)[0]
            total_audio += len(samples) / audio.SAMPLE_RATE
        both = results[name]["ours"]
        rows.append(
            [
                name,
                total_audio / raw_w,
                total_audio / dec_w,
                total_audio / fp_w,
                both.audio_s / both.wall_s,
                f"{100 * dec_w / (dec_w + fp_w):.0f}%",
            ]
        )
    print(
        common.table(
            [
                "files",
                "PyAV decode alone",
                "audio.decode",
                "chromaprint only",
                "decode + chromaprint",
                "decode share",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
