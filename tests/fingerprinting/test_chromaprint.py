"""The Chromaprint binding: fpcalc-identical output, streaming, robustness, storage forms."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fingerprinting import audio, chromaprint, synth


def int16_music(seed: int, duration_s: float) -> np.ndarray:
    samples = synth.music(seed, duration_s, sample_rate=11025, channels=1)[:, 0]
    return (samples * 32767).astype(np.int16)


def bit_error_rate(a: np.ndarray, b: np.ndarray) -> float:
    """Share of differing bits over the items both have, aligned at item 0."""
    n = min(len(a), len(b))
    return float(np.bitwise_count(a[:n] ^ b[:n]).sum()) / (32 * n)


def fingerprint_file(path: Path) -> np.ndarray:
    fingerprinter = chromaprint.Fingerprinter()
    audio.decode(path, consumers=[fingerprinter])
    return fingerprinter.finish()


def test_algorithm_and_version() -> None:
    assert chromaprint.ALGORITHM == 1
    assert chromaprint.LIBRARY_VERSION.startswith("1.")
    version = chromaprint.ALGORITHM_VERSION
    assert version == f"chromaprint-{chromaprint.LIBRARY_VERSION}/test2"


def test_one_item_per_1365_samples_after_the_first_30031() -> None:
    samples = int16_music(1, 120.0)

    counts = {s: len(chromaprint.fingerprint(samples[: s * 11025])) for s in (30, 60, 120)}

    # 4096-sample FFT frames every 1365 samples, less 18 frames of filter context.
    assert counts == {s: (s * 11025 - 4096) // 1365 - 18 for s in (30, 60, 120)}
    assert counts == {30: 221, 60: 463, 120: 948}
    items_per_second = (counts[120] - counts[60]) / 60
    assert items_per_second == pytest.approx(8.0769, abs=0.02)
    assert items_per_second == pytest.approx(chromaprint.ITEMS_PER_SECOND, abs=0.02)
    assert len(chromaprint.fingerprint(samples[:30030])) == 0
    assert len(chromaprint.fingerprint(samples[:30031])) == 1


@pytest.mark.skipif(
    shutil.which("fpcalc") is None,
    reason="fpcalc (Debian package libchromaprint-tools) is not installed",
)
def test_raw_fingerprint_equals_fpcalc(tmp_path: Path) -> None:
    path = tmp_path / "music.wav"
    synth.write(path, synth.music(2, 45.0, sample_rate=11025, channels=1), 11025, "wav")

    def fpcalc(*args: str) -> str:
        # fpcalc 1.5.1 on FFmpeg 5 exits 3 with "Error decoding audio frame (End of file)"
        # after printing a complete result, so its exit status is not checked.
        out = subprocess.run(
            ["fpcalc", *args, "-length", "0", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        ).stdout
        fields = dict(line.split("=", 1) for line in out.splitlines())
        assert fields["DURATION"] == "45"
        return fields["FINGERPRINT"]

    ours = fingerprint_file(path)
    theirs = np.array([int(item) for item in fpcalc("-raw").split(",")], dtype=np.int64)

    assert len(ours) == 342
    assert np.array_equal(ours.astype(np.int64), theirs & 0xFFFFFFFF)
    assert chromaprint.encode(ours) == fpcalc()


def test_streaming_in_uneven_chunks_equals_one_call() -> None:
    samples = int16_music(3, 20.0)
    whole = chromaprint.fingerprint(samples)

    fingerprinter = chromaprint.Fingerprinter()
    bounds = [0, 1, 7, 4096, 4097, 50_000, 123_457, len(samples)]
    for start, end in itertools.pairwise(bounds):
        fingerprinter.feed(samples[start:end])
    streamed = fingerprinter.finish()

    assert len(whole) == 140
    assert np.array_equal(streamed, whole)
    assert streamed.dtype == np.uint32


def test_mp3_and_wav_of_the_same_music_match_and_other_music_does_not(tmp_path: Path) -> None:
    def encoded(seed: int, fmt: str) -> Path:
        path = tmp_path / f"{seed}.{fmt}"
        synth.write(path, synth.music(seed, 20.0), 44100, fmt, bitrate=128_000)
        return path

    wav = fingerprint_file(encoded(5, "wav"))
    mp3 = fingerprint_file(encoded(5, "mp3"))
    other = fingerprint_file(encoded(6, "wav"))

    assert len(wav) == len(mp3) == len(other) == 140
    assert bit_error_rate(wav, mp3) < 0.15
    assert 0.35 < bit_error_rate(wav, other) < 0.65


def test_digital_silence_gives_the_silence_item() -> None:
    raw = chromaprint.fingerprint(np.zeros(10 * 11025, dtype=np.int16))

    assert len(raw) == 59
    assert set(raw.tolist()) == {chromaprint.SILENCE_ITEM}


def test_other_rates_and_channels_are_resampled_by_chromaprint() -> None:
    mono = int16_music(4, 10.0)
    stereo = np.repeat(mono, 2)  # interleaved L, R

    raw = chromaprint.fingerprint(stereo, sample_rate=11025, channels=2)

    assert np.array_equal(raw, chromaprint.fingerprint(mono))


def test_encode_decode_round_trip() -> None:
    raw = chromaprint.fingerprint(int16_music(7, 15.0))

    text = chromaprint.encode(raw)

    assert text.startswith("AQAA")
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert np.array_equal(chromaprint.decode_fingerprint(text), raw)
    assert chromaprint.decode_fingerprint(chromaprint.encode(raw[:0])).size == 0


def test_decode_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a valid Chromaprint fingerprint"):
        chromaprint.decode_fingerprint("AQAAtoo-short")


def test_storage_bytes_are_little_endian_uint32() -> None:
    raw = np.array([1, 0x01020304, chromaprint.SILENCE_ITEM, 0xFFFFFFFF], dtype=np.uint32)

    data = chromaprint.to_bytes(raw)

    assert data[:8] == b"\x01\x00\x00\x00\x04\x03\x02\x01"
    assert len(data) == 16
    assert np.array_equal(chromaprint.from_bytes(data), raw)
    with pytest.raises(ValueError, match="multiple of 4"):
        chromaprint.from_bytes(b"\x00\x01\x02")


def test_fingerprinter_contract() -> None:
    fingerprinter = chromaprint.Fingerprinter()

    with pytest.raises(TypeError, match="int16"):
        fingerprinter.feed(np.zeros(100, dtype=np.float32))
    fingerprinter.feed(int16_music(8, 5.0))
    first = fingerprinter.finish()

    assert fingerprinter.finish() is first  # idempotent, so decode() may call it first
    assert len(first) == 19
    with pytest.raises(RuntimeError, match="finished"):
        fingerprinter.feed(np.zeros(10, dtype=np.int16))
