"""Fill the review queue with demo items (real audio through the real services), for `make run`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from review import demo


class Command(BaseCommand):
    help = (
        "Create a demo review queue: a check the policy sent to review, a disputed check and "
        "an ownership conflict; and a staff reviewer (user 'reviewer'). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=40.0, help="length of each recording")

    def handle(self, *args: Any, **options: Any) -> None:
        built = demo.build(seconds=options["seconds"])
        for item in (built.check_item, built.dispute_item, built.conflict_item):
            if item is not None:
                self.stdout.write(f"review {item.pk}: {item.subject_label} ({item.reason})")
        self.stdout.write(
            self.style.SUCCESS(
                f"reviewer login: {demo.REVIEWER} / {demo.PASSWORD} at /admin/review/reviewitem/"
            )
        )
