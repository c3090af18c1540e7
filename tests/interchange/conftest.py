"""Helpers for the interchange tests: send a message, read back what the registry holds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fingerprinting import synth
from interchange.models import Deal, ErnMessage, RecordingDetail, RightsController
from registry.models import (
    Contribution,
    Organization,
    Party,
    ProvenanceEvent,
    Recording,
    Release,
    ReleaseTrack,
    RightsShare,
    Work,
)

IMPORT_URL = "/api/v1/ddex/ern/"

COUNTED = (
    Party,
    Work,
    Recording,
    Contribution,
    Release,
    ReleaseTrack,
    RightsShare,
    ErnMessage,
    Deal,
    RightsController,
    RecordingDetail,
    ProvenanceEvent,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def send(client: Any, data: bytes, status: int, content_type: str = "application/xml") -> Any:
    response = client.post(IMPORT_URL, data, content_type=content_type)
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    return body


def make_audio(directory: Path, name: str, seed: int, seconds: float = 8.0) -> Path:
    path = directory / name
    synth.write(path, synth.music(seed=seed, duration_s=seconds), 44100, path.suffix[1:])
    return path


def release_state(release: Release) -> dict[str, Any]:
    """Everything a release carries that an ERN can say, without ids (to compare orgs)."""
    tracks = []
    for track in release.tracks.order_by("position").select_related("recording__work"):
        recording = track.recording
        detail = RecordingDetail.objects.filter(recording=recording).first()
        tracks.append(
            {
                "position": track.position,
                "title": recording.title,
                "isrc": recording.isrc,
                "display_artist": recording.display_artist,
                "ai_disclosure": recording.ai_disclosure,
                "iswc": recording.work.iswc if recording.work else None,
                "declared_duration_s": detail.declared_duration_s if detail else None,
                "contributions": sorted(
                    (
                        c.party.name,
                        c.party.kind,
                        c.party.ipi,
                        c.party.isni,
                        c.party.dpid,
                        c.role,
                        c.element,
                        c.involvement,
                    )
                    for c in recording.contributions.select_related("party")
                ),
                "rights": sorted(
                    (
                        s.owner.name,
                        Decimal(s.share_pct).normalize(),
                        tuple(s.territories),
                        tuple(s.exclude_territories),
                        s.start,
                        s.end,
                        tuple(s.usage_types),
                    )
                    for s in recording.rights.select_related("owner")
                ),
                "other_controllers": [
                    (c.party_name, c.control_types, c.share_pct, c.delegations)
                    for c in RightsController.objects.filter(
                        recording=recording, became_rights_share=False
                    ).order_by("position")
                ],
                "audio_sha256": recording.audio_sha256,
            }
        )
    return {
        "title": release.title,
        "upc": release.upc,
        "release_type": release.release_type,
        "display_artist": release.display_artist,
        "release_date": release.release_date,
        "tracks": tracks,
        "deals": [
            (
                d.territories,
                d.exclude_territories,
                d.use_types,
                d.commercial_model_types,
                d.start,
                d.end,
            )
            for d in Deal.objects.filter(release=release).order_by("position")
        ],
    }


def only_release(org: Organization) -> Release:
    (release,) = Release.objects.filter(organization=org)
    return release


@pytest.fixture
def media(media_root: Path) -> Path:
    return media_root
