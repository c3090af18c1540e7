"""A review queue worth looking at: real audio, real checks and a conflict, through the services.

Used by ``manage.py load_review_demo`` (on top of ``load_demo``), the browser test and
the screenshot script. Everything goes through the same services as production: the
label registers recordings with generated audio, the distributor submits a medley
that reuses two of them, the checks are matched and decided by the shipped policy.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.core.files import File

from checks import services as check_services
from checks.models import Check
from fingerprinting import synth
from fingerprinting.services import recording_fingerprint
from policies import services as policy_services
from registry import services as registry_services
from registry.models import Organization, OwnershipConflict, Party, Recording, User
from registry.provenance import Actor

from . import services
from .models import ReviewItem

RATE = 44100
PASSWORD = "stemma-demo"  # noqa: S105 -- the local demo and tests only
REVIEWER = "reviewer"


@dataclass
class Demo:
    reviewer: User
    label: Organization
    distributor: Organization
    distributor_user: User
    review_check: Check
    licence_check: Check
    check_item: ReviewItem
    conflict_item: ReviewItem | None
    dispute_item: ReviewItem | None


def _org(name: str, kind: str, username: str) -> tuple[Organization, User]:
    org = Organization.objects.filter(name=name).first()
    if org is not None:
        user = org.users.order_by("id").first()
        assert user is not None
        return org, user
    org, user, _ = registry_services.organization_create(
        name=name,
        kind=kind,
        username=username,
        password=PASSWORD,
        actor=Actor.system("load_review_demo"),
    )
    return org, user


def reviewer_user(username: str = REVIEWER) -> User:
    """A staff reviewer with the resolve permission, and nothing else."""
    from django.contrib.auth.models import Permission

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="review", codename="resolve_reviewitem")
    )
    return user


def _write(folder: Path, name: str, samples: np.ndarray) -> Path:
    path = folder / name
    synth.write(path, samples, RATE, "mp3")
    return path


def _cut(samples: np.ndarray, start_s: float, duration_s: float) -> np.ndarray:
    return samples[round(start_s * RATE) : round((start_s + duration_s) * RATE)]


def _register(actor: Actor, path: Path, data: dict[str, Any]) -> Recording:
    existing = Recording.objects.filter(
        organization=actor.organization, isrc=data.get("isrc")
    ).first()
    if existing is not None:
        return existing
    with path.open("rb") as handle:
        recording, _ = registry_services.recording_register_with_audio(
            actor=actor, data=data, audio=File(handle, name=path.name)
        )
    recording_fingerprint(recording.pk)  # inline: the demo must not wait for a worker
    recording.refresh_from_db()
    return recording


def _check(actor: Actor, path: Path, metadata: dict[str, Any]) -> Check:
    with path.open("rb") as handle:
        check, _ = check_services.check_submit(
            actor=actor, audio=File(handle, name=path.name), metadata=metadata
        )
    check_services.check_process(check.pk)
    check.refresh_from_db()
    return check


def build(seconds: float = 40.0) -> Demo:
    """Build (or find) the demo queue: a check sent to review, a dispute, a conflict."""
    policy_services.install_default_policy()
    reviewer = reviewer_user()
    label, label_user = _org("Aurora Records", "label", "label")
    _, rival_user = _org("Southern Cross Music", "label", "rival")
    distributor, distributor_user = _org("Riverside Distribution", "distributor", "distributor")
    ai_provider, _ = _org("Sonic Forge AI", "ai_provider", "aiprovider")
    label_actor = Actor.for_user(label_user)
    distributor_actor = Actor.for_user(distributor_user)
    deal = [
        {"owner": label.pk, "share_pct": "50", "territories": ["WORLD"]},
        {"owner": distributor.pk, "share_pct": "50", "territories": ["WORLD"]},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        glass = synth.music(seed=301, duration_s=seconds)
        tidal = synth.music(seed=302, duration_s=seconds)
        ember = synth.music(seed=303, duration_s=seconds)
        assistant = Party.objects.filter(
            organization=label, name="Forge-2", kind="ai_system"
        ).first() or registry_services.party_create(
            actor=label_actor, data={"name": "Forge-2", "kind": "ai_system"}
        )
        _register(
            label_actor,
            _write(folder, "glass-harbour.mp3", glass),
            {
                "title": "Glass Harbour",
                "isrc": "QZDA62600301",
                "display_artist": "Mira Okafor & Forge-2",
                "ai_disclosure": "all",
                "contributions": [
                    {
                        "party": assistant.pk,
                        "role": "producer",
                        "element": "instrumentation",
                        "involvement": "ai_generated",
                    }
                ],
                "generations": [
                    {
                        "ai_system": assistant.pk,
                        "provider": ai_provider.name,
                        "model_name": "Forge-2",
                        "model_version": "2.1",
                        "prompt": "slow harbour ambience, glassy pads, 84 bpm",
                        "seed": "1187",
                    }
                ],
                "rights": deal,
            },
        )
        _register(
            label_actor,
            _write(folder, "tidal-lines.mp3", tidal),
            {
                "title": "Tidal Lines",
                "isrc": "QZDA62600302",
                "display_artist": "Mira Okafor",
                "rights": deal,
            },
        )
        ember_rec = _register(
            Actor.for_user(rival_user),
            _write(folder, "ember.mp3", ember),
            {
                "title": "Ember Road",
                "isrc": "QZDA62600303",
                "display_artist": "The Wharves",
                "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
            },
        )
        # The same ISRC claimed whole by two labels: an ownership conflict.
        _register(
            label_actor,
            _write(folder, "ember-copy.mp3", _cut(ember, 0, seconds / 2)),
            {
                "title": "Ember Road (radio edit)",
                "isrc": "QZDA62600303",
                "display_artist": "The Wharves",
                "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
            },
        )
        gap = synth.music(seed=399, duration_s=30.0)
        medley = np.concatenate(
            [
                _cut(gap, 0, 7),
                _cut(glass, 9, 14),
                _cut(gap, 7, 5),
                _cut(tidal, 18, 12),
                _cut(gap, 12, 5),
            ]
        )
        review_check = _check(
            distributor_actor,
            _write(folder, "harbour-nights.mp3", medley),
            {
                "title": "Harbour Nights",
                "artist": "DJ Lumen",
                "declared_ai": {"disclosure": "none", "elements": []},
                "territories": ["US", "GB", "DE"],
                "usage_types": ["stream"],
                "idempotency_key": "review-demo-harbour-nights",
            },
        )
        licence_check = _check(
            distributor_actor,
            _write(
                folder, "ember-remix.mp3", np.concatenate([_cut(gap, 0, 6), _cut(ember, 5, 16)])
            ),
            {
                "title": "Ember (Night Remix)",
                "artist": "DJ Lumen",
                "declared_ai": {"disclosure": "none", "elements": []},
                "territories": ["WORLD"],
                "idempotency_key": "review-demo-ember-remix",
            },
        )
    assert review_check.decision is not None
    # Until checks/ calls it after each decision, the demo queues the check itself.
    check_item = services.review_open_for_check(check=review_check, decision=review_check.decision)
    assert check_item is not None, f"check {review_check.pk}: {review_check.decision.explanation}"
    conflict_item = None
    for conflict in OwnershipConflict.objects.filter(
        status=OwnershipConflict.Status.OPEN, subject_key=ember_rec.isrc
    ):
        conflict_item = services.review_open_for_conflict(
            conflict=conflict, actor=Actor.system("load_review_demo")
        )
    dispute_item = ReviewItem.objects.filter(
        kind=ReviewItem.Kind.DISPUTE, submission=licence_check
    ).first()
    if dispute_item is None and licence_check.status == Check.Status.DONE:
        dispute = services.dispute_open_for_check(
            actor=distributor_actor,
            check=licence_check,
            reason=(
                "We licensed Ember Road from Southern Cross Music in March (contract SCM-2026-114); "
                "the remix is cleared for streaming worldwide."
            ),
        )
        dispute_item = ReviewItem.objects.get(dispute=dispute)
    return Demo(
        reviewer=reviewer,
        label=label,
        distributor=distributor,
        distributor_user=distributor_user,
        review_check=review_check,
        licence_check=licence_check,
        check_item=check_item,
        conflict_item=conflict_item,
        dispute_item=dispute_item,
    )
