"""Upsampling artifacts in the averaged high-resolution spectrum: the fakeprint and its features (pure numpy).

The mechanism (Afchar et al., ISMIR 2025, "A Fourier Explanation of AI-music Artifacts";
the method is under patent application by its authors, so this detector is pluggable and
can be switched off): a transposed convolution of stride ``s`` is zero insertion followed
by a convolution, so the non-zero mean of its input (left by biases and activations)
becomes a signal of period ``s`` samples, i.e. spectral lines at multiples of the layer's
input rate. A stack of such layers at output rate ``r`` leaves lines at multiples of
``r / n`` Hz (``n`` a product of the last strides), whatever the weights.

What is computed here, in one streaming pass beside the fingerprint:

1. :class:`SpectrumAccumulator`: mono float audio at 44.1 kHz, 16384-point Hann frames
   (2.69 Hz bins: a line stays within one bin; combs as fine as 24000 / 512 = 47 Hz
   are resolved), without overlap (the cost budget: 50 % overlap doubles the FFTs for
   little gain in a 30 s average); near-silent frames skipped; per bin, the mean of the
   log power over its quietest 30 % of frames (``TRIM_FRACTION``: the frames where the
   music at that frequency is loud mask a decoder's lines, and are left out; a geometric
   mean, so quiet passages count as much as loud ones).
2. :func:`fakeprint`: that mean log spectrum minus its local lower envelope, over the high
   band; the envelope at each bin is the larger of the medians of the bins 3 to 10 to its
   left and to its right, so a line (2 bins wide with Hann) stands out by its height, while
   the steep edge of a codec's low-pass or of a lower native rate does not (it is above
   one side only). In dB above the floor: level independent.
3. :func:`features`: a short vector that a linear model reads. Position-free
   statistics (the largest narrow peaks, how many) and the comb search (is there a set of
   lines at exact multiples of ``r / n`` for a standard rate ``r``?) generalise to
   architectures never seen in training. The "matched" set adds
   :func:`matched_comb_scores`: combs with 7-smooth divisors only (a decoder's hop is a
   product of small strides), every tooth summed in units of the fakeprint's own noise.
   The "contrast" set (shipped) adds :func:`comb_contrast_scores`: the best smooth comb
   against the best "rough" one (other divisors), which a note's partials feed as much.
   The pooled fakeprint itself (the paper's input) is kept as an option, and measured
   worse on unseen architectures (docs/ai-detection.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from fingerprinting.evidence import MEDIUM, Evidence

if TYPE_CHECKING:
    from fingerprinting.detector_model import DetectorModel

ALGORITHM_VERSION = "stemma-spectral/2"  # /2: the trimmed average (was the plain mean)
SAMPLE_RATE = 44100
FFT_SIZE = 16384
HOP = FFT_SIZE  # no overlap: half the cost of 50 %, and the mean converges as well
BIN_HZ = SAMPLE_RATE / FFT_SIZE  # 2.69 Hz
FULL_FRAMES = 160  # the first ~60 s: every frame; after that, one frame in SPARSE_STEP
SPARSE_STEP = 2  # (the average has converged by then: every frame found no more, session 5)
# The trimmed average (``trim``): per bin, the loudest share of frames is left out of the
# mean, the frames where the music at that frequency masks a decoder's lines. The frames'
# log spectra are kept for it, at most MAX_KEPT_FRAMES (then one in two, and so on).
TRIM_FRACTION = 0.7
MAX_KEPT_FRAMES = 1024
MIN_TRIMMED_FRAMES = 16  # ... but the mean keeps at least this many (a short file is noisy)
SILENT_FRAME_DBFS = -70.0  # frames quieter than this (RMS) are skipped
POWER_FLOOR = 1e-14  # added to every bin's power: -140 dB, below 16-bit quantisation
BAND_HZ = (4000.0, 20000.0)  # where the fakeprint is read
ENVELOPE_GAP_BINS = 3  # a Hann line spans +-2 bins: the envelope starts beyond it
ENVELOPE_SPAN_BINS = 8  # bins on each side whose median is the floor there
PEAK_MIN_DB = 3.0  # a fakeprint value above this is reported as a peak
# Generators work at standard rates; their lines sit at multiples of rate / n.
COMB_RATES_HZ = (16000, 22050, 24000, 32000, 44100, 48000)
COMB_MIN_SPACING_HZ = 40.0
COMB_MAX_SPACING_HZ = 6000.0
COARSE_COMB_HZ = 250.0  # combs at least this wide come from a decoder's last layers
COMB_TOLERANCE_BINS = 1  # a tooth is the largest value within +-1 bin of k * spacing
TOP_PEAKS = (1, 2, 3, 5, 8, 13, 21)
PEAK_COUNT_DB = (3.0, 6.0, 10.0)
_DB_PER_NEPER = 10.0 / math.log(10.0)  # 10 log10(x) = ln(x) * 10 / ln(10)
FFT_BATCH = 16  # frames per FFT call (the work buffers' size)
_TRIM_BLOCK_BINS = 1024  # bins per block of the trimmed mean's partition
MIN_FRAMES = 16  # ~3 s of non-silent audio: less says nothing
REPORTED_PEAKS = 12
POOL_HZ = 100.0  # width of the pooled fakeprint cells (the paper-style features)

# The matched comb (feature set "matched"): decoder strides are small integers, so a
# decoder's hop (their product) has no prime factor above 7; a note's harmonics at a
# random pitch do not pick such a divisor. Scores are read over sub-bands from 4 kHz
# (a generator at 16-32 kHz has no lines above its Nyquist frequency).
SMOOTH_PRIMES: tuple[int, ...] = (2, 3, 5, 7)
SUB_BANDS_HZ = ((4000.0, 8000.0), (4000.0, 12000.0), (4000.0, 16000.0), (4000.0, 20000.0))
Z_BLOCK_BINS = 256  # the fakeprint's noise is estimated per ~690 Hz block
Z_FLOOR_DB = 0.3  # ... and never below this (a band at the digital floor is flat)
Z_CLIP = 10.0  # one loud partial cannot make a comb

FEATURE_SETS = ("invariant", "matched", "contrast", "fakeprint", "both")


@dataclass(frozen=True)
class AverageSpectrum:
    """The mean log power spectrum of a piece of audio, and how many frames went into it."""

    # FFT_SIZE // 2 + 1 bins, 10 log10(power) (0 dB: a full-scale sine); NaN outside the
    # bins the fakeprint reads (BAND_HZ plus the envelope's reach), which are not computed.
    mean_db: np.ndarray = field(repr=False)
    frames: int
    sample_rate: int = SAMPLE_RATE
    fft_size: int = FFT_SIZE

    @property
    def bin_hz(self) -> float:
        return self.sample_rate / self.fft_size

    @property
    def duration_s(self) -> float:
        """Audio analysed (silent and skipped frames not counted)."""
        return self.frames * self.fft_size / self.sample_rate


class SpectrumAccumulator:
    """A streaming consumer: ``feed`` mono float32 chunks (int16 is scaled), ``finish`` once.

    Frames are cut from the stream exactly as from the whole signal, so feeding in
    chunks of any size gives the same result as :func:`average_spectrum` on all of it.
    ``finish`` is idempotent (like :class:`fingerprinting.chromaprint.Fingerprinter`).
    Only the bins whose fakeprint can be read over ``band_hz`` are computed.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        fft_size: int = FFT_SIZE,
        hop: int | None = None,
        trim: float = TRIM_FRACTION,
        band_hz: tuple[float, float] = BAND_HZ,
    ) -> None:
        if not 0.0 <= trim < 1.0:
            raise ValueError(f"trim must be in [0, 1), not {trim}")
        self.sample_rate = sample_rate
        self.fft_size = fft_size
        self.hop = hop or fft_size
        self.trim = trim
        self._window = _hann(fft_size)
        # Power of a full-scale sine through this window and FFT: 0 dB means full scale.
        self._scale = 4.0 / float(self._window.sum()) ** 2
        # Only the bins the fakeprint reads are analysed (the log is most of the cost).
        bin_hz = sample_rate / fft_size
        reach = ENVELOPE_GAP_BINS + ENVELOPE_SPAN_BINS
        self._lo = max(0, math.ceil(band_hz[0] / bin_hz) - reach)
        self._hi = min(fft_size // 2, math.floor(band_hz[1] / bin_hz) + reach) + 1
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._sum_db = np.zeros(fft_size // 2 + 1, dtype=np.float64)
        self._frames = 0
        self._cut = 0  # frames cut from the stream so far, analysed or not
        self._silent_ms = float(10 ** (SILENT_FRAME_DBFS / 10))
        self._result: AverageSpectrum | None = None
        # Work buffers, reused for every batch: numpy's float64 FFT is several times
        # faster than its float32 one, and fresh megabyte-sized arrays for every batch
        # cost as much again in page faults.
        self._frames_buffer = np.empty((FFT_BATCH, fft_size), dtype=np.float64)
        self._spectra_buffer = np.empty((FFT_BATCH, fft_size // 2 + 1), dtype=np.complex128)
        self._real_buffer = np.empty((FFT_BATCH, self._hi - self._lo), dtype=np.float64)
        self._imag_buffer = np.empty_like(self._real_buffer)
        self._power_buffer = np.empty((FFT_BATCH, self._hi - self._lo), dtype=np.float32)
        # The trimmed average's frames (natural log of the power, band only): allocated
        # on first use; pages that are never written cost nothing.
        self._kept: np.ndarray | None = None
        self._kept_count = 0
        self._keep_every = 1  # doubles each time the store is full

    def feed(self, samples: np.ndarray) -> None:
        if self._result is not None:
            raise RuntimeError("this SpectrumAccumulator is finished")
        data = np.asarray(samples).reshape(-1)
        if data.dtype == np.int16:
            data = data.astype(np.float32) / 32768.0
        elif data.dtype != np.float32:
            data = data.astype(np.float32)
        if not data.size:
            return
        self._pending.append(data)
        self._pending_len += data.size
        # Batches of frames: one FFT call per ~3 s of audio keeps numpy's overhead low.
        if self._pending_len >= self.fft_size + 8 * self.hop:
            self._drain()

    def _drain(self) -> None:
        if self._pending_len < self.fft_size:
            return
        buffer = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        count = 1 + (len(buffer) - self.fft_size) // self.hop
        frames = np.lib.stride_tricks.sliding_window_view(buffer, self.fft_size)[:: self.hop][
            :count
        ]
        # Every frame up to FULL_FRAMES, then one in SPARSE_STEP: two strided views of the
        # buffer, in stream order, so that no frame is copied before it is windowed.
        first = self._cut
        self._cut += count
        dense = min(max(FULL_FRAMES - first, 0), count)
        self._add(frames[:dense])
        self._add(frames[dense + (FULL_FRAMES - first - dense) % SPARSE_STEP :: SPARSE_STEP])
        rest = buffer[count * self.hop :]
        self._pending = [rest] if rest.size else []
        self._pending_len = rest.size

    def _add(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        mean_square = np.einsum("ij,ij->i", frames, frames) / self.fft_size
        loud_mask = mean_square >= self._silent_ms
        loud = frames if loud_mask.all() else frames[loud_mask]  # a view unless some are quiet
        for start in range(0, len(loud), FFT_BATCH):
            block = loud[start : start + FFT_BATCH]
            n = len(block)
            windowed = self._frames_buffer[:n]
            np.multiply(block, self._window, out=windowed)
            spectra = self._spectra_buffer[:n]
            np.fft.rfft(windowed, axis=1, out=spectra)
            band = spectra[:, self._lo : self._hi]
            real = self._real_buffer[:n]
            imag = self._imag_buffer[:n]
            power = self._power_buffer[:n]
            np.multiply(band.real, band.real, out=real)
            np.multiply(band.imag, band.imag, out=imag)
            np.add(real, imag, out=power)  # float32 from here: its log is 3x faster
            power *= self._scale
            power += POWER_FLOOR
            np.log(power, out=power)  # the natural log is twice as fast as log10
            if self.trim:
                self._keep(power)
            else:
                self._sum_db[self._lo : self._hi] += _DB_PER_NEPER * power.sum(
                    axis=0, dtype=np.float64
                )
            self._frames += n

    def _keep(self, log_power: np.ndarray) -> None:
        """Store every ``_keep_every``-th analysed frame (natural log); when the store is
        full, keep every other stored frame and store half as often: the kept frames stay
        evenly spread over the whole file, whatever its length."""
        if self._kept is None:
            self._kept = np.empty((MAX_KEPT_FRAMES, self._hi - self._lo), dtype=np.float32)
        for index, row in enumerate(log_power, self._frames):
            if index % self._keep_every:
                continue
            if self._kept_count == MAX_KEPT_FRAMES:
                half = MAX_KEPT_FRAMES // 2
                self._kept[:half] = self._kept[::2]
                self._kept_count = half
                self._keep_every *= 2
                if index % self._keep_every:
                    continue
            self._kept[self._kept_count] = row
            self._kept_count += 1

    def _trimmed_mean_db(self) -> np.ndarray:
        """Per bin, the mean (dB) of the kept frames without the loudest ``trim`` share, over
        at least MIN_TRIMMED_FRAMES of them (all of a file with fewer)."""
        assert self._kept is not None
        kept = self._kept[: self._kept_count]
        keep = max(
            min(len(kept), MIN_TRIMMED_FRAMES), len(kept) - math.floor(self.trim * len(kept))
        )
        if keep == len(kept):
            return _DB_PER_NEPER * kept.mean(axis=0, dtype=np.float64)
        # Bins by blocks, each copied bin-major first: partitioning contiguous rows is about
        # twice as fast as partitioning down the columns of the frame-major store.
        mean = np.empty(kept.shape[1], dtype=np.float64)
        for start in range(0, kept.shape[1], _TRIM_BLOCK_BINS):
            block = np.ascontiguousarray(kept[:, start : start + _TRIM_BLOCK_BINS].T)
            block.partition(keep - 1, axis=1)
            mean[start : start + _TRIM_BLOCK_BINS] = block[:, :keep].mean(axis=1, dtype=np.float64)
        return _DB_PER_NEPER * mean

    def finish(self) -> AverageSpectrum:
        if self._result is None:
            self._drain()
            self._pending, self._pending_len = [], 0
            # (Frame 0 is always kept: a trimmed accumulator with frames has a store.)
            mean = self._sum_db / self._frames if self._frames else self._sum_db.copy()
            if self._kept_count:
                mean[self._lo : self._hi] = self._trimmed_mean_db()
            mean[: self._lo] = np.nan  # not analysed
            mean[self._hi :] = np.nan
            self._result = AverageSpectrum(
                mean.astype(np.float32), self._frames, self.sample_rate, self.fft_size
            )
        return self._result


@lru_cache(maxsize=4)
def _hann(size: int) -> np.ndarray:
    window = np.hanning(size + 1)[:-1]  # periodic Hann, float64 (see SpectrumAccumulator)
    window.setflags(write=False)
    return window


def average_spectrum(
    samples: np.ndarray, sample_rate: int = SAMPLE_RATE, trim: float = TRIM_FRACTION
) -> AverageSpectrum:
    """One-shot :class:`SpectrumAccumulator` over mono samples (float in [-1, 1], or int16)."""
    accumulator = SpectrumAccumulator(sample_rate, trim=trim)
    accumulator.feed(samples)
    return accumulator.finish()


@dataclass(frozen=True)
class Fakeprint:
    """Mean log spectrum minus its local lower envelope, in dB, over ``band_hz``."""

    freqs_hz: np.ndarray = field(repr=False)
    values_db: np.ndarray = field(repr=False)
    bin_hz: float
    first_bin: int  # index of freqs_hz[0] in the full spectrum
    # Comb scores computed from it (:func:`_candidate_scores`): the features, the evidence's
    # grid comb and the contrast read the same ones, each computed once.
    _scores: dict[tuple[tuple[float, float], str], tuple[np.ndarray, np.ndarray] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def z_pairs(self) -> np.ndarray:
        """The clipped robust z (:func:`robust_z`), each bin paired with the next (the larger):
        a line at an exact frequency lies between two bins."""
        z = np.clip(robust_z(self), -3.0, Z_CLIP)
        return np.append(np.maximum(z[:-1], z[1:]), z[-1])


def fakeprint(spectrum: AverageSpectrum, band_hz: tuple[float, float] = BAND_HZ) -> Fakeprint:
    """The fakeprint over ``band_hz`` (clipped to what the spectrum has)."""
    mean_db = spectrum.mean_db.astype(np.float64)
    bin_hz = spectrum.bin_hz
    gap, span = ENVELOPE_GAP_BINS, ENVELOPE_SPAN_BINS
    reach = gap + span - 1
    lo = max(reach, math.ceil(band_hz[0] / bin_hz))
    hi = min(len(mean_db) - 1 - reach, math.floor(band_hz[1] / bin_hz))
    windows = np.lib.stride_tricks.sliding_window_view(mean_db, span)
    # windows[j] covers bins j .. j + span - 1.
    left = np.median(windows[lo - reach : hi - reach + 1], axis=1)
    right = np.median(windows[lo + gap : hi + gap + 1], axis=1)
    values = mean_db[lo : hi + 1] - np.maximum(left, right)
    freqs = np.arange(lo, hi + 1) * bin_hz
    return Fakeprint(freqs, values, bin_hz, lo)


def peaks(print_: Fakeprint, min_db: float = PEAK_MIN_DB) -> list[tuple[float, float]]:
    """Local maxima (over +-2 bins) above ``min_db``: ``(frequency_hz, height_db)``, highest first."""
    v = print_.values_db
    if len(v) < 5:
        return []
    padded = np.pad(v, 2, constant_values=-np.inf)
    neighbours = np.lib.stride_tricks.sliding_window_view(padded, 5).max(axis=1)
    is_peak = (v >= neighbours) & (v >= min_db)
    order = np.argsort(-v[is_peak], kind="stable")
    return [(float(print_.freqs_hz[is_peak][i]), float(v[is_peak][i])) for i in order]


@dataclass(frozen=True)
class Comb:
    """The best set of lines at exact multiples of ``rate_hz / divisor``."""

    rate_hz: int
    divisor: int
    spacing_hz: float
    teeth: int  # multiples of the spacing inside the band
    contrast_db: float  # mean tooth height minus mean height half-way between teeth
    z: float  # contrast in units of its noise (spread of the fakeprint * sqrt(2 / teeth))
    hit_fraction: float  # teeth higher than PEAK_MIN_DB


@dataclass(frozen=True)
class _Ragged:
    """One list of bins per candidate comb, concatenated for vectorised sums."""

    bins: np.ndarray  # every candidate's bins, one after the other (relative to the band)
    start: np.ndarray  # where each candidate's bins start in ``bins``
    count: np.ndarray

    @classmethod
    def of(cls, lists: list[np.ndarray], last_bin: int) -> _Ragged:
        count = np.array([len(bins) for bins in lists])
        return cls(
            np.clip(np.concatenate(lists), 0, last_bin),
            np.concatenate([[0], np.cumsum(count)[:-1]]),
            count,
        )

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per candidate, the sum of ``values`` at its bins."""
        return self.sums_of_taken(values[self.bins])

    def sums_of_taken(self, taken: np.ndarray) -> np.ndarray:
        """Per candidate, the sum of ``taken`` (values already read at ``bins``)."""
        return np.add.reduceat(taken, self.start)

    def means(self, values: np.ndarray) -> np.ndarray:
        return self.sums(values) / self.count


@dataclass(frozen=True)
class _Candidates:
    """Every candidate comb over one band: its teeth and the bins half-way between."""

    meta: list[tuple[int, int, float]]  # (rate, divisor, spacing)
    teeth: _Ragged
    mids: _Ragged
    spacing_hz: np.ndarray  # each candidate's spacing (meta's third column)


def _combs(
    lo_hz: float, hi_hz: float, *, divisors: str = "all"
) -> Iterator[tuple[int, int, float, np.ndarray, np.ndarray]]:
    """Each comb spacing ``rate / divisor`` (standard rates, spacing limits) once, with its
    teeth ``k`` and half-way points ``k_mid`` inside [lo_hz, hi_hz]. ``divisors``:
    "all", "smooth" (products of small primes: a decoder's strides) or "rough" (the
    others). Every standard rate is itself 7-smooth, so a spacing shared by two rates has
    a smooth divisor at both or at neither."""
    seen: set[float] = set()
    for rate in COMB_RATES_HZ:
        for divisor in range(2, int(rate / COMB_MIN_SPACING_HZ) + 1):
            spacing = rate / divisor
            if spacing > COMB_MAX_SPACING_HZ or (
                divisors != "all" and _smooth(divisor) != (divisors == "smooth")
            ):
                continue
            if round(spacing, 2) in seen:
                continue
            seen.add(round(spacing, 2))
            k = np.arange(math.ceil(lo_hz / spacing), math.floor(hi_hz / spacing) + 1)
            k_mid = k[(k + 0.5) * spacing <= hi_hz]
            if len(k) >= 2 and len(k_mid) >= 1:
                yield rate, divisor, spacing, k, k_mid


@lru_cache(maxsize=8)
def _comb_candidates(first_bin: int, last_bin: int, bin_hz: float) -> _Candidates:
    meta: list[tuple[int, int, float]] = []
    teeth: list[np.ndarray] = []
    mids: list[np.ndarray] = []
    lo_hz, hi_hz = first_bin * bin_hz, last_bin * bin_hz
    n = last_bin - first_bin + 1
    for rate, divisor, spacing, k, k_mid in _combs(lo_hz, hi_hz):
        meta.append((rate, divisor, spacing))
        teeth.append(np.rint(k * spacing / bin_hz).astype(np.int64) - first_bin)
        mids.append(np.rint((k_mid + 0.5) * spacing / bin_hz).astype(np.int64) - first_bin)
    return _Candidates(
        meta,
        _Ragged.of(teeth, n - 1),
        _Ragged.of(mids, n - 1),
        np.array([m[2] for m in meta]),
    )


@dataclass(frozen=True)
class _CombTable:
    """Every candidate comb's statistics over one fakeprint (computed once, read twice)."""

    candidates: _Candidates
    spacing_hz: np.ndarray
    contrast: np.ndarray
    z: np.ndarray
    hits: np.ndarray


def _comb_table(print_: Fakeprint) -> _CombTable | None:
    v = np.clip(print_.values_db, 0.0, None)
    n = len(v)
    if n < 64:
        return None
    padded = np.pad(v, COMB_TOLERANCE_BINS)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * COMB_TOLERANCE_BINS + 1).max(
        axis=1
    )
    # The noise of a difference of two means of K values: std * sqrt(2 / K). The plain
    # standard deviation (not a robust one): a spectrum full of musical peaks must not
    # make every candidate look significant.
    spread = max(float(local_max.std()), 0.3)
    c = _comb_candidates(print_.first_bin, print_.first_bin + n - 1, print_.bin_hz)
    at_teeth = local_max[c.teeth.bins]  # read once for both statistics
    hits = c.teeth.sums_of_taken((at_teeth > PEAK_MIN_DB).astype(np.float64))
    contrast = c.teeth.sums_of_taken(at_teeth) / c.teeth.count - c.mids.means(local_max)
    z = contrast * np.sqrt(c.teeth.count / 2.0) / spread
    return _CombTable(c, c.spacing_hz, contrast, z, hits)


def _best_combs(
    table: _CombTable | None, best: int, min_spacing_hz: float, max_spacing_hz: float
) -> list[Comb]:
    if table is None:
        return []
    c, spacing_hz = table.candidates, table.spacing_hz
    z = np.where((spacing_hz >= min_spacing_hz) & (spacing_hz < max_spacing_hz), table.z, -np.inf)
    chosen: list[Comb] = []
    for i in np.argsort(-z, kind="stable")[:200]:
        if not np.isfinite(z[i]):
            break
        rate, divisor, spacing = c.meta[i]
        # A comb at spacing d also scores at d/2, d/3, 2d...: keep one per family.
        if any(_related(spacing, other.spacing_hz) for other in chosen):
            continue
        chosen.append(
            Comb(
                rate,
                divisor,
                spacing,
                int(c.teeth.count[i]),
                float(table.contrast[i]),
                float(z[i]),
                float(table.hits[i] / c.teeth.count[i]),
            )
        )
        if len(chosen) == best:
            break
    return chosen


def combs(
    print_: Fakeprint,
    best: int = 3,
    min_spacing_hz: float = 0.0,
    max_spacing_hz: float = math.inf,
) -> list[Comb]:
    """The ``best`` candidate combs by z, each from a different spacing family."""
    return _best_combs(_comb_table(print_), best, min_spacing_hz, max_spacing_hz)


def _sharp_heights(print_: Fakeprint) -> np.ndarray:
    """Each local maximum's height above the higher of the values 2 bins away.

    A steady line (a decoder's) has all its energy within +-1 bin with a Hann window; a
    musical partial, whose pitch moves, spills into the next bins and counts less.
    """
    v = print_.values_db
    if len(v) < 5:
        return np.zeros(0)
    padded = np.pad(v, 2, constant_values=-np.inf)
    neighbours = np.lib.stride_tricks.sliding_window_view(padded, 5).max(axis=1)
    is_peak = (v >= neighbours) & (v > 0)
    index = np.nonzero(is_peak)[0]
    side = np.maximum(padded[index], padded[index + 4])  # v[i - 2], v[i + 2]
    return np.clip(v[index] - np.maximum(side, 0.0), 0.0, None)


def _related(a: float, b: float) -> bool:
    ratio = max(a, b) / min(a, b)
    return abs(ratio - round(ratio)) < 0.01


def _pooled(print_: Fakeprint, band_hz: tuple[float, float] = BAND_HZ) -> np.ndarray:
    """The fakeprint max-pooled into POOL_HZ cells over the whole band (zeros where absent)."""
    cells = round((band_hz[1] - band_hz[0]) / POOL_HZ)
    out = np.zeros(cells, dtype=np.float64)
    index = ((print_.freqs_hz - band_hz[0]) // POOL_HZ).astype(np.int64)
    keep = (index >= 0) & (index < cells)
    np.maximum.at(out, index[keep], np.clip(print_.values_db[keep], 0.0, None))
    return out / 10.0


def _largest_prime_factor(n: int) -> int:
    largest, factor = 1, 2
    while factor * factor <= n:
        while n % factor == 0:
            largest, n = factor, n // factor
        factor += 1
    return max(largest, n) if n > 1 else largest


def _smooth(n: int) -> bool:
    return _largest_prime_factor(n) <= SMOOTH_PRIMES[-1]


def robust_z(print_: Fakeprint) -> np.ndarray:
    """The fakeprint in units of its own noise: (value - block median) / block MAD."""
    v = print_.values_db.astype(np.float64)
    z = np.zeros(len(v))
    for start in range(0, len(v), Z_BLOCK_BINS):
        block = v[start : start + Z_BLOCK_BINS]
        reference = block if len(block) >= Z_BLOCK_BINS // 2 else v[-Z_BLOCK_BINS:]
        median = float(np.median(reference))
        mad = 1.4826 * float(np.median(np.abs(reference - median)))
        z[start : start + Z_BLOCK_BINS] = (block - median) / max(mad, Z_FLOOR_DB)
    return z


@dataclass(frozen=True)
class _Matched:
    """Candidate combs of one kind of divisor over one sub-band."""

    spacing_hz: np.ndarray
    teeth: _Ragged  # the lower of the two bins around each exact multiple
    mids: _Ragged


@lru_cache(maxsize=32)
def _matched_candidates(
    first_bin: int, n: int, bin_hz: float, band: tuple[float, float], divisors: str = "smooth"
) -> _Matched | None:
    lo_hz = max(band[0], (first_bin + 1) * bin_hz)
    hi_hz = min(band[1], (first_bin + n - 2) * bin_hz)
    spacings: list[float] = []
    teeth: list[np.ndarray] = []
    mids: list[np.ndarray] = []
    for _, _, spacing, k, k_mid in _combs(lo_hz, hi_hz, divisors=divisors):
        spacings.append(spacing)
        # A line at an exact frequency lies between two bins: floor and floor + 1.
        teeth.append(np.floor(k * spacing / bin_hz).astype(np.int64) - first_bin)
        mids.append(np.floor((k_mid + 0.5) * spacing / bin_hz).astype(np.int64) - first_bin)
    if not spacings:
        return None
    return _Matched(np.array(spacings), _Ragged.of(teeth, n - 2), _Ragged.of(mids, n - 2))


def _candidate_scores(
    print_: Fakeprint, band: tuple[float, float], divisors: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """(spacings, matched-comb scores) of every candidate of ``divisors`` over one band.

    Computed once per fakeprint and band (``print_._scores``).
    """
    key = (band, divisors)
    if key not in print_._scores:
        print_._scores[key] = _score_candidates(print_, band, divisors)
    return print_._scores[key]


def _score_candidates(
    print_: Fakeprint, band: tuple[float, float], divisors: str
) -> tuple[np.ndarray, np.ndarray] | None:
    pair = print_.z_pairs
    c = _matched_candidates(print_.first_bin, len(pair), print_.bin_hz, band, divisors)
    if c is None:
        return None
    score = (c.teeth.means(pair) - c.mids.means(pair)) * np.sqrt(
        c.teeth.count * c.mids.count / (c.teeth.count + c.mids.count)
    )
    return c.spacing_hz, score


def _band_scores(
    print_: Fakeprint, band: tuple[float, float], divisors: str
) -> tuple[float, float]:
    """The best coarse (>= 250 Hz) and fine matched-comb score over one sub-band (0 if none)."""
    scored = _candidate_scores(print_, band, divisors)
    if scored is None:
        return 0.0, 0.0
    spacing, score = scored
    coarse = spacing >= COARSE_COMB_HZ
    return float(score[coarse].max(initial=0.0)), float(score[~coarse].max(initial=0.0))


@dataclass(frozen=True)
class GridComb:
    """The best comb on a decoder's grid (7-smooth divisor) and the best one off it."""

    rate_hz: int
    divisor: int
    spacing_hz: float
    score: float  # matched-comb score (about N(0, 1) per candidate without lines)
    rough_spacing_hz: float  # the best comb at a divisor no decoder has
    rough_score: float

    @property
    def beats_rough(self) -> bool:
        """The grid comb scores higher than the best comb off the grid, to the 0.01 that the
        evidence reports (and the review picture compares): a tie is no win."""
        return round(self.score, 2) > round(self.rough_score, 2)


def grid_comb(print_: Fakeprint, band_hz: tuple[float, float] = BAND_HZ) -> GridComb | None:
    """What the comb contrast compares, over ``band_hz``, for the reviewer (None if too short)."""
    if len(print_.values_db) < 64:
        return None
    smooth = _candidate_scores(print_, band_hz, "smooth")
    rough = _candidate_scores(print_, band_hz, "rough")
    if smooth is None or rough is None:
        return None
    best, best_rough = int(np.argmax(smooth[1])), int(np.argmax(rough[1]))
    spacing = float(smooth[0][best])
    # A spacing may be an exact fraction of several standard rates (75 Hz = 22050 / 294 =
    # 24000 / 320): name the likeliest hop, the one with the smallest prime factors.
    rate, divisor = min(
        (
            (r, round(r / spacing))
            for r in COMB_RATES_HZ
            if abs(r / spacing - round(r / spacing)) < 1e-6
        ),
        key=lambda pair: (_largest_prime_factor(pair[1]), pair[1]),
    )
    return GridComb(
        rate,
        divisor,
        spacing,
        float(smooth[1][best]),
        float(rough[0][best_rough]),
        float(rough[1][best_rough]),
    )


def matched_comb_scores(print_: Fakeprint) -> np.ndarray:
    """The best matched-comb scores: coarse (>= 250 Hz) and fine, best sub-band and 4-20 kHz.

    Each tooth is the larger robust z (:func:`robust_z`, clipped at Z_CLIP) of the two
    bins around k x spacing, minus the same half-way between teeth, summed over every
    tooth: a comb of many weak lines scores about sqrt(teeth) higher than one of them.
    Under the null (no comb) a score is about N(0, 1) before the maximum over candidates.
    Returned as log(1 + max(score, 0)).
    """
    if len(print_.values_db) < 64:
        return np.zeros(4)
    scores = [_band_scores(print_, band, "smooth") for band in SUB_BANDS_HZ]
    coarse, fine = [c for c, _ in scores], [f for _, f in scores]
    return np.log1p(np.clip([max(coarse), max(fine), coarse[-1], fine[-1]], 0.0, None))


def comb_contrast_scores(print_: Fakeprint) -> np.ndarray:
    """How much better the best decoder-like (7-smooth) comb scores than the best other one.

    Music makes combs of its own: the partials of a steady note line up at multiples of
    its pitch, and score on whichever candidate spacing lies nearest, smooth or not; so
    a tonal clip's best smooth comb is high, and so is its best "rough" comb (a divisor
    with a prime factor above 7, which no decoder has). A decoder's lines score on their
    exact smooth spacing only. Per sub-band and per class (coarse, fine): best smooth
    minus best rough. The features: the largest of those differences per class, then the
    best rough scores per sub-band and class (how comb-like the music is anyway, band by
    band), all as signed log(1 + |x|).
    """
    if len(print_.values_db) < 64:
        return np.zeros(2 + 2 * len(SUB_BANDS_HZ))
    differences: list[tuple[float, float]] = []
    rough: list[float] = []
    for band in SUB_BANDS_HZ:
        smooth_band = _band_scores(print_, band, "smooth")
        rough_band = _band_scores(print_, band, "rough")
        differences.append((smooth_band[0] - rough_band[0], smooth_band[1] - rough_band[1]))
        rough.extend(rough_band)
    values = np.array([max(d[0] for d in differences), max(d[1] for d in differences), *rough])
    return np.sign(values) * np.log1p(np.abs(values))


def feature_names(feature_set: str = "invariant") -> list[str]:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")
    names: list[str] = []
    if feature_set in ("invariant", "matched", "contrast", "both"):
        names += [f"peak_top{k}_db" for k in TOP_PEAKS]
        names += [f"peaks_over_{int(t)}db" for t in PEAK_COUNT_DB]
        names += ["coarse1_z", "coarse1_contrast_db", "coarse1_hits", "coarse2_z"]
        names += ["fine1_z", "fine1_contrast_db"]
    if feature_set in ("matched", "contrast"):
        names += ["matched_coarse_best", "matched_fine_best"]
        names += ["matched_coarse_4_20k", "matched_fine_4_20k"]
    if feature_set == "contrast":
        names += ["contrast_coarse_best", "contrast_fine_best"]
        names += [
            f"rough_{scale}_{lo / 1000:g}_{hi / 1000:g}k"
            for lo, hi in SUB_BANDS_HZ
            for scale in ("coarse", "fine")
        ]
    if feature_set in ("fakeprint", "both"):
        cells = round((BAND_HZ[1] - BAND_HZ[0]) / POOL_HZ)
        names += [f"fp_{int(BAND_HZ[0] + i * POOL_HZ)}hz" for i in range(cells)]
    return names


def features(
    spectrum: AverageSpectrum, feature_set: str = "invariant"
) -> tuple[np.ndarray, Fakeprint, list[Comb]]:
    """The model's input vector (see :func:`feature_names`), the fakeprint and its combs."""
    feature_names(feature_set)  # validates the name
    print_ = fakeprint(spectrum)
    # Coarse combs (the last layers: spacing >= 250 Hz) and fine ones are kept apart:
    # music has fine combs of its own (the partials of a steady low note).
    table = _comb_table(print_)
    coarse = _best_combs(table, 2, COARSE_COMB_HZ, math.inf)
    fine = _best_combs(table, 1, 0.0, COARSE_COMB_HZ)
    found = sorted(coarse + fine, key=lambda c: -c.z)
    parts: list[np.ndarray] = []
    if feature_set in ("invariant", "matched", "contrast", "both"):
        heights = np.sort(_sharp_heights(print_))[::-1]
        heights = heights if len(heights) else np.zeros(1)
        top = [heights[k - 1] if len(heights) >= k else 0.0 for k in TOP_PEAKS]
        counts = [math.log1p(float((heights > t).sum())) for t in PEAK_COUNT_DB]
        none = Comb(0, 0, 0.0, 0, 0.0, 0.0, 0.0)
        c = [*coarse, none, none][:2]
        f = [*fine, none][0]
        comb = [
            math.log1p(max(c[0].z, 0.0)),
            c[0].contrast_db / 10.0,
            c[0].hit_fraction,
            math.log1p(max(c[1].z, 0.0)),
            math.log1p(max(f.z, 0.0)),
            f.contrast_db / 10.0,
        ]
        parts.append(np.array([*(np.array(top) / 10.0), *counts, *comb], dtype=np.float64))
    if feature_set in ("matched", "contrast"):
        parts.append(matched_comb_scores(print_))
    if feature_set == "contrast":
        parts.append(comb_contrast_scores(print_))
    if feature_set in ("fakeprint", "both"):
        parts.append(_pooled(print_))
    return np.concatenate(parts), print_, found


def spectral_evidence(
    spectrum: AverageSpectrum | None,
    model: DetectorModel | None,
    *,
    enabled: bool = True,
) -> list[Evidence]:
    """One MEDIUM evidence scored by ``model``, or none when disabled or too short.

    The score is the model's probability of upsampling artifacts; it is returned below
    one half too (the reviewer sees that the analysis ran and found nothing).
    """
    if not enabled or spectrum is None or model is None or spectrum.frames < MIN_FRAMES:
        return []
    vector, print_, found = features(spectrum, model.feature_set)
    probability = float(model.probability(vector))
    top = peaks(print_)[:REPORTED_PEAKS]
    comb = found[0] if found else None
    grid = grid_comb(print_)
    if probability >= 0.5:
        lines = ", ".join(f"{f:.0f}" for f, _ in sorted(top[:6])) or "none"
        detail = f"narrow spectral peaks at {lines} Hz"
        if grid is not None and grid.beats_rough:
            detail += (
                f", a comb every {grid.spacing_hz:.2f} Hz ({grid.rate_hz} / {grid.divisor}) "
                f"on a decoder's grid, scoring {grid.score:.1f} against {grid.rough_score:.1f} "
                f"for the best spacing off it"
            )
        elif comb is not None:
            detail += f", a comb every {comb.spacing_hz:.1f} Hz ({comb.rate_hz} / {comb.divisor})"
        detail += (
            f": the trace of a neural decoder's upsampling (transposed convolutions); "
            f"p = {probability:.2f}"
        )
    else:
        detail = f"no upsampling artifacts found in the spectrum (p = {probability:.2f})"
    return [
        Evidence(
            "spectral",
            round(probability, 4),
            MEDIUM,
            detail,
            algorithm=model.algorithm,
            data={
                "probability": round(probability, 4),
                "model": model.id,
                "band_hz": [
                    round(float(print_.freqs_hz[0]), 1),
                    round(float(print_.freqs_hz[-1]), 1),
                ]
                if len(print_.freqs_hz)
                else [],
                "peaks_hz": [round(f, 1) for f, _ in top],
                "peaks_db": [round(h, 1) for _, h in top],
                "comb": None
                if comb is None
                else {
                    "spacing_hz": round(comb.spacing_hz, 3),
                    "rate_hz": comb.rate_hz,
                    "divisor": comb.divisor,
                    "teeth": comb.teeth,
                    "contrast_db": round(comb.contrast_db, 2),
                },
                "grid_comb": None
                if grid is None
                else {
                    "spacing_hz": round(grid.spacing_hz, 3),
                    "rate_hz": grid.rate_hz,
                    "divisor": grid.divisor,
                    "score": round(grid.score, 2),
                    "rough_spacing_hz": round(grid.rough_spacing_hz, 3),
                    "rough_score": round(grid.rough_score, 2),
                },
                "analysed_s": round(spectrum.duration_s, 1),
            },
        )
    ]
