"""Resolve the review items nobody decided by their due date, as their policy says."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from review import services
from review.models import ReviewItem


class Command(BaseCommand):
    help = (
        "Apply the fallback to every open review item past its due date: checks as the policy "
        "says, disputes of checks keep the decision in force, ownership questions are escalated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list the overdue items, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            overdue = ReviewItem.objects.filter(state=ReviewItem.State.OPEN, due_at__lt=now)
            for item in overdue.order_by("due_at", "id"):
                self.stdout.write(
                    f"review {item.pk} ({item.subject_label}) due {item.due_at:%Y-%m-%d %H:%M}: "
                    f"would become {item.fallback_action or 'allow'}"
                )
            self.stdout.write(f"{overdue.count()} overdue review item(s); nothing changed")
            return
        done = services.reviews_resolve_overdue(now=now)
        for item in ReviewItem.objects.filter(pk__in=done).order_by("id"):
            outcome = item.final_action or item.state
            self.stdout.write(f"review {item.pk} ({item.subject_label}): {outcome}")
        self.stdout.write(self.style.SUCCESS(f"{len(done)} overdue review item(s) resolved"))
