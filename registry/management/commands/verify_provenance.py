"""Recompute the provenance hash chain; exit 0 when intact, else name the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registry import provenance
from registry.models import ProvenanceEvent


class Command(BaseCommand):
    help = "Verify the provenance log's hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = provenance.first_break()
        if broken is not None:
            raise CommandError(
                f"provenance chain broken at event {broken.event_id}: {broken.reason}"
            )
        count = ProvenanceEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"provenance chain intact: {count} events"))
