"""The review dashboard in the admin: the queue, one page per item, and the reviewer's actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from common.errors import DomainError
from registry.provenance import Actor

from . import dashboard, selectors, services
from .models import Dispute, ReviewItem

# The admin index shows the queue's counts (admin/review/index.html extends the stock index).
admin.site.index_template = "admin/review/index.html"

ACTION_CHOICES = [
    ("approve", "Approve (allow)"),
    ("reject", "Reject (block)"),
    ("require_licence", "Require a licence"),
    ("escalate", "Escalate"),
]
AI_ASSESSMENTS = [
    ("detected_ai", "Detected AI"),
    ("possible_ai", "Possible AI"),
    ("declared_ai", "Declared AI"),
    ("no_evidence", "No evidence"),
]
AI_SOURCES = [
    ("registry", "Registry"),
    ("c2pa", "C2PA"),
    ("spectral", "Spectral"),
    ("tags", "Tags"),
]


class ReviewActionForm(forms.Form):
    """One action with its note; the server says when the note is missing (no browser check)."""

    use_required_attribute = False

    action = forms.ChoiceField(choices=ACTION_CHOICES)
    note = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "Why? The submitter will read this note."}
        ),
        max_length=services.MAX_NOTE_CHARS,
        error_messages={"required": "Write a note: every review action needs one."},
    )


# ---------------------------------------------------------------- filters


class StateFilter(admin.SimpleListFilter):
    """Open and escalated items by default: the queue is what is left to do."""

    title = "state"
    parameter_name = "state"
    DEFAULT = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (self.DEFAULT, "Waiting (open or escalated)"),
            *ReviewItem.State.choices,
            ("all", "All"),
        ]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.DEFAULT
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        value = self.value() or self.DEFAULT
        if value == "all":
            return queryset
        if value == self.DEFAULT:
            return queryset.filter(state__in=ReviewItem.ACTIONABLE)
        return queryset.filter(state=value)


class ReasonFilter(admin.SimpleListFilter):
    title = "reason"
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        reasons = ReviewItem.objects.order_by("reason").values_list("reason", flat=True).distinct()
        return [(r, r) for r in reasons[:50]]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        return queryset.filter(reason=self.value()) if self.value() else queryset


class TerritoryFilter(admin.SimpleListFilter):
    """A country shows the items about it, and the worldwide ones (which include it)."""

    title = "territory"
    parameter_name = "territory"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes: set[str] = set()
        for territories in ReviewItem.objects.filter(state__in=ReviewItem.ACTIONABLE).values_list(
            "territories", flat=True
        ):
            codes.update(str(c) for c in territories or [])
        ordered = sorted(codes - {"WORLD"})
        return ([("WORLD", "Worldwide only")] if "WORLD" in codes else []) + [
            (c, c) for c in ordered[:60]
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        code = (self.value() or "").upper()
        if not code:
            return queryset
        if not code.isalpha() or len(code) > 5:
            return queryset.none()
        # JSON lists as text: a quoted code matches that element, never part of another.
        contains = Q(territories__icontains=f'"{code}"')
        if code != "WORLD":
            contains |= Q(territories__icontains='"WORLD"')
        return queryset.filter(contains)


class AiAssessmentFilter(admin.SimpleListFilter):
    title = "AI evidence"
    parameter_name = "ai"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return AI_ASSESSMENTS

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        return queryset.filter(ai_assessment=self.value()) if self.value() else queryset


class AiSourceFilter(admin.SimpleListFilter):
    title = "AI evidence source (score ≥ 0.5)"
    parameter_name = "ai_source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return AI_SOURCES

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        value = self.value()
        if not value or value not in dict(AI_SOURCES):
            return queryset
        return queryset.filter(ai_sources__icontains=f'"{value}"')


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("week", "Due within 7 days")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReviewItem]
    ) -> QuerySet[ReviewItem]:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(state=ReviewItem.State.OPEN, due_at__lt=now)
        if self.value() == "week":
            return queryset.filter(
                state=ReviewItem.State.OPEN,
                due_at__gte=now,
                due_at__lt=now + dt.timedelta(days=7),
            )
        return queryset


# ---------------------------------------------------------------- the queue


def _badge(kind: str, value: str, text: str) -> str:
    return format_html('<span class="rv-badge rv-{}-{}">{}</span>', kind, value, text)


class ReviewersOnly:
    """Reviewers (or viewers) see; nothing is added, changed or deleted behind the services."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.may_view_queue(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return selectors.may_view_queue(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(ReviewersOnly, admin.ModelAdmin):
    list_display = [
        "item_link",
        "priority_badge",
        "reason_text",
        "organisations",
        "territory_list",
        "ai",
        "state_badge",
        "age",
        "due",
    ]
    list_display_links = None
    list_filter = [
        StateFilter,
        "kind",
        "priority",
        ReasonFilter,
        ("organizations", admin.RelatedOnlyFieldListFilter),
        TerritoryFilter,
        AiAssessmentFilter,
        AiSourceFilter,
        DueFilter,
    ]
    search_fields = ["reason", "detail", "rule"]
    ordering = ["-priority_rank", "created_at", "id"]
    list_per_page = 50
    actions = None
    change_list_template = "admin/review/reviewitem/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewItem]:
        return (
            super()
            .get_queryset(request)
            .select_related("submission", "conflict", "dispute__organization")
            .prefetch_related("organizations")
        )

    @admin.display(description="item")
    def item_link(self, item: ReviewItem) -> str:
        url = reverse("admin:review_reviewitem_review", args=[item.pk])
        return format_html(
            '<a class="rv-item-link" href="{}">#{}&nbsp;· {}</a><div class="rv-quiet">{}</div>',
            url,
            item.pk,
            item.subject_label,
            item.get_kind_display(),
        )

    @admin.display(description="priority", ordering="priority_rank")
    def priority_badge(self, item: ReviewItem) -> str:
        return _badge("priority", item.priority, item.get_priority_display())

    @admin.display(description="reason", ordering="reason")
    def reason_text(self, item: ReviewItem) -> str:
        if item.kind == ReviewItem.Kind.CHECK:
            return item.reason  # the rule's own words; its conditions are on the item's page
        detail = item.detail if len(item.detail) <= 90 else item.detail[:87] + "…"
        return format_html('{}<div class="rv-quiet">{}</div>', item.reason, detail)

    @admin.display(description="organisations")
    def organisations(self, item: ReviewItem) -> str:
        return ", ".join(o.name for o in item.organizations.all())

    @admin.display(description="territories")
    def territory_list(self, item: ReviewItem) -> str:
        codes = list(item.territories or [])
        if codes == ["WORLD"]:
            return "Worldwide"
        return ", ".join(codes[:5]) + (f" +{len(codes) - 5}" if len(codes) > 5 else "")

    @admin.display(description="AI evidence", ordering="ai_assessment")
    def ai(self, item: ReviewItem) -> str:
        if not item.ai_assessment:
            return "—"
        label = dict(AI_ASSESSMENTS).get(item.ai_assessment, item.ai_assessment)
        sources = ", ".join(item.ai_sources)
        return format_html(
            '{}<div class="rv-quiet">{}</div>',
            _badge("ai", item.ai_assessment, label),
            sources,
        )

    @admin.display(description="state", ordering="state")
    def state_badge(self, item: ReviewItem) -> str:
        return _badge("state", item.state, item.get_state_display())

    @admin.display(description="age", ordering="created_at")
    def age(self, item: ReviewItem) -> str:
        return timesince(item.created_at).split(",")[0]

    @admin.display(description="due", ordering="due_at")
    def due(self, item: ReviewItem) -> str:
        if not item.is_actionable:
            return format_html(
                '<span class="rv-quiet rv-nowrap">{}</span>', f"{item.resolved_at:%Y-%m-%d}"
            )
        if item.is_overdue:
            return format_html(
                '<span class="rv-overdue rv-nowrap">overdue {}</span>', f"{item.due_at:%Y-%m-%d}"
            )
        return format_html('<span class="rv-nowrap">{}</span>', f"{item.due_at:%Y-%m-%d}")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"summary": selectors.queue_summary(), **(extra_context or {})}
        return super().changelist_view(request, extra)

    # ---------------------------------------------------------------- one item

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="review_reviewitem_review",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The stock page has nothing a reviewer needs: go to the review page."""
        try:
            pk = int(object_id)
        except ValueError:
            pk = 0
        return HttpResponseRedirect(reverse("admin:review_reviewitem_review", args=[pk]))

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not selectors.may_view_queue(request.user):
            raise PermissionDenied
        item = get_object_or_404(
            ReviewItem.objects.select_related(
                "submission__organization",
                "submission__decision",
                "decision",
                "conflict",
                "dispute__organization",
                "dispute__opened_by",
                "resolved_by",
                "escalated_by",
            ),
            pk=pk,
        )
        may_act = selectors.is_reviewer(request.user)
        form = ReviewActionForm()
        error = ""
        if request.method == "POST":
            if not may_act:
                raise PermissionDenied
            form = ReviewActionForm(request.POST)
            if form.is_valid():
                action, note = form.cleaned_data["action"], form.cleaned_data["note"]
                try:
                    services.review_resolve(
                        actor=Actor.for_user(request.user),  # type: ignore[arg-type]
                        item=item,
                        action=action,
                        note=note,
                    )
                except DomainError as exc:
                    error = exc.message
                else:
                    item.refresh_from_db()
                    words = dict(ACTION_CHOICES)[action]
                    self.log_change(request, item, f"{words}: {note}")
                    self.message_user(
                        request,
                        f"Review #{item.pk} ({item.subject_label}): {words.lower()}. "
                        f"The organisation is notified.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:review_reviewitem_changelist"))
        context = {
            **self.admin_site.each_context(request),
            **dashboard.page(item),
            "opts": self.opts,
            "title": f"Review #{item.pk}: {item.subject_label}",
            "form": form,
            "action_error": error,
            "may_act": may_act and item.is_actionable,
            "actions": ACTION_CHOICES,
            "next_item": self._next_item(item),
            "queue_url": reverse("admin:review_reviewitem_changelist"),
        }
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(
            request, "admin/review/reviewitem/review.html", context, status=status
        )

    def _next_item(self, item: ReviewItem) -> ReviewItem | None:
        waiting = ReviewItem.objects.filter(state__in=ReviewItem.ACTIONABLE).exclude(pk=item.pk)
        after = waiting.filter(
            Q(priority_rank__lt=item.priority_rank)
            | Q(priority_rank=item.priority_rank, created_at__gt=item.created_at)
            | Q(priority_rank=item.priority_rank, created_at=item.created_at, id__gt=item.pk)
        )
        return (
            after.order_by("-priority_rank", "created_at", "id").first()
            or waiting.order_by("-priority_rank", "created_at", "id").first()
        )


@admin.register(Dispute)
class DisputeAdmin(ReviewersOnly, admin.ModelAdmin):
    list_display = ["id", "organization", "subject", "target", "state", "created_at", "review"]
    list_filter = ["state", "subject", "organization"]
    search_fields = ["reason"]
    actions = None
    fields = readonly_fields = (
        "organization",
        "opened_by",
        "subject",
        "submission",
        "match_snapshot",
        "conflict",
        "reason",
        "state",
        "created_at",
        "resolved_at",
        "review",
    )

    @admin.display(description="about")
    def target(self, dispute: Dispute) -> str:
        if dispute.submission_id:
            return f"check {dispute.submission_id}"
        return f"conflict {dispute.conflict_id}"

    @admin.display(description="review")
    def review(self, dispute: Dispute) -> str:
        item = getattr(dispute, "review_item", None)
        if item is None:
            return "—"
        url = reverse("admin:review_reviewitem_review", args=[item.pk])
        return format_html_join(
            "", '<a href="{}">#{} ({})</a>', [(url, item.pk, item.get_state_display())]
        )
