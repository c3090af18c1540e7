"""The spectral analysis of upsampling artifacts: the averaged spectrum, the fakeprint, the evidence."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from fingerprinting import audio, detector_model, evidence, simulate, spectral, synth

RATE = spectral.SAMPLE_RATE
DURATION_S = 12.0


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    """Synthetic music, mono, with nothing a decoder would leave."""
    return synth.music(5, DURATION_S).mean(axis=1)


@pytest.fixture(scope="module")
def with_artifacts(clean: np.ndarray) -> np.ndarray:
    """The same music as EnCodec-24k's last layers would output it (strides 8, 5, 4, 2)."""
    return simulate.simulate(
        clean,
        RATE,
        simulate.ARCHITECTURES["encodec-24k"],
        level_db=-30.0,  # the shipped model is calibrated strict: weaker needs longer audio
        output_rate=RATE,
        rng=np.random.default_rng(3),
    )


@pytest.fixture(scope="module")
def model() -> detector_model.DetectorModel:
    return detector_model.load(detector_model.DEFAULT_MODEL_PATH)


def lines(freqs_hz: list[float], level_db: float = -50.0, seconds: float = 6.0) -> np.ndarray:
    """White noise at -30 dBFS plus steady sines at ``level_db`` (peak) each."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    signal = rng.normal(0, 10 ** (-30 / 20), len(t))
    for f in freqs_hz:
        signal += 10 ** (level_db / 20) * np.sin(2 * np.pi * f * t)
    return signal.astype(np.float32)


def test_streaming_equals_one_shot(with_artifacts: np.ndarray) -> None:
    # Given chunks of awkward sizes, as a decoder delivers them
    accumulator = spectral.SpectrumAccumulator()
    sizes = np.random.default_rng(1).integers(1, 20000, 200)
    edges = np.concatenate([[0], np.cumsum(sizes)])
    for start, end in itertools.pairwise(edges):
        accumulator.feed(with_artifacts[start:end])
    accumulator.feed(with_artifacts[edges[-1] :])
    # When finished, then it is the one-shot result, and finishing again changes nothing
    streamed = accumulator.finish()
    whole = spectral.average_spectrum(with_artifacts)
    frames = 1 + (len(with_artifacts) - spectral.FFT_SIZE) // spectral.HOP
    assert streamed.frames == whole.frames == frames
    np.testing.assert_allclose(streamed.mean_db, whole.mean_db, atol=1e-3)
    assert accumulator.finish() is streamed
    with pytest.raises(RuntimeError):
        accumulator.feed(with_artifacts[:10])


def _log_frames(signal: np.ndarray) -> np.ndarray:
    """Every non-silent frame's 10 log10 power (periodic Hann, 0 dB = full-scale sine)."""
    n = spectral.FFT_SIZE
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    frames = signal[: (len(signal) // n) * n].astype(np.float64).reshape(-1, n)
    frames = frames[(frames**2).mean(axis=1) >= 10 ** (spectral.SILENT_FRAME_DBFS / 10)]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 * 4.0 / window.sum() ** 2
    return 10 * np.log10(power + spectral.POWER_FLOOR)


def test_accumulator_is_the_mean_log_power_of_hann_frames() -> None:
    # Given 40 frames (more than one FFT batch) of noise with a line, some frames silent
    signal = lines([7000.0], level_db=-40.0, seconds=40 * spectral.FFT_SIZE / RATE + 0.1)
    signal[5 * spectral.FFT_SIZE : 7 * spectral.FFT_SIZE] = 0.0
    # When accumulated with the plain mean (no trim)
    spectrum = spectral.average_spectrum(signal, trim=0.0)
    # Then it is, bin for bin, the mean over the non-silent frames of 10 log10 of the
    # power of the periodic-Hann-windowed FFT (0 dB = full-scale sine), computed directly
    frames = _log_frames(signal)
    expected = frames.mean(axis=0)
    assert spectrum.frames == len(frames) == 38
    analysed = ~np.isnan(spectrum.mean_db)
    assert analysed[round(spectral.BAND_HZ[0] / spectral.BIN_HZ)]
    assert analysed[round(spectral.BAND_HZ[1] / spectral.BIN_HZ)]
    np.testing.assert_allclose(spectrum.mean_db[analysed], expected[analysed], atol=1e-3)


def test_a_wider_band_computes_more_bins_and_the_same_values() -> None:
    # Given noise with a line at 3 kHz, below the default band
    signal = lines([3000.0], level_db=-40.0, seconds=20 * spectral.FFT_SIZE / RATE)
    default = spectral.SpectrumAccumulator()
    wider = spectral.SpectrumAccumulator(band_hz=(2000.0, spectral.BAND_HZ[1]))
    # When both accumulate it
    for accumulator in (default, wider):
        accumulator.feed(signal)
    narrow_db, wide_db = default.finish().mean_db, wider.finish().mean_db
    # Then the wider band also has the bins from 2 kHz, where the fakeprint finds the
    # line; the bins both have are the same, bit for bit
    line = round(3000.0 / spectral.BIN_HZ)
    assert np.isnan(narrow_db[line]) and not np.isnan(wide_db[round(2000.0 / spectral.BIN_HZ)])
    both = ~np.isnan(narrow_db)
    np.testing.assert_array_equal(wide_db[both], narrow_db[both])
    print_ = spectral.fakeprint(wider.finish(), (2000.0, spectral.BAND_HZ[1]))
    assert abs(spectral.peaks(print_)[0][0] - 3000.0) < 2 * spectral.BIN_HZ


def test_after_the_first_frames_one_in_sparse_step_is_analysed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given every frame for the first 5, then one in 4, and 23 frames of noise with a line
    monkeypatch.setattr(spectral, "FULL_FRAMES", 5)
    monkeypatch.setattr(spectral, "SPARSE_STEP", 4)
    monkeypatch.setattr(spectral, "MIN_TRIMMED_FRAMES", 1)
    signal = lines([7000.0], level_db=-40.0, seconds=23 * spectral.FFT_SIZE / RATE + 0.1)
    # When accumulated in chunks whose edges fall anywhere in the frames, plain and trimmed
    for trim, chunk in ((0.0, 7001), (0.0, 50000), (0.5, 12345)):
        accumulator = spectral.SpectrumAccumulator(trim=trim)
        for start in range(0, len(signal), chunk):
            accumulator.feed(signal[start : start + chunk])
        spectrum = accumulator.finish()
        # Then frames 0-4 and 5, 9, 13, 17, 21 were analysed (10 in all): the mean of them,
        # or of the 5 quietest per bin, computed directly
        analysed_frames = _log_frames(signal)[[0, 1, 2, 3, 4, 5, 9, 13, 17, 21]]
        expected = (
            np.sort(analysed_frames, axis=0)[:5].mean(axis=0)
            if trim
            else analysed_frames.mean(axis=0)
        )
        analysed = ~np.isnan(spectrum.mean_db)
        assert spectrum.frames == 10
        np.testing.assert_allclose(spectrum.mean_db[analysed], expected[analysed], atol=1e-3)


def test_trimmed_average_leaves_out_each_bins_loudest_frames() -> None:
    # Given 30 frames of noise with a line
    signal = lines([7000.0], level_db=-40.0, seconds=30 * spectral.FFT_SIZE / RATE + 0.1)
    # When accumulated with the loudest 40 % of each bin's frames left out, in awkward chunks
    accumulator = spectral.SpectrumAccumulator(trim=0.4)
    for start in range(0, len(signal), 12345):
        accumulator.feed(signal[start : start + 12345])
    spectrum = accumulator.finish()
    # Then each bin is the mean of its 18 quietest frames (computed directly), frames
    # counts all 30, and the one-shot function agrees
    expected = np.sort(_log_frames(signal), axis=0)[:18].mean(axis=0)
    analysed = ~np.isnan(spectrum.mean_db)
    assert spectrum.frames == 30
    np.testing.assert_allclose(spectrum.mean_db[analysed], expected[analysed], atol=1e-3)
    whole = spectral.average_spectrum(signal, trim=0.4)
    np.testing.assert_allclose(whole.mean_db[analysed], spectrum.mean_db[analysed], atol=1e-5)
    with pytest.raises(ValueError):
        spectral.SpectrumAccumulator(trim=1.0)


def test_trimmed_average_keeps_frames_evenly_spread_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a store of 8 frames (no floor on the frames averaged) and 37 frames of noise
    # with a line
    monkeypatch.setattr(spectral, "MAX_KEPT_FRAMES", 8)
    monkeypatch.setattr(spectral, "MIN_TRIMMED_FRAMES", 1)
    signal = lines([9000.0], level_db=-40.0, seconds=37 * spectral.FFT_SIZE / RATE + 0.1)
    # When accumulated with a trim
    spectrum = spectral.average_spectrum(signal, trim=0.25)
    # Then the store was halved three times as it filled (frames 0-7; then every 2nd,
    # to 14; every 4th, to 28; every 8th): frames 0, 8, 16, 24 and 32 are kept, the
    # result is the mean of their 4 quietest values per bin, and all 37 were analysed
    kept = _log_frames(signal)[::8]
    assert len(kept) == 5
    expected = np.sort(kept, axis=0)[:4].mean(axis=0)
    analysed = ~np.isnan(spectrum.mean_db)
    assert spectrum.frames == 37
    np.testing.assert_allclose(spectrum.mean_db[analysed], expected[analysed], atol=1e-3)


def test_trimmed_average_keeps_enough_frames_of_a_short_file() -> None:
    # Given 20 frames (7 s) and 12 frames (4.5 s) of noise with a line
    for frames, averaged in ((20, spectral.MIN_TRIMMED_FRAMES), (12, 12)):
        signal = lines([7000.0], level_db=-40.0, seconds=frames * spectral.FFT_SIZE / RATE + 0.1)
        # When trimmed by 70 %
        spectrum = spectral.average_spectrum(signal, trim=0.7)
        # Then the mean still covers MIN_TRIMMED_FRAMES frames (all of them when fewer)
        expected = np.sort(_log_frames(signal), axis=0)[:averaged].mean(axis=0)
        analysed = ~np.isnan(spectrum.mean_db)
        np.testing.assert_allclose(spectrum.mean_db[analysed], expected[analysed], atol=1e-3)


def test_trimmed_average_finds_a_line_that_loud_passages_mask() -> None:
    # Given a steady line 20 dB under quiet noise, and loud noise bursts in a third of
    # the frames (music that masks the line at times)
    n = spectral.FFT_SIZE
    rng = np.random.default_rng(5)
    signal = lines([8000.0], level_db=-55.0, seconds=60 * n / RATE + 0.1)
    for frame in rng.choice(60, 20, replace=False):
        signal[frame * n : (frame + 1) * n] += rng.normal(0, 10 ** (-10 / 20), n).astype(np.float32)
    tooth = round(8000.0 / spectral.BIN_HZ)

    def height(spectrum: spectral.AverageSpectrum) -> float:
        print_ = spectral.fakeprint(spectrum)
        return float(
            print_.values_db[tooth - print_.first_bin - 1 : tooth - print_.first_bin + 2].max()
        )

    # When averaged plainly and trimmed
    plain = height(spectral.average_spectrum(signal, trim=0.0))
    trimmed = height(spectral.average_spectrum(signal, trim=0.4))
    # Then the trimmed average shows the line well above the floor, the plain one barely
    assert trimmed > 3.0
    assert trimmed > plain + 2.0


def test_int16_is_scaled_like_float() -> None:
    signal = lines([6000.0], level_db=-20.0, seconds=3.0)
    as_int16 = np.round(signal * 32768).astype(np.int16)
    a = spectral.average_spectrum(signal)
    b = spectral.average_spectrum(as_int16)
    peak = round(6000 / spectral.BIN_HZ)
    assert abs(float(a.mean_db[peak] - b.mean_db[peak])) < 0.1
    # A -20 dBFS sine reads about -20 dB in its bin (Hann scalloping costs under 1.5 dB).
    assert -21.5 < float(a.mean_db[peak]) < -19.5


def test_silent_frames_are_skipped() -> None:
    signal = np.concatenate([np.zeros(10 * spectral.FFT_SIZE, np.float32), lines([], seconds=3)])
    spectrum = spectral.average_spectrum(signal)
    assert spectrum.frames == 1 + (3 * RATE - spectral.FFT_SIZE) // spectral.HOP
    assert spectral.average_spectrum(np.zeros(RATE * 5, np.float32)).frames == 0


def test_decode_feeds_hires_consumers_in_the_same_pass(tmp_path: Path) -> None:
    # Given a 48 kHz FLAC with lines at 9 and 15 kHz (above Chromaprint's 5.5 kHz band)
    path = tmp_path / "lines.flac"
    signal = simulate.resample(lines([9000.0, 15000.0], level_db=-30.0), RATE, 48000)
    synth.write(path, signal, 48000, "flac")
    accumulator = spectral.SpectrumAccumulator()
    fed: list[np.ndarray] = []

    class Collect:
        def feed(self, samples: np.ndarray) -> None:
            fed.append(samples.copy())

        def finish(self) -> None:
            return None

    # When decoded for fingerprinting with the spectral consumer riding along
    decoded = audio.decode(path, hires_consumers=(accumulator, Collect()))
    # Then the int16 output is unchanged and the hires consumer got float32 at 44.1 kHz
    assert decoded.sample_rate == audio.SAMPLE_RATE
    hires = np.concatenate(fed)
    assert hires.dtype == np.float32
    assert abs(len(hires) / RATE - decoded.duration_s) < 0.05
    found = [f for f, _ in spectral.peaks(spectral.fakeprint(accumulator.finish()), 10.0)]
    assert any(abs(f - 9000) < 3 for f in found) and any(abs(f - 15000) < 3 for f in found)
    np.testing.assert_allclose(
        accumulator.finish().mean_db, spectral.average_spectrum(hires).mean_db, atol=1e-3
    )


def test_decode_without_hires_consumers_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "m.wav"
    synth.write(path, synth.music(2, 4.0), RATE, "wav")
    plain = audio.decode(path)
    both = audio.decode(path, hires_consumers=(spectral.SpectrumAccumulator(),))
    np.testing.assert_array_equal(plain.samples, both.samples)


def test_fakeprint_shows_lines_not_a_lowpass_edge() -> None:
    # Given noise low-passed at 12 kHz (a 24 kHz native rate) with lines at 6 and 9 kHz
    signal = simulate.resample(simulate.resample(lines([6000.0, 9000.0]), RATE, 24000), 24000, RATE)
    print_ = spectral.fakeprint(spectral.average_spectrum(signal))
    found = spectral.peaks(print_, 6.0)
    # Then the lines are peaks, and the steep edge at 12 kHz is not
    assert sorted(round(f / 100) * 100 for f, _ in found) == [6000, 9000]
    assert all(h > 10 for _, h in found)
    edge = (print_.freqs_hz > 11500) & (print_.freqs_hz < 12500)
    assert float(print_.values_db[edge].max()) < 6.0  # the noise of a 12 s average


def test_comb_names_the_rate_and_divisor() -> None:
    # Lines at multiples of 24000 / 8 = 3000 Hz, from 6 to 18 kHz
    print_ = spectral.fakeprint(spectral.average_spectrum(lines([3000.0 * k for k in range(2, 7)])))
    best = spectral.combs(print_)[0]
    assert math.isclose(best.spacing_hz, 3000.0)
    assert best.rate_hz / best.divisor == 3000.0
    assert best.hit_fraction == 1.0


def test_simulated_decoder_leaves_its_lines(clean: np.ndarray, with_artifacts: np.ndarray) -> None:
    # The strides (8, 5, 4, 2) at 24 kHz put lines at multiples of 3 kHz (and finer)
    artificial = spectral.fakeprint(spectral.average_spectrum(with_artifacts))
    natural = spectral.fakeprint(spectral.average_spectrum(clean))
    strong = [f for f, _ in spectral.peaks(artificial, 10.0)]

    def on_grid(f: float, spacing: float) -> bool:
        return abs(f / spacing - round(f / spacing)) * spacing < 3.0

    # Every strong line sits on a multiple of 24000 / (8 * 5 * 4 * 2) = 75 Hz, and at
    # least two on multiples of 24000 / (4 * 2) = 3 kHz.
    assert strong and all(on_grid(f, 75.0) for f in strong)
    assert sum(on_grid(f, 3000.0) for f in strong) >= 2
    assert not spectral.peaks(natural, 10.0)
    best = spectral.combs(artificial)[0]
    assert best.spacing_hz == 75.0 and best.z > 3 * spectral.combs(natural)[0].z


def test_evidence_scores_artifacts_high_and_clean_music_low(
    clean: np.ndarray, with_artifacts: np.ndarray, model: detector_model.DetectorModel
) -> None:
    [ai] = spectral.spectral_evidence(spectral.average_spectrum(with_artifacts), model)
    [human] = spectral.spectral_evidence(spectral.average_spectrum(clean), model)
    assert ai.source == human.source == "spectral"
    assert ai.strength == human.strength == evidence.MEDIUM
    assert ai.score >= 0.5 > human.score
    assert ai.algorithm == f"stemma-spectral/2+{model.id}"
    assert "Hz" in ai.detail and "no upsampling artifacts" in human.detail
    # The highest peak, and the comb, sit on multiples of 24000 / 320 = 75 Hz.
    top = ai.data["peaks_hz"][0]
    assert abs(top / 75.0 - round(top / 75.0)) * 75.0 < 3.0
    assert (
        ai.data["comb"]["spacing_hz"] == 75.0
        and ai.data["comb"]["rate_hz"] / ai.data["comb"]["divisor"] == 75.0
    )
    assert ai.data["model"] == model.id
    # The comb on a decoder's grid: EnCodec-24k's hop, 24000 / 320, named as such
    grid = ai.data["grid_comb"]
    assert (grid["rate_hz"], grid["divisor"]) == (24000, 320) and grid["score"] > grid[
        "rough_score"
    ]
    assert "24000 / 320) on a decoder's grid" in ai.detail


def test_medium_spectral_evidence_alone_is_never_detected_ai(
    with_artifacts: np.ndarray, model: detector_model.DetectorModel
) -> None:
    found = spectral.spectral_evidence(spectral.average_spectrum(with_artifacts), model)
    assert evidence.assess(found, declared=None).assessment == evidence.POSSIBLE_AI


def test_switched_off_or_too_short_gives_no_evidence(
    with_artifacts: np.ndarray, model: detector_model.DetectorModel
) -> None:
    spectrum = spectral.average_spectrum(with_artifacts)
    assert spectral.spectral_evidence(spectrum, model, enabled=False) == []
    assert spectral.spectral_evidence(None, model) == []
    short = spectral.average_spectrum(with_artifacts[: 2 * RATE])
    assert short.frames < spectral.MIN_FRAMES
    assert spectral.spectral_evidence(short, model) == []


def test_simulator_keeps_rate_and_length(clean: np.ndarray) -> None:
    arch = simulate.ARCHITECTURES["s222-48k"]
    out = simulate.simulate(
        clean, RATE, arch, level_db=-40, output_rate=48000, rng=np.random.default_rng(0)
    )
    assert out.dtype == np.float32
    assert abs(len(out) / 48000 - DURATION_S) < 0.01
    assert float(np.max(np.abs(out))) <= 1.0
    assert arch.line_spacings_hz() == [24000.0, 12000.0, 6000.0]
    assert not set(a.name for a in simulate.TRAINING) & set(a.name for a in simulate.HELD_OUT)


def test_hires_at_the_source_rate_skips_the_resampler(tmp_path: Path) -> None:
    # A 44.1 kHz stereo WAV is averaged to mono directly (no second resampler): same samples.
    stereo = synth.music(4, 4.0)
    path = tmp_path / "s.wav"
    synth.write(path, stereo, RATE, "wav")
    fed: list[np.ndarray] = []

    class Collect:
        def feed(self, samples: np.ndarray) -> None:
            fed.append(samples.copy())

        def finish(self) -> None:
            return None

    audio.decode(path, hires_consumers=(Collect(),))
    quantised = np.round(np.clip(stereo, -1, 1) * 32767) / 32768
    np.testing.assert_allclose(np.concatenate(fed), quantised.mean(axis=1), atol=1e-4)


def comb_of_sines(spacing_hz: float, level_db: float = -65.0, seconds: float = 12.0) -> np.ndarray:
    """White noise at -30 dBFS plus sines at every multiple of ``spacing_hz`` in 4-8 kHz."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    signal = rng.normal(0, 10 ** (-30 / 20), len(t))
    for k in range(math.ceil(4000 / spacing_hz), math.floor(8000 / spacing_hz) + 1):
        phase = rng.uniform(0, 2 * np.pi)
        signal += 10 ** (level_db / 20) * np.sin(2 * np.pi * k * spacing_hz * t + phase)
    return signal.astype(np.float32)


def test_matched_comb_sums_many_weak_lines_on_a_decoders_grid() -> None:
    # Given 81 weak lines (each about the noise's level in its bin) every 16000 / 320 = 50 Hz,
    # as a 16 kHz decoder with a hop of 320 leaves them; the same at a musical pitch of
    # 50.3 Hz (no standard rate / 7-smooth divisor); and the noise alone
    decoder, note, noise = (
        spectral.fakeprint(spectral.average_spectrum(s))
        for s in (comb_of_sines(50.0), comb_of_sines(50.3), lines([], seconds=12.0))
    )
    # Then no line alone is a clear peak, but the matched fine comb stands far out of the
    # noise for the decoder's grid only (scores are log(1 + score))
    assert max(h for _, h in spectral.peaks(decoder, 0.0)) < 6.0
    scores = {
        name: np.expm1(spectral.matched_comb_scores(p))
        for name, p in (("decoder", decoder), ("note", note), ("noise", noise))
    }
    assert scores["decoder"][1] > 10.0
    assert scores["note"][1] < 4.0 and scores["noise"][1] < 4.0
    # whereas the free comb search of the "invariant" features prefers the note
    fine = {
        name: spectral.combs(p, 1, max_spacing_hz=spectral.COARSE_COMB_HZ)[0]
        for name, p in (("decoder", decoder), ("note", note))
    }
    assert fine["note"].z > fine["decoder"].z and fine["note"].divisor not in (0, 320)


def test_each_feature_set_extends_the_previous_one(with_artifacts: np.ndarray) -> None:
    spectrum = spectral.average_spectrum(with_artifacts)
    invariant, matched, contrast = (
        spectral.features(spectrum, name)[0] for name in ("invariant", "matched", "contrast")
    )
    for smaller, larger, name, more in (
        (invariant, matched, "matched", 4),
        (matched, contrast, "contrast", 2 + 2 * len(spectral.SUB_BANDS_HZ)),
    ):
        assert len(larger) == len(spectral.feature_names(name)) == len(smaller) + more
        np.testing.assert_array_equal(larger[: len(smaller)], smaller)
    # EnCodec-24k's 75 Hz comb (24000 / 320) at -30 dB: far above a noise-only score
    assert np.expm1(matched[len(invariant) + 1]) > 10.0
    # and its combs lie on its smooth grid: the best smooth comb beats every rough one
    assert max(contrast[len(matched)], contrast[len(matched) + 1]) > 0.5


def test_comb_contrast_tells_a_decoders_grid_from_a_notes_partials() -> None:
    # Given weak lines every 50 Hz (16000 / 320: a decoder's grid) and the partials of a
    # note whose pitch is exactly a "rough" spacing, 44100 / 877 Hz (877 is prime: no
    # decoder has that hop), both in noise
    decoder, note = (
        spectral.fakeprint(spectral.average_spectrum(comb_of_sines(spacing)))
        for spacing in (50.0, 44100 / 877)
    )
    # Then the decoder's best smooth comb beats every rough one by far (signed log scores),
    contrast = {"decoder": spectral.comb_contrast_scores(decoder)}
    contrast["note"] = spectral.comb_contrast_scores(note)
    assert contrast["decoder"][1] > 1.5
    # while the note's partials score higher on a rough spacing than on any smooth one,
    # and say so in the rough comb's score
    assert contrast["note"][1] < 0.0
    assert contrast["note"][-1] > contrast["decoder"][-1]  # fine, 4-20 kHz
    # and the reviewer is told which comb on a decoder's grid won, and against what
    grid = {name: spectral.grid_comb(p) for name, p in (("decoder", decoder), ("note", note))}
    assert grid["decoder"] is not None and grid["note"] is not None
    assert (grid["decoder"].rate_hz, grid["decoder"].divisor) == (16000, 320)
    assert grid["decoder"].score > grid["decoder"].rough_score
    assert abs(grid["note"].rough_spacing_hz - 44100 / 877) < 1e-6
    assert grid["note"].rough_score > grid["note"].score


def test_a_grid_comb_tied_with_the_best_rough_one_to_the_reported_digits_is_no_win() -> None:
    def grid(score: float, rough: float) -> spectral.GridComb:
        return spectral.GridComb(22050, 512, 43.07, score, 43.06, rough)

    assert not grid(14.801, 14.799).beats_rough  # 14.80 against 14.80, as reported
    assert grid(14.81, 14.80).beats_rough
    assert not grid(3.0, 5.8).beats_rough
