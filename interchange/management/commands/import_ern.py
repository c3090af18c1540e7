"""Import ERN NewReleaseMessages from files for an organisation, one transaction per message."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from interchange import services
from registry.models import Organization
from registry.provenance import Actor


class Command(BaseCommand):
    help = "Import ERN 4.3 / 4.3.1 NewReleaseMessage files into an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--organization", required=True, help="organisation name or id")
        parser.add_argument(
            "--audio-dir", type=Path, help="where the audio files the messages name are"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON report a file")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.organization(options["organization"])
        audio_dir: Path | None = options["audio_dir"]
        if audio_dir is not None and not audio_dir.is_dir():
            raise CommandError(f"{audio_dir} is not a directory")
        actor = Actor(organization=org, label="import_ern")
        failed = 0
        for path in options["files"]:
            try:
                data = path.read_bytes()
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}") from None
            with ExitStack() as stack:
                audio = services.audio_directory(audio_dir, stack) if audio_dir else None
                try:
                    outcome = services.ern_import(actor=actor, data=data, audio=audio)
                except DomainError as error:
                    failed += 1
                    self.report_error(path, error, options["json"])
                    continue
            self.report(path, outcome, options["json"])
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} messages were not imported")

    def organization(self, name_or_id: str) -> Organization:
        org = Organization.objects.filter(name=name_or_id).first()
        if org is None and name_or_id.isdigit():
            org = Organization.objects.filter(pk=int(name_or_id)).first()
        if org is None:
            raise CommandError(f"no organisation is named or numbered {name_or_id!r}")
        return org

    def report(self, path: Path, outcome: services.ImportOutcome, as_json: bool) -> None:
        body = outcome.as_dict()
        if as_json:
            self.stdout.write(json.dumps({"file": str(path), **body}, sort_keys=True))
            return
        release = body["release"]
        self.stdout.write(
            f"{path}: {outcome.status}: release {release['id']} {release['title']!r}, "
            f"{len(body['recordings'])} tracks, {body['deals']} deals"
        )
        for warning in body["warnings"]:
            self.stdout.write(
                f"  warning {warning['path']}: {warning['code']}: {warning['message']}"
            )

    def report_error(self, path: Path, error: DomainError, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"file": str(path), **error.as_dict()}, sort_keys=True))
            return
        self.stderr.write(f"{path}: {error.code}: {error.message}")
        for problem in error.detail.get("problems", []):
            self.stderr.write(f"  {problem['path']}: {problem['code']}: {problem['message']}")
