"""Review tables: the queue of items a person must decide on, and the disputes that feed it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from registry.models import Organization

# Queue order: the most urgent first (then the oldest).
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


class Dispute(models.Model):
    """A label's or distributor's objection to a check's match or decision, or to a conflict."""

    class Subject(models.TextChoices):
        MATCH = "match", "A match"
        DECISION = "decision", "A decision"
        CONFLICT = "conflict", "An ownership conflict"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="disputes"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=10, choices=Subject.choices)
    submission = models.ForeignKey(
        "checks.Check", null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    # A re-analysed check replaces its matches: the snapshot keeps what was disputed.
    match = models.ForeignKey(
        "checks.CheckMatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    match_snapshot = models.JSONField(null=True, blank=True)
    conflict = models.ForeignKey(
        "registry.OwnershipConflict",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(subject="conflict", conflict__isnull=False, submission__isnull=True)
                    | Q(subject="decision", submission__isnull=False, conflict__isnull=True)
                    | Q(subject="match", submission__isnull=False, conflict__isnull=True)
                ),
                name="dispute_subject_matches_target",
            ),
            models.UniqueConstraint(
                fields=["organization", "submission"],
                condition=Q(state="open", submission__isnull=False),
                name="dispute_one_open_per_check",
            ),
            models.UniqueConstraint(
                fields=["organization", "conflict"],
                condition=Q(state="open", conflict__isnull=False),
                name="dispute_one_open_per_conflict",
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"check {self.submission_id}" if self.submission_id else f"conflict {self.conflict_id}"
        )
        return f"dispute {self.pk} of {target} by {self.organization}"


class ReviewItem(models.Model):
    """One thing a reviewer must decide: a check the policy sent to review, a conflict, a dispute."""

    class Kind(models.TextChoices):
        CHECK = "check", "Check"
        CONFLICT = "conflict", "Ownership conflict"
        DISPUTE = "dispute", "Dispute"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        LICENCE_REQUIRED = "licence_required", "Licence required"
        ESCALATED = "escalated", "Escalated"
        AUTO_RESOLVED = "auto_resolved", "Auto-resolved"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    ACTIONABLE = (State.OPEN, State.ESCALATED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    submission = models.ForeignKey(
        "checks.Check", null=True, blank=True, on_delete=models.PROTECT, related_name="review_items"
    )
    decision = models.ForeignKey(
        "policies.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the policy decision under review",
    )
    conflict = models.ForeignKey(
        "registry.OwnershipConflict",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review_items",
    )
    dispute = models.OneToOneField(
        Dispute, null=True, blank=True, on_delete=models.PROTECT, related_name="review_item"
    )
    reason = models.CharField(max_length=500, help_text="why it is here, in stable words")
    detail = models.TextField(
        blank=True, help_text="the specifics: the disputer's words, the shares"
    )
    rule = models.CharField(max_length=100, blank=True, help_text="the policy rule that sent it")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    priority_rank = models.PositiveSmallIntegerField(default=PRIORITY_RANK["normal"])
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    organizations = models.ManyToManyField(
        Organization, related_name="review_items", help_text="the organisations involved"
    )
    territories = models.JSONField(default=list, help_text="where the question stands")
    ai_assessment = models.CharField(max_length=20, blank=True)
    ai_sources = models.JSONField(default=list, help_text="evidence sources scoring 0.5 or more")
    fallback_action = models.CharField(
        max_length=20, blank=True, help_text="what happens when nobody decides by the due date"
    )
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()

    escalation_note = models.TextField(blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)

    final_action = models.CharField(max_length=20, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority_rank", "created_at", "id"]
        permissions = [("resolve_reviewitem", "Can resolve review items")]
        indexes = [
            models.Index(fields=["state", "due_at"], name="reviewitem_state_due_idx"),
            models.Index(
                fields=["-priority_rank", "created_at"], name="reviewitem_queue_order_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="check", submission__isnull=False, decision__isnull=False)
                    | Q(kind="conflict", conflict__isnull=False)
                    | Q(kind="dispute", dispute__isnull=False)
                ),
                name="reviewitem_kind_has_subject",
            ),
            # A decided item says when, and why: every action carries a note.
            models.CheckConstraint(
                condition=Q(state__in=["open", "escalated"], resolved_at__isnull=True)
                | (
                    ~Q(state__in=["open", "escalated"])
                    & Q(resolved_at__isnull=False)
                    & ~Q(resolution_note="")
                ),
                name="reviewitem_resolution_complete",
            ),
            models.CheckConstraint(
                condition=Q(priority_rank__lte=3), name="reviewitem_priority_rank_range"
            ),
            models.UniqueConstraint(
                fields=["decision"], condition=Q(kind="check"), name="reviewitem_one_per_decision"
            ),
            models.UniqueConstraint(
                fields=["conflict"],
                condition=Q(kind="conflict"),
                name="reviewitem_one_per_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.pk}: {self.subject_label} ({self.state})"

    @property
    def subject_label(self) -> str:
        if self.kind == self.Kind.CHECK:
            return f"check {self.submission_id}"
        if self.kind == self.Kind.CONFLICT:
            return f"conflict {self.conflict_id}"
        target = (
            f"check {self.submission_id}" if self.submission_id else f"conflict {self.conflict_id}"
        )
        return f"dispute of {target}"

    @property
    def is_actionable(self) -> bool:
        return self.state in self.ACTIONABLE

    @property
    def is_overdue(self) -> bool:
        return self.state == self.State.OPEN and self.due_at < timezone.now()
