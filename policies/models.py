"""Policy tables: policies, their immutable published versions, and the decisions made with them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from registry.models import Organization

from .rules import ACTIONS, PRIORITIES

SHA256_FORM = r"^[0-9a-f]{64}$"


class Policy(models.Model):
    """A named, versioned set of rules.

    Global policies (the operators', and the system's "Stemma default", which has no
    organisation) apply to every check; an organisation's own policy applies to the
    matches of its recordings. The name never changes: decisions quote it.
    """

    class Scope(models.TextChoices):
        GLOBAL = "global", "Global (operators)"
        OWNER = "owner", "An organisation's recordings"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="the owner; empty for the system's own policies",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="global") | Q(organization__isnull=False),
                name="policy_owner_has_organization",
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(scope="global"), name="policy_unique_global_name"
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(scope="owner"),
                name="policy_unique_owner_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_global(self) -> bool:
        return self.scope == self.Scope.GLOBAL


class PolicyVersion(models.Model):
    """One version of a policy's rules: a draft until published, then never changed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rules = models.JSONField(default=list, help_text="the rules, in their canonical form")
    rules_sha256 = models.CharField(max_length=64, help_text="sha256 of the canonical rules")
    note = models.TextField(blank=True, help_text="what changed, and why")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["policy_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"], name="policyversion_unique_number"
            ),
            # Exactly one version applies at a time: publishing retires the previous one.
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="published"),
                name="policyversion_one_published",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="policyversion_published_at",
            ),
            models.CheckConstraint(
                condition=Q(rules_sha256__regex=SHA256_FORM), name="policyversion_sha256_form"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number} ({self.status})"


class Decision(models.Model):
    """One evaluation, stored whole: facts, the exact versions used, the outcome. Never changed."""

    subject_type = models.CharField(max_length=40, help_text='what was decided about, e.g. "check"')
    subject_id = models.CharField(max_length=64)
    submitter = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="policy_decisions"
    )
    matched_owners = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="policy_decisions_as_owner",
        help_text="owners of the matched recordings",
    )
    versions = models.ManyToManyField(PolicyVersion, related_name="decisions")
    facts = models.JSONField()
    facts_sha256 = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=20, choices=[(a, a) for a in ACTIONS])
    priority = models.CharField(max_length=10, choices=[(p, p) for p in PRIORITIES], blank=True)
    territories = models.JSONField(help_text="action per territory (WORLD when uniform)")
    explanation = models.TextField()
    outcome = models.JSONField(help_text="the engine's full outcome, canonical")
    outcome_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="decision_subject_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(facts_sha256__regex=SHA256_FORM) & Q(outcome_sha256__regex=SHA256_FORM),
                name="decision_sha256_form",
            ),
        ]

    def __str__(self) -> str:
        return f"decision {self.pk}: {self.subject_type} {self.subject_id} -> {self.action}"
