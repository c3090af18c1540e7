"""Speed changes of decoded PCM: length, pitch, and undoing them for matching."""

from __future__ import annotations

import numpy as np
import pytest

from fingerprinting import chromaprint, speed, synth

RATE = 11025


def tone_int16(freq: float, duration_s: float) -> np.ndarray:
    return (synth.tone(freq, duration_s, RATE, 1)[:, 0] * 32767).astype(np.int16)


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum)) * RATE / len(samples)


@pytest.mark.parametrize("factor", [1.02, 0.98, 1.005])
def test_change_speed_scales_length_and_pitch_together(factor: float) -> None:
    samples = tone_int16(440.0, 20.0)

    faster = speed.change_speed(samples, factor)

    assert faster.dtype == np.int16
    assert len(faster) == pytest.approx(len(samples) / factor, abs=64)
    assert peak_hz(faster) == pytest.approx(440.0 * factor, abs=0.2)


def test_factor_one_is_a_copy() -> None:
    samples = tone_int16(440.0, 1.0)

    same = speed.change_speed(samples, 1.0)

    assert np.array_equal(same, samples)
    assert same is not samples


def test_effective_factor_is_a_whole_number_of_hz() -> None:
    assert speed.source_rate(1.02) == 11246
    assert speed.effective_factor(1.02) == 11246 / 11025
    with pytest.raises(ValueError, match="outside"):
        speed.change_speed(tone_int16(440.0, 1.0), 3.0)


def test_speed_variants_undo_a_speed_change_and_cache_it() -> None:
    music = (synth.music(7, 30.0, RATE, 1)[:, 0] * 32767).astype(np.int16)
    original = chromaprint.fingerprint(music)
    sped_up = speed.change_speed(music, 1.02)
    variants = speed.SpeedVariants(sped_up)

    restored = variants(1.02)
    again = variants(1.02)

    assert again is restored
    assert variants.tried == 1
    n = min(len(original), len(restored)) - 5
    ber = np.bitwise_count(original[:n] ^ restored[:n]).mean() / 32
    as_is = np.bitwise_count(original[:n] ^ chromaprint.fingerprint(sped_up)[:n]).mean() / 32
    assert ber < 0.08  # the restored copy agrees with the original item by item
    assert as_is > 0.2  # while the sped-up copy does not
