"""ERN messages and deals in the admin: to browse, never to edit (imports go through services)."""

from __future__ import annotations

from django.contrib import admin

from registry.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Deal, ErnMessage


class DealInline(ReadOnlyInline):
    model = Deal
    fk_name = "message"
    fields = [
        "position",
        "territories",
        "exclude_territories",
        "use_types",
        "commercial_model_types",
        "start",
        "end",
    ]


@admin.register(ErnMessage)
class ErnMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "sender_id", "organization", "action", "release", "received_at"]
    list_filter = ["action", "ern_version"]
    search_fields = ["message_id", "sender_id", "sender_name", "sha256"]
    inlines = [DealInline]


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ["release", "position", "territories", "use_types", "start", "end"]
    search_fields = ["release__title", "release__upc"]
