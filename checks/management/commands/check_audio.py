"""Check an audio file from the command line: the same verdict the API gives."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.utils.encoders import JSONEncoder

from checks import selectors, services
from checks.models import Check
from common.errors import DomainError
from registry.models import Organization, User
from registry.provenance import Actor


class Command(BaseCommand):
    help = "Check an audio file against the registry and print the verdict."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
        parser.add_argument("--organization", help="submit as this organisation (name or id)")
        parser.add_argument("--territory", action="append", dest="territories")
        parser.add_argument("--usage", action="append", dest="usage_types")
        parser.add_argument("--declared-ai", choices=["none", "partly", "all"])
        parser.add_argument(
            "--wait-s",
            type=float,
            default=360.0,
            help="how long to wait when a worker is doing the check (default 360 s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        org = self._organization(options.get("organization"))
        user = User.objects.filter(organization=org).order_by("pk").first()
        actor = Actor(user=user, organization=org, label="check_audio")
        metadata: dict[str, Any] = {
            "title": path.stem,
            "territories": options.get("territories") or ["WORLD"],
            "usage_types": options.get("usage_types") or ["stream"],
        }
        if options.get("declared_ai"):
            metadata["declared_ai"] = {"disclosure": options["declared_ai"], "elements": []}
        try:
            with path.open("rb") as handle:
                check, _ = services.check_submit(
                    actor=actor, audio=File(handle, name=path.name), metadata=metadata
                )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        services.check_process(check.pk)  # here and now, whether or not a worker also runs
        check = self._finished(check, timeout_s=options["wait_s"])
        verdict = selectors.verdict(check, viewer=org)
        if options["json"]:
            # The API's encoder: the same JSON as GET /api/v1/checks/{id}/ (ISO times, "Z").
            self.stdout.write(json.dumps(verdict, indent=2, cls=JSONEncoder))
        else:
            self.stdout.write(_plain(verdict))
        if check.status == check.Status.FAILED:
            raise CommandError(f"check failed: {check.error}")

    def _finished(self, check: Check, *, timeout_s: float) -> Check:
        """The check once done or failed: a worker may have claimed it before this command."""
        deadline = time.monotonic() + timeout_s
        while True:
            check.refresh_from_db()
            if check.status in (Check.Status.DONE, Check.Status.FAILED):
                return check
            if time.monotonic() > deadline:
                raise CommandError(
                    f"check {check.pk} is still {check.status} after {timeout_s:g} s"
                )
            time.sleep(0.2)

    def _organization(self, ref: str | None) -> Organization:
        qs = Organization.objects.all()
        if ref is None:
            org = qs.filter(kind=Organization.Kind.OPERATOR).order_by("pk").first()
            if org is None:
                raise CommandError("no operator organisation: pass --organization")
            return org
        org = qs.filter(pk=int(ref)).first() if ref.isdigit() else qs.filter(name=ref).first()
        if org is None:
            raise CommandError(f"no organisation {ref!r}")
        return org


def _plain(verdict: dict[str, Any]) -> str:
    lines = [f"check {verdict['id']}: {verdict['status']}"]
    if verdict["error"]:
        lines.append(f"  error: {verdict['error']} ({verdict['error_message']})")
    for m in verdict["matches"]:
        r = m["recording"]
        lines.append(
            f"  match: {r['title']!r} ({r['isrc_display'] or 'no ISRC'}, {r['owner']['name']}) "
            f"score {m['score']:.2f}: submission {m['query_start_s']:.1f}-{m['query_end_s']:.1f} s "
            f"= reference {m['reference_start_s']:.1f}-{m['reference_end_s']:.1f} s"
            + (f", speed x{m['speed_factor']:.3f}" if abs(m["speed_factor"] - 1) > 1e-6 else "")
        )
    if not verdict["matches"] and verdict["status"] == "done":
        lines.append("  no registered recording found")
    origin = verdict["ai_origin"]
    if origin:
        lines.append(f"  AI origin: {origin['assessment']} (confidence {origin['confidence']:.2f})")
        lines.extend(
            f"    - {e['source']}: {e['detail']} ({e['score']:.2f})" for e in origin["evidence"]
        )
    decision = verdict["decision"]
    if decision:
        lines.append(f"  decision: {decision['action']} ({decision['policy_version']})")
        lines.append(f"    {decision['explanation']}")
    return "\n".join(lines)
