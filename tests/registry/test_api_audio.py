"""Audio through the API: multipart registration, later upload, fingerprint status, bad audio."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fingerprinting import chromaprint, synth
from fingerprinting.models import Fingerprint
from registry.models import ProvenanceEvent, Recording

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def make_audio(
    tmp_path: Path, fmt: str = "mp3", seed: int = 1, seconds: float = 12.0, name=None
) -> Path:
    path = tmp_path / (name or f"seed{seed}.{fmt}")
    synth.write(path, synth.music(seed=seed, duration_s=seconds), 44100, fmt)
    return path


def register(client, path: Path, metadata=None, filename=None):
    metadata = metadata or {"title": "Upload", "isrc": None}
    # The name is whatever the uploader's client says it is.
    audio = SimpleUploadedFile(filename or path.name, path.read_bytes())
    return client.post(
        "/api/v1/recordings/",
        {"metadata": json.dumps(metadata), "audio": audio},
        format="multipart",
    )


def test_multipart_registration_fingerprints_the_audio_after_commit(
    label, tmp_path, django_capture_on_commit_callbacks
):
    path = make_audio(tmp_path, "mp3", seed=3, seconds=12)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = register(label, path, {"title": "Lantern", "isrc": "GBAAA2600001"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fingerprint_status"] == "pending"  # answered before the task ran
    assert body["audio"]["filename"] == path.name
    assert body["audio"]["size_bytes"] == path.stat().st_size
    assert len(callbacks) == 1

    after = label.get(f"/api/v1/recordings/{body['id']}/").json()
    assert after["fingerprint_status"] == "done"
    assert after["fingerprint_error"] == ""
    assert after["duration_s"] == pytest.approx(12.0, abs=0.1)
    fingerprint = Fingerprint.objects.get(audio_sha256=body["audio"]["sha256"])
    assert fingerprint.item_count == pytest.approx(12.0 * chromaprint.ITEMS_PER_SECOND, abs=30)
    items = chromaprint.from_bytes(bytes(fingerprint.items))
    assert items.dtype == np.uint32 and len(items) == fingerprint.item_count
    actions = list(
        ProvenanceEvent.objects.filter(object_id=str(body["id"]), object_type="registry.recording")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["recording.register", "recording.attach_audio", "recording.fingerprint"]


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "opus", "m4a"])
def test_every_common_format_is_decoded(label, tmp_path, fmt, django_capture_on_commit_callbacks):
    path = make_audio(tmp_path, fmt, seed=5, seconds=6)
    with django_capture_on_commit_callbacks(execute=True):
        response = register(label, path, {"title": f"In {fmt}"})
    assert response.status_code == 201
    recording = Recording.objects.get(pk=response.json()["id"])
    assert (recording.fingerprint_status, recording.fingerprint_error) == ("done", "")
    assert recording.duration_s == pytest.approx(6.0, abs=0.15)


def test_audio_uploaded_later_replaces_and_reports_identical_audio(
    label, other_label, tmp_path, django_capture_on_commit_callbacks
):
    first = label.post("/api/v1/recordings/", {"title": "One"}).json()
    second = label.post("/api/v1/recordings/", {"title": "Two"}).json()
    foreign = other_label.post("/api/v1/recordings/", {"title": "Theirs"}).json()
    assert first["fingerprint_status"] == "no_audio"
    path = make_audio(tmp_path, "flac", seed=8, seconds=5)

    def upload(client, recording_id):
        with path.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
            return client.put(
                f"/api/v1/recordings/{recording_id}/audio/", {"audio": handle}, format="multipart"
            )

    response = upload(label, first["id"])
    assert response.status_code == 202
    assert response.json()["audio_report"]["identical_audio"] == []
    assert response.json()["audio_report"]["identical_audio_elsewhere"] is False

    response = upload(label, second["id"])
    assert response.json()["audio_report"]["identical_audio"] == [first["id"]]

    response = upload(other_label, foreign["id"])
    report = response.json()["audio_report"]
    assert report["identical_audio"] == []  # never another organisation's ids
    assert report["identical_audio_elsewhere"] is True
    # One fingerprint per distinct audio file, however many recordings share it.
    assert Fingerprint.objects.filter(audio_sha256=report["audio_sha256"]).count() == 1
    for rec in (first, second, foreign):
        assert Recording.objects.get(pk=rec["id"]).fingerprint_status == "done"

    other = make_audio(tmp_path, "mp3", seed=9, seconds=5)
    with other.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = label.put(
            f"/api/v1/recordings/{first['id']}/audio/", {"audio": handle}, format="multipart"
        )
    replaced = Recording.objects.get(pk=first["id"])
    assert replaced.audio_filename == other.name
    assert replaced.audio_sha256 != report["audio_sha256"]
    assert replaced.fingerprint_status == "done"


def test_audio_upload_to_another_organisations_recording_is_not_found(label, other_label, tmp_path):
    theirs = other_label.post("/api/v1/recordings/", {"title": "Theirs"}).json()
    path = make_audio(tmp_path, "wav", seconds=4)
    with path.open("rb") as handle:
        response = label.put(
            f"/api/v1/recordings/{theirs['id']}/audio/", {"audio": handle}, format="multipart"
        )
    assert response.status_code == 404
    assert response.json()["code"] == "RECORDING_NOT_FOUND"


def test_audio_part_missing(label):
    rec = label.post("/api/v1/recordings/", {"title": "No file"}).json()
    response = label.put(f"/api/v1/recordings/{rec['id']}/audio/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "AUDIO_MISSING"


def _wav_bytes(samples: np.ndarray, rate: int = 44100, claimed_frames: int | None = None) -> bytes:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    frames = claimed_frames if claimed_frames is not None else len(samples)
    header = b"RIFF" + struct.pack("<I", 36 + frames * 2) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", frames * 2)
    return header + data


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    files["AUDIO_EMPTY"] = put("empty.mp3", b"")
    files["AUDIO_UNDECODABLE"] = put("notes.mp3", b"these are my lyrics, not audio\n" * 200)
    music = synth.music(seed=4, duration_s=8.0, channels=1)[:, 0]
    files["AUDIO_TRUNCATED"] = put(
        "cut.wav", _wav_bytes(music[: 44100 * 4], claimed_frames=44100 * 8)
    )
    files["AUDIO_SILENT"] = put("silence.wav", _wav_bytes(np.zeros(44100 * 8)))
    files["AUDIO_EXTENSION_MISMATCH"] = put("actually-wav.mp3", _wav_bytes(music))
    files["AUDIO_TOO_SHORT"] = put("blip.wav", _wav_bytes(music[:4410]))
    return files


@pytest.mark.parametrize(
    "code",
    [
        "AUDIO_EMPTY",
        "AUDIO_UNDECODABLE",
        "AUDIO_TRUNCATED",
        "AUDIO_SILENT",
        "AUDIO_EXTENSION_MISMATCH",
        "AUDIO_TOO_SHORT",
    ],
)
def test_bad_audio_fails_with_its_reason_and_keeps_the_registration(
    label, tmp_path, code, django_capture_on_commit_callbacks
):
    path = _bad_files(tmp_path)[code]
    with django_capture_on_commit_callbacks(execute=True):
        response = register(label, path, {"title": f"Bad: {code}", "isrc": "GBAAA2600042"})
    assert response.status_code == 201, response.json()
    body = label.get(f"/api/v1/recordings/{response.json()['id']}/").json()
    assert body["title"] == f"Bad: {code}"
    assert body["isrc"] == "GBAAA2600042"
    assert body["fingerprint_status"] == "failed"
    assert body["fingerprint_error"] == code
    assert body["fingerprint_error_message"]
    failed = ProvenanceEvent.objects.filter(
        object_id=str(body["id"]), action="recording.fingerprint_failed"
    ).get()
    assert failed.after["code"] == code


def test_audio_over_the_duration_limit_fails(
    label, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.STEMMA_MAX_AUDIO_DURATION_S = 5
    path = make_audio(tmp_path, "mp3", seconds=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = register(label, path, {"title": "Long"})
    body = label.get(f"/api/v1/recordings/{response.json()['id']}/").json()
    assert (body["fingerprint_status"], body["fingerprint_error"]) == ("failed", "AUDIO_TOO_LONG")


def test_audio_over_the_size_limit_is_refused_whole(label, tmp_path, settings):
    settings.STEMMA_MAX_AUDIO_BYTES = 10_000
    path = make_audio(tmp_path, "wav", seconds=3)
    before = (Recording.objects.count(), ProvenanceEvent.objects.count())
    response = register(label, path, {"title": "Huge", "isrc": "GBAAA2600077"})
    assert response.status_code == 413
    assert response.json()["code"] == "AUDIO_TOO_LARGE"
    assert response.json()["detail"]["max_bytes"] == 10_000
    assert (Recording.objects.count(), ProvenanceEvent.objects.count()) == before


def test_bad_metadata_in_multipart_is_refused(label, tmp_path):
    path = make_audio(tmp_path, "wav", seconds=3)
    with path.open("rb") as handle:
        response = label.post(
            "/api/v1/recordings/", {"metadata": "{not json", "audio": handle}, format="multipart"
        )
    assert response.status_code == 400
    assert response.json()["code"] == "METADATA_INVALID"
    assert response.json()["detail"]["field"] == "metadata"
    assert Recording.objects.count() == 0


def test_stored_file_name_is_sanitised(label, tmp_path, django_capture_on_commit_callbacks):
    path = make_audio(tmp_path, "wav", seconds=4, name="ok.wav")
    with django_capture_on_commit_callbacks(execute=True):
        response = register(label, path, {"title": "Sneaky"}, filename="../../etc/pass wd.wav")
    recording = Recording.objects.get(pk=response.json()["id"])
    assert ".." not in recording.audio.name
    assert recording.audio_filename == "pass_wd.wav"
    assert recording.fingerprint_status == "done"


def test_registration_reports_identical_audio_and_stores_it_once(
    label, tmp_path, django_capture_on_commit_callbacks
):
    path = make_audio(tmp_path, "flac", seed=31, seconds=4)
    with django_capture_on_commit_callbacks(execute=True):
        first = register(label, path, {"title": "Original"}).json()
        second = register(label, path, {"title": "Same file again"}).json()
    assert first["audio_report"]["identical_audio"] == []
    assert second["audio_report"]["identical_audio"] == [first["id"]]
    one = Recording.objects.get(pk=first["id"])
    two = Recording.objects.get(pk=second["id"])
    assert (
        one.audio.name == two.audio.name == f"audio/{one.audio_sha256[:2]}/{one.audio_sha256}.flac"
    )
    assert one.audio.read() == path.read_bytes()


def test_replaced_audio_stays_retrievable_for_the_log(
    label, tmp_path, django_capture_on_commit_callbacks
):
    old, new = (
        make_audio(tmp_path, "wav", seed=41, seconds=4),
        make_audio(tmp_path, "wav", seed=42, seconds=4),
    )
    with django_capture_on_commit_callbacks(execute=True):
        rec = register(label, old, {"title": "Versions"}).json()
        with new.open("rb") as handle:
            label.put(
                f"/api/v1/recordings/{rec['id']}/audio/", {"audio": handle}, format="multipart"
            )
    event = ProvenanceEvent.objects.get(
        object_id=str(rec["id"]),
        action="recording.attach_audio",
        before__audio__startswith="audio/",
    )
    storage = Recording._meta.get_field("audio").storage
    with storage.open(event.before["audio"]) as handle:
        assert handle.read() == old.read_bytes()
