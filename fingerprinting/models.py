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
