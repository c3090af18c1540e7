"""Policies in the admin: browse versions and decisions; publish, simulate and compare through services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from common.errors import DomainError
from registry.admin import ReadOnlyAdmin, ReadOnlyInline
from registry.provenance import Actor

from . import services
from .models import Decision, Policy, PolicyVersion


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)  # type: ignore[arg-type]


def _pretty(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


class PolicyVersionInline(ReadOnlyInline):
    model = PolicyVersion
    fields = readonly_fields = (
        "link",
        "status",
        "rules_sha256",
        "note",
        "published_at",
        "retired_at",
    )

    @admin.display(description="version")
    def link(self, version: PolicyVersion) -> str:
        url = reverse("admin:policies_policyversion_change", args=[version.pk])
        return format_html('<a href="{}">v{}</a>', url, version.number)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "scope", "organization", "published_version", "created_at"]
    list_filter = ["scope"]
    search_fields = ["name"]
    inlines = [PolicyVersionInline]

    @admin.display(description="published version")
    def published_version(self, policy: Policy) -> str:
        version = policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).first()
        return f"v{version.number}" if version else "-"


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "status", "short_sha256", "published_at", "published_by"]
    list_filter = ["status", "policy"]
    fields = readonly_fields = (
        "policy",
        "number",
        "status",
        "note",
        "rules_pretty",
        "rules_sha256",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "retired_at",
    )
    actions = ["publish", "simulate", "compare"]

    @admin.display(description="rules")
    def rules_pretty(self, version: PolicyVersion) -> str:
        return _pretty(version.rules)

    @admin.display(description="sha256")
    def short_sha256(self, version: PolicyVersion) -> str:
        return version.rules_sha256[:12]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/simulate/",
                view(self.simulation_view),
                name="policies_policyversion_simulate",
            ),
            path("compare/", view(self.compare_view), name="policies_policyversion_compare"),
            *super().get_urls(),
        ]

    # Actions: staff change nothing directly; each one calls the service that logs it.

    @admin.action(description="Publish the selected drafts")
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset.select_related("policy").order_by("number"):
            try:
                services.version_publish(actor=_actor(request), version=version)
            except DomainError as error:
                self.message_user(request, f"{version}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"published {version.policy} v{version.number}")

    @admin.action(description="Simulate the selected version against past decisions")
    def simulate(
        self, request: HttpRequest, queryset: QuerySet[PolicyVersion]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "select exactly one version to simulate", messages.ERROR)
            return None
        version = queryset.get()
        return HttpResponseRedirect(
            reverse("admin:policies_policyversion_simulate", args=[version.pk])
        )

    @admin.action(description="Compare the two selected versions")
    def compare(
        self, request: HttpRequest, queryset: QuerySet[PolicyVersion]
    ) -> HttpResponse | None:
        versions = list(queryset.order_by("number"))
        if len(versions) != 2 or versions[0].policy_id != versions[1].policy_id:
            self.message_user(
                request, "select two versions of the same policy to compare", messages.ERROR
            )
            return None
        url = reverse("admin:policies_policyversion_compare")
        return HttpResponseRedirect(f"{url}?old={versions[0].pk}&new={versions[1].pk}")

    def simulation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(PolicyVersion.objects.select_related("policy"), pk=pk)
        if not self.has_view_permission(request, version):
            return HttpResponse(status=403)
        context = {**self.admin_site.each_context(request), "version": version, "opts": self.opts}
        try:
            context["simulation"] = services.simulate(actor=_actor(request), version=version)
        except DomainError as error:
            context["error"] = error.message
        return TemplateResponse(request, "admin/policies/simulation.html", context)

    def compare_view(self, request: HttpRequest) -> HttpResponse:
        versions = PolicyVersion.objects.select_related("policy")
        old = get_object_or_404(versions, pk=_int(request.GET.get("old")))
        new = get_object_or_404(versions, pk=_int(request.GET.get("new")))
        if not self.has_view_permission(request, old):
            return HttpResponse(status=403)
        context = {**self.admin_site.each_context(request), "opts": self.opts}
        context.update({"old": old, "new": new})
        try:
            result = services.compare(old=old, new=new)
        except DomainError as error:
            context["error"] = error.message
        else:
            context["result"] = result
            context["added"] = [_pretty(rule) for rule in result["added"]]
            context["removed"] = [_pretty(rule) for rule in result["removed"]]
        return TemplateResponse(request, "admin/policies/compare.html", context)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0  # no such row: a 404


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subject_type",
        "subject_id",
        "action",
        "priority",
        "submitter",
        "created_at",
    ]
    list_filter = ["action", "priority", "subject_type"]
    search_fields = ["subject_id", "facts_sha256", "outcome_sha256"]
    fields = readonly_fields = (
        "subject_type",
        "subject_id",
        "submitter",
        "action",
        "priority",
        "territories_pretty",
        "explanation_text",
        "versions",
        "facts_sha256",
        "facts_pretty",
        "outcome_sha256",
        "outcome_pretty",
        "created_at",
    )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # decisions are evidence: no bulk delete

    @admin.display(description="territories")
    def territories_pretty(self, decision: Decision) -> str:
        return _pretty(decision.territories)

    @admin.display(description="explanation")
    def explanation_text(self, decision: Decision) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", decision.explanation)

    @admin.display(description="facts")
    def facts_pretty(self, decision: Decision) -> str:
        return _pretty(decision.facts)

    @admin.display(description="outcome")
    def outcome_pretty(self, decision: Decision) -> str:
        return _pretty(decision.outcome)
