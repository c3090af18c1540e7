"""Create an organisation and its first user, and print the user's API token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from registry import services
from registry.models import Organization
from registry.provenance import Actor


class Command(BaseCommand):
    help = "Create an organisation with its first user; prints the user's API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=Organization.Kind.values)
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            _, _, token = services.organization_create(
                name=options["name"],
                kind=options["kind"],
                username=options["username"],
                password=options["password"],
                email=options["email"],
                actor=Actor.system("create_organization"),
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(token)
