"""Print a release as an ERN 4.3.1 NewReleaseMessage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from interchange import ern_writer, selectors
from registry.models import Release


class Command(BaseCommand):
    help = "Write a release as an ERN 4.3.1 NewReleaseMessage (stdout, or --output FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("release_id", type=int, metavar="RELEASE_ID")
        parser.add_argument("--output", type=Path, help="write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        release = (
            Release.objects.select_related("organization").filter(pk=options["release_id"]).first()
        )
        if release is None:
            raise CommandError(f"release {options['release_id']} not found")
        try:
            body = ern_writer.write(selectors.release_message(release))
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        if options["output"] is not None:
            options["output"].write_bytes(body)
            self.stderr.write(f"wrote {len(body)} bytes to {options['output']}")
        else:
            self.stdout.write(body.decode(), ending="")
