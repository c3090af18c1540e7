"""Simulated generator output: real audio through the last layers of a transposed-convolution decoder (pure).

No generator's output can be downloaded here, so the mechanism behind the spectral
artifacts (fingerprinting/spectral.py) is simulated on real, human-made music:

1. the music is resampled to the generator's native rate (its content then stops at that
   Nyquist frequency, as a generator's would);
2. a decoder's upsampling stack runs on a latent at ``native_rate / prod(strides)``: per
   layer, zero insertion by the stride, a convolution with a random small kernel
   (``channels`` x ``channels`` x ``2 * stride`` taps, the usual kernel), a random
   non-zero bias, and an activation (leaky ReLU or Snake). The latent follows the music's
   loudness, as a trained decoder's activations do. The bias and the activations give
   every layer's input a non-zero mean, which zero insertion turns into lines at
   multiples of that layer's input rate: the artifact, whatever the weights. A trained
   decoder reproduces the music itself; only this residual is simulated, and added to
   the music at ``level_db`` (its RMS relative to the music's RMS);
3. the result is resampled to the delivery rate (44.1 or 48 kHz), and optionally
   re-encoded as MP3 (:func:`mp3_roundtrip`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from fingerprinting import synth


@dataclass(frozen=True)
class Architecture:
    """The upsampling part of a decoder: its native rate and its strides, first layer first."""

    name: str
    native_rate: int
    strides: tuple[int, ...]
    channels: int = 4

    @property
    def hop(self) -> int:
        return math.prod(self.strides)

    def line_spacings_hz(self) -> list[float]:
        """Where lines are expected: multiples of each layer's input rate, last layer first."""
        spacings, rate = [], float(self.native_rate)
        for stride in reversed(self.strides):
            rate /= stride
            spacings.append(rate)
        return spacings


# Stride sets of published decoders (HiFi-GAN, MelGAN, EnCodec, DAC, Stable Audio's VAE)
# and of others; TRAINING architectures fit the shipped model, HELD_OUT ones only test it.
TRAINING: tuple[Architecture, ...] = (
    Architecture("hifigan-22k", 22050, (8, 8, 2, 2)),
    Architecture("melgan-16k", 16000, (8, 8, 2, 2)),
    Architecture("encodec-24k", 24000, (8, 5, 4, 2)),
    Architecture("encodec-32k", 32000, (8, 5, 4, 4)),
    Architecture("dac-44k", 44100, (8, 8, 4, 2)),
    Architecture("oobleck-44k", 44100, (8, 8, 4, 4, 2)),
    Architecture("s5442-48k", 48000, (5, 4, 4, 2)),
)
HELD_OUT: tuple[Architecture, ...] = (
    Architecture("s222-48k", 48000, (2, 2, 2)),
    Architecture("s44-32k", 32000, (4, 4)),
    Architecture("s245-24k", 24000, (2, 4, 5)),
    Architecture("s5432-44k", 44100, (5, 4, 3, 2)),
    Architecture("s4444-22k", 22050, (4, 4, 4, 4)),
    Architecture("s8542-16k", 16000, (8, 5, 4, 2)),
)
ARCHITECTURES = {a.name: a for a in TRAINING + HELD_OUT}


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 resampled with FFmpeg's resampler (as a delivery pipeline would)."""
    data = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(-1))
    if from_rate == to_rate:
        return data.copy()
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    out: list[np.ndarray] = []
    chunk = 1 << 16
    for offset in range(0, len(data), chunk):
        frame = av.AudioFrame.from_ndarray(
            data[offset : offset + chunk].reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = from_rate
        frame.pts = offset
        frame.time_base = Fraction(1, from_rate)
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def _activation(x: np.ndarray, kind: str, alpha: np.ndarray) -> np.ndarray:
    if kind == "snake":  # BigVGAN / DAC: x + sin^2(alpha x) / alpha
        return x + np.sin(alpha * x) ** 2 / alpha
    return np.where(x > 0, x, 0.1 * x)  # leaky ReLU (HiFi-GAN, MelGAN)


def decoder_residual(
    loudness: np.ndarray, architecture: Architecture, rng: np.random.Generator
) -> np.ndarray:
    """The stack's output, at the native rate, for a latent that follows ``loudness``.

    ``loudness`` has one positive value per latent frame (native rate / hop); the result
    has ``len(loudness) * hop`` samples and zero mean.
    """
    c = architecture.channels
    activation = str(rng.choice(["leaky", "snake"]))
    # Latent channels: offsets and loudness weights differ per channel, plus a little noise.
    h = (
        rng.normal(0.0, 1.0, (c, 1))
        + rng.uniform(0.2, 1.0, (c, 1)) * loudness[None, :]
        + rng.normal(0.0, 0.1, (c, len(loudness)))
    )
    for stride in architecture.strides:
        kernel_size = 2 * stride
        up = np.zeros((c, h.shape[1] * stride))
        up[:, ::stride] = h  # zero insertion
        weights = rng.normal(0.0, 1.0 / math.sqrt(c * 2), (c, c, kernel_size))
        bias = rng.normal(0.0, 0.5, c)
        bias += np.sign(bias) * 0.1  # never (nearly) zero
        out = np.empty_like(up)
        for o in range(c):
            acc = np.zeros(up.shape[1] + kernel_size - 1)
            for i in range(c):
                acc += np.convolve(up[i], weights[o, i])
            # "same" alignment: a transposed convolution's output starts with the kernel.
            out[o] = acc[: up.shape[1]] + bias[o]
        alpha = rng.uniform(0.5, 2.0, (c, 1))
        h = _activation(out, activation, alpha)
    projection = rng.normal(0.0, 1.0, c)
    y = projection @ h
    return y - y.mean()


def simulate(
    samples: np.ndarray,
    sample_rate: int,
    architecture: Architecture,
    *,
    level_db: float,
    output_rate: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``samples`` (mono float at ``sample_rate``) as ``architecture`` would output them.

    Returns mono float32 at ``output_rate``; ``level_db`` is the artifact residual's RMS
    relative to the music's, before resampling.
    """
    music = resample(samples, sample_rate, architecture.native_rate).astype(np.float64)
    hop = architecture.hop
    frames = max(1, len(music) // hop)
    music = music[: frames * hop] if len(music) >= hop else np.pad(music, (0, hop - len(music)))
    frame_rms = np.sqrt((music.reshape(frames, hop) ** 2).mean(axis=1) + 1e-12)
    loudness = frame_rms / (frame_rms.mean() + 1e-12)
    residual = decoder_residual(loudness, architecture, rng)
    music_rms = math.sqrt(float(np.mean(music**2))) + 1e-9
    residual_rms = math.sqrt(float(np.mean(residual**2))) + 1e-12
    mixed = music + residual * (music_rms * 10 ** (level_db / 20) / residual_rms)
    peak = float(np.max(np.abs(mixed))) if len(mixed) else 0.0
    if peak > 0.99:  # generators normalise rather than clip
        mixed *= 0.99 / peak
    return resample(mixed.astype(np.float32), architecture.native_rate, output_rate)


def mp3_roundtrip(samples: np.ndarray, sample_rate: int, bitrate: int) -> np.ndarray:
    """Encode mono float samples to MP3 at ``bitrate`` bit/s and decode them back (float32)."""
    buffer = io.BytesIO()
    synth.write(buffer, samples, sample_rate, "mp3", bitrate=bitrate)
    buffer.seek(0)
    out: list[np.ndarray] = []
    with av.open(buffer, mode="r") as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        for frame in container.decode(audio=0):
            out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
