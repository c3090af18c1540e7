"""Fingerprint tables: one Chromaprint fingerprint per distinct audio file (by sha256)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Fingerprint(models.Model):
    audio_sha256 = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=60)
    items = models.BinaryField(help_text="raw Chromaprint items, little-endian uint32")
    item_count = models.PositiveIntegerField()
    duration_s = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(audio_sha256__regex=r"^[0-9a-f]{64}$"), name="fingerprint_sha256_form"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.audio_sha256[:12]} ({self.item_count} items)"


class IndexTerm(models.Model):
    """One posting of the inverted index: this key occurs in this recording at this item.

    Derived data (``manage.py reindex`` rebuilds it). The primary key (key, recording_id,
    position) is the only index: lookups by key are index-only scans, and a recording's
    postings are deleted by its own keys. ``recording_id`` is a plain integer, not a
    foreign key, to keep each row small and inserts fast.
    """

    pk = models.CompositePrimaryKey("key", "recording_id", "position")
    key = models.IntegerField()
    recording_id = models.IntegerField()
    position = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.key}@{self.recording_id}:{self.position}"


class IndexedRecording(models.Model):
    """Which audio (and key scheme) a recording's postings were made from, to remove them exactly."""

    recording = models.OneToOneField(
        "registry.Recording", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    audio_sha256 = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=80)
    term_count = models.PositiveIntegerField()
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"recording {self.recording_id}: {self.term_count} terms ({self.algorithm})"
