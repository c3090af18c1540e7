"""Template tags of the review dashboard: the queue panel shown on the admin index."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from review import selectors

register = template.Library()


@register.inclusion_tag("admin/review/queue_panel.html", takes_context=True)
def review_queue_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not selectors.may_view_queue(user):
        return {"show": False}
    return {
        "show": True,
        "summary": selectors.queue_summary(),
        "queue_url": reverse("admin:review_reviewitem_changelist"),
    }
