"""File tags that name an AI music generator (ID3, Vorbis comments, RIFF INFO, MP4): a weak hint (pure).

Anyone can write a tag, and anyone can strip one: a tag naming a generator is a hint
(strength WEAK: :func:`fingerprinting.evidence.assess` never makes "AI" of it alone),
and no tag says nothing. Only fields that describe how a file was made are read (encoder,
software, comments, descriptions, copyright, publisher, URLs, user-defined fields), never
titles, artist or album names, where a generator's name may be the name of a work or of
a person. Malformed tags never raise: they are reported as unreadable, with no evidence.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import mutagen
from mutagen.id3 import ID3

from fingerprinting.evidence import WEAK, Evidence

logger = logging.getLogger(__name__)

ALGORITHM_VERSION = "stemma-tags/1"
MAX_VALUE_CHARS = 4096  # longer values are cut before matching (and in what is reported)
MAX_FIELDS = 512

# Generators and services that make music, and phrases that say a file was generated.
# (name, pattern): patterns are matched case-insensitively on whole words.
GENERATORS: tuple[tuple[str, str], ...] = (
    ("Suno", r"suno(?:\.ai|\.com)?"),
    ("Udio", r"udio(?:\.com)?"),
    ("Stable Audio", r"stable[ _-]?audio"),
    ("MusicGen", r"music[ _-]?gen"),
    ("AudioCraft", r"audiocraft"),
    ("MusicLM", r"musiclm"),
    ("Lyria", r"lyria"),
    ("AIVA", r"aiva(?:\.ai)?"),
    ("Boomy", r"boomy(?:\.com)?"),
    ("Soundraw", r"soundraw(?:\.io)?"),
    ("Mubert", r"mubert"),
    ("Riffusion", r"riffusion"),
    ("Beatoven", r"beatoven(?:\.ai)?"),
    ("Soundful", r"soundful"),
    ("Loudly", r"loudly(?:\.com| ai)"),
    ("Amper", r"amper ?music"),
    ("Mureka", r"mureka"),
    ("OpenAI Jukebox", r"openai jukebox"),
    ("AI-generated", r"ai[ _-]generated|generated (?:with|by|using) (?:an? )?ai"),
    ("AI-generated", r"(?:made|created|composed) (?:with|by|using) (?:an? )?ai"),
    ("AI-generated", r"trainedalgorithmicmedia"),
)
_PATTERNS = tuple(
    (name, re.compile(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", re.IGNORECASE))
    for name, pattern in GENERATORS
)

# Fields that say how the file was made get the higher score.
_SOFTWARE_FIELDS = re.compile(
    r"^(?:tsse|tenc|encoder|encoded[_ ]?by|encodedby|software|isft|©too|©enc|tool|"
    r"generator|created[_ ]?with|txxx:(?:software|encoder|generator|created with|tool)|"
    r"----:.*(?:encoder|software|generator|tool))$",
    re.IGNORECASE,
)
# Fields that name the work or its people: never read.
_ID3_SKIP = {
    "TIT1",
    "TIT2",
    "TIT3",
    "TPE1",
    "TPE2",
    "TPE3",
    "TPE4",
    "TALB",
    "TCOM",
    "TEXT",
    "TOLY",
    "TOPE",
    "TOAL",
    "USLT",
    "SYLT",
    "APIC",
    "TRCK",
    "TPOS",
    "TDRC",
    "TYER",
    "TSOA",
    "TSOP",
    "TSOT",
    "TSO2",
    "TSOC",
    "GEOB",
    "PCNT",
    "POPM",
    "MCDI",
    "UFID",
}
_VORBIS_SKIP = {
    "title",
    "artist",
    "album",
    "albumartist",
    "album artist",
    "composer",
    "performer",
    "lyrics",
    "unsyncedlyrics",
    "tracknumber",
    "discnumber",
    "date",
    "metadata_block_picture",
    "coverart",
    "artistsort",
    "albumsort",
    "titlesort",
    "albumartistsort",
    "lyricist",
    "conductor",
    "arranger",
}
_MP4_SKIP = {
    "©nam",
    "©ART",
    "aART",
    "©alb",
    "©wrt",
    "©lyr",
    "trkn",
    "disk",
    "covr",
    "©day",
    "soal",
    "soar",
    "sonm",
    "soaa",
    "soco",
    "©grp",
}
_RIFF_SKIP = {"INAM", "IART", "IPRD", "ICRD", "ITRK", "IPRT", "IMUS", "IWRI"}


@dataclass(frozen=True)
class TagMatch:
    field: str
    value: str
    generator: str


@dataclass(frozen=True)
class TagReport:
    """What the tags of one file say: the container's tag kind, the fields read, the matches."""

    kind: str | None  # "id3", "vorbis", "riff-info", "mp4", "ape"... joined with "+"; None: no tags
    fields: dict[str, list[str]]
    matches: tuple[TagMatch, ...]
    error: str | None = None  # set when the tags could not be read


def _clean(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", " ").strip()
    return text[:MAX_VALUE_CHARS]


def _add(fields: dict[str, list[str]], key: str, values: Any) -> None:
    if len(fields) >= MAX_FIELDS:
        return
    if not isinstance(values, list | tuple):
        values = [values]
    cleaned = [v for v in (_clean(x) for x in values) if v]
    if cleaned:
        fields.setdefault(key, []).extend(cleaned)


def _read_id3(tags: Any, fields: dict[str, list[str]]) -> None:
    for frame in tags.values():
        frame_id = frame.FrameID
        if frame_id in _ID3_SKIP:
            continue
        if frame_id == "TXXX":
            _add(fields, f"TXXX:{frame.desc}", list(frame.text))
            _add(fields, "TXXX", [frame.desc])  # the description itself may name a generator
        elif frame_id == "COMM":
            _add(fields, f"COMM:{frame.desc}" if frame.desc else "COMM", list(frame.text))
        elif frame_id == "WXXX":
            _add(fields, f"WXXX:{frame.desc}" if frame.desc else "WXXX", [frame.url])
        elif frame_id == "PRIV":
            _add(fields, "PRIV", [frame.owner])
        elif frame_id.startswith("W") and hasattr(frame, "url"):
            _add(fields, frame_id, [frame.url])
        elif hasattr(frame, "text"):
            _add(fields, frame_id, [str(t) for t in frame.text])


def _read_mutagen(file: Any, fields: dict[str, list[str]]) -> str | None:
    tags = file.tags
    if tags is None:
        return None
    if isinstance(tags, ID3):
        _read_id3(tags, fields)
        return "id3"
    name = type(tags).__name__
    if name == "MP4Tags":
        for key, values in tags.items():
            if key in _MP4_SKIP:
                continue
            items = values if isinstance(values, list) else [values]
            _add(fields, key, [bytes(v) if isinstance(v, bytes | bytearray) else v for v in items])
        return "mp4"
    if name in (
        "VCFLACDict",
        "VComment",
        "OggVCommentDict",
        "OggOpusVComment",
        "OggVorbisInfo",
    ) or hasattr(tags, "vendor"):
        for key, value in list(tags):
            if key.lower() not in _VORBIS_SKIP:
                _add(fields, key.upper(), [value])
        vendor = getattr(tags, "vendor", "")
        if vendor:
            _add(fields, "VENDOR", [vendor])
        return "vorbis"
    # APEv2 and others: keys and values.
    for key in list(tags.keys()):
        if str(key).lower() in _VORBIS_SKIP:
            continue
        try:
            _add(fields, str(key), [str(tags[key])])
        except (KeyError, TypeError, ValueError):
            continue
    return name.lower()


def _read_riff_info(fileobj: BinaryIO, fields: dict[str, list[str]]) -> bool:
    """RIFF/WAVE ``LIST``/``INFO`` sub-chunks (ISFT, ICMT, ICOP...), which mutagen skips."""
    fileobj.seek(0)
    head = fileobj.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return False
    found = False
    position = 12
    for _ in range(256):
        fileobj.seek(position)
        chunk = fileobj.read(8)
        if len(chunk) < 8:
            break
        chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if chunk_id == b"LIST" and 4 <= size <= 1 << 20:
            body = fileobj.read(size)
            if body[:4] == b"INFO":
                offset = 4
                while offset + 8 <= len(body):
                    sub_id = body[offset : offset + 4].decode("latin-1")
                    sub_size = struct.unpack("<I", body[offset + 4 : offset + 8])[0]
                    value = body[offset + 8 : offset + 8 + sub_size]
                    if sub_id not in _RIFF_SKIP:
                        text = value.split(b"\x00", 1)[0]
                        try:
                            decoded = text.decode("utf-8")
                        except UnicodeDecodeError:
                            decoded = text.decode("latin-1")
                        _add(fields, sub_id, [decoded])
                    found = True
                    offset += 8 + sub_size + (sub_size & 1)
        if chunk_id == b"data" and size in (0, 0xFFFFFFFF):
            break
        position += 8 + size + (size & 1)
    return found


def find_generators(fields: dict[str, list[str]]) -> tuple[TagMatch, ...]:
    matches: list[TagMatch] = []
    seen: set[tuple[str, str]] = set()
    for key, values in fields.items():
        for value in values:
            for name, pattern in _PATTERNS:
                if pattern.search(value) and (key, name) not in seen:
                    seen.add((key, name))
                    matches.append(TagMatch(key, value[:200], name))
    return tuple(matches)


def read(source: str | os.PathLike[str] | BinaryIO) -> TagReport:
    """Read a file's tags; never raises (unreadable tags give ``error`` and no fields)."""
    fields: dict[str, list[str]] = {}
    kinds: list[str] = []
    error: str | None = None
    owned = isinstance(source, str | os.PathLike)
    try:
        fileobj: BinaryIO = (
            open(source, "rb")  # noqa: SIM115 - closed in the finally below
            if isinstance(source, str | os.PathLike)
            else source
        )
    except OSError as exc:
        return TagReport(None, {}, (), error=f"{type(exc).__name__}: {exc}")
    try:
        start = fileobj.tell() if fileobj.seekable() else 0
        if not fileobj.seekable():  # mutagen seeks: give it a copy of what can be read
            fileobj = io.BytesIO(fileobj.read())
            start = 0
        try:
            fileobj.seek(start)
            file = mutagen.File(fileobj)
            if file is not None:
                kind = _read_mutagen(file, fields)
                if kind:
                    kinds.append(kind)
        except Exception as exc:  # mutagen raises many types on damaged tags
            error = f"{type(exc).__name__}: {exc}"[:200]
            logger.info("unreadable tags: %s", error)
        try:
            if _read_riff_info(fileobj, fields):
                kinds.append("riff-info")
        except Exception as exc:  # a damaged RIFF header
            error = error or f"{type(exc).__name__}: {exc}"[:200]
        with contextlib.suppress(OSError, ValueError):
            fileobj.seek(start)
    finally:
        if owned:
            fileobj.close()
    return TagReport("+".join(kinds) or None, fields, find_generators(fields), error)


def tags_evidence(
    source: str | os.PathLike[str] | BinaryIO | TagReport,
) -> list[Evidence]:
    """One WEAK evidence when a tag names a generator; none otherwise."""
    report = source if isinstance(source, TagReport) else read(source)
    if not report.matches:
        return []
    in_software = [m for m in report.matches if _SOFTWARE_FIELDS.match(m.field)]
    named = sorted({m.generator for m in report.matches})
    score = 0.9 if in_software else 0.7
    where = ", ".join(sorted({m.field for m in report.matches}))
    return [
        Evidence(
            "tags",
            score,
            WEAK,
            f"the file's {report.kind or ''} tags name {', '.join(named)} ({where}); "
            "anyone can write a tag: a hint only".replace("  ", " "),
            algorithm=ALGORITHM_VERSION,
            data={
                "kind": report.kind,
                "generators": named,
                "matches": [
                    {"field": m.field, "value": m.value, "generator": m.generator}
                    for m in report.matches
                ],
            },
        )
    ]
