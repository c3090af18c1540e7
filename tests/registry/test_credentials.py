"""C2PA content credentials for registered audio: issued, downloadable, readable, tamper-evident."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fingerprinting import c2pa, devca, synth
from registry.models import ProvenanceEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def signing(settings, tmp_path):
    files = devca.write_dev_ca(tmp_path / "ca")
    settings.STEMMA_C2PA_SIGNER_CERT = str(files.signer_chain)
    settings.STEMMA_C2PA_SIGNER_KEY = str(files.signer_key)
    settings.STEMMA_PUBLIC_URL = "https://registry.example"
    return files.ca_cert.read_text()


def _register(label, tmp_path, fmt="wav"):
    path = tmp_path / f"song.{fmt}"
    synth.write(path, synth.music(seed=12, duration_s=5), 44100, fmt)
    metadata = {
        "title": "Glass Harbour",
        "ai_disclosure": "partly",
        "contributions": [
            {"party": {"name": "Ada Moreau"}, "role": "composer", "element": "composition"},
            {
                "party": {"name": "Forge", "kind": "ai_system"},
                "role": "vocalist",
                "element": "vocals",
                "involvement": "ai_generated",
            },
        ],
        "generations": [
            {"provider": "Sonic Forge AI", "model_name": "forge", "model_version": "2.1"}
        ],
    }
    response = label.post(
        "/api/v1/recordings/",
        {
            "metadata": json.dumps(metadata),
            "audio": SimpleUploadedFile(path.name, path.read_bytes()),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "m4a"])
def test_issued_credential_reads_back_trusted_with_the_ai_disclosure(
    label, tmp_path, media_root, signing, fmt
):
    recording = _register(label, tmp_path, fmt)

    response = label.post(f"/api/v1/recordings/{recording['id']}/credential/")
    assert response.status_code == 201, response.json()
    assert (
        response.json()["credential"]["url"] == f"/api/v1/recordings/{recording['id']}/credential/"
    )

    download = label.get(f"/api/v1/recordings/{recording['id']}/credential/")
    assert download.status_code == 200
    signed = tmp_path / f"signed.{fmt}"
    signed.write_bytes(b"".join(download.streaming_content))
    summary = c2pa.read(signed, trust_anchors_pem=signing)
    assert summary is not None
    assert summary.trusted is True and summary.signature_valid is True
    assert [c2pa.source_type_short(a.digital_source_type) for a in summary.creation_actions] == [
        "compositeWithTrainedAlgorithmicMedia"
    ]
    assert [(a.name, a.model, a.version) for a in summary.software_agents] == [
        ("Sonic Forge AI", "forge", "2.1")
    ]
    assert f"https://registry.example/api/v1/recordings/{recording['id']}/" in summary.links
    assert "Ada Moreau" not in json.dumps(summary.as_dict(), default=str)  # names stay home
    event = ProvenanceEvent.objects.get(
        action="recording.issue_credential", object_id=str(recording["id"])
    )
    assert event.after["sha256"] == response.json()["credential"]["sha256"]


def test_a_tampered_credential_is_detected(label, tmp_path, media_root, signing):
    recording = _register(label, tmp_path)
    label.post(f"/api/v1/recordings/{recording['id']}/credential/")
    data = bytearray(
        b"".join(label.get(f"/api/v1/recordings/{recording['id']}/credential/").streaming_content)
    )
    data[2000] ^= 0xFF  # inside the PCM samples
    tampered = tmp_path / "tampered.wav"
    tampered.write_bytes(bytes(data))
    summary = c2pa.read(tampered, trust_anchors_pem=signing)
    assert summary is not None
    assert "assertion.dataHash.mismatch" in summary.validation_errors


def test_no_signing_certificate_is_a_clear_409(label, tmp_path, media_root, settings):
    settings.STEMMA_C2PA_SIGNER_CERT = settings.STEMMA_C2PA_SIGNER_KEY = ""
    recording = _register(label, tmp_path)
    response = label.post(f"/api/v1/recordings/{recording['id']}/credential/")
    assert response.status_code == 409
    assert response.json()["code"] == "C2PA_NOT_CONFIGURED"
    missing = label.get(f"/api/v1/recordings/{recording['id']}/credential/")
    assert missing.status_code == 404 and missing.json()["code"] == "CREDENTIAL_NOT_FOUND"


def test_another_organisation_cannot_issue_or_download(
    label, other_label, tmp_path, media_root, signing
):
    recording = _register(label, tmp_path)
    label.post(f"/api/v1/recordings/{recording['id']}/credential/")
    for method in (other_label.post, other_label.get):
        response = method(f"/api/v1/recordings/{recording['id']}/credential/")
        assert response.status_code == 404
        assert response.json()["code"] == "RECORDING_NOT_FOUND"
