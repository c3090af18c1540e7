"""Serializers of the review API: shapes only; the services check the meaning."""

from __future__ import annotations

from rest_framework import serializers


class DisputeIn(serializers.Serializer):
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=5000, trim_whitespace=False
    )
    match = serializers.IntegerField(
        required=False, allow_null=True, help_text="the disputed match's id (checks only)"
    )


class ConflictDisputeIn(serializers.Serializer):
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=5000, trim_whitespace=False
    )


class ReviewOutcomeOut(serializers.Serializer):
    state = serializers.CharField()
    final_action = serializers.CharField(allow_null=True)
    note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    reviewer = serializers.CharField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)


class DisputeOut(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=["match", "decision", "conflict"])
    check = serializers.IntegerField(allow_null=True)
    match = serializers.JSONField(allow_null=True)
    conflict = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    state = serializers.ChoiceField(choices=["open", "resolved"])
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    outcome = ReviewOutcomeOut(allow_null=True)
    url = serializers.CharField()


class CheckReviewOut(serializers.Serializer):
    state = serializers.CharField()
    note = serializers.CharField()
    final_action = serializers.CharField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    reviewer = serializers.CharField(allow_null=True)
