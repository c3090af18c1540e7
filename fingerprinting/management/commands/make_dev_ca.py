"""Make a throwaway C2PA certificate authority and signing certificate for development."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fingerprinting import devca


class Command(BaseCommand):
    help = (
        "Write ca.pem (trust anchor), signer.pem (signing certificate + CA) and signer.key "
        "to DIR, keeping files that are already there and still valid, and print the "
        "settings that use them. For development and demos only: nobody else trusts this CA."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="make a new CA even if DIR holds a valid one"
        )
        parser.add_argument(
            "--algorithm", choices=("es256", "ps256"), default="es256", help="default: es256"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files = devca.write_dev_ca(
            options["directory"], force=options["force"], algorithm=options["algorithm"]
        )
        where = files.ca_cert.parent.resolve()
        if files.created:
            self.stderr.write(self.style.SUCCESS(f"made a new development CA in {where}"))
        else:
            self.stderr.write(
                f"kept the development CA already in {where} (use --force to replace)"
            )
        # Settings on stdout alone, so that the output can be appended to an env file.
        self.stdout.write(f"STEMMA_C2PA_SIGNER_CERT={files.signer_chain.resolve()}")
        self.stdout.write(f"STEMMA_C2PA_SIGNER_KEY={files.signer_key.resolve()}")
        self.stdout.write(f"STEMMA_C2PA_TRUST_ANCHORS={files.ca_cert.resolve()}")
