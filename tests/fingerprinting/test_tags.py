"""Tags naming a generator, in every container: a weak hint, never a crash."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, TIT2, TPE1, TSSE, TXXX, WXXX
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis

from fingerprinting import evidence, synth, tags

SAMPLES = synth.music(9, 3.0)


def make(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"song{synth.FORMATS[fmt].extension}"
    synth.write(path, SAMPLES, 44100, fmt)
    return path


def add_riff_info(path: Path, fields: dict[str, str]) -> None:
    """Append a LIST/INFO chunk to a WAV and fix the RIFF size (mutagen cannot write one)."""
    body = b"INFO"
    for key, value in fields.items():
        data = value.encode() + b"\x00"
        body += (
            key.encode() + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")
        )
    raw = bytearray(path.read_bytes()) + b"LIST" + struct.pack("<I", len(body)) + body
    raw[4:8] = struct.pack("<I", len(raw) - 8)
    path.write_bytes(bytes(raw))


def test_mp3_id3_encoder_field_names_the_generator(tmp_path: Path) -> None:
    path = make(tmp_path, "mp3")
    id3 = ID3()
    id3.add(TSSE(encoding=3, text=["Suno v4.5"]))
    id3.add(TIT2(encoding=3, text=["Evening"]))
    id3.save(path)
    [found] = tags.tags_evidence(path)
    assert found.source == "tags" and found.strength == evidence.WEAK
    assert found.score == 0.9  # in a field that says how the file was made
    assert found.data["generators"] == ["Suno"]
    assert found.data["matches"] == [{"field": "TSSE", "value": "Suno v4.5", "generator": "Suno"}]
    assert "Suno" in found.detail and "hint" in found.detail


def test_id3_comments_txxx_and_urls_are_read(tmp_path: Path) -> None:
    path = make(tmp_path, "mp3")
    id3 = ID3()
    id3.add(COMM(encoding=3, lang="eng", desc="", text=["made with Udio"]))
    id3.add(TXXX(encoding=3, desc="AI_GENERATOR", text=["MusicGen large"]))
    id3.add(WXXX(encoding=3, desc="source", url="https://www.riffusion.com/song/1"))
    id3.save(path)
    report = tags.read(path)
    assert report.kind == "id3"
    assert {m.generator for m in report.matches} == {"Udio", "MusicGen", "Riffusion"}
    [found] = tags.tags_evidence(report)
    assert found.score == 0.7  # comments and custom fields, not an encoder field


def test_titles_and_artists_are_not_read(tmp_path: Path) -> None:
    # A song called "Suno" by an artist called "Udio" is not evidence of anything.
    path = make(tmp_path, "mp3")
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=["Suno"]))
    id3.add(TPE1(encoding=3, text=["Udio"]))
    id3.add(TSSE(encoding=3, text=["Lavf61.7.100"]))
    id3.save(path)
    assert tags.read(path).fields == {"TSSE": ["Lavf61.7.100"]}
    assert tags.tags_evidence(path) == []


def test_flac_vorbis_comments(tmp_path: Path) -> None:
    path = make(tmp_path, "flac")
    flac = FLAC(path)
    flac["ENCODER"] = "Stable Audio 2.0"
    flac["TITLE"] = "Stable Audio"  # a title: ignored
    flac.save()
    [found] = tags.tags_evidence(path)
    assert found.data["kind"] == "vorbis"
    assert found.data["matches"] == [
        {"field": "ENCODER", "value": "Stable Audio 2.0", "generator": "Stable Audio"}
    ]
    assert found.score == 0.9


def test_ogg_vorbis_comment_phrase(tmp_path: Path) -> None:
    path = make(tmp_path, "ogg")
    ogg = OggVorbis(path)
    ogg["COMMENT"] = "This track is AI-generated."
    ogg.save()
    [found] = tags.tags_evidence(path)
    assert found.data["generators"] == ["AI-generated"]


def test_mp4_tool_and_comment(tmp_path: Path) -> None:
    path = make(tmp_path, "m4a")
    mp4 = MP4(path)
    mp4["©too"] = ["AIVA 3.1"]
    mp4["©cmt"] = ["composed with AI by Boomy"]
    mp4["©nam"] = ["Mubert"]  # a title: ignored
    mp4.save()
    report = tags.read(path)
    assert report.kind == "mp4"
    assert {(m.field, m.generator) for m in report.matches} == {
        ("©too", "AIVA"),
        ("©cmt", "Boomy"),
        ("©cmt", "AI-generated"),
    }
    assert tags.tags_evidence(report)[0].score == 0.9


def test_wav_riff_info(tmp_path: Path) -> None:
    path = make(tmp_path, "wav")
    add_riff_info(path, {"ISFT": "Soundraw", "ICMT": "demo", "INAM": "Mubert"})
    report = tags.read(path)
    assert "riff-info" in (report.kind or "")
    # FFmpeg wrote its own INFO list (ISFT "Lavf..."): both lists are read, the title is not.
    assert report.fields["ISFT"][-1] == "Soundraw" and report.fields["ICMT"] == ["demo"]
    assert "INAM" not in report.fields
    [found] = tags.tags_evidence(report)
    assert found.data["generators"] == ["Soundraw"] and found.score == 0.9


def test_file_object_is_read_and_rewound(tmp_path: Path) -> None:
    path = make(tmp_path, "mp3")
    id3 = ID3()
    id3.add(TSSE(encoding=3, text=["Udio"]))
    id3.save(path)
    handle = io.BytesIO(path.read_bytes())
    assert tags.tags_evidence(handle)[0].data["generators"] == ["Udio"]
    assert handle.tell() == 0


@pytest.mark.parametrize("word", ["audio", "Studio One", "Sunol", "musicgenerator", "MAIVA"])
def test_words_that_contain_a_name_do_not_match(word: str) -> None:
    assert tags.find_generators({"COMM": [word]}) == ()


def test_untagged_and_malformed_files_never_raise(tmp_path: Path) -> None:
    assert tags.tags_evidence(make(tmp_path, "wav")) == []
    broken = tmp_path / "broken.mp3"
    # An ID3 header that claims a huge tag, then garbage.
    broken.write_bytes(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\xff\x00garbage" * 50)
    report = tags.read(broken)
    assert report.matches == ()
    riff = tmp_path / "broken.wav"
    riff.write_bytes(b"RIFF\xff\xff\xff\xffWAVELIST\xff\xff\xff\x00INFOISFT\xff\xff")
    assert tags.tags_evidence(riff) == []
    assert tags.read(tmp_path / "missing.mp3").error is not None
    assert tags.tags_evidence(io.BytesIO(b"")) == []
