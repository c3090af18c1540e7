"""Matching: index terms, voting, alignment, and search on audio the tests make and degrade."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import FrozenInstanceError
from fractions import Fraction

import av
import numpy as np
import pytest

from fingerprinting import audio, chromaprint, matching, speed, synth

RATE = 44100
REF_S = 40.0
REFERENCE_SEEDS = (1, 2, 3, 4)
SILENCE = chromaprint.SILENCE_ITEM


# ---------------------------------------------------------------- helpers


def decode_items(samples: np.ndarray, rate: int, fmt: str, bitrate: int | None = None):
    """Encode like an uploader would, decode like the registry does: (pcm, items)."""
    buffer = io.BytesIO()
    synth.write(buffer, samples, rate, fmt, bitrate=bitrate)
    buffer.seek(0)
    decoded = audio.decode(buffer)
    return decoded.samples, chromaprint.fingerprint(decoded.samples)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """FFmpeg's resampler over float (n, 2) samples; ``from_rate`` may be a pretend rate."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples.T), format="fltp", layout="stereo"
    )
    frame.sample_rate, frame.pts, frame.time_base = from_rate, 0, Fraction(1, from_rate)
    out = [f.to_ndarray() for f in resampler.resample(frame)]
    out += [f.to_ndarray() for f in resampler.resample(None)]
    return np.ascontiguousarray(np.concatenate(out, axis=1).T)


def cut(samples: np.ndarray, start_s: float, duration_s: float) -> np.ndarray:
    return samples[round(start_s * RATE) : round((start_s + duration_s) * RATE)]


def with_noise(samples: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(samples.shape).astype(np.float32)
    level = np.sqrt(np.mean(samples**2)) / np.sqrt(np.mean(noise**2)) * 10 ** (-snr_db / 20)
    return samples + noise * np.float32(level)


def stereo(mono: np.ndarray) -> np.ndarray:
    return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)


def click_track(duration_s: float, bpm: float = 120.0) -> np.ndarray:
    out = np.zeros(round(duration_s * RATE))
    t = np.arange(2000) / RATE
    click = 0.5 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)
    for beat in np.arange(0, duration_s - 0.1, 60 / bpm):
        i = round(beat * RATE)
        out[i : i + len(click)] += click[: len(out) - i]
    return stereo(out)


def drone(duration_s: float, root_hz: float = 110.0) -> np.ndarray:
    t = np.arange(round(duration_s * RATE)) / RATE
    wobble = 1 + 0.002 * np.sin(2 * np.pi * 0.2 * t)
    return stereo(sum(0.15 * np.sin(2 * np.pi * f * t * wobble) for f in (root_hz, root_hz * 1.5)))


# ---------------------------------------------------------------- fixtures


class Catalogue:
    """Four registered synthetic recordings, their float audio, and an index of them."""

    def __init__(self) -> None:
        self.audio = {seed: synth.music(seed, REF_S, RATE, 2) for seed in REFERENCE_SEEDS}
        self.items = {seed: decode_items(x, RATE, "flac")[1] for seed, x in self.audio.items()}
        self.index = matching.MemoryIndex()
        for seed, items in self.items.items():
            self.index.add(seed, items)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


def search_audio(
    catalogue: Catalogue, samples: np.ndarray, rate: int = RATE, fmt: str = "flac", **kw
) -> list[matching.Match]:
    pcm, items = decode_items(samples, rate, fmt, kw.pop("bitrate", None))
    return matching.search(items, catalogue.index, speed_variants=speed.SpeedVariants(pcm), **kw)


# ---------------------------------------------------------------- index terms and voting


def test_index_terms_skip_silence_and_repeated_items() -> None:
    items = np.array([SILENCE, 5, 5, 5, 7, SILENCE, 9, 5], dtype=np.uint32)

    keys, positions = matching.index_terms(items)

    assert positions.tolist() == [1, 4, 6, 7]
    assert keys.dtype == np.int32
    assert keys.view(np.uint32).tolist() == [
        int(v) & matching.KEY_MASK for v in items[[1, 4, 6, 7]]
    ]


def test_keys_ignore_the_least_stable_bits() -> None:
    unstable = [b for b in range(32) if not matching.KEY_MASK >> b & 1]
    item = np.array([0x12345678], dtype=np.uint32)
    flipped = item ^ np.uint32(1 << unstable[0])

    assert len(unstable) == 32 - matching.KEY_BITS
    assert matching.index_terms(item)[0][0] == matching.index_terms(flipped)[0][0]
    assert matching.query_terms(item)[0].tolist() == matching.index_terms(item)[0].tolist()
    assert matching.ALGORITHM_VERSION.startswith("stemma-match/1")


def test_vote_pools_jitter_and_keeps_two_offsets_of_one_reference() -> None:
    query_keys = np.arange(100, 130, dtype=np.int32)
    query_positions = np.arange(30, dtype=np.int32)
    # Reference 7 holds the query twice (offsets 500 and 900, the second with ±1
    # jitter); reference 8 shares three keys at scattered offsets.
    jitter = np.tile([0, 1, -1], 10)
    posting_keys = np.concatenate([query_keys, query_keys, query_keys[:3]])
    posting_refs = np.array([7] * 60 + [8] * 3)
    posting_positions = np.concatenate(
        [query_positions + 500, query_positions + 900 + jitter, [5, 50, 95]]
    )

    candidates = matching.vote(
        query_keys, query_positions, posting_keys, posting_refs, posting_positions
    )

    assert [(c.ref_id, c.offset) for c in candidates] == [(7, 500), (7, 900)]
    assert candidates[0].votes == 30
    assert candidates[1].votes >= 20


def test_vote_ignores_stop_word_keys() -> None:
    query_keys = np.array([1, 2, 3, 4], dtype=np.int32)
    query_positions = np.arange(4, dtype=np.int32)
    posting_keys = np.full(50, 1)
    posting_refs = np.arange(50)
    posting_positions = np.zeros(50, dtype=np.int32)

    assert (
        matching.vote(
            query_keys,
            query_positions,
            posting_keys,
            posting_refs,
            posting_positions,
            min_votes=1,
            max_postings_per_key=10,
        )
        == []
    )
    assert len(
        matching.vote(
            query_keys, query_positions, posting_keys, posting_refs, posting_positions, min_votes=1
        )
    ) == min(50, matching.MAX_CANDIDATES)


def test_align_finds_a_planted_stretch_to_the_item() -> None:
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 2**32, 1000, dtype=np.uint32)
    query = rng.integers(0, 2**32, 300, dtype=np.uint32)
    query[50:170] = ref[400:520] ^ np.uint32(0b1001)  # 2 bits in 32 wrong: BER 1/16

    segments = matching.align(query, ref, 350)

    assert len(segments) == 1
    s = segments[0]
    # To the item, give or take one random neighbour that happens to agree well enough.
    assert s.offset == 350
    assert s.query_start == pytest.approx(50, abs=1) and s.query_end == pytest.approx(170, abs=1)
    assert s.reference_start - s.query_start == 350 and s.reference_end - s.query_end == 350
    assert s.bit_error_rate == pytest.approx(1 / 16, abs=0.01)
    assert s.query_start_s == pytest.approx(50 / matching.ITEMS_PER_SECOND + 0.5, abs=0.6)
    # Coverage is of audio time: 120 items of 300 are about 40% of it.
    assert s.query_coverage_pct == pytest.approx(40.0, abs=2.5)
    assert s.reference_coverage_pct == pytest.approx(12.0, abs=1.0)
    assert s.score == pytest.approx(1 - 2 * s.bit_error_rate)  # longer than 10 s


def test_align_rejects_unrelated_and_repetitive_items() -> None:
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 2**32, 600, dtype=np.uint32)
    unrelated = rng.integers(0, 2**32, 600, dtype=np.uint32)
    loop = np.tile(rng.integers(0, 2**32, 4, dtype=np.uint32), 150)

    assert matching.align(unrelated, ref, 0) == []
    assert matching.align(loop, loop, 0) == []  # it agrees, but says nothing


def test_memory_index_add_remove_and_items() -> None:
    index = matching.MemoryIndex()
    items = np.arange(1000, 1100, dtype=np.uint32) * np.uint32(2654435761)
    index.add(1, items)
    keys, _ = matching.index_terms(items)

    _, refs, positions = index.postings(keys[:5])
    assert refs.tolist() == [1] * 5 and sorted(positions.tolist()) == [0, 1, 2, 3, 4]
    assert np.array_equal(index.items([1, 2])[1], items)

    index.remove(1)
    assert len(index) == 0 and index.postings(keys)[0].size == 0
    assert matching.search(items, index) == []


def rows_of(postings: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[tuple[int, int, int]]:
    return sorted(zip(*(column.tolist() for column in postings), strict=True))


class CountingIndex:
    """An index that counts the lookups made of it."""

    def __init__(self, base: matching.Index) -> None:
        self.base = base
        self.postings_lookups = 0
        self.items_lookups = 0

    def postings(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.postings_lookups += 1
        return self.base.postings(keys)

    def items(self, ref_ids: Iterable[int]) -> Mapping[int, np.ndarray]:
        self.items_lookups += 1
        return self.base.items(ref_ids)


def test_postings_for_each_key_set_are_its_own_lookups_rows_from_one_lookup() -> None:
    shared = np.arange(1000, 1040, dtype=np.uint32) * np.uint32(2654435761)
    index = matching.MemoryIndex()
    index.add(1, shared)
    index.add(2, np.concatenate([shared[20:], shared[:20]]))  # the same keys, elsewhere
    index.add(3, np.arange(5000, 5040, dtype=np.uint32) * np.uint32(2654435761))
    keys = {ref: matching.index_terms(index.items([ref])[ref])[0] for ref in (1, 3)}
    key_sets = [
        keys[1][:10],
        np.concatenate([keys[1][5:15], keys[3][:3], keys[3][:3]]),  # overlapping, repeated
        np.zeros(0, dtype=np.int32),
        np.array([7], dtype=np.int32),  # in no reference
    ]
    counting = CountingIndex(index)

    together = matching.postings_for_each(counting, key_sets)

    assert counting.postings_lookups == 1
    assert [rows_of(rows) for rows in together] == [
        rows_of(index.postings(keys)) for keys in key_sets
    ]
    assert [len(rows[0]) for rows in together] == [20, 23, 0, 0]
    assert matching.postings_for_each(counting, [np.zeros(0, dtype=np.int32)])[0][0].size == 0
    assert counting.postings_lookups == 1  # nothing to look up: no lookup


# ---------------------------------------------------------------- degraded real-pipeline audio

Degradation = Callable[[np.ndarray], tuple[np.ndarray, int, str, int | None]]
WHOLE_CASES: dict[str, Degradation] = {
    "mp3 64k": lambda x: (x, RATE, "mp3", 64_000),
    "opus 32k": lambda x: (x, RATE, "opus", 32_000),
    "aac m4a": lambda x: (x, RATE, "m4a", 96_000),
    "-20 dB": lambda x: (x * np.float32(0.1), RATE, "mp3", 128_000),
    "+6 dB clipped": lambda x: (x * np.float32(2.0), RATE, "mp3", 128_000),
    "8 kHz": lambda x: (resample(x, RATE, 8000), 8000, "flac", None),
    "96 kHz": lambda x: (resample(x, RATE, 96000), 96000, "flac", None),
    "mono": lambda x: (x.mean(axis=1, keepdims=True), RATE, "mp3", 128_000),
    "15 dB SNR noise": lambda x: (with_noise(x, 15.0), RATE, "mp3", 128_000),
}


@pytest.mark.parametrize("case", list(WHOLE_CASES))
def test_whole_recording_degraded_is_found_whole(catalogue: Catalogue, case: str) -> None:
    samples, rate, fmt, bitrate = WHOLE_CASES[case](catalogue.audio[3])

    matches = search_audio(catalogue, samples, rate, fmt, bitrate=bitrate)

    assert [m.ref_id for m in matches] == [3]
    m = matches[0]
    assert m.query_start_s == pytest.approx(0.0, abs=0.5)
    assert m.reference_start_s == pytest.approx(0.0, abs=0.5)
    assert m.query_end_s == pytest.approx(REF_S, abs=1.0)
    assert m.query_coverage_pct > 95 and m.reference_coverage_pct > 95
    assert m.bit_error_rate < 0.1
    assert m.speed_factor == 1.0
    assert 0.8 < m.score <= 1.0
    assert m.algorithm == matching.ALGORITHM_VERSION


@pytest.mark.parametrize(("start_s", "fmt"), [(3.3, "mp3"), (23.7, "opus"), (14.1, "m4a")])
def test_excerpt_of_ten_seconds_is_found_with_its_offset(
    catalogue: Catalogue, start_s: float, fmt: str
) -> None:
    excerpt = cut(catalogue.audio[2], start_s, 10.0)

    matches = search_audio(catalogue, excerpt, fmt=fmt, bitrate=64_000)

    assert [m.ref_id for m in matches] == [2]
    assert matches[0].query_start_s == pytest.approx(0.0, abs=0.2)
    assert matches[0].reference_start_s == pytest.approx(start_s, abs=0.5)
    assert matches[0].query_coverage_pct > 90
    assert matches[0].reference_coverage_pct == pytest.approx(25, abs=5)


def test_excerpt_planted_in_other_audio_is_located_on_both_sides(catalogue: Catalogue) -> None:
    host = synth.music(99, 40.0, RATE, 2)  # not registered
    at_s, from_s = 17.3, 11.2
    planted = host.copy()
    planted[round(at_s * RATE) : round((at_s + 10) * RATE)] = cut(catalogue.audio[4], from_s, 10)

    matches = search_audio(catalogue, planted, fmt="mp3", bitrate=128_000)

    assert [m.ref_id for m in matches] == [4]
    m = matches[0]
    assert m.query_start_s == pytest.approx(at_s, abs=1.0)
    assert m.query_end_s == pytest.approx(at_s + 10, abs=1.0)
    assert m.reference_start_s == pytest.approx(from_s, abs=1.0)
    assert m.reference_end_s == pytest.approx(from_s + 10, abs=1.0)


def test_query_reusing_two_recordings_gives_two_matches(catalogue: Catalogue) -> None:
    medley = np.concatenate([cut(catalogue.audio[1], 5, 15), cut(catalogue.audio[3], 20, 15)])

    matches = search_audio(catalogue, medley, fmt="mp3", bitrate=128_000)

    by_ref = {m.ref_id: m for m in matches}
    assert sorted(by_ref) == [1, 3]
    assert by_ref[1].query_start_s == pytest.approx(0, abs=0.5)
    assert by_ref[1].reference_start_s == pytest.approx(5, abs=0.5)
    assert by_ref[3].query_start_s == pytest.approx(15, abs=1.0)
    assert by_ref[3].reference_start_s == pytest.approx(20, abs=1.0)


@pytest.mark.parametrize("factor", [1.02, 0.98, 1.0125])
def test_speed_change_is_found_and_its_factor_reported(catalogue: Catalogue, factor: float) -> None:
    excerpt = cut(catalogue.audio[1], 8.0, 25.0)
    faster = resample(excerpt, round(RATE * factor), RATE)  # a fast or slow turntable

    plain = matching.search(decode_items(faster, RATE, "mp3", 128_000)[1], catalogue.index)
    matches = search_audio(catalogue, faster, fmt="mp3", bitrate=128_000)

    assert plain == []  # Chromaprint alone does not see it
    assert [m.ref_id for m in matches] == [1]
    assert matches[0].speed_factor == pytest.approx(factor, abs=0.002)
    assert matches[0].reference_start_s == pytest.approx(8.0, abs=1.0)
    assert matches[0].query_start_s == pytest.approx(0.0, abs=0.5)


def test_the_other_speeds_are_looked_up_together(catalogue: Catalogue) -> None:
    excerpt = cut(catalogue.audio[1], 8.0, 25.0)
    pcm, items = decode_items(resample(excerpt, round(RATE * 1.02), RATE), RATE, "mp3", 128_000)
    counting = CountingIndex(catalogue.index)

    matches = matching.search(items, counting, speed_variants=speed.SpeedVariants(pcm))

    assert [(m.ref_id, m.speed_factor) for m in matches] == [(1, 1.02)]
    # The query as it is, then its 12 speed variants in one lookup, not 12.
    assert counting.postings_lookups == 2
    assert counting.items_lookups <= 2


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda c: synth.music(50, 30.0, RATE, 2), id="unrelated music"),
        pytest.param(lambda c: synth.music(51, 30.0, RATE, 2), id="more unrelated music"),
        # -45 dBFS: -55.5 dBFS once mono and band-limited to 11025 Hz, above what decode()
        # rejects as silent (-60; -50 dBFS would be -60.5 there)
        pytest.param(lambda c: synth.noise(30.0, RATE, 2, rms_dbfs=-45.0), id="near-silence"),
        pytest.param(lambda c: synth.noise(30.0, RATE, 2, rms_dbfs=-10.0), id="white noise"),
        pytest.param(lambda c: click_track(30.0), id="click track"),
        pytest.param(lambda c: drone(30.0), id="drone"),
        pytest.param(lambda c: np.tile(cut(c.audio[2], 10, 2.0), (15, 1)), id="2 s loop"),
    ],
)
def test_unrelated_or_repetitive_audio_matches_nothing(
    catalogue: Catalogue, make: Callable[[Catalogue], np.ndarray]
) -> None:
    assert search_audio(catalogue, make(catalogue), fmt="mp3", bitrate=128_000) == []


def test_silence_items_match_nothing(catalogue: Catalogue) -> None:
    silence = np.full(300, SILENCE, dtype=np.uint32)

    assert matching.query_terms(silence)[0].size == 0
    assert matching.search(silence, catalogue.index, speed_variants=lambda s: silence) == []


def test_registered_drones_and_clicks_do_not_match_every_drone_and_click() -> None:
    index = matching.MemoryIndex()
    index.add(1, decode_items(click_track(40.0, bpm=120), RATE, "flac")[1])
    index.add(2, decode_items(drone(40.0, root_hz=110), RATE, "flac")[1])
    index.add(3, np.full(320, SILENCE, dtype=np.uint32))  # the decoder refuses silent files

    queries = (
        click_track(30.0, bpm=120),
        click_track(30.0, bpm=100),
        drone(30.0, 110),
        drone(30.0, 112),
    )
    for query in queries:
        items = decode_items(query, RATE, "mp3", 128_000)[1]
        assert matching.search(items, index) == []


def test_match_is_frozen_and_complete(catalogue: Catalogue) -> None:
    matches = matching.search(catalogue.items[2], catalogue.index)

    assert len(matches) == 1
    m = matches[0]
    assert (m.ref_id, m.query_start_s, m.reference_start_s, m.speed_factor) == (2, 0.0, 0.0, 1.0)
    assert (m.query_coverage_pct, m.reference_coverage_pct, m.bit_error_rate) == (100, 100, 0)
    assert m.score == 1.0
    assert m.query_end_s == pytest.approx(REF_S, abs=0.2)
    with pytest.raises(FrozenInstanceError):
        m.score = 0.5  # type: ignore[misc]
