"""Fingerprinting writes: decode a recording's audio once, fingerprint it, store the result."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.db import transaction
from django.db.models.fields.files import FieldFile

from fingerprinting import audio as audio_io
from fingerprinting import chromaprint, index
from fingerprinting.models import Fingerprint
from registry import provenance
from registry.models import Recording
from registry.provenance import Actor

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("fingerprinter")
# What computed a stored fingerprint's items: the library and how the samples were made.
FINGERPRINT_ALGORITHM = f"{chromaprint.ALGORITHM_VERSION} {audio_io.PCM_VERSION}"


def decode_stored(
    stored: FieldFile,
    filename: str,
    *,
    consumers: Sequence[audio_io.SampleConsumer],
    hires_consumers: Sequence[audio_io.SampleConsumer] = (),
) -> audio_io.DecodedAudio:
    """Decode stored audio once, under the configured limits, feeding every consumer.

    ``filename`` is what the uploader called the file: its extension is checked against
    the content (AUDIO_EXTENSION_MISMATCH).
    """
    extension = os.path.splitext(filename or stored.name or "")[1] or None
    options: dict[str, Any] = {
        "max_duration_s": settings.STEMMA_MAX_AUDIO_DURATION_S,
        "declared_extension": extension,
        "consumers": consumers,
        "hires_consumers": hires_consumers,
    }
    try:
        # A local file is decoded inside FFmpeg (audio.decode's fast path): twice as fast.
        path = stored.path
    except NotImplementedError:  # remote storage: streamed through a file object
        with stored.open("rb") as handle:
            return audio_io.decode(cast(BinaryIO, handle), **options)
    os.stat(path)  # gone from storage: OSError, as from stored.open() (not undecodable audio)
    return audio_io.decode(path, **options)


def _compute(recording: Recording) -> tuple[audio_io.DecodedAudio, bytes]:
    fingerprinter = chromaprint.Fingerprinter()
    decoded = decode_stored(recording.audio, recording.audio_filename, consumers=(fingerprinter,))
    return decoded, chromaprint.to_bytes(fingerprinter.finish())


def recording_fingerprint(recording_id: int) -> str:
    """Fingerprint a recording's current audio; safe to run twice. Returns the final status."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or not recording.audio:
        return "missing"
    sha256 = recording.audio_sha256
    if recording.fingerprint_status == Recording.FingerprintStatus.DONE:
        return recording.fingerprint_status
    existing = Fingerprint.objects.filter(audio_sha256=sha256).first()
    error: audio_io.AudioError | None = None
    decoded = None
    items = b""
    if existing is None:
        try:
            decoded, items = _compute(recording)
        except audio_io.AudioError as exc:
            error = exc
        except OSError as exc:
            error = audio_io.AudioError(
                f"the stored audio cannot be read: {exc}", code="AUDIO_UNREADABLE"
            )
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording_id)
        if recording.audio_sha256 != sha256:
            return "superseded"  # new audio arrived meanwhile; its own task handles it
        if recording.fingerprint_status == Recording.FingerprintStatus.DONE:
            return recording.fingerprint_status
        before = {"fingerprint_status": recording.fingerprint_status}
        if error is not None:
            recording.fingerprint_status = Recording.FingerprintStatus.FAILED
            recording.fingerprint_error = error.code
            recording.fingerprint_error_message = error.message[:500]
            recording.save(
                update_fields=[
                    "fingerprint_status",
                    "fingerprint_error",
                    "fingerprint_error_message",
                ]
            )
            provenance.record(
                actor=SYSTEM,
                action="recording.fingerprint_failed",
                obj=recording,
                before=before,
                after={
                    "fingerprint_status": "failed",
                    "code": error.code,
                    "message": error.message,
                },
            )
            return recording.fingerprint_status
        if existing is None:
            assert decoded is not None
            existing, _ = Fingerprint.objects.get_or_create(
                audio_sha256=sha256,
                defaults={
                    "algorithm": FINGERPRINT_ALGORITHM,
                    "items": items,
                    "item_count": len(items) // 4,
                    "duration_s": decoded.duration_s,
                },
            )
        if recording.status == Recording.Status.ACTIVE:
            terms = index.add(recording, chromaprint.from_bytes(bytes(existing.items)))
        else:
            terms = 0
        recording.fingerprint_status = Recording.FingerprintStatus.DONE
        recording.fingerprint_error = ""
        recording.fingerprint_error_message = ""
        recording.duration_s = round(existing.duration_s, 3)
        recording.save(
            update_fields=[
                "fingerprint_status",
                "fingerprint_error",
                "fingerprint_error_message",
                "duration_s",
            ]
        )
        provenance.record(
            actor=SYSTEM,
            action="recording.fingerprint",
            obj=recording,
            before=before,
            after={
                "fingerprint_status": "done",
                "algorithm": existing.algorithm,
                "item_count": existing.item_count,
                "duration_s": recording.duration_s,
                "index_terms": terms,
            },
        )
    return Recording.FingerprintStatus.DONE
