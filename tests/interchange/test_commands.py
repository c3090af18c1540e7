"""The import_ern command: files for an organisation, audio from a directory, problems listed."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.models import Recording, Release

from . import ern_builder as b
from .conftest import make_audio, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media):
    return media


def test_import_ern_attaches_audio_from_the_directory_and_reports(
    label, tmp_path, django_capture_on_commit_callbacks
):
    audio_dir = tmp_path / "delivery"
    (audio_dir / "resources").mkdir(parents=True)
    make_audio(audio_dir / "resources", "A1.flac", seed=31, seconds=4)
    make_audio(audio_dir / "resources", "A2.flac", seed=32, seconds=4)
    message = b.album(2)
    message.tracks[0].uri = "resources/A1.flac"
    message.tracks[1].uri = "file:///mnt/label-ftp/resources/A2.flac"
    path = tmp_path / "album.xml"
    path.write_bytes(message.xml())
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "import_ern",
            str(path),
            "--organization",
            label.organization.name,
            "--audio-dir",
            str(audio_dir),
            stdout=out,
        )

    release = Release.objects.get(organization=label.organization)
    assert (
        out.getvalue()
        == f"{path}: created: release {release.pk} 'First Light', 2 tracks, 1 deals\n"
    )
    assert list(
        Recording.objects.order_by("isrc").values_list("audio_filename", "fingerprint_status")
    ) == [("A1.flac", "done"), ("A2.flac", "done")]


def test_import_ern_never_reads_outside_the_audio_directory(label, tmp_path):
    audio_dir = tmp_path / "delivery"
    audio_dir.mkdir()
    make_audio(tmp_path, "secret.wav", seed=1, seconds=1)
    message = b.single()
    message.tracks[0].uri = "../secret.wav"
    path = tmp_path / "single.xml"
    path.write_bytes(message.xml())
    out = io.StringIO()

    call_command(
        "import_ern",
        str(path),
        "--organization",
        str(label.organization.pk),
        "--audio-dir",
        str(audio_dir),
        "--json",
        stdout=out,
    )

    report = json.loads(out.getvalue())
    assert report["recordings"][0]["audio"] == "not_provided"
    assert [w["code"] for w in report["warnings"]] == ["AUDIO_NOT_PROVIDED"]


def test_import_ern_lists_every_problem_and_imports_nothing(label, tmp_path):
    bad = b.single(icpn="0040063813338")
    bad.tracks[0].isrc = "XXLNR2600001"
    good = b.single(message_id="MSG-GOOD")
    (tmp_path / "bad.xml").write_bytes(bad.xml())
    (tmp_path / "good.xml").write_bytes(good.xml())
    out, err = io.StringIO(), io.StringIO()
    before = row_counts()

    with pytest.raises(CommandError, match="1 of 2 messages were not imported"):
        call_command(
            "import_ern",
            str(tmp_path / "bad.xml"),
            str(tmp_path / "good.xml"),
            "--organization",
            label.organization.name,
            stdout=out,
            stderr=err,
        )

    assert err.getvalue().splitlines() == [
        f"{tmp_path / 'bad.xml'}: ERN_INVALID: the message has 2 problems; nothing was imported",
        "  /NewReleaseMessage/ResourceList/SoundRecording/SoundRecordingEdition/ResourceId/ISRC: "
        "ISRC_INVALID: ISRC country code 'XX' is not an ISO 3166-1 alpha-2 code or an "
        "IFPI-allocated ISRC prefix.",
        "  /NewReleaseMessage/ReleaseList/Release/ReleaseId/ICPN: UPC_INVALID: "
        "UPC/EAN has the wrong check digit: expected 9, got 8.",
    ]
    assert Release.objects.get().title == "First Light"
    assert row_counts()["Release"] == before["Release"] + 1


def test_import_ern_needs_a_known_organisation(tmp_path):
    path = tmp_path / "m.xml"
    path.write_bytes(b.single().xml())

    with pytest.raises(CommandError, match="no organisation is named or numbered 'Nobody'"):
        call_command("import_ern", str(path), "--organization", "Nobody")


def test_export_ern_of_an_unknown_release_fails():
    with pytest.raises(CommandError, match="release 424242 not found"):
        call_command("export_ern", "424242")
