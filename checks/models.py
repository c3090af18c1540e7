"""Check tables: submissions, the matches found in them, webhooks and their deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from registry.models import Organization, Recording


class Check(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="checks")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    declared = models.JSONField(default=dict, help_text="what the uploader declared")
    audio = models.FileField(max_length=300)
    audio_filename = models.CharField(max_length=300, blank=True)
    audio_sha256 = models.CharField(max_length=64, db_index=True)
    audio_size_bytes = models.BigIntegerField()
    duration_s = models.FloatField(null=True, blank=True)

    ai_origin = models.JSONField(null=True, blank=True)
    decision = models.ForeignKey(
        "policies.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    algorithm = models.CharField(max_length=120, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    processing_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="check_unique_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "started_at"], name="check_status_idx")]

    def __str__(self) -> str:
        return f"check {self.pk} ({self.status})"


class CheckMatch(models.Model):
    """A registered recording found in a check's audio."""

    submission = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="matches")
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    query_start_s = models.FloatField()
    query_end_s = models.FloatField()
    reference_start_s = models.FloatField()
    reference_end_s = models.FloatField()
    query_coverage_pct = models.FloatField()
    reference_coverage_pct = models.FloatField()
    bit_error_rate = models.FloatField()
    speed_factor = models.FloatField(default=1.0)
    algorithm = models.CharField(max_length=120)

    class Meta:
        ordering = ["query_start_s", "id"]

    def __str__(self) -> str:
        return f"{self.recording_id} @ {self.query_start_s:.1f}-{self.query_end_s:.1f} s"


class WebhookEndpoint(models.Model):
    """Where an organisation wants to hear about its checks; bodies are signed with the secret."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="webhook"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=60)
    submission = models.ForeignKey(Check, null=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint} ({self.status})"
