"""Every write of the checks app: submit, process (decode once, match, evidence, decide), sweep."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.errors import Conflict, DomainError, ValidationError
from fingerprinting import audio as audio_io
from fingerprinting import c2pa, chromaprint, detector_model, evidence, matching, spectral, tags
from fingerprinting.index import DatabaseIndex
from fingerprinting.services import FINGERPRINT_ALGORITHM, decode_stored
from fingerprinting.speed import SpeedVariants
from policies import selectors as policy_selectors
from policies import services as policy_services
from registry import identifiers, provenance, territories
from registry.models import Contribution, GenerationRecord, Involvement, Recording
from registry.provenance import Actor
from registry.services import audio_store

from .models import Check, CheckMatch, WebhookEndpoint

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("checker")
MAX_ATTEMPTS = 3
AI_ELEMENTS = tuple(Contribution.Element.values)


# ---------------------------------------------------------------- submit


def _declared(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What the uploader declares, checked and normalised (the API's serializer checks shapes)."""
    declared: dict[str, Any] = {
        "title": str(metadata.get("title") or "")[:500],
        "artist": str(metadata.get("artist") or "")[:500],
        "isrc": None,
        "contributors": list(metadata.get("contributors") or [])[:100],
    }
    if metadata.get("isrc"):
        try:
            declared["isrc"] = identifiers.normalize_isrc(str(metadata["isrc"]))
        except DomainError as error:
            error.detail["field"] = "isrc"
            raise
    ai = metadata.get("declared_ai")
    if ai is not None:
        disclosure = ai.get("disclosure", "none")
        if disclosure not in Recording.AiDisclosure.values:
            raise ValidationError(
                "declared_ai.disclosure is none, partly or all",
                code="AI_DISCLOSURE_INVALID",
                detail={"field": "declared_ai.disclosure", "value": disclosure},
            )
        elements = sorted(set(ai.get("elements") or []))
        bad = [e for e in elements if e not in AI_ELEMENTS]
        if bad:
            raise ValidationError(
                f"unknown AI elements: {', '.join(map(str, bad))}",
                code="ELEMENT_INVALID",
                detail={"field": "declared_ai.elements", "invalid": bad},
            )
        declared["declared_ai"] = {"disclosure": disclosure, "elements": elements}
    else:
        declared["declared_ai"] = None
    try:
        declared["territories"] = territories.normalize_territories(
            metadata.get("territories") or ["WORLD"]
        )
    except DomainError as error:
        error.detail["field"] = "territories"
        raise
    usages = sorted({str(u).strip().lower() for u in metadata.get("usage_types") or ["stream"]})
    declared["usage_types"] = usages
    return declared


def check_submit(*, actor: Actor, audio: File, metadata: Mapping[str, Any]) -> tuple[Check, bool]:
    """Accept a submission and queue it; the same idempotency key returns the same check.

    Returns (check, created). A key reused for different audio is a 409.
    """
    org = actor.organization
    if org is None:
        raise DomainError("this action needs an organisation", code="NO_ORGANIZATION", status=403)
    key = str(metadata.get("idempotency_key") or "")[:200]
    declared = _declared(metadata)
    existing = Check.objects.filter(organization=org, idempotency_key=key).first() if key else None
    stored = audio_store(audio)  # before the transaction: copying may take a while
    if existing is not None:
        return _same_submission(existing, stored.sha256), False
    try:
        with transaction.atomic():
            check = Check.objects.create(
                organization=org,
                submitted_by=actor.user,
                idempotency_key=key,
                declared=declared,
                audio=stored.name,
                audio_filename=stored.filename,
                audio_sha256=stored.sha256,
                audio_size_bytes=stored.size_bytes,
            )
            provenance.record(
                actor=actor,
                action="check.submit",
                obj=check,
                after={
                    "audio_sha256": stored.sha256,
                    "declared": declared,
                    "idempotency_key": key,
                },
            )
            check_id = check.pk
            transaction.on_commit(lambda: _enqueue(check_id))
    except IntegrityError:
        # The same key raced in from a parallel request: that one won.
        winner = Check.objects.get(organization=org, idempotency_key=key)
        return _same_submission(winner, stored.sha256), False
    return check, True


def _same_submission(check: Check, sha256: str) -> Check:
    if check.audio_sha256 != sha256:
        raise Conflict(
            "this idempotency key was used for different audio",
            code="IDEMPOTENCY_KEY_REUSED",
            detail={"field": "idempotency_key", "check": check.pk},
        )
    return check


def _enqueue(check_id: int) -> None:
    from .tasks import process_check

    process_check.delay(check_id)


# ---------------------------------------------------------------- process


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""


def _claim(check_id: int) -> Check | None:
    """Mark the check as processing (committed, so clients see it); None if not ours to do."""
    with transaction.atomic():
        check = Check.objects.select_for_update(skip_locked=True).filter(pk=check_id).first()
        if check is None or check.status in (Check.Status.DONE, Check.Status.FAILED):
            return None
        if check.attempts >= MAX_ATTEMPTS:
            _fail(check, "PROCESSING_ABANDONED", f"gave up after {check.attempts} attempts")
            return None
        check.status = Check.Status.PROCESSING
        check.attempts += 1
        check.started_at = timezone.now()
        check.save(update_fields=["status", "attempts", "started_at"])
        return check


def _fail(check: Check, code: str, message: str) -> None:
    check.status = Check.Status.FAILED
    check.error = code
    check.error_message = message[:500]
    check.finished_at = timezone.now()
    check.save(update_fields=["status", "error", "error_message", "finished_at"])
    provenance.record(
        actor=SYSTEM,
        action="check.fail",
        obj=check,
        after={"status": "failed", "code": code, "message": message},
    )
    _notify(check, "check.failed")


def check_process(check_id: int) -> Outcome:
    """Do a check's work; safe to run twice, and to run again after a worker died mid-way.

    The row stays locked while the work runs: a worker killed mid-check drops its
    connection, the lock goes with it, and the redelivered task (or the sweeper) finds
    the check claimable again. A second copy of the task running meanwhile skips it.
    """
    if _claim(check_id) is None:
        return Outcome("skipped")
    started = time.perf_counter()
    with transaction.atomic():
        check = Check.objects.select_for_update(skip_locked=True).filter(pk=check_id).first()
        if check is None or check.status != Check.Status.PROCESSING:
            return Outcome("skipped")
        _test_only_delay()
        try:
            with transaction.atomic():  # a failure leaves none of the half-done work behind
                _analyse(check, started)
        except audio_io.AudioError as error:
            _fail(check, error.code, error.message)
            return Outcome("failed", error.code)
        except OSError as error:
            _fail(check, "AUDIO_UNREADABLE", f"the stored audio cannot be read: {error}")
            return Outcome("failed", "AUDIO_UNREADABLE")
    return Outcome("done")


def _test_only_delay() -> None:
    """Tests make a worker slow here, row locked and status processing, to kill it mid-check."""
    delay_s = float(getattr(settings, "STEMMA_TEST_CHECK_DELAY_S", 0) or 0)
    if delay_s > 0:
        time.sleep(delay_s)


def _decode(check: Check) -> tuple[audio_io.DecodedAudio, Any, spectral.AverageSpectrum | None]:
    """One decode pass feeds the fingerprint (11025 Hz) and the spectral analysis (44.1 kHz)."""
    fingerprinter = chromaprint.Fingerprinter()
    spectrum = spectral.SpectrumAccumulator() if settings.STEMMA_AI_DETECTOR_ENABLED else None
    decoded = decode_stored(
        check.audio,
        check.audio_filename,
        consumers=(fingerprinter,),
        hires_consumers=(spectrum,) if spectrum is not None else (),
    )
    return decoded, fingerprinter.finish(), spectrum.finish() if spectrum is not None else None


def _analyse(check: Check, started: float) -> None:
    decoded, items, spectrum = _decode(check)
    found = matching.search(items, DatabaseIndex(), speed_variants=SpeedVariants(decoded.samples))
    recordings = Recording.objects.in_bulk([m.ref_id for m in found])
    found = [m for m in found if m.ref_id in recordings and recordings[m.ref_id].status == "active"]
    CheckMatch.objects.filter(submission=check).delete()
    CheckMatch.objects.bulk_create(
        CheckMatch(
            submission=check,
            recording_id=m.ref_id,
            score=m.score,
            query_start_s=m.query_start_s,
            query_end_s=m.query_end_s,
            reference_start_s=m.reference_start_s,
            reference_end_s=m.reference_end_s,
            query_coverage_pct=m.query_coverage_pct,
            reference_coverage_pct=m.reference_coverage_pct,
            bit_error_rate=m.bit_error_rate,
            speed_factor=m.speed_factor,
            algorithm=m.algorithm,
        )
        for m in found
    )
    declared_ai = check.declared.get("declared_ai")
    assessment = evidence.assess(
        _registry_evidence(check, found, recordings)
        + _c2pa_evidence(check)
        + _tags_evidence(check)
        + _spectral_evidence(spectrum),
        declared=declared_ai["disclosure"] if declared_ai else None,
    )
    facts = policy_selectors.build_facts(
        submitter=check.organization,
        territories=check.declared["territories"],
        usage_types=check.declared["usage_types"],
        declared_ai=declared_ai,
        detected_ai=assessment.as_fact(),
        matches=[
            policy_selectors.MatchInput(
                recording_id=m.ref_id,
                score=m.score,
                query_start_s=m.query_start_s,
                query_end_s=m.query_end_s,
                query_coverage_pct=m.query_coverage_pct,
                reference_coverage_pct=m.reference_coverage_pct,
            )
            for m in found
        ],
    )
    decision = policy_services.decide(
        facts=facts, subject_type="check", subject_id=str(check.pk), actor=SYSTEM
    )
    check.duration_s = round(decoded.duration_s, 3)
    check.ai_origin = assessment.as_dict()
    check.decision = decision
    check.algorithm = f"{FINGERPRINT_ALGORITHM} {matching.ALGORITHM_VERSION}"
    check.status = Check.Status.DONE
    check.finished_at = timezone.now()
    check.error = check.error_message = ""
    # Set before the save and the webhook's payload, so that both carry it.
    check.processing_seconds = round(time.perf_counter() - started, 4)
    check.save()
    provenance.record(
        actor=SYSTEM,
        action="check.complete",
        obj=check,
        after={
            "matches": [
                {"recording": m.ref_id, "score": m.score, "query_start_s": m.query_start_s}
                for m in found
            ],
            "ai_origin": assessment.assessment,
            "decision": decision.pk,
            "action": decision.action,
        },
    )
    from review.services import review_open_for_check

    review_open_for_check(check=check, decision=decision)
    _notify(check, "check.completed")


def _registry_evidence(
    check: Check, found: list[matching.Match], recordings: Mapping[int, Recording]
) -> list[evidence.Evidence]:
    exact_generation = [
        {
            "generation": g.pk,
            "provider": g.provider,
            "model_name": g.model_name,
            "model_version": g.model_version,
        }
        for g in GenerationRecord.objects.filter(output_sha256=check.audio_sha256)
    ]
    exact_ai = [
        {"recording_id": r.pk, "ai_disclosure": r.ai_disclosure}
        for r in Recording.objects.filter(
            audio_sha256=check.audio_sha256, status=Recording.Status.ACTIVE
        ).exclude(ai_disclosure=Recording.AiDisclosure.NONE)
    ]
    ai_generated = set(
        Contribution.objects.filter(
            recording_id__in=[m.ref_id for m in found], involvement=Involvement.AI_GENERATED
        ).values_list("recording_id", flat=True)
    )
    models: dict[int, list[str]] = {}
    for g in GenerationRecord.objects.filter(recording_id__in=[m.ref_id for m in found]):
        models.setdefault(g.recording_id, []).append(f"{g.provider} {g.model_name}".strip())
    matched = [
        {
            "recording_id": m.ref_id,
            "ai_disclosure": recordings[m.ref_id].ai_disclosure,
            "score": m.score,
            "duration_s": m.query_end_s - m.query_start_s,
            "models": sorted(set(models.get(m.ref_id, []))),
            "algorithm": m.algorithm,
        }
        for m in found
        if recordings[m.ref_id].ai_disclosure != "none"
        or m.ref_id in ai_generated
        or m.ref_id in models
    ]
    for row in matched:
        if row["ai_disclosure"] == "none":
            row["ai_disclosure"] = "partly"  # generation records or AI contributions say so
    return evidence.registry_evidence(
        exact_generation=exact_generation,
        exact_ai_recording=exact_ai,
        matched_ai_recordings=matched,
    )


def _c2pa_evidence(check: Check) -> list[evidence.Evidence]:
    anchors = _trust_anchors()
    try:
        with check.audio.open("rb") as handle:
            summary = c2pa.read(cast(BinaryIO, handle), trust_anchors_pem=anchors)
    except (OSError, DomainError) as error:
        logger.warning("check %s: C2PA read failed: %s", check.pk, error)
        return []
    return evidence.c2pa_evidence(summary.as_dict() if summary is not None else None)


def _tags_evidence(check: Check) -> list[evidence.Evidence]:
    try:
        with check.audio.open("rb") as handle:
            return tags.tags_evidence(cast(BinaryIO, handle))
    except OSError as error:
        logger.warning("check %s: tags unreadable: %s", check.pk, error)
        return []


def _spectral_evidence(spectrum: spectral.AverageSpectrum | None) -> list[evidence.Evidence]:
    if spectrum is None:
        return []
    try:
        model = detector_model.load_active(settings.STEMMA_AI_DETECTOR_MODEL)
    except detector_model.ModelError as error:
        logger.error("the AI detector model cannot be loaded: %s", error)
        return []
    return spectral.spectral_evidence(spectrum, model, enabled=settings.STEMMA_AI_DETECTOR_ENABLED)


def _trust_anchors() -> str | None:
    path = settings.STEMMA_C2PA_TRUST_ANCHORS
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read()
    except OSError as error:
        # A configuration mistake must not fail every check: read without trusting anyone.
        logger.error("STEMMA_C2PA_TRUST_ANCHORS cannot be read (%s): no signer is trusted", error)
        return None


# ---------------------------------------------------------------- sweep


def checks_sweep(*, stale_after_s: float | None = None) -> list[int]:
    """Re-queue checks left behind (queued and never picked up, or a worker died mid-way)."""
    stale = stale_after_s if stale_after_s is not None else settings.STEMMA_CHECK_STALE_AFTER_S
    cutoff = timezone.now() - dt.timedelta(seconds=stale)
    requeued = []
    with transaction.atomic():
        rows = Check.objects.select_for_update(skip_locked=True).filter(
            Q(status=Check.Status.QUEUED, created_at__lt=cutoff)
            | Q(status=Check.Status.PROCESSING, started_at__lt=cutoff)
        )
        # A row we could lock is not being worked on: whoever had it is gone.
        requeued = [check.pk for check in rows]
    for check_id in requeued:
        _enqueue(check_id)
    return requeued


# ---------------------------------------------------------------- webhooks


@transaction.atomic
def webhook_configure(
    *, actor: Actor, url: str, active: bool, rotate: bool = False
) -> dict[str, Any]:
    """Create or change the caller's webhook; a new secret is returned only when it is made."""
    org = actor.organization
    assert org is not None
    endpoint = WebhookEndpoint.objects.select_for_update().filter(organization=org).first()
    before = None if endpoint is None else {"url": endpoint.url, "active": endpoint.active}
    new_secret = None
    if endpoint is None:
        new_secret = secrets.token_hex(32)
        endpoint = WebhookEndpoint(organization=org, secret=new_secret)
    elif rotate:
        new_secret = endpoint.secret = secrets.token_hex(32)
    endpoint.url, endpoint.active = url, active
    endpoint.save()
    provenance.record(
        actor=actor,
        action="webhook.configure",
        obj=endpoint,
        before=before,
        after={"url": url, "active": active, "secret_rotated": new_secret is not None},
    )
    body: dict[str, Any] = {"url": url, "active": active}
    if new_secret is not None:
        body["secret"] = new_secret
    return body


def _notify(check: Check, event: str) -> None:
    from .webhooks import queue_delivery

    queue_delivery(check, event)
