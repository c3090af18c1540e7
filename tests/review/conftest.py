"""Review fixtures: a small catalogue, checks decided by the shipped policy, reviewers.

The checks here are built without audio (their matches and evidence are written as
the checks app would write them, then the real policy decides), so that the review
logic is tested fast; tests/review/test_browser.py runs the whole pipeline on audio.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from checks.models import Check, CheckMatch
from fingerprinting import evidence
from policies import selectors as policy_selectors
from policies import services as policy_services
from registry import services as registry_services
from registry.models import OwnershipConflict, Recording, User
from registry.provenance import Actor

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _media(media_root: Any) -> Any:
    return media_root


@pytest.fixture
def default_policy(db: Any) -> None:
    # The data migration installs it; a transactional test elsewhere may have flushed it.
    policy_services.install_default_policy()


def make_staff(username: str, *, permission: str | None = None, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password="review pass 1", is_staff=True, is_superuser=superuser
    )
    if permission:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


@pytest.fixture
def reviewer(db: Any) -> User:
    return make_staff("rita-reviewer", permission="review.resolve_reviewitem")


@pytest.fixture
def viewer(db: Any) -> User:
    return make_staff("victor-viewer", permission="review.view_reviewitem")


@dataclass
class Catalogue:
    label: Any  # OrgClient
    distributor: Any  # OrgClient
    ai_recording: Recording  # registered as all AI, a generation; the distributor holds 50%
    plain_recording: Recording  # human, the label's alone

    @property
    def label_actor(self) -> Actor:
        return Actor.for_user(self.label.user)

    @property
    def distributor_actor(self) -> Actor:
        return Actor.for_user(self.distributor.user)


@pytest.fixture
def catalogue(make_org: Callable[..., Any], default_policy: None) -> Catalogue:
    label = make_org("label", "Aurora Records")
    distributor = make_org("distributor", "Riverside Distribution")
    actor = Actor.for_user(label.user)
    forge = registry_services.party_create(
        actor=actor, data={"name": "Forge-2", "kind": "ai_system"}
    )
    ai_recording = registry_services.recording_register(
        actor=actor,
        data={
            "title": "Glass Harbour",
            "isrc": "QZDA62600301",
            "display_artist": "Mira Okafor & Forge-2",
            "ai_disclosure": "all",
            "generations": [
                {"ai_system": forge.pk, "provider": "Sonic Forge AI", "model_name": "Forge-2"}
            ],
            "rights": [
                {"share_pct": "50", "territories": ["WORLD"]},
                {"owner": distributor.organization.pk, "share_pct": "50", "territories": ["WORLD"]},
            ],
        },
    )
    plain_recording = registry_services.recording_register(
        actor=actor,
        data={
            "title": "Tidal Lines",
            "isrc": "QZDA62600302",
            "display_artist": "Mira Okafor",
            "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
        },
    )
    Recording.objects.filter(pk__in=[ai_recording.pk, plain_recording.pk]).update(duration_s=120.0)
    ai_recording.refresh_from_db()
    plain_recording.refresh_from_db()
    return Catalogue(label, distributor, ai_recording, plain_recording)


@dataclass(frozen=True)
class Found:
    recording: Recording
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    score: float = 0.9


def spectral_evidence(score: float = 0.82) -> evidence.Evidence:
    """Evidence shaped as fingerprinting.spectral reports it (band, peaks and heights, comb)."""
    return evidence.Evidence(
        "spectral",
        score,
        evidence.MEDIUM,
        "narrow spectral peaks at 11025, 16538 Hz: the trace of a neural decoder's upsampling",
        algorithm="fakeprint/1",
        data={
            "probability": score,
            "band_hz": [4000.0, 20000.0],
            "peaks_hz": [11025.0, 16537.5],
            "peaks_db": [7.5, 5.2],
            "comb": {"spacing_hz": 5512.5, "rate_hz": 44100, "divisor": 8, "teeth": 3},
        },
    )


C2PA_SUMMARY = {
    "trusted": True,
    "signature_valid": True,
    "actions": [
        {
            "action": "c2pa.created",
            "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        }
    ],
    "software_agents": [{"name": "Forge-2"}],
}


def make_check(
    org_client: Any,
    found: list[Found],
    *,
    declared_ai: str = "none",
    territories: list[str] | None = None,
    extra_evidence: list[evidence.Evidence] | None = None,
    duration_s: float = 60.0,
) -> Check:
    """A finished check as checks.services._analyse leaves it, decided by the real policies."""
    n = next(_n)
    org = org_client.organization
    declared = {
        "title": f"Submission {n}",
        "artist": "DJ Lumen",
        "isrc": None,
        "contributors": [],
        "declared_ai": {"disclosure": declared_ai, "elements": []},
        "territories": territories or ["WORLD"],
        "usage_types": ["stream"],
    }
    check = Check.objects.create(
        organization=org,
        submitted_by=org_client.user,
        declared=declared,
        audio=f"checks/submission-{n}.mp3",
        audio_filename=f"submission-{n}.mp3",
        audio_sha256=f"{n:064x}",
        audio_size_bytes=480_000,
        duration_s=duration_s,
        status=Check.Status.DONE,
        finished_at=timezone.now(),
    )
    for f in found:
        CheckMatch.objects.create(
            submission=check,
            recording=f.recording,
            score=f.score,
            query_start_s=f.query_start_s,
            query_end_s=f.query_end_s,
            reference_start_s=f.reference_start_s,
            reference_end_s=f.reference_end_s,
            query_coverage_pct=100 * (f.query_end_s - f.query_start_s) / duration_s,
            reference_coverage_pct=100 * (f.reference_end_s - f.reference_start_s) / 120.0,
            bit_error_rate=0.1,
            algorithm="test",
        )
    signals = evidence.registry_evidence(
        matched_ai_recordings=[
            {
                "recording_id": f.recording.pk,
                "ai_disclosure": f.recording.ai_disclosure,
                "score": f.score,
                "duration_s": f.query_end_s - f.query_start_s,
                "models": [],
                "algorithm": "test",
            }
            for f in found
            if f.recording.ai_disclosure != "none"
        ]
    ) + list(extra_evidence or [])
    assessment = evidence.assess(signals, declared=declared_ai)
    facts = policy_selectors.build_facts(
        submitter=org,
        territories=declared["territories"],
        usage_types=declared["usage_types"],
        declared_ai=declared["declared_ai"],
        detected_ai=assessment.as_fact(),
        matches=[
            policy_selectors.MatchInput(
                recording_id=f.recording.pk,
                score=f.score,
                query_start_s=f.query_start_s,
                query_end_s=f.query_end_s,
                query_coverage_pct=100 * (f.query_end_s - f.query_start_s) / duration_s,
                reference_coverage_pct=100 * (f.reference_end_s - f.reference_start_s) / 120.0,
            )
            for f in found
        ],
    )
    check.decision = policy_services.decide(
        facts=facts, subject_type="check", subject_id=check.pk, actor=Actor.system("checker")
    )
    check.ai_origin = assessment.as_dict()
    check.save()
    return check


@pytest.fixture
def review_check(catalogue: Catalogue) -> Check:
    """The distributor submits 15 s of a registered AI generation as human work: review, high."""
    return make_check(
        catalogue.distributor,
        [Found(catalogue.ai_recording, 15.0, 30.0, 60.0, 75.0, 0.91)],
        territories=["US", "GB", "DE"],
        extra_evidence=[spectral_evidence(), *evidence.c2pa_evidence(C2PA_SUMMARY)],
    )


@pytest.fixture
def licence_check(catalogue: Catalogue) -> Check:
    """The distributor reuses the label's human recording without rights: require a licence."""
    return make_check(catalogue.distributor, [Found(catalogue.plain_recording, 5.0, 25.0, 0, 20)])


@pytest.fixture
def rival(make_org: Callable[..., Any]) -> Any:
    return make_org("label", "Southern Cross Music")


@pytest.fixture
def conflict(catalogue: Catalogue, rival: Any) -> OwnershipConflict:
    """A rival label claims 100% of the label's ISRC worldwide: 200% in every territory."""
    registry_services.recording_register(
        actor=Actor.for_user(rival.user),
        data={
            "title": "Tidal Lines",
            "isrc": "QZDA62600302",
            "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
        },
    )
    return OwnershipConflict.objects.get(subject_key="QZDA62600302", status="open")
