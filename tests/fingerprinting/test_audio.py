"""Decoding every common format, and rejecting every kind of bad audio with its code."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from common.errors import DomainError
from fingerprinting import audio, synth

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
DURATION_S = 8.0
# fmt: (container, codec, source rate, declared duration known exactly)
FORMATS = {
    "wav": ("wav", "pcm_s16le", 44100, True),
    "flac": ("flac", "flac", 44100, True),
    "mp3": ("mp3", "mp3", 44100, True),
    "ogg": ("ogg", "vorbis", 44100, False),
    "opus": ("ogg", "opus", 48000, False),
    "m4a": (MP4, "aac", 44100, True),
}


@pytest.fixture(scope="module")
def music_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("music")
    samples = synth.music(11, DURATION_S)
    files = {}
    for fmt in FORMATS:
        files[fmt] = folder / f"music{synth.FORMATS[fmt].extension}"
        synth.write(files[fmt], samples, 44100, fmt)
    return files


def wav_bytes(samples: np.ndarray, sample_rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    synth.write(buffer, samples, sample_rate, "wav")
    return buffer.getvalue()


def pcm_wav(samples: np.ndarray, sample_rate: int = 44100, data_bytes: int | None = None) -> bytes:
    """A canonical 44-byte-header WAV; ``data_bytes`` lets the header claim another length."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    channels = pcm.shape[1]
    payload = pcm.tobytes()
    claimed = len(payload) if data_bytes is None else data_bytes
    fmt = struct.pack(
        "<HHIIHH", 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16
    )
    return (
        b"RIFF"
        + struct.pack("<I", 36 + claimed)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", claimed)
        + payload
    )


def decode_error(source: Path | io.BytesIO, **kwargs: object) -> audio.AudioError:
    with pytest.raises(audio.AudioError) as caught:
        audio.decode(source, **kwargs)  # type: ignore[arg-type]
    return caught.value


class Recorder:
    """A consumer that keeps what the decode pass gives it."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.finished = 0

    def feed(self, samples: np.ndarray) -> None:
        self.chunks.append(samples.copy())

    def finish(self) -> None:
        self.finished += 1


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_decode_each_format_to_mono_int16_at_11025(music_files: dict[str, Path], fmt: str) -> None:
    decoded = audio.decode(music_files[fmt])

    container, codec, source_rate, exact_length = FORMATS[fmt]
    assert decoded.container == container
    assert decoded.codec == codec
    assert decoded.source_sample_rate == source_rate
    assert decoded.source_channels == 2
    assert decoded.sample_rate == 11025
    assert decoded.samples.dtype == np.int16
    assert decoded.samples.ndim == 1
    assert decoded.duration_s == len(decoded.samples) / 11025
    assert decoded.duration_s == pytest.approx(DURATION_S, abs=0.02)
    if exact_length:
        assert decoded.declared_duration_s == pytest.approx(DURATION_S, abs=0.01)
    else:
        assert decoded.declared_duration_s is None
    assert -25.0 < decoded.rms_dbfs < -10.0
    assert decoded.rms_dbfs < decoded.peak_dbfs < 0.0


def test_decode_resamples_to_the_requested_rate(music_files: dict[str, Path]) -> None:
    decoded = audio.decode(music_files["flac"], sample_rate=22050)

    assert decoded.sample_rate == 22050
    assert len(decoded.samples) == pytest.approx(DURATION_S * 22050, abs=2)


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
def test_decode_file_object_gives_the_same_samples_as_the_path(
    music_files: dict[str, Path], fmt: str
) -> None:
    # A path is decoded inside FFmpeg's filter graph (amovie); a file object by PyAV,
    # frame by frame, into the same graph. Both must give the same samples, hires too.
    hires_path, hires_file = Recorder(), Recorder()
    from_path = audio.decode(music_files[fmt], hires_consumers=[hires_path])
    with open(music_files[fmt], "rb") as fileobj:
        fileobj.read(100)  # decode starts from the beginning wherever the caller left it
        from_file = audio.decode(fileobj, hires_consumers=[hires_file])

    assert np.array_equal(from_path.samples, from_file.samples)
    assert np.array_equal(np.concatenate(hires_path.chunks), np.concatenate(hires_file.chunks))
    assert len(np.concatenate(hires_path.chunks)) == pytest.approx(DURATION_S * 44100, abs=2)


def test_hires_output_is_the_mean_of_the_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    stereo = np.stack([rng.uniform(-0.5, 0.5, 44100 * 4), np.zeros(44100 * 4)], axis=1)
    path = tmp_path / "left.wav"
    path.write_bytes(pcm_wav(stereo))
    hires = Recorder()

    audio.decode(path, hires_consumers=[hires])

    left = (stereo[:, 0] * 32767).astype(np.int16) / 32768  # as pcm_wav writes it
    np.testing.assert_allclose(np.concatenate(hires.chunks), left / 2, atol=1e-6)


def test_consumers_ride_the_decode_pass(music_files: dict[str, Path]) -> None:
    recorder = Recorder()

    decoded = audio.decode(music_files["ogg"], consumers=[recorder])

    # Fed as decoded, in bounded chunks, not in one piece at the end.
    assert len(recorder.chunks) == -(-len(decoded.samples) // audio._CHUNK_SAMPLES) > 1
    assert np.array_equal(np.concatenate(recorder.chunks), decoded.samples)
    assert recorder.finished == 1


def test_consumers_are_not_finished_when_the_audio_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    synth.write(path, synth.silence(4.0), 44100, "wav")
    recorder = Recorder()

    error = decode_error(path, consumers=[recorder])

    assert error.code == audio.AUDIO_SILENT
    assert recorder.finished == 0


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")

    error = decode_error(path)

    assert error.code == "AUDIO_EMPTY"
    assert error.detail == {"size_bytes": 0}
    assert error.status == 400
    assert isinstance(error, DomainError)


def test_audio_stream_without_samples_is_empty() -> None:
    header_only = pcm_wav(synth.silence(0.0))
    assert len(header_only) == 44

    error = decode_error(io.BytesIO(header_only))

    assert error.code == "AUDIO_EMPTY"
    assert error.detail == {"detected": "wav", "codec": "pcm_s16le"}


@pytest.mark.parametrize(
    "content",
    [
        b"Title,ISRC\nMidnight,GBAYE0601498\n" * 50,
        bytes(np.random.default_rng(3).integers(0, 256, 50_000, dtype=np.uint8)),
    ],
    ids=["text", "random-bytes"],
)
def test_not_audio_is_undecodable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload.mp3"
    path.write_bytes(content)

    error = decode_error(path, declared_extension=".mp3")

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.status == 415


def test_image_is_undecodable() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixels = zlib.compress(b"".join(b"\x00" + bytes(30) for _ in range(10)))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )

    error = decode_error(io.BytesIO(png))

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.detail == {"detected": "png_pipe"}


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{target}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile {target}\n",
    ],
    ids=["hls", "concat"],
)
@pytest.mark.parametrize("as_path", [True, False], ids=["path", "file-object"])
def test_playlist_pointing_at_other_files_is_not_followed(
    tmp_path: Path, music_files: dict[str, Path], playlist: str, as_path: bool
) -> None:
    # An upload is hostile: FFmpeg must never open the files or URLs it names.
    path = tmp_path / "upload.mp3"
    path.write_text(playlist.format(target=music_files["wav"]))

    error = decode_error(path if as_path else io.BytesIO(path.read_bytes()))

    assert error.code == "AUDIO_UNDECODABLE"


def test_missing_file_is_undecodable(tmp_path: Path) -> None:
    error = decode_error(tmp_path / "nowhere.wav")

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.detail == {"reason": "FileNotFoundError"}


def test_wav_whose_header_promises_more_data_is_truncated() -> None:
    four_seconds = synth.music(4, 4.0)
    promises_eight = pcm_wav(four_seconds, data_bytes=8 * 44100 * 2 * 2)

    error = decode_error(io.BytesIO(promises_eight))

    assert error.code == "AUDIO_TRUNCATED"
    assert error.detail == {"declared_duration_s": 8.0, "duration_s": 4.0}


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("wav", None),
        ("mp3", None),
        ("flac", "decoder error after"),
        ("ogg", "the last Ogg page is incomplete"),
        ("opus", "the last Ogg page is incomplete"),
        ("m4a", "the MP4 'mdat' box runs"),
    ],
)
def test_file_cut_in_the_middle_is_truncated(
    music_files: dict[str, Path], fmt: str, reason: str | None
) -> None:
    content = music_files[fmt].read_bytes()

    error = decode_error(io.BytesIO(content[: len(content) * 6 // 10]))

    assert error.code == "AUDIO_TRUNCATED"
    if reason is None:  # the header states the length: compared with what was decoded
        assert error.detail["declared_duration_s"] == pytest.approx(DURATION_S, abs=0.01)
        assert error.detail["duration_s"] == pytest.approx(DURATION_S * 0.6, abs=0.3)
    else:
        assert error.detail["reason"].startswith(reason)


def test_digital_silence_is_silent(tmp_path: Path) -> None:
    path = tmp_path / "silence.flac"
    synth.write(path, synth.silence(5.0), 44100, "flac")

    error = decode_error(path)

    assert error.code == "AUDIO_SILENT"
    assert error.detail == {"rms_dbfs": None, "peak_dbfs": None, "threshold_dbfs": -60.0}


def test_near_silence_is_silent() -> None:
    hiss = synth.noise(5.0, rms_dbfs=-70.0, seed=1)

    error = decode_error(io.BytesIO(wav_bytes(hiss)))

    assert error.code == "AUDIO_SILENT"
    assert error.detail["rms_dbfs"] < -70.0
    assert error.detail["peak_dbfs"] > -70.0  # not digital silence, just far too quiet


def test_quiet_music_above_the_threshold_is_accepted_and_below_it_is_silent() -> None:
    music = synth.music(6, 4.0)
    loud_rms = audio.decode(io.BytesIO(wav_bytes(music))).rms_dbfs

    quiet = audio.decode(io.BytesIO(wav_bytes(music * 10 ** (-36 / 20))))
    error = decode_error(io.BytesIO(wav_bytes(music * 10 ** (-48 / 20))))

    assert quiet.rms_dbfs == pytest.approx(loud_rms - 36, abs=0.5)
    assert quiet.rms_dbfs > -60.0
    assert error.code == "AUDIO_SILENT"


def test_too_long_stops_decoding_once_over_the_limit(music_files: dict[str, Path]) -> None:
    recorder = Recorder()

    error = decode_error(music_files["flac"], max_duration_s=3.0, consumers=[recorder])

    assert error.code == "AUDIO_TOO_LONG"
    assert error.detail["max_duration_s"] == 3.0
    # Stopped within one chunk of the limit, not at the end of the 8 s file.
    assert 3.0 < error.detail["duration_s"] <= 3.0 + audio._CHUNK_SAMPLES / 11025
    fed_s = sum(len(chunk) for chunk in recorder.chunks) / 11025
    assert fed_s == pytest.approx(error.detail["duration_s"], abs=0.001)
    assert recorder.finished == 0


def test_audio_within_the_limit_is_accepted(music_files: dict[str, Path]) -> None:
    decoded = audio.decode(music_files["wav"], max_duration_s=DURATION_S + 0.1)

    assert decoded.duration_s == pytest.approx(DURATION_S, abs=0.001)


def test_wav_named_mp3_is_an_extension_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "track.mp3"
    path.write_bytes(wav_bytes(synth.music(2, 4.0)))

    error = decode_error(path, declared_extension=".mp3")

    assert error.code == "AUDIO_EXTENSION_MISMATCH"
    assert error.detail == {"declared": ".mp3", "detected": "wav"}
    assert error.status == 415


@pytest.mark.parametrize(
    ("fmt", "declared"),
    [("wav", "TRACK.WAV"), ("m4a", "song.m4a"), ("m4a", ".mp4"), ("opus", "opus"), ("mp3", ".bin")],
)
def test_matching_or_unknown_extension_is_accepted(
    music_files: dict[str, Path], fmt: str, declared: str
) -> None:
    decoded = audio.decode(music_files[fmt], declared_extension=declared)

    assert decoded.duration_s == pytest.approx(DURATION_S, abs=0.02)


def test_too_short(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    synth.write(path, synth.music(3, 2.0), 44100, "wav")

    error = decode_error(path)
    decoded = audio.decode(path, min_duration_s=1.0)

    assert error.code == "AUDIO_TOO_SHORT"
    assert error.detail == {"duration_s": 2.0, "min_duration_s": 3.0}
    assert decoded.duration_s == 2.0


def test_check_size() -> None:
    audio.check_size(1000, 1000)

    with pytest.raises(audio.AudioError) as too_large:
        audio.check_size(1001, 1000)
    with pytest.raises(audio.AudioError) as empty:
        audio.check_size(0, 1000)

    assert too_large.value.code == "AUDIO_TOO_LARGE"
    assert too_large.value.status == 413
    assert too_large.value.detail == {"size_bytes": 1001, "max_bytes": 1000}
    assert empty.value.code == "AUDIO_EMPTY"


def test_sha256_of_path_and_file_object(tmp_path: Path) -> None:
    content = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    expected = (hashlib.sha256(content).hexdigest(), len(content))

    with open(path, "rb") as fileobj:
        fileobj.read(10)
        from_file = audio.sha256_of(fileobj, chunk_size=1 << 16)
        position_after = fileobj.tell()

    assert audio.sha256_of(path) == expected
    assert from_file == expected
    assert position_after == 0  # rewound, ready to be decoded


@pytest.mark.parametrize(
    ("declared", "expected"),
    [(".MP3", ".mp3"), ("mp3", ".mp3"), ("My Song.final.Flac", ".flac"), ("", None), (None, None)],
)
def test_normalise_extension(declared: str | None, expected: str | None) -> None:
    assert audio.normalise_extension(declared) == expected


def test_codec_without_a_decoder_is_undecodable() -> None:
    content = bytearray(pcm_wav(synth.music(1, 4.0)))
    content[20:22] = struct.pack("<H", 0x1234)  # an unregistered WAVE format tag

    error = decode_error(io.BytesIO(bytes(content)))

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.detail == {"detected": "wav", "reason": "no decoder"}


def test_implausible_sample_rate_is_refused_before_decoding() -> None:
    # 40 kB claiming 1 sample per second would resample to 20,000 s at 11025 Hz.
    content = pcm_wav(synth.music(1, 0.25), sample_rate=1)

    error = decode_error(io.BytesIO(content))

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.detail == {"detected": "wav", "source_sample_rate": 1}


def test_decoding_gives_up_after_its_time_budget(music_files: dict[str, Path]) -> None:
    error = decode_error(music_files["flac"], timeout_s=0.0)

    assert error.code == "AUDIO_UNDECODABLE"
    assert error.detail == {"reason": "timeout"}


class NonSeekable(io.RawIOBase):
    """A pipe-like reader: FFmpeg can stream WAV, MP3 and Ogg from it, not MP4."""

    def __init__(self, content: bytes) -> None:
        self._inner = io.BytesIO(content)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_non_seekable_stream_decodes_without_the_header_checks(
    music_files: dict[str, Path],
) -> None:
    decoded = audio.decode(NonSeekable(music_files["wav"].read_bytes()))  # type: ignore[arg-type]

    assert decoded.duration_s == pytest.approx(DURATION_S, abs=0.001)
    assert decoded.declared_duration_s is None
