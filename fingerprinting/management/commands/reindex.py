"""Rebuild the matching index from every active, fingerprinted recording."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from fingerprinting import index


class Command(BaseCommand):
    help = "Empty the fingerprint index and add every active, fingerprinted recording again."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        recordings, terms = index.rebuild()
        elapsed = time.perf_counter() - started
        size = index.size_bytes()
        size_text = f", {size / 1e6:.1f} MB on disk" if size is not None else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"indexed {recordings} recordings, {terms} terms in {elapsed:.1f} s{size_text}"
            )
        )
