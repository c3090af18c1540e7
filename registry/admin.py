"""The registry in the admin: browse everything, change nothing behind the services' back."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from . import services
from .models import (
    Contribution,
    GenerationRecord,
    Organization,
    OwnershipConflict,
    Party,
    ProvenanceEvent,
    Recording,
    Release,
    ReleaseTrack,
    RightsShare,
    User,
    Work,
    WorkWriter,
)
from .provenance import Actor


class ReadOnlyAdmin(admin.ModelAdmin):
    """Registry data is written through the API and services, where provenance is recorded."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "organization", "is_staff", "is_active", "last_login"]
    list_filter = ["organization__kind", "is_staff", "is_active"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Organisation", {"fields": ("organization",)}))  # type: ignore[misc]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.user_save_by_staff(
            actor=Actor.for_user(request.user),  # type: ignore[arg-type]
            user=obj,
            changed=form.changed_data,
            created=not change,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the log names users


@admin.register(Party)
class PartyAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "ipi", "isni", "dpid", "organization"]
    list_filter = ["kind", "organization"]
    search_fields = ["name", "ipi", "isni", "dpid"]


class WorkWriterInline(ReadOnlyInline):
    model = WorkWriter


class RightsShareInline(ReadOnlyInline):
    model = RightsShare
    fk_name = "recording"
    fields = [
        "owner",
        "share_pct",
        "territories",
        "exclude_territories",
        "start",
        "end",
        "usage_types",
    ]


class WorkRightsInline(RightsShareInline):
    fk_name = "work"


@admin.register(Work)
class WorkAdmin(ReadOnlyAdmin):
    list_display = ["title", "iswc", "organization", "created_at"]
    search_fields = ["title", "iswc"]
    list_filter = ["organization"]
    inlines = [WorkWriterInline, WorkRightsInline]


class ContributionInline(ReadOnlyInline):
    model = Contribution


class GenerationInline(admin.StackedInline):
    model = GenerationRecord
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "isrc",
        "display_artist",
        "ai_disclosure",
        "fingerprint_status",
        "status",
        "organization",
    ]
    list_filter = ["ai_disclosure", "fingerprint_status", "status", "organization"]
    search_fields = ["title", "isrc", "display_artist", "audio_sha256"]
    inlines = [ContributionInline, GenerationInline, RightsShareInline]


class ReleaseTrackInline(ReadOnlyInline):
    model = ReleaseTrack


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["title", "upc", "release_type", "organization"]
    search_fields = ["title", "upc"]
    inlines = [ReleaseTrackInline]


@admin.register(OwnershipConflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ["subject_kind", "subject_key", "total_pct", "status", "detected_at"]
    list_filter = ["status", "subject_kind"]
    search_fields = ["subject_key"]


@admin.register(ProvenanceEvent)
class ProvenanceEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "action",
        "object_type",
        "object_id",
        "actor_user",
        "actor_organization",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_user", "hash"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # no bulk delete, ever
