"""Print matching accuracy per case of issue 3 on real music, beside audfprint2 and AcoustID."""

from __future__ import annotations

import argparse
import collections
import json
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/accuracy.py` from anywhere
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))

import degrade  # noqa: E402

from fingerprinting import audio, chromaprint, matching, speed  # noqa: E402

IPS = chromaprint.ITEMS_PER_SECOND
OFFSET_TOLERANCE_S = 1.0


# ---------------------------------------------------------------- indexes and engines


class ExcludingIndex:
    """An index seen without some references: a host that is not registered, or LOO."""

    def __init__(self, base: matching.MemoryIndex, excluded: Iterable[int]) -> None:
        self.base = base
        self.excluded = np.array(sorted(set(excluded)), dtype=np.int64)

    def postings(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k, r, p = self.base.postings(keys)
        keep = ~np.isin(r, self.excluded)
        return k[keep], r[keep], p[keep]

    def items(self, ref_ids: Iterable[int]) -> dict[int, np.ndarray]:
        return {i: v for i, v in self.base.items(ref_ids).items() if i not in self.excluded}


@dataclass
class Found:
    """One engine's answer for one query: (ref, query_start_s, reference_start_s) each."""

    matches: list[tuple[int, float, float]]
    seconds: float


@dataclass
class Tally:
    queries: int = 0
    hits: int = 0
    query_errors: list[float] = field(default_factory=list)
    reference_errors: list[float] = field(default_factory=list)
    wrong: int = 0  # matches to another registered recording (index with the source)
    loo: int = 0  # any match once the source is withdrawn from the index
    seconds: list[float] = field(default_factory=list)


def acoustid_engine(refs: dict[int, np.ndarray]) -> Callable[..., Found]:
    """AcoustID-style whole-track lookup: 120 items from 10 s in, then compare2-like scoring.

    The server indexes items 80-200 of each fingerprint masked to their top 28 bits;
    candidates sharing a key are scored like pg_acoustid's compare2: offset voting on the
    top 14 bits (within ±80 items), then coverage x (1 - 2 x BER) of the aligned parts.
    A score of 0.5 or more counts as a match (the threshold is our assumption).
    """
    mask = np.uint32(0xFFFFFFF0)
    table: dict[int, set[int]] = collections.defaultdict(set)
    for ref, items in refs.items():
        for key in np.unique(items[80:200] & mask):
            table[int(key)].add(ref)

    def compare2(a: np.ndarray, b: np.ndarray, max_offset: int = 80) -> tuple[float, int]:
        a, b = a[:960], b[:960]  # the first two minutes, as AcoustID's clients send
        ta, tb = a >> np.uint32(18), b >> np.uint32(18)
        pos_a = {int(v): i for i, v in enumerate(ta)}
        pos_b = {int(v): i for i, v in enumerate(tb)}
        votes: collections.Counter[int] = collections.Counter()
        for key, i in pos_a.items():
            j = pos_b.get(key)
            if j is not None and abs(i - j) <= max_offset:
                votes[i - j] += 1
        if not votes:
            return 0.0, 0
        offset = votes.most_common(1)[0][0]
        a2, b2 = (a[offset:], b) if offset >= 0 else (a, b[-offset:])
        n = min(len(a2), len(b2))
        minsize = min(len(a), len(b))
        if n == 0 or minsize == 0:
            return 0.0, offset
        ber = float(np.bitwise_count(a2[:n] ^ b2[:n]).sum()) / (32 * n)
        return max(0.0, (n / minsize) * (1 - 2 * ber)), offset

    def search(query: np.ndarray, excluded: set[int]) -> Found:
        started = time.perf_counter()
        start = 80 if len(query) >= 200 else max(0, len(query) - 120)
        found: set[int] = set()
        for key in np.unique(query[start : start + 120] & mask):
            found |= table.get(int(key), set())
        matches = []
        for ref in found - excluded:
            score, offset = compare2(query, refs[ref])
            if score >= 0.5:
                # offset = query item - reference item at the best alignment
                matches.append((ref, max(0.0, offset / IPS), max(0.0, -offset / IPS)))
        return Found(matches, time.perf_counter() - started)

    return search


def audfprint_engine(
    track_samples: dict[int, np.ndarray],
) -> tuple[Callable[..., Found], float]:
    """audfprint2 with its defaults (20 hashes/s, 20-bit hashes), fed our decoded samples."""
    from audfprint2.core import analyzer, hash_table, matcher

    an = analyzer.Analyzer()
    ht = hash_table.HashTable(hashbits=20, depth=100, maxtime=1 << 16)  # tracks > 380 s
    started = time.perf_counter()

    def hashes(samples: np.ndarray, shifts: int = 1) -> list[tuple[int, int]]:
        # As its command line does: 4 sub-hop shifts for queries, 1 for references.
        d = samples.astype(np.float64) / 32768.0
        parts = []
        for shift in range(shifts):
            peaks = an.find_peaks(d[int(shift / shifts * an.n_hop) :], 11025)
            parts.append(analyzer.landmarks2hashes(an.peaks2landmarks(peaks)))
        found = np.unique(np.concatenate(parts), axis=0)
        return [(int(t), int(h)) for t, h in found.tolist()]

    for ref, samples in track_samples.items():
        ht.store(str(ref), hashes(samples))
    build_s = time.perf_counter() - started
    m = matcher.Matcher()
    m.find_time_range = True
    m.max_returns = 10
    m.window = 2  # its command line's --match-win default
    t_hop = an.n_hop / an.target_sr

    def search(samples: np.ndarray, excluded: set[int]) -> Found:
        started = time.perf_counter()
        q = hashes(samples, shifts=4)
        matches = []
        if len(q):
            rows = m.match_hashes(ht, np.array(q, dtype=np.int32))
            for ref_id, _count, align, _raw, _rank, t0, _t1 in rows[: m.max_returns]:
                name = ht.names[int(ref_id)]
                if name is None or int(name) in excluded:
                    continue
                matches.append((int(name), t0 * t_hop, (t0 + align) * t_hop))
        return Found(matches, time.perf_counter() - started)

    return search, build_s


# ---------------------------------------------------------------- measurements


def fingerprint_file(path: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(samples, items), or (None, None) when the decoder rejects the audio (silence...)."""
    try:
        decoded = audio.decode(path)
    except audio.AudioError:
        return None, None
    return decoded.samples, chromaprint.fingerprint(decoded.samples)


def score_query(
    tally: Tally, q: dict[str, Any], source: int | None, found: Found, loo: Found | None
) -> bool:
    """Add one query's outcome to its case; True when it was found (positives)."""
    tally.queries += 1
    tally.seconds.append(found.seconds)
    right = [m for m in found.matches if m[0] == source]
    tally.wrong += sum(1 for m in found.matches if m[0] != source)
    if loo is not None:
        tally.loo += len(loo.matches)
    if source is None or not right:
        return False
    if q["group"] == "planted":
        # Must be found where it was planted, not just somewhere in the host.
        right = [m for m in right if abs(m[1] - q["query_start_s"]) < q["duration_s"]]
        if not right:
            return False
    best = min(right, key=lambda m: abs(m[2] - q["reference_start_s"]))
    tally.hits += 1
    tally.query_errors.append(abs(best[1] - q["query_start_s"]))
    tally.reference_errors.append(abs(best[2] - q["reference_start_s"]))
    return True


def bit_statistics(pairs: list[np.ndarray]) -> None:
    """Per-bit error rates of aligned degraded items, and exact-key hit rates per key size."""
    x = np.concatenate(pairs)
    rates = np.array([float(((x >> np.uint32(b)) & 1).mean()) for b in range(32)])
    print(f"\nPer-bit error rates over {len(x)} aligned items of degraded queries (%):")
    for c in range(16):
        hi, lo = 31 - 2 * c, 30 - 2 * c
        print(
            f"  classifier {c:2d}: bit {hi:2d} {rates[hi] * 100:4.1f}  bit {lo:2d} {rates[lo] * 100:4.1f}"
        )
    order = [int(b) for b in np.argsort(rates, kind="stable")]
    print("  stability order:", order)
    print("  exact-key hit rate per key size (most stable bits):")
    for k in (16, 20, 22, 24, 26, 28, 32):
        mask = np.uint32(sum(1 << b for b in order[:k]))
        ours = np.uint32(sum(1 << b for b in matching.BIT_STABILITY_ORDER[:k]))
        print(
            f"    {k:2d} bits: {float(((x & mask) == 0).mean()) * 100:5.1f}%"
            f"  (with matching.BIT_STABILITY_ORDER: {float(((x & ours) == 0).mean()) * 100:5.1f}%)"
        )


def null_statistics(index: matching.MemoryIndex, refs: dict[int, np.ndarray]) -> None:
    """How well unrelated real recordings agree at the offsets voting proposes."""
    mins: dict[int, list[float]] = collections.defaultdict(list)
    votes = []
    for ref, items in refs.items():
        for w0 in range(0, max(1, len(items) - 240), 60):
            q = items[w0 : w0 + 240]
            keys, positions = matching.query_terms(q)
            others = ExcludingIndex(index, [ref])
            candidates = matching.vote(
                keys, positions, *others.postings(np.unique(keys)), max_candidates=500, min_votes=1
            )
            ref_items = others.items({c.ref_id for c in candidates})
            for c in candidates:
                votes.append(c.votes)
                _, errors, smoothed = matching.error_profile(q, ref_items[c.ref_id], c.offset)
                e = errors[np.argmin(smoothed, axis=0), np.arange(len(q))] / 32.0
                for w in (40, 64, 80):
                    if len(e) >= w:
                        c_sum = np.concatenate([[0.0], np.cumsum(e)])
                        mins[w].append(float(((c_sum[w:] - c_sum[:-w]) / w).min()))
    print(
        f"\nUnrelated pairs (30 s windows of every track vs all others, {len(votes)} "
        f"candidates at voted offsets): pooled votes max {max(votes, default=0)}"
    )
    for w, values in sorted(mins.items()):
        a = np.array(values)
        print(
            f"  best {w / IPS:4.1f} s window BER: min {a.min():.3f}  p0.1 "
            f"{np.percentile(a, 0.1):.3f}  p1 {np.percentile(a, 1):.3f}  median {np.median(a):.3f}"
        )


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):5.2f}" if values else "    -"


def print_table(title: str, tallies: dict[str, Tally], speed_of: dict[str, float]) -> None:
    print(f"\n{title}")
    print(
        f"{'case':34s} {'n':>4s} {'recall':>7s} {'q.err p50/p95':>14s} {'r.err p50/p95':>14s}"
        f" {'<=1s':>6s} {'wrong':>5s} {'LOO':>4s} {'ms p50/p95':>13s}"
    )
    for case in sorted(tallies, key=lambda c: (c.startswith("neg"), c)):
        t = tallies[case]
        if not t.queries:
            continue
        positive = not case.startswith("neg")
        recall = f"{100 * t.hits / t.queries:6.1f}%" if positive else "      -"
        within = (
            np.mean(
                [
                    max(a, b) <= OFFSET_TOLERANCE_S
                    for a, b in zip(t.query_errors, t.reference_errors, strict=True)
                ]
            )
            * 100
            if t.query_errors
            else float("nan")
        )
        ms = [s * 1000 for s in t.seconds]
        print(
            f"{case:34s} {t.queries:4d} {recall} {pct(t.query_errors, 50)}/{pct(t.query_errors, 95)}"
            f"  {pct(t.reference_errors, 50)}/{pct(t.reference_errors, 95)} {within:5.1f}%"
            f" {t.wrong:5d} {t.loo:4d} {pct(ms, 50):>6s}/{pct(ms, 95):>6s}"
        )
    groups: dict[str, list[Tally]] = collections.defaultdict(list)
    for case, t in tallies.items():
        groups[case.split("_")[0]].append(t)
    summary = []
    for g, ts in sorted(groups.items()):
        n = sum(t.queries for t in ts)
        if g != "neg":
            summary.append(f"{g} {100 * sum(t.hits for t in ts) / max(n, 1):.1f}%")
    false = sum(t.wrong + t.loo for t in tallies.values())
    print("  recall by group: " + ", ".join(summary) + f"; false matches in total: {false}")
    del speed_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=None, help="use the first N tracks only")
    parser.add_argument("--quick", action="store_true", help="two whole-track cases only")
    parser.add_argument(
        "--audfprint-every", type=int, default=4, help="run audfprint2 on every Nth query (0: off)"
    )
    parser.add_argument("--cache", type=Path, default=degrade.CACHE_DIR)
    args = parser.parse_args()
    if args.audfprint_every:
        try:
            import audfprint2  # noqa: F401
        except ImportError:  # say so now, not after the hour the set takes to build
            raise SystemExit(
                "audfprint2 is missing: .venv/bin/pip install -r requirements-bench.txt "
                "(or run with --audfprint-every 0)"
            ) from None

    manifest_file = degrade.manifest_path(args.cache, args.tracks, args.quick)
    if not manifest_file.exists():
        degrade.build(args.cache, args.tracks, args.quick)
    manifest = json.loads(manifest_file.read_text())
    names = sorted(manifest["tracks"])
    ids = {name: i for i, name in enumerate(names)}
    print(
        f"Stemma matching accuracy, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()} {platform.processor() or ''} x{len(__import__('os').sched_getaffinity(0))}, "
        f"{matching.ALGORITHM_VERSION}, {chromaprint.ALGORITHM_VERSION} {audio.PCM_VERSION}"
    )

    started = time.perf_counter()
    track_samples: dict[int, np.ndarray] = {}
    refs: dict[int, np.ndarray] = {}
    for name in names:
        decoded = audio.decode(manifest["tracks"][name])
        track_samples[ids[name]] = decoded.samples
        refs[ids[name]] = chromaprint.fingerprint(decoded.samples)
    total_s = sum(len(s) for s in track_samples.values()) / 11025
    print(
        f"{len(names)} registered tracks, {total_s / 3600:.2f} h, decoded and fingerprinted "
        f"in {time.perf_counter() - started:.1f} s"
    )
    index = matching.MemoryIndex()
    for ref, items in refs.items():
        index.add(ref, items)

    ours: dict[str, Tally] = collections.defaultdict(Tally)
    theirs: dict[str, Tally] = collections.defaultdict(Tally)
    acoustid: dict[str, Tally] = collections.defaultdict(Tally)
    acoustid_search = acoustid_engine(refs)
    audfprint_search = None
    if args.audfprint_every:
        audfprint_search, build_s = audfprint_engine(track_samples)
        print(f"audfprint2 index of the same tracks built in {build_s:.1f} s")

    xor_pairs: list[np.ndarray] = []
    start_errors: list[float] = []
    end_errors: list[float] = []
    base_ms: list[float] = []
    speed_ms: list[float] = []
    speed_runs = 0
    speed_of: dict[str, float] = {}
    misses: list[str] = []
    false_matches: list[str] = []
    for n, q in enumerate(manifest["queries"]):
        case = q["case"]
        speed_of[case] = q["speed"]
        source = ids[q["source"]] if q["source"] else None
        excluded = {ids[q["host"]]} if q["host"] else set()
        samples, items = fingerprint_file(q["path"])
        if samples is None or items is None:
            # The decoder refuses silent audio (AUDIO_SILENT): nothing is ever matched.
            for tallies in (ours, acoustid, theirs):
                score_query(tallies[case], q, source, Found([], 0.0), None)
            continue
        variants = speed.SpeedVariants(samples)
        searched_index = ExcludingIndex(index, excluded) if excluded else index
        t0 = time.perf_counter()
        result = matching.search(items, searched_index)
        base_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = matching.search(items, searched_index, speed_variants=variants)
        full_s = time.perf_counter() - t0
        if len(items) >= 200 and len(items) <= 300:  # 25-37 s queries: "per 30 s query"
            base_ms.append(base_s * 1000)
            speed_ms.append(full_s * 1000)
        speed_runs += variants.tried > 0
        found = Found([(m.ref_id, m.query_start_s, m.reference_start_s) for m in result], full_s)
        loo = None
        if source is not None:
            loo_index = ExcludingIndex(index, excluded | {source})
            loo_result = matching.search(items, loo_index, speed_variants=variants)
            loo = Found([(m.ref_id, m.query_start_s, m.reference_start_s) for m in loo_result], 0)
            for m in loo_result:
                false_matches.append(f"LOO {case} {q['source']} -> {names[m.ref_id]} {m}")
        for m in result:
            if m.ref_id != source:
                false_matches.append(f"{case} {q['source']} -> {names[m.ref_id]} {m}")
        if not score_query(ours[case], q, source, found, loo) and source is not None:
            misses.append(f"{case} {q['source']} ref@{q['reference_start_s']:.1f}s")
        for m in result:
            if m.ref_id == source and q["group"] in ("planted",):
                start_errors.append(m.query_start_s - q["query_start_s"])
                end_errors.append(m.query_end_s - (q["query_start_s"] + q["duration_s"]))
        if source is not None and q["group"] != "speed":
            right = [m for m in result if m.ref_id == source and m.speed_factor == 1.0]
            if right:
                offset = round((right[0].reference_start_s - right[0].query_start_s) * IPS)
                r = refs[source]
                i0, i1 = max(0, -offset), min(len(items), len(r) - offset)
                if q["group"] == "planted":
                    a = round(q["query_start_s"] * IPS) + 3
                    i0, i1 = a, a + round(q["duration_s"] * IPS) - 22
                i0, i1 = max(i0, -offset), min(i1, len(items), len(r) - offset)
                if i1 > i0:
                    xor_pairs.append(items[i0:i1] ^ r[i0 + offset : i1 + offset])

        score_query(
            acoustid[case],
            q,
            source,
            acoustid_search(items, excluded),
            acoustid_search(items, excluded | {source}) if source is not None else None,
        )
        if audfprint_search is not None and n % args.audfprint_every == 0:
            af = audfprint_search(samples, excluded)
            # It returns up to 10 recordings: without the source is what LOO would give.
            af_loo = (
                Found([m for m in af.matches if m[0] != source], 0.0)
                if source is not None
                else None
            )
            score_query(theirs[case], q, source, af, af_loo)
        if n % 100 == 0:
            print(f"  ... {n}/{len(manifest['queries'])} queries", file=sys.stderr, flush=True)

    print_table("Stemma matching (ours)", ours, speed_of)
    print_table(
        "AcoustID-style whole-track baseline (compare2-like, score >= 0.5)", acoustid, speed_of
    )
    if audfprint_search is not None:
        print_table(
            f"audfprint2 0.1.2 defaults, on every {args.audfprint_every}th query", theirs, speed_of
        )
    print(
        "\ncolumns: recall = found the right recording (planted: where it was planted); "
        "q.err/r.err = |query_start| / |reference_start| error in s; <=1s = share of found "
        "queries with both errors within 1 s; wrong = matches to another recording; "
        "LOO = matches once the source is withdrawn from the index (every track's queries "
        "against all other tracks); ms = time per query (ours: pure search, speed variants "
        "included, no decoding; AcoustID: lookup and compare2; audfprint2: hashing and lookup)"
    )
    if start_errors:
        print(
            f"\nPlanted excerpts, signed start error mean {np.mean(start_errors):+.2f} s "
            f"(p5 {np.percentile(start_errors, 5):+.2f}, p95 {np.percentile(start_errors, 95):+.2f}),"
            f" end error mean {np.mean(end_errors):+.2f} s "
            f"(p5 {np.percentile(end_errors, 5):+.2f}, p95 {np.percentile(end_errors, 95):+.2f})"
        )
    if base_ms:
        print(
            f"Pure search time per ~30 s query against {len(refs)} tracks in memory: at speed 1 "
            f"p50 {np.percentile(base_ms, 50):.1f} ms p95 {np.percentile(base_ms, 95):.1f} ms; "
            f"with the speed search when it runs p50 {np.percentile(speed_ms, 50):.1f} ms p95 "
            f"{np.percentile(speed_ms, 95):.1f} ms ({len(matching.SPEED_FACTORS)} speeds, "
            "resampling and fingerprinting included); the speed search ran for "
            f"{speed_runs} of {len(manifest['queries'])} queries"
        )
    if xor_pairs:
        bit_statistics(xor_pairs)
    null_statistics(index, refs)
    if misses:
        print(f"\nMissed ({len(misses)}):")
        for line in misses[:40]:
            print("  " + line)
    if false_matches:
        print(f"\nFalse matches ({len(false_matches)}):")
        for line in false_matches[:40]:
            print("  " + line)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
