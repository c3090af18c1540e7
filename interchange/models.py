"""Interchange tables: ERN messages received, and what ERN says that the registry has no room for."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from registry.models import PCT_VALIDATORS, Organization, Party, Recording, Release


class ErnMessage(models.Model):
    """One NewReleaseMessage applied to the registry: what makes it unique, and what it did."""

    class Action(models.TextChoices):
        CREATE = "create", "Created the release"
        UPDATE = "update", "Updated the release"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sender_id = models.CharField("MessageSender PartyId", max_length=200)
    sender_name = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=200)
    thread_id = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField("content hash", max_length=64)
    size_bytes = models.PositiveIntegerField()
    ern_version = models.CharField(max_length=10)
    message_created_at = models.DateTimeField(null=True, blank=True)
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="ern_messages"
    )
    release_key = models.CharField(
        max_length=300, blank=True, help_text="icpn:, grid: or proprietary: key of the release"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    summary = models.JSONField(default=dict, help_text="the import report returned to the sender")
    received_by = models.CharField(max_length=150, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sender_id", "message_id"], name="ern_message_unique_id"
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="ern_message_sha256_form"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "sender_id", "release_key"], name="ern_message_release_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sender_id}/{self.message_id}"


class Deal(models.Model):
    """The terms (territories, use types, commercial models, validity) a release is offered on."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="ern_deals")
    message = models.ForeignKey(
        ErnMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    position = models.PositiveIntegerField()
    territories = models.JSONField(default=list)
    exclude_territories = models.JSONField(default=list, blank=True)
    use_types = models.JSONField(default=list, blank=True, help_text="DDEX UseType values")
    commercial_model_types = models.JSONField(default=list, blank=True)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "position"], name="deal_unique_position"),
            models.CheckConstraint(
                condition=Q(start__isnull=True)
                | Q(end__isnull=True)
                | Q(end__gte=models.F("start")),
                name="deal_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{','.join(self.use_types) or 'any use'} in {','.join(self.territories)}"


class RightsController(models.Model):
    """A ResourceRightsController as the message stated it (owners also become rights shares)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="ern_rights_controllers"
    )
    message = models.ForeignKey(
        ErnMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField()
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    party_name = models.CharField(max_length=300)
    owner = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the organisation the controller was resolved to, when it owns a share",
    )
    control_types = models.JSONField(default=list, blank=True)
    share_pct = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, validators=PCT_VALIDATORS
    )
    share_unknown = models.BooleanField(default=False)
    delegations = models.JSONField(
        default=list, blank=True, help_text="DelegatedUsageRights: usage types, territories, period"
    )
    became_rights_share = models.BooleanField(default=False)

    class Meta:
        ordering = ["recording", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "position"], name="rights_controller_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(share_pct__isnull=True) | (Q(share_pct__gte=0) & Q(share_pct__lte=100)),
                name="rights_controller_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party_name}: {self.share_pct}%"


class RecordingDetail(models.Model):
    """What an ERN declares about a recording that the registry measures itself (the duration)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recording = models.OneToOneField(Recording, on_delete=models.CASCADE, related_name="ern_detail")
    declared_duration_s = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(declared_duration_s__isnull=True) | Q(declared_duration_s__gte=0),
                name="recording_detail_duration_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recording}: {self.declared_duration_s}s declared"
