"""Synthetic music is deterministic, seed-specific, bounded, and encodes to every format."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from fingerprinting import synth


def test_same_seed_gives_identical_samples() -> None:
    first = synth.music(7, 4.0)
    second = synth.music(7, 4.0)

    assert first.dtype == np.float32
    assert first.shape == (176400, 2)
    assert np.array_equal(first, second)


def test_shorter_render_is_an_exact_prefix_of_a_longer_one() -> None:
    long = synth.music(7, 6.0)
    short = synth.music(7, 2.5)

    assert np.array_equal(short, long[: len(short)])


def test_different_seeds_give_different_music() -> None:
    a = synth.music(1, 4.0, channels=1)[:, 0]
    b = synth.music(2, 4.0, channels=1)[:, 0]

    correlation = float(np.corrcoef(a, b)[0, 1])
    assert abs(correlation) < 0.2


def test_music_is_loud_enough_and_within_full_scale() -> None:
    samples = synth.music(3, 10.0)

    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert np.abs(samples).max() <= 1.0
    assert -25.0 < rms_dbfs < -10.0
    # Not one constant bar: successive seconds differ.
    assert not np.allclose(samples[:44100], samples[44100:88200])


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_music_channel_count(channels: int) -> None:
    samples = synth.music(5, 1.0, sample_rate=22050, channels=channels)

    assert samples.shape == (22050, channels)


def test_music_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        synth.music(1, 0.0)


def test_tone_has_its_frequency_and_amplitude() -> None:
    samples = synth.tone(440.0, 1.0, sample_rate=8000, channels=1, amplitude=0.25)

    spectrum = np.abs(np.fft.rfft(samples[:, 0]))
    assert samples.shape == (8000, 1)
    assert int(np.argmax(spectrum)) == 440  # 1 Hz bins over one second
    assert float(np.abs(samples).max()) == pytest.approx(0.25, abs=1e-3)
    assert samples[0, 0] == 0.0  # faded in


def test_silence_is_digital_zero() -> None:
    samples = synth.silence(0.5, sample_rate=1000, channels=2)

    assert samples.shape == (500, 2)
    assert not samples.any()


def test_noise_has_the_requested_level_and_is_seeded() -> None:
    samples = synth.noise(2.0, rms_dbfs=-30.0, seed=4)

    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms_dbfs == pytest.approx(-30.0, abs=0.1)
    assert np.array_equal(samples, synth.noise(2.0, rms_dbfs=-30.0, seed=4))
    assert not np.array_equal(samples, synth.noise(2.0, rms_dbfs=-30.0, seed=5))


ENCODED = {
    # fmt: (container as FFmpeg reads it back, codec, sample rate, channels)
    "wav": ("wav", "pcm_s16le", 44100, 1),
    "flac": ("flac", "flac", 44100, 1),
    "mp3": ("mp3", "mp3", 44100, 1),
    "ogg": ("ogg", "vorbis", 44100, 2),  # FFmpeg's Vorbis encoder is stereo only
    "opus": ("ogg", "opus", 48000, 1),
    "m4a": ("mov,mp4,m4a,3gp,3g2,mj2", "aac", 44100, 1),
}


@pytest.mark.parametrize("fmt", sorted(ENCODED))
def test_write_encodes_each_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"mono{synth.FORMATS[fmt].extension}"

    synth.write(path, synth.music(9, 2.0, channels=1), 44100, fmt)

    container_name, codec, rate, channels = ENCODED[fmt]
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == container_name
        assert stream.codec_context.codec.canonical_name == codec
        assert stream.codec_context.sample_rate == rate
        assert stream.codec_context.channels == channels
        decoded = sum(frame.samples for frame in container.decode(stream))
    assert decoded / rate == pytest.approx(2.0, abs=0.03)


def test_write_uses_the_requested_bitrate(tmp_path: Path) -> None:
    samples = synth.music(9, 5.0)
    low, high = tmp_path / "low.mp3", tmp_path / "high.mp3"

    synth.write(low, samples, 44100, "mp3", bitrate=64_000)
    synth.write(high, samples, 44100, "mp3", bitrate=256_000)

    assert low.stat().st_size == pytest.approx(5 * 64_000 / 8, rel=0.1)
    assert high.stat().st_size == pytest.approx(5 * 256_000 / 8, rel=0.1)


def test_write_rejects_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'wma'"):
        synth.write(tmp_path / "x.wma", synth.silence(1.0), 44100, "wma")
