"""Serializers of the checks API: the shape of a submission (services check the meaning)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from common.api import json_object
from registry.models import Recording


class DeclaredAiIn(serializers.Serializer):
    disclosure = serializers.ChoiceField(choices=Recording.AiDisclosure.choices, default="none")
    elements = serializers.ListField(child=serializers.CharField(max_length=40), default=list)


class CheckMetadataIn(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=500)
    isrc = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    declared_ai = DeclaredAiIn(required=False, allow_null=True)
    contributors = serializers.ListField(
        child=serializers.JSONField(), required=False, default=list
    )
    territories = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, default=["WORLD"]
    )
    usage_types = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=["stream"]
    )
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CheckIn(serializers.Serializer):
    audio = serializers.FileField(allow_empty_file=True)
    metadata = serializers.CharField(required=False, help_text="CheckMetadataIn as JSON")

    def validate_metadata(self, value: str) -> dict[str, Any]:
        return json_object(value)


class CheckAccepted(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField()


class WebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    active = serializers.BooleanField(default=True)


class WebhookOut(serializers.Serializer):
    url = serializers.URLField()
    active = serializers.BooleanField()
    secret = serializers.CharField(required=False, help_text="shown once, when created or rotated")
