"""Checks in the admin: read-only; the review dashboard builds on these pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from registry.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Check, CheckMatch, WebhookDelivery, WebhookEndpoint


class CheckMatchInline(ReadOnlyInline):
    model = CheckMatch
    fields = [
        "recording",
        "score",
        "query_start_s",
        "query_end_s",
        "reference_start_s",
        "reference_end_s",
        "speed_factor",
    ]


@admin.register(Check)
class CheckAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "status", "error", "created_at", "processing_seconds"]
    list_filter = ["status", "organization"]
    search_fields = ["audio_sha256", "idempotency_key"]
    inlines = [CheckMatchInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["organization", "url", "active", "created_at"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}
