"""Deterministic, music-like test audio from a seed, and encoding it to common formats."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np

FloatArray = np.ndarray  # float32, shape (n, channels), values in [-1, 1]

_SCALES: tuple[tuple[int, ...], ...] = (
    (0, 2, 4, 5, 7, 9, 11),  # major
    (0, 2, 3, 5, 7, 8, 10),  # natural minor
    (0, 2, 3, 5, 7, 9, 10),  # dorian
    (0, 2, 4, 5, 7, 9, 10),  # mixolydian
    (0, 2, 3, 5, 7, 8, 11),  # harmonic minor
)
# Chord roots as scale degrees (0 = tonic), one chord per bar.
_PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 4, 5, 3),
    (0, 5, 3, 4),
    (5, 3, 0, 4),
    (0, 3, 4, 3),
    (1, 4, 0, 5),
    (0, 2, 3, 4),
    (3, 4, 2, 5),
    (0, 6, 5, 4),
    (5, 4, 3, 4),
    (0, 3, 5, 4),
)
_MAX_NOTE_S = 4.0


@dataclass(frozen=True)
class _Style:
    bpm: float
    root_midi: int
    scale: tuple[int, ...]
    progressions: tuple[tuple[int, ...], ...]
    section_plan: tuple[int, ...]
    melody_harmonics: np.ndarray
    melody_decay_s: float
    melody_rest_p: float
    pad_harmonics: np.ndarray
    bass_harmonics: np.ndarray
    bass_decay_s: float
    bass_steps: tuple[int, ...]
    kick_steps: tuple[int, ...]
    hat_p: float
    melody_pan: float
    kick: np.ndarray
    snare: np.ndarray
    hat: np.ndarray


def _harmonics(
    rng: np.random.Generator, count: int, tilt_low: float, tilt_high: float
) -> np.ndarray:
    k = np.arange(1, count + 1, dtype=np.float64)
    amps = rng.uniform(0.3, 1.0, size=count) * k ** -rng.uniform(tilt_low, tilt_high)
    amps[0] = 1.0
    return (amps / amps.sum()).astype(np.float32)


def _drums(rng: np.random.Generator, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(int(0.35 * sample_rate), dtype=np.float32) / sample_rate
    low, sweep, tau = rng.uniform(40, 55), rng.uniform(60, 110), rng.uniform(0.02, 0.05)
    kick_phase = 2 * np.pi * (low * t + sweep * tau * (1 - np.exp(-t / tau)))
    kick = np.sin(kick_phase) * np.exp(-t / rng.uniform(0.12, 0.25))
    n_snare = int(0.25 * sample_rate)
    ts = t[:n_snare]
    snare_noise = rng.standard_normal(n_snare, dtype=np.float32)
    snare = (0.6 * snare_noise + 0.5 * np.sin(2 * np.pi * rng.uniform(170, 230) * ts)) * np.exp(
        -ts / rng.uniform(0.05, 0.1)
    )
    n_hat = int(0.08 * sample_rate)
    hat_noise = np.diff(rng.standard_normal(n_hat + 1, dtype=np.float32))
    hat = hat_noise * np.exp(-t[:n_hat] / rng.uniform(0.01, 0.03))
    return kick.astype(np.float32), snare.astype(np.float32), hat.astype(np.float32)


def _style(rng: np.random.Generator, sample_rate: int) -> _Style:
    n_progressions = int(rng.integers(2, 4))
    kick, snare, hat = _drums(rng, sample_rate)
    kick_patterns = ((0, 4), (0, 3, 4), (0, 4, 6), (0, 2, 4), (0, 3, 5))
    bass_patterns = ((0, 2, 4, 6), (0, 4), (0, 3, 4, 7), (0, 1, 2, 3, 4, 5, 6, 7), (0, 3, 6))
    return _Style(
        bpm=float(rng.uniform(78, 160)),
        root_midi=int(rng.integers(40, 52)),
        scale=_SCALES[int(rng.integers(len(_SCALES)))],
        progressions=tuple(
            _PROGRESSIONS[int(i)]
            for i in rng.choice(len(_PROGRESSIONS), n_progressions, replace=False)
        ),
        section_plan=tuple(int(i) for i in rng.integers(0, n_progressions, size=8)),
        melody_harmonics=_harmonics(rng, 5, 0.6, 1.5),
        melody_decay_s=float(rng.uniform(0.15, 0.6)),
        melody_rest_p=float(rng.uniform(0.05, 0.3)),
        pad_harmonics=_harmonics(rng, 3, 1.0, 2.0),
        bass_harmonics=_harmonics(rng, 3, 0.8, 1.6),
        bass_decay_s=float(rng.uniform(0.25, 0.8)),
        bass_steps=bass_patterns[int(rng.integers(len(bass_patterns)))],
        kick_steps=kick_patterns[int(rng.integers(len(kick_patterns)))],
        hat_p=float(rng.uniform(0.4, 1.0)),
        melody_pan=float(rng.uniform(-0.4, 0.4)),
        kick=kick,
        snare=snare,
        hat=hat,
    )


def _midi_to_hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def _degree_to_midi(style: _Style, degree: int) -> int:
    octave, step = divmod(degree, len(style.scale))
    return style.root_midi + 12 * octave + style.scale[step]


class _Renderer:
    """Adds enveloped harmonic notes and one-shot samples into mono stems."""

    def __init__(self, n: int, sample_rate: int) -> None:
        self.n = n
        self.sample_rate = sample_rate
        self.t = np.arange(int(_MAX_NOTE_S * sample_rate), dtype=np.float32) / sample_rate
        self.release = max(1, int(0.01 * sample_rate))
        self.release_ramp = np.linspace(1.0, 0.0, self.release, dtype=np.float32)

    def note(
        self,
        stem: np.ndarray,
        start: float,
        gate_s: float,
        freq: float,
        harmonics: np.ndarray,
        attack_s: float,
        decay_s: float,
        gain: float,
    ) -> None:
        begin = round(start)
        length = min(round(gate_s * self.sample_rate) + self.release, len(self.t))
        end = min(begin + length, self.n)
        if end <= begin:
            return
        t = self.t[: end - begin]
        omega = np.float32(2 * np.pi * freq) * t
        wave = harmonics[0] * np.sin(omega)
        nyquist = self.sample_rate / 2
        for k in range(2, len(harmonics) + 1):
            if freq * k >= nyquist:
                break
            wave += harmonics[k - 1] * np.sin(np.float32(k) * omega)
        env = np.exp(t * np.float32(-1.0 / decay_s))
        env *= np.float32(gain)
        attack = min(len(t), max(1, int(attack_s * self.sample_rate)))
        env[:attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
        if length - self.release < len(t):
            tail = env[length - self.release :]
            tail *= self.release_ramp[: len(tail)]
        stem[begin:end] += wave * env

    def hit(self, stem: np.ndarray, start: float, sample: np.ndarray, gain: float) -> None:
        begin = round(start)
        end = min(begin + len(sample), self.n)
        if end > begin:
            stem[begin:end] += np.float32(gain) * sample[: end - begin]


def music(seed: int, duration_s: float, sample_rate: int = 44100, channels: int = 2) -> FloatArray:
    """Render a deterministic piece: tempo, key, chord progressions, melody, bass and drums.

    The same seed always gives the same samples, and a shorter render is an exact prefix
    of a longer one (so excerpts can be cut either way). Different seeds differ in tempo,
    key, scale, progressions, melody, timbres and drum patterns.
    """
    if duration_s <= 0 or channels < 1:
        raise ValueError("duration_s must be positive and channels at least 1")
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate)
    style = _style(rng, sample_rate)
    render = _Renderer(n, sample_rate)
    melody = np.zeros(n, dtype=np.float32)
    centre = np.zeros(n, dtype=np.float32)  # pad, bass and drums

    beat = sample_rate * 60.0 / style.bpm
    step = beat / 2  # an eighth note, in samples
    beat_s = 60.0 / style.bpm
    bar_len = 4 * beat
    degree = 7 + int(rng.integers(0, 5))  # melody position, in scale degrees
    for bar in range(math.ceil(n / bar_len)):
        bar_start = bar * bar_len
        section = style.section_plan[(bar // 4) % len(style.section_plan)]
        chord_root = style.progressions[section][bar % 4]
        chord = [chord_root + i for i in (0, 2, 4)]
        for tone in chord:
            render.note(
                centre,
                bar_start,
                4 * beat_s,
                _midi_to_hz(_degree_to_midi(style, tone) + 12),
                style.pad_harmonics,
                attack_s=0.06,
                decay_s=3.0,
                gain=0.12,
            )
        for s in style.bass_steps:
            bass_degree = chord_root if s % 4 == 0 or rng.random() < 0.6 else chord_root + 4
            render.note(
                centre,
                bar_start + s * step,
                0.45 * beat_s,
                _midi_to_hz(_degree_to_midi(style, bass_degree) - 12),
                style.bass_harmonics,
                attack_s=0.005,
                decay_s=style.bass_decay_s,
                gain=0.35 * float(rng.uniform(0.85, 1.0)),
            )
        for s in style.kick_steps:
            render.hit(centre, bar_start + s * step, style.kick, 0.55)
        for s in (2, 6):
            render.hit(centre, bar_start + s * step, style.snare, 0.22)
        for s in range(8):
            if rng.random() < style.hat_p:
                render.hit(
                    centre, bar_start + s * step, style.hat, 0.1 * float(rng.uniform(0.6, 1))
                )
        s = 0
        while s < 8:
            length = 1 if rng.random() < 0.65 else 2
            if rng.random() >= style.melody_rest_p:
                if s % 4 == 0 and rng.random() < 0.5:
                    # Land on a chord tone on strong beats, near the current position.
                    targets = np.array([c + 7 * o for c in chord for o in (0, 1, 2)])
                    degree = int(targets[np.argmin(np.abs(targets - degree))])
                else:
                    degree += int(rng.choice((-2, -1, -1, 1, 1, 2, 3, -3)))
                degree = min(max(degree, 5), 17)
                render.note(
                    melody,
                    bar_start + s * step,
                    length * step / sample_rate,
                    _midi_to_hz(_degree_to_midi(style, degree) + 12),
                    style.melody_harmonics,
                    attack_s=0.008,
                    decay_s=style.melody_decay_s,
                    gain=0.3 * float(rng.uniform(0.75, 1.0)),
                )
            s += length

    # Mix in place, straight into the output: at several minutes, each temporary array
    # costs more (in page faults) than the arithmetic.
    out = np.empty((n, channels), dtype=np.float32)
    gains = _pan(style.melody_pan) if channels > 1 else (0.7071, 0.7071)
    centre *= np.float32(0.7071)
    for c in range(min(channels, 2)):
        column = out[:, c]
        np.multiply(melody, np.float32(gains[c]), out=column)
        column += centre
        np.clip(column, -1.0, 1.0, out=column)
    for c in range(2, channels):
        out[:, c] = out[:, c % 2]
    return out


def _pan(position: float) -> tuple[float, float]:
    angle = (position + 1) * math.pi / 4
    return math.cos(angle), math.sin(angle)


def tone(
    freq: float,
    duration_s: float,
    sample_rate: int = 44100,
    channels: int = 2,
    amplitude: float = 0.5,
) -> FloatArray:
    """A pure sine of ``amplitude`` (peak, linear), with 5 ms fades against clicks."""
    n = round(duration_s * sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    mono = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    fade = min(n // 2, int(0.005 * sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        mono[:fade] *= ramp
        mono[n - fade :] *= ramp[::-1]
    return np.repeat(mono[:, None], channels, axis=1)


def silence(duration_s: float, sample_rate: int = 44100, channels: int = 2) -> FloatArray:
    """Digital silence."""
    return np.zeros((round(duration_s * sample_rate), channels), dtype=np.float32)


def noise(
    duration_s: float,
    sample_rate: int = 44100,
    channels: int = 2,
    rms_dbfs: float = -20.0,
    seed: int = 0,
) -> FloatArray:
    """Gaussian white noise at ``rms_dbfs`` (RMS relative to full scale), clipped to [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate)
    rms = 10.0 ** (rms_dbfs / 20.0)
    samples = rng.standard_normal((n, channels), dtype=np.float32) * np.float32(rms)
    return np.clip(samples, -1.0, 1.0)


@dataclass(frozen=True)
class EncodingSpec:
    """How a format name maps to a muxer, an encoder and the encoder's constraints."""

    container: str  # FFmpeg muxer name
    codec: str  # FFmpeg encoder name
    sample_format: str
    extension: str
    default_bitrate: int | None = None
    fixed_rate: int | None = None  # the only rate the encoder accepts
    fixed_channels: int | None = None  # FFmpeg's native Vorbis encoder only does stereo
    options: tuple[tuple[str, str], ...] = ()


FORMATS: dict[str, EncodingSpec] = {
    "wav": EncodingSpec("wav", "pcm_s16le", "s16", ".wav"),
    "flac": EncodingSpec("flac", "flac", "s16", ".flac"),
    "mp3": EncodingSpec("mp3", "libmp3lame", "fltp", ".mp3", default_bitrate=128_000),
    "ogg": EncodingSpec(
        "ogg",
        "vorbis",
        "fltp",
        ".ogg",
        fixed_channels=2,
        options=(("strict", "experimental"),),
    ),
    "opus": EncodingSpec(
        "ogg", "libopus", "flt", ".opus", default_bitrate=96_000, fixed_rate=48_000
    ),
    "m4a": EncodingSpec("ipod", "aac", "fltp", ".m4a", default_bitrate=128_000),
}


def _encoder_rate(codec_name: str, sample_rate: int, fixed_rate: int | None) -> int:
    if fixed_rate is not None:
        return fixed_rate
    rates = av.Codec(codec_name, "w").audio_rates
    if not rates or sample_rate in rates:
        return sample_rate
    return min(rates, key=lambda rate: (abs(rate - sample_rate), -rate))


def write(
    path: str | os.PathLike[str] | BinaryIO,
    samples: np.ndarray,
    sample_rate: int,
    fmt: str,
    bitrate: int | None = None,
) -> None:
    """Encode float samples (``(n,)`` or ``(n, channels)`` in [-1, 1]) to ``fmt``.

    ``fmt`` is one of :data:`FORMATS` (wav, flac, mp3, ogg, opus, m4a). Samples are
    resampled to a rate the encoder accepts (Opus: 48 kHz) and, for Vorbis, to stereo.
    """
    try:
        spec = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}") from None
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] < 1:
        raise ValueError("samples must have shape (n,) or (n, channels)")
    if spec.fixed_channels is not None and data.shape[1] != spec.fixed_channels:
        data = np.repeat(data.mean(axis=1, keepdims=True), spec.fixed_channels, axis=1)
    data = np.ascontiguousarray(np.clip(data, -1.0, 1.0))
    channels = data.shape[1]
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    target = os.fspath(path) if isinstance(path, str | os.PathLike) else path

    with av.open(target, mode="w", format=spec.container) as container:
        stream = container.add_stream(
            spec.codec,
            rate=_encoder_rate(spec.codec, sample_rate, spec.fixed_rate),
            options=dict(spec.options),
        )
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        stream.format = spec.sample_format
        bit_rate = bitrate or spec.default_bitrate
        if bit_rate:
            stream.bit_rate = bit_rate
        chunk = 8192
        for offset in range(0, len(data), chunk):
            block = data[offset : offset + chunk]
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = offset
            frame.time_base = Fraction(1, sample_rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
