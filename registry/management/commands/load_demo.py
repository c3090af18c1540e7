"""Load a small demo catalogue (organisations, parties, works, recordings with generated audio, a release)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token

from fingerprinting import synth
from registry import identifiers, services
from registry.models import Organization, Recording, User
from registry.provenance import Actor

DEMO_PASSWORD = "stemma-demo"  # noqa: S105 -- the local demo only; printed for the person running it

ORGS = [
    ("Stemma Operations", "operator", "operator"),
    ("Aurora Records", "label", "label"),
    ("Riverside Distribution", "distributor", "distributor"),
    ("Sonic Forge AI", "ai_provider", "aiprovider"),
]


def _iswc(n: int) -> str:
    digits = f"{n:09d}"
    return f"T{digits}{identifiers.iswc_check_digit(digits)}"


def _ipi(n: int) -> str:
    digits = f"{n:09d}"
    return f"{digits}{identifiers.ipi_check_digits(digits)}"


def _upc(n: int) -> str:
    data = f"{n:011d}"
    return f"{data}{identifiers.upc_check_digit(data)}"


class Command(BaseCommand):
    help = "Load the demo catalogue (idempotent) and print the demo logins and tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seconds", type=float, default=30.0, help="length of each demo recording"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Organization.objects.filter(name="Aurora Records").exists():
            self._load(options["seconds"])
        self._print_logins()

    def _load(self, seconds: float) -> None:
        actors: dict[str, Actor] = {}
        for name, kind, username in ORGS:
            _, user, _ = services.organization_create(
                name=name,
                kind=kind,
                username=username,
                password=DEMO_PASSWORD,
                actor=Actor.system("load_demo"),
            )
            actors[kind] = Actor.for_user(user)
        operator = User.objects.get(username="operator")
        operator.is_staff = operator.is_superuser = True
        operator.save(update_fields=["is_staff", "is_superuser"])

        label, ai = actors["label"], actors["ai_provider"]
        mira = services.party_create(
            actor=label,
            data={
                "name": "Mira Okafor",
                "kind": "person",
                "ipi": _ipi(52210041),
                "isni": "000000012281955X",
            },
        )
        jonas = services.party_create(
            actor=label, data={"name": "Jonas Berg", "kind": "person", "ipi": _ipi(71234567)}
        )
        assistant = services.party_create(
            actor=label, data={"name": "Forge-2 (via Sonic Forge AI)", "kind": "ai_system"}
        )
        harbour = services.work_create(
            actor=label,
            data={
                "title": "Harbour Lights",
                "iswc": _iswc(34524680),
                "writers": [
                    {"party": mira.pk, "role": "composer_lyricist", "share_pct": "60"},
                    {"party": jonas.pk, "role": "composer", "share_pct": "40"},
                ],
            },
        )
        tides = services.work_create(
            actor=label,
            data={
                "title": "Tides",
                "iswc": _iswc(34524681),
                "writers": [{"party": mira.pk, "role": "composer", "share_pct": "100"}],
            },
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            tracks = []
            for i, (title, work, fmt, disclosure) in enumerate(
                [
                    ("Harbour Lights", harbour, "mp3", "none"),
                    ("Tides", tides, "flac", "none"),
                    ("Night Ferry", None, "mp3", "partly"),
                ]
            ):
                path = folder / f"demo-{i + 1}.{fmt}"
                synth.write(path, synth.music(seed=100 + i, duration_s=seconds), 44100, fmt)
                contributions: list[dict[str, Any]] = [
                    {"party": mira.pk, "role": "performer", "element": "vocals"},
                    {"party": jonas.pk, "role": "producer", "element": "production"},
                ]
                if disclosure == "partly":
                    contributions.append(
                        {
                            "party": assistant.pk,
                            "role": "instrumentalist",
                            "element": "instrumentation",
                            "involvement": "ai_generated",
                        }
                    )
                data = {
                    "title": title,
                    "isrc": f"GBAUR26{i + 1:05d}",
                    "work": work.pk if work else None,
                    "display_artist": "Mira Okafor",
                    "ai_disclosure": disclosure,
                    "contributions": contributions,
                    "rights": [
                        {"share_pct": "100", "territories": ["WORLD"], "usage_types": []},
                    ],
                }
                with path.open("rb") as handle:
                    recording = services.recording_register(
                        actor=label, data=data, audio=File(handle, name=path.name)
                    )
                tracks.append(recording.pk)
            if settings.STEMMA_C2PA_SIGNER_CERT:
                for pk in tracks:
                    services.recording_issue_credential(
                        actor=label, recording=Recording.objects.get(pk=pk)
                    )
            services.release_register(
                actor=label,
                data={
                    "title": "Harbour Lights",
                    "upc": _upc(1234567890),
                    "release_type": "ep",
                    "display_artist": "Mira Okafor",
                    "tracks": tracks,
                },
            )

            forge = services.party_create(actor=ai, data={"name": "Forge-2", "kind": "ai_system"})
            path = folder / "forge-output.mp3"
            synth.write(path, synth.music(seed=900, duration_s=seconds), 44100, "mp3")
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            with path.open("rb") as handle:
                services.recording_register(
                    actor=ai,
                    data={
                        "title": "Neon Drift (generation 7f3a)",
                        "display_artist": "Sonic Forge AI",
                        "ai_disclosure": "all",
                        "contributions": [
                            {
                                "party": forge.pk,
                                "role": "producer",
                                "element": element,
                                "involvement": "ai_generated",
                            }
                            for element in ("composition", "instrumentation", "production")
                        ],
                        "generations": [
                            {
                                "ai_system": forge.pk,
                                "provider": "Sonic Forge AI",
                                "model_name": "forge",
                                "model_version": "2.1",
                                "prompt": "nocturnal synthwave, 96 bpm, warm pads",
                                "negative_prompt": "vocals",
                                "seed": 7331,
                                "parameters": {"guidance": 3.5, "steps": 50, "sampler": "dpmpp-2m"},
                                "provider_job_id": "job-7f3a",
                                "terms": "Sonic Forge commercial licence v3",
                                "training_data": "licensed catalogue; no scraped audio",
                                "output_sha256": sha256,
                            }
                        ],
                        "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
                    },
                    audio=File(handle, name=path.name),
                )

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Stemma demo at http://127.0.0.1:8000"))
        self.stdout.write("  API docs   http://127.0.0.1:8000/api/docs/")
        self.stdout.write(
            f"  Admin      http://127.0.0.1:8000/admin/  (operator / {DEMO_PASSWORD})"
        )
        self.stdout.write(f"  Password for every demo user: {DEMO_PASSWORD}")
        for name, kind, username in ORGS:
            token = (
                Token.objects.filter(user__username=username).values_list("key", flat=True).first()
            )
            self.stdout.write(f"  {kind:<12} {name:<24} user {username:<12} token {token}")
