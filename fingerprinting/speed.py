"""Speed-changed copies of decoded 11025 Hz PCM, for matching audio played too fast or slow."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from fingerprinting import chromaprint

SAMPLE_RATE = chromaprint.SAMPLE_RATE
_BLOCK = 1 << 16  # samples per frame handed to the resampler


def source_rate(factor: float) -> int:
    """The rate the samples are declared at to play ``factor`` times faster."""
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor {factor} is outside 0.5-2.0")
    return round(SAMPLE_RATE * factor)


def effective_factor(factor: float) -> float:
    """The factor :func:`change_speed` really applies (rates are whole numbers of Hz)."""
    return source_rate(factor) / SAMPLE_RATE


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Mono int16 PCM at 11025 Hz played ``factor`` times faster, pitch and tempo together.

    The samples are declared to be at ``11025 * factor`` Hz and resampled to 11025 Hz
    with FFmpeg's resampler, exactly what a turntable or tape running fast does; the
    output is ``1 / factor`` times as long. No second decode of the file is needed.
    """
    data = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
    rate = source_rate(factor)
    if rate == SAMPLE_RATE:
        return data.copy()
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    out: list[np.ndarray] = []
    for start in range(0, len(data), _BLOCK):
        frame = av.AudioFrame.from_ndarray(
            data[start : start + _BLOCK].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not out:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(out).astype(np.int16, copy=False)


class SpeedVariants:
    """Fingerprints of a query undone from a presumed speed, computed lazily and cached.

    ``variants(speed)`` is the raw fingerprint of the query slowed down by ``speed``,
    i.e. what the query would give had it been played at the reference's speed, if it
    was in fact played ``speed`` times faster. :func:`fingerprinting.matching.search`
    calls it only for the speeds it decides to try.
    """

    def __init__(self, samples: np.ndarray) -> None:
        self._samples = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        self._cache: dict[int, np.ndarray] = {}

    @property
    def tried(self) -> int:
        """How many speeds have been fingerprinted so far."""
        return len(self._cache)

    def __call__(self, speed: float) -> np.ndarray:
        rate = source_rate(1.0 / speed)
        if rate not in self._cache:
            restored = change_speed(self._samples, rate / SAMPLE_RATE)
            self._cache[rate] = chromaprint.fingerprint(restored)
        return self._cache[rate]
