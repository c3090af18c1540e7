"""Every AI-origin source reaches a check's verdict: file tags, and the spectral analysis."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.id3 import ID3, TSSE

from fingerprinting import synth

from .conftest import submit_check

pytestmark = pytest.mark.django_db


def _mp3(tmp_path: Path, *, encoder: str | None) -> Path:
    path = tmp_path / "upload.mp3"
    synth.write(path, synth.music(seed=77, duration_s=20), 44100, "mp3")
    if encoder is not None:
        tags = ID3()
        tags.add(TSSE(encoding=3, text=[encoder]))
        tags.save(path)
    return path


def _evidence(make_org, path, committed):
    distributor = make_org("distributor")
    with committed():
        response = submit_check(distributor, path, {"title": "Upload"})
    assert response.status_code == 202, response.json()
    verdict = distributor.get(response.json()["url"]).json()
    assert verdict["status"] == "done", verdict
    return verdict["ai_origin"]


def test_a_generator_named_in_the_tags_is_a_weak_hint_never_an_accusation(
    make_org, tmp_path, committed
):
    origin = _evidence(make_org, _mp3(tmp_path, encoder="Suno v4.5"), committed)

    tags = [e for e in origin["evidence"] if e["source"] == "tags"]
    assert [(e["strength"], e["score"]) for e in tags] == [("weak", 0.9)]
    assert "Suno" in tags[0]["detail"]
    assert origin["assessment"] == "possible_ai"  # one weak source alone never says "AI"


def test_the_spectral_analysis_runs_in_the_same_pass_and_reports(
    make_org, tmp_path, committed, settings
):
    settings.STEMMA_AI_DETECTOR_ENABLED = True
    origin = _evidence(make_org, _mp3(tmp_path, encoder=None), committed)

    spectral = [e for e in origin["evidence"] if e["source"] == "spectral"]
    assert len(spectral) == 1
    assert spectral[0]["strength"] == "medium"
    assert spectral[0]["score"] < 0.5  # human-made (synthetic) music, no upsampling artifacts
    assert spectral[0]["algorithm"].startswith("stemma-spectral/2")
    assert origin["assessment"] == "no_evidence"


def test_the_spectral_analysis_can_be_switched_off(make_org, tmp_path, committed, settings):
    settings.STEMMA_AI_DETECTOR_ENABLED = False
    origin = _evidence(make_org, _mp3(tmp_path, encoder=None), committed)
    assert [e for e in origin["evidence"] if e["source"] == "spectral"] == []
