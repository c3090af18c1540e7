"""Decode common audio files in one streaming pass to mono int16, rejecting bad audio by code."""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, BinaryIO, Protocol

import av
import av.logging
import numpy as np

from common.errors import DomainError

# FFmpeg is chatty about damaged input, and the failures are reported as AudioError
# anyway. None is PyAV's own default; it is set explicitly so that no import order
# can leave FFmpeg's logging on in workers.
av.logging.set_level(None)

# What AUDIO_TRUNCATED can see, from a few header bytes read by seeking (seekable input only):
# - WAV (RIFF data size), FLAC (STREAMINFO sample count), MP3 with a Xing/Info/VBRI frame
#   and MP4/M4A (moov): declared length minus decoded length > TRUNCATION_TOLERANCE_S;
# - MP4/M4A: a top-level box (mdat, moov...) running past the end of the file;
# - Ogg (Vorbis, Opus): a last page that is incomplete or lacks the end-of-stream flag;
# - any format: a decoder or demuxer error after the first decoded frame.
# Not detectable: MP3 without a Xing frame cut at a frame boundary, raw ADTS AAC, any
# cut under the tolerance, and every header check on non-seekable input.
SAMPLE_RATE = 11025  # Chromaprint's working rate
HIRES_SAMPLE_RATE = 44100  # the spectral analysis's rate (hires consumers)
MIN_DURATION_S = 3.0  # Chromaprint emits its first item only after 30031 samples (2.72 s)
SILENCE_RMS_DBFS = -60.0  # whole-file RMS of the decoded mono signal below this is "silent"
TRUNCATION_TOLERANCE_S = 0.25  # declared minus decoded duration above this is "truncated"
MIN_SOURCE_RATE, MAX_SOURCE_RATE = 4000, 768_000  # outside: a damaged or hostile header
DECODE_TIMEOUT_S = 60.0  # wall-clock budget for one decode; minutes of audio take ~1 s

AUDIO_EMPTY = "AUDIO_EMPTY"
AUDIO_UNDECODABLE = "AUDIO_UNDECODABLE"
AUDIO_TRUNCATED = "AUDIO_TRUNCATED"
AUDIO_SILENT = "AUDIO_SILENT"
AUDIO_TOO_LONG = "AUDIO_TOO_LONG"
AUDIO_TOO_SHORT = "AUDIO_TOO_SHORT"
AUDIO_TOO_LARGE = "AUDIO_TOO_LARGE"
AUDIO_EXTENSION_MISMATCH = "AUDIO_EXTENSION_MISMATCH"

_STATUS_BY_CODE = {
    AUDIO_UNDECODABLE: 415,
    AUDIO_EXTENSION_MISMATCH: 415,
    AUDIO_TOO_LARGE: 413,
}

_MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
# File extension -> FFmpeg demuxer names a file with that extension may legitimately have.
EXTENSION_CONTAINERS: dict[str, frozenset[str]] = {
    ".wav": frozenset({"wav", "w64"}),
    ".wave": frozenset({"wav", "w64"}),
    ".flac": frozenset({"flac"}),
    ".mp3": frozenset({"mp3"}),
    ".ogg": frozenset({"ogg"}),
    ".oga": frozenset({"ogg"}),
    ".opus": frozenset({"ogg"}),
    ".m4a": frozenset({_MP4}),
    ".mp4": frozenset({_MP4}),
    ".aac": frozenset({"aac", _MP4}),  # ADTS, though MP4 files are often named .aac
    ".aif": frozenset({"aiff"}),
    ".aiff": frozenset({"aiff"}),
    ".webm": frozenset({"matroska,webm"}),
    ".mka": frozenset({"matroska,webm"}),
    ".wma": frozenset({"asf"}),
}

# Errors PyAV and the file layer raise for bad input (av.FFmpegError is an OSError too).
_AV_ERRORS: tuple[type[BaseException], ...] = (
    av.FFmpegError,
    OSError,
    EOFError,
    ValueError,
    UnicodeDecodeError,
)


class AudioError(DomainError):
    """Audio that cannot be registered or checked; ``code`` says why."""

    code = AUDIO_UNDECODABLE
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = AUDIO_UNDECODABLE,
        detail: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(
            message, code=code, detail=detail, status=status or _STATUS_BY_CODE.get(code, 400)
        )


class SampleConsumer(Protocol):
    """Something that rides the decode pass, e.g. a streaming fingerprinter."""

    def feed(self, samples: np.ndarray) -> None: ...

    def finish(self) -> object: ...


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """Mono int16 samples at ``sample_rate`` plus what was learnt about the source."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    duration_s: float
    container: str  # FFmpeg demuxer name: "wav", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"...
    codec: str  # canonical codec name: "pcm_s16le", "mp3", "flac", "vorbis", "opus", "aac"...
    source_sample_rate: int
    source_channels: int
    declared_duration_s: float | None  # from the header, when the format states it exactly
    rms_dbfs: float
    peak_dbfs: float


def check_size(size_bytes: int, max_bytes: int) -> None:
    """Raise AUDIO_TOO_LARGE (413) for uploads over ``max_bytes``; zero bytes is AUDIO_EMPTY."""
    if size_bytes <= 0:
        raise AudioError("The audio file is empty.", code=AUDIO_EMPTY, detail={"size_bytes": 0})
    if size_bytes > max_bytes:
        raise AudioError(
            f"The audio file is larger than {max_bytes} bytes.",
            code=AUDIO_TOO_LARGE,
            detail={"size_bytes": size_bytes, "max_bytes": max_bytes},
        )


def sha256_of(
    source: str | os.PathLike[str] | BinaryIO, chunk_size: int = 1 << 20
) -> tuple[str, int]:
    """Stream a file (from its start) through SHA-256: ``(hexdigest, size_bytes)``.

    A file object is rewound before and after, so it can be decoded next.
    """
    digest = hashlib.sha256()
    size = 0
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fileobj:
            for chunk in iter(lambda: fileobj.read(chunk_size), b""):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size
    if source.seekable():
        source.seek(0)
    for chunk in iter(lambda: source.read(chunk_size), b""):
        digest.update(chunk)
        size += len(chunk)
    if source.seekable():
        source.seek(0)
    return digest.hexdigest(), size


def normalise_extension(declared: str | None) -> str | None:
    """'.MP3', 'mp3' or 'song.mp3' -> '.mp3'; '' or None -> None."""
    if not declared:
        return None
    suffix = declared.strip().lower().rsplit(".", 1)[-1]
    return f".{suffix}" if suffix else None


def decode(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
    min_duration_s: float = MIN_DURATION_S,
    declared_extension: str | None = None,
    consumers: Iterable[SampleConsumer] = (),
    timeout_s: float = DECODE_TIMEOUT_S,
    hires_consumers: Iterable[SampleConsumer] = (),
    hires_rate: int = HIRES_SAMPLE_RATE,
) -> DecodedAudio:
    """Decode ``source`` (a path, or a binary file object read from its start) to mono int16.

    The file is streamed, never read whole, through one FFmpeg filter graph that mixes
    down and resamples with fpcalc's settings (``FINGERPRINT_RESAMPLER``). A path is
    decoded inside the graph (FFmpeg's ``amovie`` source: no Python per packet, about
    twice as fast); a file object is decoded by PyAV and its frames pushed into the same
    graph. Both give the same samples. Each chunk (up to ``_CHUNK_SAMPLES``) is given to
    every consumer's ``feed`` as it comes; their ``finish`` is called only when the audio
    passed every check (on AudioError it is not called). Any problem with the audio
    raises :class:`AudioError`; nothing else escapes for bad input.

    ``hires_consumers`` ride the same pass through a second branch of the graph: they
    get mono float32 chunks (full scale = 1.0, the mean of the channels) at
    ``hires_rate`` (the spectral analysis needs the band above Chromaprint's 5.5 kHz),
    with the same ``finish`` rule. Without them the branch is not built.
    """
    consumers = tuple(consumers)
    hires_consumers = tuple(hires_consumers)
    fileobj, owned = _open_source(source)
    try:
        size = _size_of(fileobj)
        if size == 0:
            raise AudioError("The audio file is empty.", code=AUDIO_EMPTY, detail={"size_bytes": 0})
        header = _inspect_header(fileobj, size) if size is not None else _Header()
        container = _open_container(fileobj, header)
        with container:
            return _decode_container(
                container,
                header,
                path=os.fspath(source) if isinstance(source, str | os.PathLike) else None,
                sample_rate=sample_rate,
                max_duration_s=max_duration_s,
                min_duration_s=min_duration_s,
                declared_extension=normalise_extension(declared_extension),
                consumers=consumers,
                deadline=time.monotonic() + timeout_s,
                hires_consumers=hires_consumers,
                hires_rate=hires_rate,
            )
    finally:
        if owned:
            fileobj.close()


def _open_source(source: str | os.PathLike[str] | BinaryIO) -> tuple[BinaryIO, bool]:
    # Paths are opened here, and given to FFmpeg as a file object, so that the format
    # is detected from the content alone and never from the file name.
    if isinstance(source, str | os.PathLike):
        try:
            return open(source, "rb"), True  # closed by decode()
        except OSError as exc:
            raise AudioError(
                "The audio file could not be read.",
                code=AUDIO_UNDECODABLE,
                detail={"reason": type(exc).__name__},
            ) from exc
    return source, False


def _size_of(fileobj: BinaryIO) -> int | None:
    try:
        if not fileobj.seekable():
            return None
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(0)
        return size
    except (OSError, ValueError) as exc:
        raise AudioError(
            "The audio file could not be read.",
            code=AUDIO_UNDECODABLE,
            detail={"reason": type(exc).__name__},
        ) from exc


@dataclass(frozen=True)
class _Header:
    """What the first bytes say, for the formats whose headers state an exact length."""

    kind: str | None = None  # "wav", "flac", "mp3", "mp4", "ogg"
    declared_duration_s: float | None = None  # computed here (wav, flac)
    trust_container_duration: bool = False  # FFmpeg's duration is exact (mp3 Xing, mp4 moov)
    truncated_reason: str | None = None  # structural proof of truncation (mp4 boxes, ogg pages)


def _inspect_header(fileobj: BinaryIO, size: int) -> _Header:
    """Read a few header bytes (seeking, never the whole file); rewinds afterwards."""
    try:
        head = fileobj.read(12)
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return _inspect_wav(fileobj, size)
        if head[:4] == b"fLaC":
            return _inspect_flac(fileobj)
        if head[4:8] == b"ftyp":
            return _inspect_mp4(fileobj, size)
        if head[:4] == b"OggS":
            return _inspect_ogg(fileobj, size)
        if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
            return _inspect_mp3(fileobj, head)
        return _Header()
    except (OSError, ValueError, struct.error):
        return _Header()
    finally:
        fileobj.seek(0)


def _inspect_wav(fileobj: BinaryIO, size: int) -> _Header:
    position, byte_rate = 12, 0
    for _ in range(64):  # a WAV has a handful of chunks; bound the walk on garbage
        fileobj.seek(position)
        chunk = fileobj.read(8)
        if len(chunk) < 8:
            break
        chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if chunk_id == b"fmt ":
            fmt = fileobj.read(16)
            if len(fmt) == 16:
                byte_rate = struct.unpack("<I", fmt[8:12])[0]
        elif chunk_id == b"data":
            if byte_rate <= 0 or chunk_size in (0, 0xFFFFFFFF):
                break  # streamed WAVs leave the length open
            return _Header(kind="wav", declared_duration_s=chunk_size / byte_rate)
        position += 8 + chunk_size + (chunk_size & 1)
        if position >= size:
            break
    return _Header(kind="wav")


def _inspect_flac(fileobj: BinaryIO) -> _Header:
    fileobj.seek(4)
    block = fileobj.read(4 + 34)
    if len(block) < 38 or block[0] & 0x7F != 0:  # the first block must be STREAMINFO
        return _Header(kind="flac")
    packed = int.from_bytes(block[4 + 10 : 4 + 18], "big")
    rate, total_samples = packed >> 44, packed & ((1 << 36) - 1)
    if rate <= 0 or total_samples <= 0:  # 0 means "unknown" (streamed encoders)
        return _Header(kind="flac")
    return _Header(kind="flac", declared_duration_s=total_samples / rate)


def _inspect_mp3(fileobj: BinaryIO, head: bytes) -> _Header:
    # Only a Xing/Info/VBRI frame states the length; without one FFmpeg guesses it
    # from the bitrate, which is wrong for VBR, so it must not be compared.
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        syncsafe = head[6:10]
        start = 10 + ((syncsafe[0] << 21) | (syncsafe[1] << 14) | (syncsafe[2] << 7) | syncsafe[3])
        if head[5] & 0x10:
            start += 10
    fileobj.seek(start)
    frame = fileobj.read(4096)
    sync = next(
        (i for i in range(len(frame) - 1) if frame[i] == 0xFF and frame[i + 1] & 0xE0 == 0xE0),
        None,
    )
    if sync is None:
        return _Header(kind="mp3")
    first = frame[sync : sync + 192]
    tagged = b"Xing" in first[:64] or b"Info" in first[:64] or first[36:40] == b"VBRI"
    return _Header(kind="mp3", trust_container_duration=tagged)


# Top-level MP4 boxes: only these are trusted when a box overruns the end of the file,
# so that trailing junk (an ID3v1 tag...) is not read as a box.
_MP4_TOP_LEVEL_BOXES = frozenset(
    {
        b"ftyp",
        b"moov",
        b"mdat",
        b"free",
        b"skip",
        b"wide",
        b"uuid",
        b"meta",
        b"pdin",
        b"moof",
        b"mfra",
        b"styp",
        b"sidx",
        b"udta",
    }
)


def _inspect_mp4(fileobj: BinaryIO, size: int) -> _Header:
    position = 0
    for _ in range(1024):
        if position >= size:
            break
        fileobj.seek(position)
        box = fileobj.read(16)
        if len(box) < 8:
            break
        box_size, box_type = struct.unpack(">I", box[:4])[0], box[4:8]
        if box_size == 1 and len(box) == 16:
            box_size = struct.unpack(">Q", box[8:16])[0]
        elif box_size == 0:  # runs to the end of the file
            break
        if box_size < 8 or box_type not in _MP4_TOP_LEVEL_BOXES:
            break  # damaged or trailing junk: let FFmpeg judge
        if position + box_size > size:
            return _Header(
                kind="mp4",
                trust_container_duration=True,
                truncated_reason=f"the MP4 '{box_type.decode('latin-1')}' box runs "
                f"{position + box_size - size} bytes past the end of the file",
            )
        position += box_size
    return _Header(kind="mp4", trust_container_duration=True)


_OGG_MAX_PAGE = 27 + 255 + 255 * 255


def _inspect_ogg(fileobj: BinaryIO, size: int) -> _Header:
    # A complete Ogg stream ends with a whole page flagged end-of-stream (0x04).
    # Checks the last page only: the declared length of Ogg files comes from that
    # same page, so a cut file cannot be caught by comparing durations.
    tail_start = max(0, size - _OGG_MAX_PAGE - 4)
    fileobj.seek(tail_start)
    tail = fileobj.read()
    at = tail.rfind(b"OggS\x00")
    if at < 0:
        return _Header(kind="ogg")
    page = tail[at:]
    segments = page[26] if len(page) >= 27 else 0
    if len(page) < 27 + segments or 27 + segments + sum(page[27 : 27 + segments]) > len(page):
        reason = "the last Ogg page is incomplete"
    elif not page[5] & 0x04:
        reason = "the last Ogg page has no end-of-stream flag"
    else:
        return _Header(kind="ogg")
    return _Header(kind="ogg", truncated_reason=reason)


def _open_container(fileobj: BinaryIO, header: _Header) -> Any:
    try:
        return av.open(fileobj, mode="r")
    except _AV_ERRORS as exc:
        if header.truncated_reason:
            raise AudioError(
                "The audio file is truncated.",
                code=AUDIO_TRUNCATED,
                detail={"reason": header.truncated_reason},
            ) from exc
        raise AudioError(
            "The file is not audio in a format that can be decoded.",
            code=AUDIO_UNDECODABLE,
            detail={"reason": type(exc).__name__},
        ) from exc


# How the samples for Chromaprint are resampled: fpcalc's own settings (libchromaprint's
# FFmpegAudioProcessor), so that our items are the ones fpcalc computes from the same
# decoded audio, at about half the cost of swresample's defaults (32 taps, 1024 phases).
FINGERPRINT_RESAMPLER = "filter_size=16:phase_shift=8:linear_interp=1:cutoff=0.8"
# Part of every stored fingerprint's algorithm: the items depend on the resampler.
PCM_VERSION = "pcm/2 swr-16-8-linear-0.8"
_CHUNK_SAMPLES = 16384  # per frame out of the graph: Python runs once per 1.5 s at 11025 Hz
_HIRES_CHUNK_SAMPLES = 65536  # the same, 1.5 s at 44.1 kHz

# Demuxers the fast path may hand a file name to (FFmpeg's movie source reopens the file
# by name, with the demuxer forced to the one found from the content). Playlist-like
# demuxers (hls, concat...) that open other files or URLs are never among them.
_GRAPH_SOURCE_CONTAINERS = frozenset(
    name.split(",")[0] for names in EXTENSION_CONTAINERS.values() for name in names
)


class _PcmGraph:
    """One FFmpeg filter graph from the decoded audio to the consumers' formats.

    Source: ``amovie`` (FFmpeg demuxes and decodes the file itself, no Python per
    packet) or ``abuffer`` (decoded frames pushed from Python). The source is mixed down
    once, in float, to the mean of its channels; then mono int16 at ``sample_rate``
    through fpcalc's resampler and, with ``hires_rate``, mono float32 at that rate
    through an ``asplit`` branch (swresample's defaults; no resampler at all for a source
    already at that rate). Frames leave in chunks of ``_CHUNK_SAMPLES`` (int16) and
    ``_HIRES_CHUNK_SAMPLES`` (float32).
    """

    def __init__(
        self,
        sample_rate: int,
        hires_rate: int | None,
        *,
        stream: Any,
        path: str | None = None,
        container_name: str = "",
    ) -> None:
        graph = av.filter.Graph()
        if path is not None:
            # "file:" keeps FFmpeg to the local file protocol whatever the name looks like.
            self.source = graph.add(
                "amovie",
                filename=f"file:{os.path.abspath(path)}",
                format_name=container_name.split(",")[0],
                streams=str(stream.index),
                format_opts="protocol_whitelist=file",
            )
        else:  # stream is the first decoded frame: the graph takes its format
            self.source = graph.add_abuffer(
                sample_rate=stream.sample_rate,
                format=stream.format.name,
                layout=stream.layout.name,
                time_base=stream.time_base or Fraction(1, stream.sample_rate),
            )
        # Mixed down first, once, to the mean of the channels: the resamplers then work
        # on one channel (fpcalc's swresample mixes down before resampling too).
        head = graph.add("aresample", "ochl=mono:rematrix_maxval=1:osf=flt")
        self.source.link_to(head)
        # A source already at ``hires_rate`` needs no resampler on that branch (aresample
        # would still copy every sample through swresample), and is cut into the hires
        # chunks before the split, so that branch hands FFmpeg's frames over uncopied.
        native = bool(hires_rate) and stream.sample_rate == hires_rate
        if native:
            chunker = graph.add("asetnsamples", f"n={_HIRES_CHUNK_SAMPLES}:p=0")
            head.link_to(chunker)
            head = chunker
        if hires_rate:
            split = graph.add("asplit", "2")
            head.link_to(split)
            head = split
        resampler = f"{sample_rate}:{FINGERPRINT_RESAMPLER}"
        self.sinks = [self._branch(graph, head, 0, resampler, "s16", _CHUNK_SAMPLES)]
        if hires_rate:  # bigger chunks: the spectral analysis batches its frames anyway
            self.sinks.append(
                self._branch(
                    graph,
                    head,
                    1,
                    None if native else str(hires_rate),
                    "flt",
                    None if native else _HIRES_CHUNK_SAMPLES,
                    rate=hires_rate,
                )
            )
        graph.configure()
        self.graph = graph
        self.layout = (stream.format.name, stream.layout.name, stream.sample_rate)
        self.done = [False] * len(self.sinks)

    @staticmethod
    def _branch(
        graph: Any,
        head: Any,
        output: int,
        resample: str | None,
        sample_format: str,
        chunk: int | None,
        *,
        rate: int | None = None,
    ) -> Any:
        """``resample`` (aresample's options), or None to pin the format (and ``rate``)
        only; ``chunk`` samples per frame out, or None for the frames as they come."""
        pinned = f"sample_fmts={sample_format}:channel_layouts=mono"
        if rate is not None:
            pinned += f":sample_rates={rate}"
        nodes = [
            *([graph.add("aresample", resample)] if resample is not None else []),
            graph.add("aformat", pinned),
            *([graph.add("asetnsamples", f"n={chunk}:p=0")] if chunk is not None else []),
            graph.add("abuffersink"),
        ]
        head.link_to(nodes[0], output)
        for upstream, downstream in itertools.pairwise(nodes):
            upstream.link_to(downstream)
        return nodes[-1]

    def push(self, frame: av.AudioFrame | None) -> None:
        self.source.push(frame)

    def drain(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """What the outputs hold now: (int16 chunks, float32 hires chunks)."""
        out: list[list[np.ndarray]] = [[], []]
        for i, sink in enumerate(self.sinks):
            while not self.done[i]:
                try:
                    frame = sink.pull()
                except av.BlockingIOError:
                    break
                except av.EOFError:
                    self.done[i] = True
                    break
                dtype = np.int16 if i == 0 else np.float32
                out[i].append(
                    np.frombuffer(memoryview(frame.planes[0]), dtype=dtype, count=frame.samples)
                )
        return out[0], out[1]

    @property
    def finished(self) -> bool:
        return all(self.done)


def _pcm_chunks(
    container: Any,
    stream: Any,
    sample_rate: int,
    deadline: float,
    hires_rate: int | None = None,
    path: str | None = None,
) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """Yield mono int16 chunks at ``sample_rate``, each with the float32 chunks at
    ``hires_rate`` decoded meanwhile (none without ``hires_rate``); FFmpeg failures become
    AUDIO_UNDECODABLE/TRUNCATED.

    With ``path`` (a local file whose demuxer is in ``_GRAPH_SOURCE_CONTAINERS``) FFmpeg
    decodes the file inside the graph; otherwise PyAV demuxes and decodes packet by
    packet and pushes the frames in (file objects, pipes). Both give the same samples.
    """
    decoded = [0]  # frames decoded (pushed), or chunks out of the graph: for the error code
    try:
        if path is not None and container.format.name.split(",")[0] in _GRAPH_SOURCE_CONTAINERS:
            pcm = _graph_source(container, stream, sample_rate, hires_rate, path)
        else:
            pcm = _pushed_source(container, stream, sample_rate, hires_rate, decoded)
        for chunks, hires_chunks in pcm:
            decoded[0] += len(chunks) + len(hires_chunks)
            if not chunks and hires_chunks:
                yield np.zeros(0, dtype=np.int16), hires_chunks
            for i, chunk in enumerate(chunks):
                yield chunk, hires_chunks if i == 0 else []
            if time.monotonic() > deadline:
                raise AudioError(
                    "Decoding the audio took too long.",
                    code=AUDIO_UNDECODABLE,
                    detail={"reason": "timeout"},
                )
    except _AV_ERRORS as exc:
        raise _decode_failure(exc, decoded[0]) from exc


_Chunks = tuple[list[np.ndarray], list[np.ndarray]]


def _graph_source(
    container: Any, stream: Any, sample_rate: int, hires_rate: int | None, path: str
) -> Iterator[_Chunks]:
    graph = _PcmGraph(
        sample_rate, hires_rate, stream=stream, path=path, container_name=container.format.name
    )
    idle = 0
    while not graph.finished:
        chunks, hires_chunks = graph.drain()
        idle = 0 if chunks or hires_chunks else idle + 1
        if idle > 1000:  # a source-driven graph always has a frame or the end to give
            raise av.EOFError(0, "the filter graph stalled")
        yield chunks, hires_chunks


def _pushed_source(
    container: Any, stream: Any, sample_rate: int, hires_rate: int | None, decoded: list[int]
) -> Iterator[_Chunks]:
    graph: _PcmGraph | None = None
    for packet in container.demux(stream):
        for frame in packet.decode():
            decoded[0] += 1
            layout = (frame.format.name, frame.layout.name, frame.sample_rate)
            if graph is None or layout != graph.layout:
                if graph is not None:  # the format changed mid-stream (chained Ogg)
                    yield from _flushed(graph)
                graph = _PcmGraph(sample_rate, hires_rate, stream=frame)
            graph.push(frame)
            yield graph.drain()
    if graph is not None:
        yield from _flushed(graph)


def _flushed(graph: _PcmGraph) -> Iterator[_Chunks]:
    graph.push(None)
    while not graph.finished:
        yield graph.drain()


def _decode_failure(exc: BaseException, frames: int) -> AudioError:
    if frames == 0:
        return AudioError(
            "The audio stream could not be decoded.",
            code=AUDIO_UNDECODABLE,
            detail={"reason": type(exc).__name__},
        )
    return AudioError(
        "The audio stream is damaged or cut short.",
        code=AUDIO_TRUNCATED,
        detail={"reason": f"decoder error after {frames} frames: {type(exc).__name__}"},
    )


def _decode_container(
    container: Any,
    header: _Header,
    *,
    sample_rate: int,
    max_duration_s: float | None,
    min_duration_s: float,
    declared_extension: str | None,
    consumers: tuple[SampleConsumer, ...],
    deadline: float,
    hires_consumers: tuple[SampleConsumer, ...] = (),
    hires_rate: int = HIRES_SAMPLE_RATE,
    path: str | None = None,
) -> DecodedAudio:
    container_name: str = container.format.name
    accepted = EXTENSION_CONTAINERS.get(declared_extension or "")
    if accepted is not None and container_name not in accepted:
        raise AudioError(
            f"The file is named {declared_extension} but its content is {container_name}.",
            code=AUDIO_EXTENSION_MISMATCH,
            detail={"declared": declared_extension, "detected": container_name},
        )
    if header.truncated_reason:
        raise AudioError(
            "The audio file is truncated.",
            code=AUDIO_TRUNCATED,
            detail={"reason": header.truncated_reason},
        )
    if not container.streams.audio:
        raise AudioError(
            "The file has no audio stream.",
            code=AUDIO_UNDECODABLE,
            detail={"detected": container_name},
        )
    stream = container.streams.audio[0]
    codec_context = stream.codec_context
    if codec_context is None:
        raise AudioError(
            "The audio is in a codec that cannot be decoded.",
            code=AUDIO_UNDECODABLE,
            detail={"detected": container_name, "reason": "no decoder"},
        )
    codec_name: str = codec_context.codec.canonical_name
    source_rate, source_channels = int(codec_context.sample_rate), int(codec_context.channels)
    if not MIN_SOURCE_RATE <= source_rate <= MAX_SOURCE_RATE:
        # A rate of 1 Hz turns a few kilobytes into hours of output: refuse it.
        raise AudioError(
            "The audio has an implausible sample rate.",
            code=AUDIO_UNDECODABLE,
            detail={"detected": container_name, "source_sample_rate": source_rate},
        )
    declared_s = _declared_duration_s(header, container_name, stream)

    max_samples = math.inf if max_duration_s is None else max_duration_s * sample_rate
    chunks: list[np.ndarray] = []
    total = 0
    pcm = _pcm_chunks(
        container, stream, sample_rate, deadline, hires_rate if hires_consumers else None, path
    )
    for chunk, hires_chunks in pcm:
        for hires_chunk in hires_chunks:
            for consumer in hires_consumers:
                consumer.feed(hires_chunk)
        if not len(chunk):
            continue
        chunks.append(chunk)
        total += len(chunk)
        for consumer in consumers:
            consumer.feed(chunk)
        if total > max_samples:
            raise AudioError(
                f"The audio is longer than {max_duration_s} s.",
                code=AUDIO_TOO_LONG,
                detail={
                    "duration_s": round(total / sample_rate, 3),
                    "max_duration_s": max_duration_s,
                },
            )

    duration_s = total / sample_rate
    if declared_s is not None and declared_s - duration_s > TRUNCATION_TOLERANCE_S:
        raise AudioError(
            "The audio file is truncated.",
            code=AUDIO_TRUNCATED,
            detail={
                "declared_duration_s": round(declared_s, 3),
                "duration_s": round(duration_s, 3),
            },
        )
    if total == 0:
        raise AudioError(
            "The audio stream has no samples.",
            code=AUDIO_EMPTY,
            detail={"detected": container_name, "codec": codec_name},
        )
    samples = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    if duration_s < min_duration_s:
        raise AudioError(
            f"The audio is shorter than {min_duration_s} s.",
            code=AUDIO_TOO_SHORT,
            detail={"duration_s": round(duration_s, 3), "min_duration_s": min_duration_s},
        )
    rms_dbfs, peak_dbfs = _levels_dbfs(samples)
    if rms_dbfs < SILENCE_RMS_DBFS:
        raise AudioError(
            "The audio is silent.",
            code=AUDIO_SILENT,
            detail={
                "rms_dbfs": _finite(rms_dbfs),
                "peak_dbfs": _finite(peak_dbfs),
                "threshold_dbfs": SILENCE_RMS_DBFS,
            },
        )
    for consumer in (*consumers, *hires_consumers):
        consumer.finish()
    return DecodedAudio(
        samples=samples,
        sample_rate=sample_rate,
        duration_s=duration_s,
        container=container_name,
        codec=codec_name,
        source_sample_rate=source_rate,
        source_channels=source_channels,
        declared_duration_s=declared_s,
        rms_dbfs=rms_dbfs,
        peak_dbfs=peak_dbfs,
    )


def _declared_duration_s(header: _Header, container_name: str, stream: Any) -> float | None:
    """The length the file promises, only where the format states it exactly."""
    if header.declared_duration_s is not None and container_name in ("wav", "flac"):
        return header.declared_duration_s
    exact = header.trust_container_duration and container_name in ("mp3", _MP4)
    if exact and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _mono_s16(frame: av.AudioFrame) -> np.ndarray:
    """A packed mono s16 frame's samples, without to_ndarray()'s copies."""
    return np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16, count=frame.samples)


def _levels_dbfs(samples: np.ndarray) -> tuple[float, float]:
    """(RMS, peak) of int16 samples in dB relative to full scale; -inf for digital silence."""
    # In integers: exact, and no BLAS thread spinning beside the decoder (float64 np.dot);
    # an int64 dot is one pass, without the squares' temporary array.
    as_int = samples.astype(np.int64)
    rms = math.sqrt(float(np.dot(as_int, as_int)) / len(samples))
    peak = float(max(int(samples.max()), -int(samples.min())))
    return _dbfs(rms), _dbfs(peak)


def _dbfs(level: float) -> float:
    return 20 * math.log10(level / 32768) if level > 0 else -math.inf


def _finite(value: float) -> float | None:
    """JSON has no -inf: digital silence is reported as None."""
    return round(value, 1) if math.isfinite(value) else None
