"""Audio the message references: attached from multipart parts, checked, fingerprinted."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Recording

from . import ern_builder as b
from .conftest import IMPORT_URL, make_audio, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media):
    return media


def post_multipart(client, xml: bytes, files: dict[str, bytes], message_name: str = "m.xml"):
    parts = {"message": SimpleUploadedFile(message_name, xml, "application/xml")}
    for name, data in files.items():
        parts[name] = SimpleUploadedFile(name, data, "application/octet-stream")
    return client.post(IMPORT_URL, parts, format="multipart")


def test_audio_parts_are_attached_and_fingerprinted(
    label, tmp_path, django_capture_on_commit_callbacks
):
    wav = make_audio(tmp_path, "lantern.wav", seed=11, seconds=8)
    message = b.single()
    message.tracks[0].uri = "https://cdn.example.com/deliveries/0001/lantern.wav"
    message.tracks[0].sha256 = hashlib.sha256(wav.read_bytes()).hexdigest()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_multipart(label, message.xml(), {"lantern.wav": wav.read_bytes()})

    assert response.status_code == 201, response.json()
    assert response.json()["recordings"][0]["audio"] == "attached"
    assert len(callbacks) == 1
    recording = Recording.objects.get(organization=label.organization)
    assert (recording.audio_sha256, recording.audio_filename) == (
        message.tracks[0].sha256,
        "lantern.wav",
    )
    assert (recording.fingerprint_status, recording.fingerprint_error) == ("done", "")
    assert recording.duration_s == pytest.approx(8.0, abs=0.1)


def test_a_referenced_file_that_was_not_sent_is_a_warning(label):
    message = b.single()
    message.tracks[0].uri = "lantern.wav"

    response = post_multipart(label, message.xml(), {})

    assert response.status_code == 201
    body = response.json()
    assert body["recordings"][0]["audio"] == "not_provided"
    assert [(w["path"], w["code"]) for w in body["warnings"]] == [
        (
            "/NewReleaseMessage/ResourceList/SoundRecording/SoundRecordingEdition"
            "/TechnicalDetails/DeliveryFile/File",
            "AUDIO_NOT_PROVIDED",
        )
    ]
    assert Recording.objects.get().fingerprint_status == "no_audio"


def test_a_file_whose_hash_differs_from_the_message_is_refused(label, tmp_path):
    wav = make_audio(tmp_path, "lantern.wav", seed=12, seconds=2)
    message = b.single()
    message.tracks[0].uri = "lantern.wav"
    message.tracks[0].sha256 = "0" * 64
    before = row_counts()

    response = post_multipart(label, message.xml(), {"lantern.wav": wav.read_bytes()})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ERN_INVALID"
    assert [p["code"] for p in body["detail"]["problems"]] == ["AUDIO_HASH_MISMATCH"]
    assert row_counts() == before


def test_the_message_part_is_required(label):
    response = label.post(
        IMPORT_URL, {"other": SimpleUploadedFile("x.wav", b"x")}, format="multipart"
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["detail"]["field"]) == (
        "MESSAGE_MISSING",
        "message",
    )


def test_new_audio_in_an_update_replaces_the_old(
    label, tmp_path, django_capture_on_commit_callbacks
):
    first, second = (make_audio(tmp_path, f"v{n}.wav", seed=20 + n, seconds=3) for n in (1, 2))
    message = b.single()
    message.tracks[0].uri = "lantern.wav"
    assert (
        post_multipart(label, message.xml(), {"lantern.wav": first.read_bytes()}).status_code == 201
    )
    update = b.single(message_id="MSG-0002", created="2026-03-02T10:00:00Z")
    update.tracks[0].uri = "lantern.wav"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_multipart(label, update.xml(), {"lantern.wav": second.read_bytes()})
    same = post_multipart(
        label, b.single(message_id="MSG-0003", created="2026-03-03T10:00:00Z").xml(), {}
    )

    assert response.status_code == 200
    assert response.json()["recordings"][0]["audio"] == "attached"
    recording = Recording.objects.get()
    assert recording.audio_sha256 == hashlib.sha256(second.read_bytes()).hexdigest()
    assert same.json()["recordings"][0]["audio"] == "unchanged"
