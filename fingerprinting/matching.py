"""Find registered recordings in a query's Chromaprint items: index terms, offset voting, alignment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from fingerprinting import chromaprint

ITEMS_PER_SECOND = chromaprint.ITEMS_PER_SECOND
ITEM_S = 1.0 / ITEMS_PER_SECOND
# An item summarises 30031 samples (a 4096-sample frame plus 19 hops of filter and
# chroma-smoothing context), so item i covers [i * ITEM_S, i * ITEM_S + ITEM_SPAN_S).
ITEM_SPAN_S = 30031 / chromaprint.SAMPLE_RATE

# Bits of an item ordered from the most to the least stable, from the per-bit error
# rates measured by bench/accuracy.py on real music under MP3 64k, Opus 32k, AAC, 15 dB
# noise, excerpts cut off the item grid... (classifier c owns bits 31-2c and 30-2c; the
# high, gray-coded bit of each pair is the steadier one).
BIT_STABILITY_ORDER: tuple[int, ...] = (
    27, 3, 31, 29, 21, 19, 26, 30, 28, 2, 15, 18, 20, 1, 7, 25,
    11, 9, 23, 14, 6, 24, 0, 22, 5, 10, 17, 8, 13, 16, 4, 12,
)  # fmt: skip
KEY_BITS = 24  # the most stable 24: exact hits for ~55% of items of a degraded excerpt
KEY_MASK = int(sum(1 << bit for bit in BIT_STABILITY_ORDER[:KEY_BITS]))
PROBE_BITS: tuple[int, ...] = ()  # kept bits flipped in extra query keys (none: not needed)
ALGORITHM_VERSION = f"stemma-match/1 key={KEY_MASK:08x}"

SILENCE_KEY = chromaprint.SILENCE_ITEM & KEY_MASK

# Voting.
MAX_CANDIDATES = 24  # (recording, offset) pairs aligned per query
MIN_VOTES = 3  # a single random key collision is common; three at one offset are not
MAX_POSTINGS_PER_KEY = 2000  # keys more common than this (stop-words) carry no evidence
OFFSET_JITTER = 1  # items: grid phase and small speed residuals move the best offset by one

# Alignment. Bit error rates (BER) are the share of differing bits; unrelated audio is
# near 0.5. The thresholds are set from the distributions bench/accuracy.py measures.
SMOOTH_S = 3.0  # window of the moving-average BER that finds matching stretches
MAX_SMOOTHED_BER = 0.25  # a stretch matches while its smoothed BER stays under this
# The segment as a whole must do better. Measured on unrelated real music (every 30 s of
# 40 tracks against the others, at voted offsets), the best 5 s window has BER >= 0.206
# and the best 10 s window >= 0.252; true matches stay under 0.15 even 0.17% off speed.
MIN_SEGMENT_S = 5.0  # the shortest segment reported
MAX_SEGMENT_BER_AT_MIN = 0.15  # allowed BER for a MIN_SEGMENT_S segment ...
MAX_SEGMENT_BER = 0.20  # ... rising linearly to this for segments of 10 s and more
# Drones, clicks and loops repeat a few items: 10 s of real music have >= 0.70 distinct
# keys per item (p0.5 over 40 tracks); a slowly wobbling drone about 0.4-0.5.
MIN_DISTINCT_RATIO = 0.55
# Periodic audio agrees with a reference at many offsets: the offset found must beat every
# other offset 1.5-10 s away by this much BER. Real music repeats itself that closely
# (self BER < 0.15 at such lags) in 1.5% of 10 s windows; drones and loops always do.
UNIQUE_LAGS = range(12, 81)
MIN_UNIQUE_MARGIN = 0.03
FULL_CONFIDENCE_S = 10.0  # a segment this long or longer can reach score 1
START_CORRECTION_S = 0.3  # measured on planted excerpts (bench/accuracy.py): mean error ~0
END_CORRECTION_S = 1.7  # measured likewise: end error mean -0.06 s, p5 -2.1 s, p95 +0.8 s

# Speed search: queries played up to 2% fast or slow are tried at these presumed
# speeds (query speed / reference speed), nearest to 1 first. Off by 0.17% of speed the
# BER is ~0.08 (max 0.15); off by 0.25% it reaches 0.17: hence steps of 1/3 %.
SPEED_STEP = 1 / 300
# A match found at speed 1 with more errors than this may be a sped-up copy that still
# agrees (0.5% off gives BER ~0.16): the other speeds are then tried too, and win if better.
SPEED_REFINE_BER = 0.10
SPEED_FACTORS: tuple[float, ...] = tuple(
    round(1.0 + sign * k * SPEED_STEP, 5) for k in range(1, 7) for sign in (1, -1)
)


@dataclass(frozen=True)
class Candidate:
    """A recording and an offset (reference item - query item) the query's keys agree on."""

    ref_id: int
    offset: int
    votes: int


@dataclass(frozen=True)
class Segment:
    """A stretch of the query that matches a stretch of one reference."""

    query_start: int  # item indices, end exclusive
    query_end: int
    reference_start: int
    reference_end: int
    offset: int
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    bit_error_rate: float
    score: float
    query_coverage_pct: float
    reference_coverage_pct: float


@dataclass(frozen=True)
class Match:
    """A registered recording found in the query (the fields of a match in the API)."""

    ref_id: int
    score: float
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    query_coverage_pct: float
    reference_coverage_pct: float
    bit_error_rate: float
    speed_factor: float = 1.0
    algorithm: str = ALGORITHM_VERSION


class Index(Protocol):
    """What :func:`search` needs from an index: in memory, or PostgreSQL."""

    def postings(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, ref_ids, positions) of every indexed term whose key is in ``keys``."""
        ...

    def items(self, ref_ids: Iterable[int]) -> Mapping[int, np.ndarray]:
        """The raw fingerprints (uint32 items) of these references."""
        ...


SpeedVariants = Callable[[float], np.ndarray]


def _as_items(items: np.ndarray | Sequence[int]) -> np.ndarray:
    return np.asarray(items, dtype=np.int64).astype(np.uint32)


def index_terms(items: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Keys (int32, the stable bits of an item) and item positions a reference is indexed under.

    Silence items and all but the first item of a run of equal keys are skipped: they
    only add postings that vote for every offset inside the run.
    """
    raw = _as_items(items)
    keys = raw & np.uint32(KEY_MASK)
    keep = (raw != chromaprint.SILENCE_ITEM) & (keys != SILENCE_KEY)
    keep[1:] &= keys[1:] != keys[:-1]
    positions = np.flatnonzero(keep).astype(np.int32)
    return keys[positions].view(np.int32), positions


def query_terms(items: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Keys and positions to look up for a query: its index terms, plus any probe keys."""
    keys, positions = index_terms(items)
    if not PROBE_BITS:
        return keys, positions
    unsigned = keys.view(np.uint32)
    probes = [unsigned] + [unsigned ^ np.uint32(1 << bit) for bit in PROBE_BITS]
    all_keys = np.concatenate(probes).view(np.int32)
    return all_keys, np.tile(positions, len(probes))


def vote(
    query_keys: np.ndarray,
    query_positions: np.ndarray,
    posting_keys: np.ndarray,
    posting_refs: np.ndarray,
    posting_positions: np.ndarray,
    *,
    max_candidates: int = MAX_CANDIDATES,
    min_votes: int = MIN_VOTES,
    max_postings_per_key: int = MAX_POSTINGS_PER_KEY,
) -> list[Candidate]:
    """Rank (reference, offset) pairs by how many query items agree on them.

    Every posting that shares a key with a query term votes for ``offset = reference
    position - query position``. Votes at neighbouring offsets are pooled (the item grids
    of query and reference are not in phase), and each reference may keep several
    offsets at least 2 * OFFSET_JITTER + 1 apart (a recording reused twice).
    """
    qk = np.asarray(query_keys, dtype=np.int64)
    qp = np.asarray(query_positions, dtype=np.int64)
    pk = np.asarray(posting_keys, dtype=np.int64)
    pr = np.asarray(posting_refs, dtype=np.int64)
    pp = np.asarray(posting_positions, dtype=np.int64)
    if not len(qk) or not len(pk):
        return []
    _, inverse, counts = np.unique(pk, return_inverse=True, return_counts=True)
    common = counts[inverse] > max_postings_per_key
    if common.any():
        pk, pr, pp = pk[~common], pr[~common], pp[~common]
    order = np.argsort(qk, kind="stable")
    qk, qp = qk[order], qp[order]
    lo = np.searchsorted(qk, pk, side="left")
    hi = np.searchsorted(qk, pk, side="right")
    n = hi - lo
    total = int(n.sum())
    if total == 0:
        return []
    posting_index = np.repeat(np.arange(len(pk)), n)
    # The k-th pair of posting j takes query term lo[j] + k.
    first_pair = np.cumsum(n) - n
    query_index = lo[posting_index] + (np.arange(total) - first_pair[posting_index])
    offsets = pp[posting_index] - qp[query_index]
    ref_ids, ref_index = np.unique(pr[posting_index], return_inverse=True)

    # One vote per query item for a (reference, offset): probe keys may hit twice.
    span = int(offsets.max() - offsets.min()) + 2 * OFFSET_JITTER + 3
    bias = -int(offsets.min()) + OFFSET_JITTER + 1
    pair_code = ref_index.astype(np.int64) * span + (offsets + bias)
    per_item = np.unique(pair_code * (int(qp.max()) + 1) + qp[query_index])
    codes, votes = np.unique(per_item // (int(qp.max()) + 1), return_counts=True)

    pooled = votes.copy()
    for shift in range(1, OFFSET_JITTER + 1):
        for neighbour in (codes - shift, codes + shift):
            at = np.searchsorted(codes, neighbour)
            at_clipped = np.minimum(at, len(codes) - 1)
            found = codes[at_clipped] == neighbour
            pooled += np.where(found, votes[at_clipped], 0)
    ranked = np.argsort(-pooled, kind="stable")
    ranked = ranked[pooled[ranked] >= min_votes]

    accepted: list[Candidate] = []
    taken: dict[int, list[int]] = {}
    for i in ranked:
        ref = int(ref_ids[codes[i] // span])
        offset = int(codes[i] % span) - bias
        if any(abs(offset - o) <= 2 * OFFSET_JITTER for o in taken.get(ref, ())):
            continue
        taken.setdefault(ref, []).append(offset)
        accepted.append(Candidate(ref, offset, int(pooled[i])))
        if len(accepted) >= max_candidates:
            break
    return accepted


def _moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centered moving average along the last axis; edges average what the window holds."""
    half = window // 2
    padded = np.concatenate(
        [np.zeros((*values.shape[:-1], 1)), np.cumsum(values, axis=-1)], axis=-1
    )
    n = values.shape[-1]
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + window - half, 0, n)
    return (padded[..., hi] - padded[..., lo]) / (hi - lo)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def distinct_ratio(items: np.ndarray) -> float:
    """Distinct keys per item: near 1 for music, low for drones, clicks, loops, silence."""
    if not len(items):
        return 0.0
    keys = _as_items(items) & np.uint32(KEY_MASK)
    return float(len(np.unique(keys[keys != SILENCE_KEY]))) / len(keys)


def error_profile(
    query_items: np.ndarray, ref_items: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shifts tried, per-item bit errors (0-32) and smoothed BER at each, along the query.

    Items of the query with no reference item at a shift count 32 errors there.
    """
    q, r = _as_items(query_items), _as_items(ref_items)
    nq, nr = len(q), len(r)
    shifts = np.arange(offset - OFFSET_JITTER, offset + OFFSET_JITTER + 1)
    errors = np.full((len(shifts), nq), 32.0)
    for k, o in enumerate(shifts):
        i0, i1 = max(0, -int(o)), min(nq, nr - int(o))
        if i1 > i0:
            errors[k, i0:i1] = np.bitwise_count(q[i0:i1] ^ r[i0 + o : i1 + o])
    window = max(3, round(SMOOTH_S * ITEMS_PER_SECOND))
    return shifts, errors, _moving_mean(errors, window) / 32.0


def align(
    query_items: np.ndarray,
    ref_items: np.ndarray,
    offset: int,
    *,
    max_smoothed_ber: float = MAX_SMOOTHED_BER,
    max_segment_ber: float = MAX_SEGMENT_BER,
    max_segment_ber_at_min: float = MAX_SEGMENT_BER_AT_MIN,
    min_segment_s: float = MIN_SEGMENT_S,
    min_distinct_ratio: float = MIN_DISTINCT_RATIO,
) -> list[Segment]:
    """Stretches where the query, shifted by about ``offset`` items, repeats the reference.

    The per-item bit error is computed at offset - 1, offset and offset + 1, smoothed over
    SMOOTH_S, and the best of the three kept at each item, so the segment follows the
    reference through grid-phase jitter and small speed residuals.
    """
    q = _as_items(query_items)
    r = _as_items(ref_items)
    nq, nr = len(q), len(r)
    shifts, errors, smoothed = error_profile(q, r, offset)
    best_smoothed = smoothed.min(axis=0)
    # Over a few items, the right shift stands out even at the edges of a segment,
    # where the long window still mixes in the audio around it.
    local = _moving_mean(errors, 5) / 32.0
    half = round(SMOOTH_S * ITEMS_PER_SECOND) // 2
    segments: list[Segment] = []
    last_end = 0
    for run_start, run_end in _runs(best_smoothed <= max_smoothed_ber):
        # The long window both blurs and shrinks a stretch by up to half its width: look
        # half a window around the run for the items that agree locally.
        lo, hi = max(last_end, run_start - half), min(nq, run_end + half)
        if hi <= lo:
            continue
        local_best = np.argmin(local[:, lo:hi], axis=0)
        agree = local[local_best, np.arange(lo, hi)] <= max_smoothed_ber
        pieces = [(a, b) for a, b in _runs(agree) if a < run_end - lo and b > run_start - lo]
        if not pieces:
            continue
        first, last = pieces[0][0], pieces[-1][1]
        shift_per_item = local_best[first:last]
        start, end = lo + first, lo + last
        last_end = end
        ber = float(errors[shift_per_item, np.arange(start, end)].mean() / 32.0)
        duration_s = (end - start) * ITEM_S
        if duration_s < min_segment_s:
            continue
        # Longer agreement is less likely by chance: allow more errors, up to 10 s.
        stretch = min(1.0, max(0.0, (duration_s - min_segment_s) / (10.0 - min_segment_s)))
        if ber > max_segment_ber_at_min + stretch * (max_segment_ber - max_segment_ber_at_min):
            continue
        o = int(shifts[np.bincount(shift_per_item).argmax()])
        r_start, r_end = max(0, start + o), min(nr, end + o)
        if r_end - r_start < (end - start) // 2:
            continue
        ref_part, query_part = r[r_start:r_end], q[start:end]
        if min(distinct_ratio(ref_part), distinct_ratio(query_part)) < min_distinct_ratio:
            continue
        if _best_other_ber(q, r, start, end, o) < ber + MIN_UNIQUE_MARGIN:
            continue
        segments.append(_segment(start, end, r_start, r_end, o, ber, nq, nr))
    return segments


def _best_other_ber(q: np.ndarray, r: np.ndarray, start: int, end: int, offset: int) -> float:
    """The lowest BER of query items [start, end) against the reference at nearby offsets."""
    best = 1.0
    for lag in UNIQUE_LAGS:
        for o in (offset - lag, offset + lag):
            i0, i1 = max(start, -o), min(end, len(r) - o)
            if i1 - i0 >= 0.6 * (end - start):
                best = min(best, float(np.bitwise_count(q[i0:i1] ^ r[i0 + o : i1 + o]).mean()) / 32)
    return best


def _duration_s(n_items: int) -> float:
    """Length of the audio a fingerprint of ``n_items`` items was made from, near enough."""
    return (n_items - 1) * ITEM_S + ITEM_SPAN_S


def _segment(
    q_start: int, q_end: int, r_start: int, r_end: int, offset: int, ber: float, nq: int, nr: int
) -> Segment:
    # A segment that starts at item 0 of either side is aligned from the very first
    # sample; elsewhere the first matching item comes before the content, by about the
    # share of an item's span that may overlap other audio and still agree.
    start_correction = 0.0 if min(q_start, r_start) == 0 else START_CORRECTION_S
    at_end = q_end == nq or r_end == nr
    end_correction = ITEM_SPAN_S if at_end else END_CORRECTION_S
    duration_s = (q_end - 1 - q_start) * ITEM_S + end_correction - start_correction
    score = max(0.0, 1.0 - 2.0 * ber) * min(1.0, duration_s / FULL_CONFIDENCE_S)
    return Segment(
        query_start=q_start,
        query_end=q_end,
        reference_start=r_start,
        reference_end=r_end,
        offset=offset,
        query_start_s=q_start * ITEM_S + start_correction,
        query_end_s=(q_end - 1) * ITEM_S + end_correction,
        reference_start_s=r_start * ITEM_S + start_correction,
        reference_end_s=(r_end - 1) * ITEM_S + end_correction,
        bit_error_rate=ber,
        score=round(score, 4),
        query_coverage_pct=min(100.0, 100.0 * duration_s / _duration_s(nq)),
        reference_coverage_pct=min(100.0, 100.0 * duration_s / _duration_s(nr)),
    )


def _rows_with_keys(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row numbers of a table sorted by key whose key is one of ``wanted`` (sorted, unique)."""
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    n = hi - lo
    return np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))


def postings_for_each(
    index: Index, key_sets: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``index.postings(keys)`` for each of ``key_sets``, from one lookup of all their keys.

    The rows of each set are the same as its own lookup would give (in another order:
    :func:`vote` does not depend on it). Fingerprints of one query at neighbouring speeds
    share keys, and one query costs less than one per set.
    """
    wanted = [np.unique(np.asarray(keys, dtype=np.int32)) for keys in key_sets]
    every_key = np.unique(np.concatenate(wanted)) if wanted else np.zeros(0, np.int32)
    if not len(every_key):
        empty = np.zeros(0, dtype=np.int32)
        return [(empty, empty, empty) for _ in wanted]
    keys, refs, positions = index.postings(every_key)
    order = np.argsort(keys, kind="stable")
    keys, refs, positions = keys[order], refs[order], positions[order]
    out = []
    for want in wanted:
        rows = _rows_with_keys(keys, want)
        out.append((keys[rows], refs[rows], positions[rows]))
    return out


class MemoryIndex:
    """An in-memory inverted index with the same interface as the database-backed one."""

    def __init__(self) -> None:
        self._items: dict[int, np.ndarray] = {}
        self._terms: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._table: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, ref_id: int, items: np.ndarray) -> None:
        self._items[ref_id] = _as_items(items)
        self._terms[ref_id] = index_terms(items)
        self._table = None

    def remove(self, ref_id: int) -> None:
        self._items.pop(ref_id, None)
        self._terms.pop(ref_id, None)
        self._table = None

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ref_id: object) -> bool:
        return ref_id in self._items

    def _sorted_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._table is None:
            refs = list(self._terms)
            keys = [self._terms[r][0] for r in refs]
            positions = [self._terms[r][1] for r in refs]
            ref_column = [
                np.full(len(k), r, dtype=np.int64) for r, k in zip(refs, keys, strict=True)
            ]
            all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int32)
            order = np.argsort(all_keys, kind="stable")
            self._table = (
                all_keys[order],
                (np.concatenate(ref_column) if refs else np.zeros(0, np.int64))[order],
                (np.concatenate(positions) if refs else np.zeros(0, np.int32))[order],
            )
        return self._table

    def postings(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        table_keys, table_refs, table_positions = self._sorted_table()
        rows = _rows_with_keys(table_keys, np.unique(np.asarray(keys, dtype=np.int32)))
        return table_keys[rows], table_refs[rows], table_positions[rows]

    def items(self, ref_ids: Iterable[int]) -> dict[int, np.ndarray]:
        return {r: self._items[r] for r in ref_ids if r in self._items}


def _search_at(
    variants: Sequence[tuple[float, np.ndarray]],
    index: Index,
    max_candidates: int,
    max_postings_per_key: int,
) -> list[Match]:
    """Matches of fingerprints of the query, each presumed to play ``speed`` times too fast.

    Each (speed, fingerprint) is searched on its own, but the postings of all of them are
    fetched in one lookup, and the fingerprints of all their candidates in one more.
    """
    terms = [query_terms(items) for _, items in variants]
    found = postings_for_each(index, [keys for keys, _ in terms])
    candidates = [
        vote(
            keys,
            positions,
            *postings,
            max_candidates=max_candidates,
            max_postings_per_key=max_postings_per_key,
        )
        for (keys, positions), postings in zip(terms, found, strict=True)
    ]
    wanted = {c.ref_id for of_one in candidates for c in of_one}
    references = index.items(wanted) if wanted else {}
    return [
        _as_match(c.ref_id, s, speed)
        for (speed, query_items), of_one in zip(variants, candidates, strict=True)
        for c in of_one
        if c.ref_id in references
        for s in align(query_items, references[c.ref_id], c.offset)
    ]


def _as_match(ref_id: int, s: Segment, speed: float) -> Match:
    """A stretch aligned on the query slowed down by ``speed``, in the query's own time."""
    return Match(
        ref_id=ref_id,
        score=float(s.score),
        query_start_s=round(float(s.query_start_s) / speed, 3),
        query_end_s=round(float(s.query_end_s) / speed, 3),
        reference_start_s=round(float(s.reference_start_s), 3),
        reference_end_s=round(float(s.reference_end_s), 3),
        query_coverage_pct=round(float(s.query_coverage_pct), 2),
        reference_coverage_pct=round(float(s.reference_coverage_pct), 2),
        bit_error_rate=round(float(s.bit_error_rate), 4),
        speed_factor=round(speed, 4),
    )


def _overlap_s(a: Match, b: Match) -> float:
    return min(a.query_end_s, b.query_end_s) - max(a.query_start_s, b.query_start_s)


def _merge(matches: list[Match]) -> list[Match]:
    """One match per stretch of a reference: overlapping finds are merged or deduplicated.

    Finds of the same reference that overlap in the query and agree on where they sit
    in the reference (the same stretch seen from neighbouring offsets, or pieces of a
    long match that drifted by an item) become one match. Finds at another speed of a
    stretch already matched are dropped: the better-scored speed wins.
    """
    ordered = sorted(matches, key=lambda m: (-m.score, m.bit_error_rate))
    kept: list[Match] = []
    for m in ordered:
        merged = False
        for i, k in enumerate(kept):
            if k.ref_id != m.ref_id or _overlap_s(k, m) < -1.0:
                continue
            shift_k = k.reference_start_s - k.query_start_s * k.speed_factor
            shift_m = m.reference_start_s - m.query_start_s * m.speed_factor
            if k.speed_factor != m.speed_factor:
                if _overlap_s(k, m) > 0:
                    merged = True  # the same stretch at a worse speed
                    break
                continue
            if abs(shift_k - shift_m) > 2.0:
                continue
            kept[i] = _union(k, m)
            merged = True
            break
        if not merged:
            kept.append(m)
    return sorted(kept, key=lambda m: (-m.score, m.query_start_s))


def _union(a: Match, b: Match) -> Match:
    """Two overlapping stretches of the same reference at the same speed, as one match."""
    span_a, span_b = a.query_end_s - a.query_start_s, b.query_end_s - b.query_start_s
    q_start, q_end = min(a.query_start_s, b.query_start_s), max(a.query_end_s, b.query_end_s)
    r_start = min(a.reference_start_s, b.reference_start_s)
    r_end = max(a.reference_end_s, b.reference_end_s)
    # Matches keep seconds and percentages, not lengths: recover the lengths from them.
    query_length_s = span_a * 100.0 / max(a.query_coverage_pct, 1e-9)
    reference_length_s = (
        (a.reference_end_s - a.reference_start_s) * 100.0 / max(a.reference_coverage_pct, 1e-9)
    )
    ber = (a.bit_error_rate * span_a + b.bit_error_rate * span_b) / max(span_a + span_b, 1e-9)
    duration_s = (q_end - q_start) * a.speed_factor
    score = max(0.0, 1.0 - 2.0 * ber) * min(1.0, duration_s / FULL_CONFIDENCE_S)
    return replace(
        a,
        score=round(max(score, a.score, b.score), 4),
        query_start_s=q_start,
        query_end_s=q_end,
        reference_start_s=r_start,
        reference_end_s=r_end,
        query_coverage_pct=round(min(100.0, 100.0 * (q_end - q_start) / query_length_s), 2),
        reference_coverage_pct=round(min(100.0, 100.0 * (r_end - r_start) / reference_length_s), 2),
        bit_error_rate=round(ber, 4),
    )


def _uncovered_s(matches: list[Match], query_items: np.ndarray) -> float:
    """The longest stretch of non-silent query audio that no match covers, in seconds."""
    n = len(query_items)
    covered = np.zeros(n, dtype=bool)
    covered |= _as_items(query_items) == chromaprint.SILENCE_ITEM
    for m in matches:
        a = max(0, int(m.query_start_s * ITEMS_PER_SECOND))
        b = min(n, int(np.ceil(m.query_end_s * ITEMS_PER_SECOND)))
        covered[a:b] = True
    runs = _runs(~covered)
    return max((b - a for a, b in runs), default=0) * ITEM_S


def search(
    query_items: np.ndarray,
    index: Index,
    *,
    speed_variants: SpeedVariants | None = None,
    speed_factors: Sequence[float] = SPEED_FACTORS,
    max_candidates: int = MAX_CANDIDATES,
    max_postings_per_key: int = MAX_POSTINGS_PER_KEY,
) -> list[Match]:
    """Every registered recording found in the query, best first; [] when there is none.

    The query is searched as it is first. Only if some stretch of it at least
    MIN_SEGMENT_S long is left unexplained, or a match has a BER above SPEED_REFINE_BER,
    and ``speed_variants`` is given (a callable
    returning the fingerprint of the query undone from a presumed speed, such as
    :class:`fingerprinting.speed.SpeedVariants`), is it searched again at each of
    ``speed_factors``.
    """
    items = _as_items(query_items)
    matches = _search_at([(1.0, items)], index, max_candidates, max_postings_per_key)
    merged = _merge(matches)
    if speed_variants is not None and (
        _uncovered_s(merged, items) >= MIN_SEGMENT_S
        or any(m.bit_error_rate > SPEED_REFINE_BER for m in merged)
    ):
        variants = [(speed, _as_items(speed_variants(speed))) for speed in speed_factors]
        matches += _search_at(variants, index, max_candidates, max_postings_per_key)
    return _merge(matches)
