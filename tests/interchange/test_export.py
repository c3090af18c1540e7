"""ERN export: a release as a NewReleaseMessage that imports back unchanged, for its owner only."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from interchange import ern_reader
from registry.models import Release

from ..registry.factories import (
    DPID_2,
    EAN_13,
    IPI,
    ISNI,
    ISWC,
    create_party,
    create_work,
    expect,
    register_release,
)
from . import ern_builder as b
from .conftest import only_release, release_state, send

pytestmark = pytest.mark.django_db


def export(client, release_id: int) -> bytes:
    response = client.get(f"/api/v1/releases/{release_id}/ern/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return bytes(response.content)


def rich_release(label, other_label) -> dict:
    """A compilation with human, AI-assisted and AI-generated contributions and split rights."""
    mara = create_party(label, name="Mara Vale", isni=ISNI, ipi=IPI)
    bot = create_party(label, name="Songsmith v2", kind="ai_system")
    jon = create_party(label, name="Jon Reyes", dpid=DPID_2)
    work = create_work(label, title="Dawn (composition)", iswc=ISWC)
    return register_release(
        label,
        title="Machines & Friends",
        upc=EAN_13,
        release_type="compilation",
        display_artist="Various Artists",
        release_date="2026-04-10",
        tracks=[
            {
                "title": "Dawn",
                "isrc": "GBLNR2600101",
                "work": work["id"],
                "display_artist": "Mara Vale",
                "ai_disclosure": "partly",
                "contributions": [
                    {"party": mara["id"], "role": "vocalist", "element": "vocals"},
                    {
                        "party": bot["id"],
                        "role": "composer",
                        "element": "composition",
                        "involvement": "ai_generated",
                    },
                    {
                        "party": bot["id"],
                        "role": "instrumentalist",
                        "element": "instrumentation",
                        "involvement": "ai_generated",
                    },
                    {
                        "party": jon["id"],
                        "role": "producer",
                        "element": "post_production",
                        "involvement": "ai_assisted",
                    },
                ],
                "rights": [
                    {
                        "share_pct": "60",
                        "territories": ["WORLD"],
                        "exclude_territories": ["CU", "KP"],
                        "usage_types": ["stream", "permanent_download", "sync"],
                        "start": "2026-01-01",
                        "end": "2030-12-31",
                    },
                    {
                        "owner": other_label.organization.pk,
                        "share_pct": "40",
                        "territories": ["FR", "DE"],
                    },
                ],
            },
            {
                "title": "Dusk",
                "isrc": "GBLNR2600102",
                "display_artist": "Songsmith v2 feat. Mara Vale",
                "ai_disclosure": "all",
                "contributions": [
                    {
                        "party": bot["id"],
                        "role": "performer",
                        "element": "vocals",
                        "involvement": "ai_generated",
                    },
                    {"party": mara["id"], "role": "featured_artist", "element": "vocals"},
                ],
                "rights": [{"share_pct": "100"}],
            },
        ],
    )


def test_export_carries_ai_disclosures_and_rights_and_imports_back_unchanged(
    label, other_label, make_org
):
    release = rich_release(label, other_label)
    body = export(label, release["id"])
    parsed = ern_reader.read(body)
    assert (parsed.problems, parsed.warnings) == ([], [])
    assert parsed.message is not None
    assert parsed.message.version == "4.3.1"
    dawn = parsed.message.recordings[0]
    assert (dawn.ai_disclosure, [c.involvement for c in dawn.contributions]) == (
        "partly",
        ["human", "ai_generated", "ai_generated", "ai_assisted"],
    )
    fresh = make_org("label", "Fresh Imports")

    imported = send(fresh, body, 201)

    original = Release.objects.get(pk=release["id"])
    copy = only_release(fresh.organization)
    assert imported["release"]["id"] == copy.pk
    assert release_state(copy) == release_state(original)
    assert release_state(copy)["tracks"][0]["rights"][0][2:4] == (("WORLD",), ("CU", "KP"))


def test_an_imported_album_with_deals_round_trips(label, make_org):
    album = b.album(
        12,
        deals=[
            b.Deal(),
            b.Deal(excluded=("CU",), use_types=("PermanentDownload",), models=("PayAsYouGoModel",)),
        ],
    )
    album.parties += [b.Party("PADMIN", "Collect-It Ltd"), b.Party("PNOBODY", "Unknown Rights Co")]
    album.tracks[0].controllers += [
        b.Controller("PADMIN", "100", control_types=("RoyaltyAdministrator",)),
        b.Controller(
            "PNOBODY", "10", delegations=(b.Delegation(("Stream",), ("FR",), "2027-01-01"),)
        ),
    ]
    send(label, album.xml(), 201)
    original = only_release(label.organization)
    fresh = make_org("label", "Fresh Imports")

    send(fresh, export(label, original.pk), 201)

    copy = only_release(fresh.organization)
    assert release_state(copy) == release_state(original)
    assert len(release_state(copy)["tracks"]) == 12
    assert len(release_state(copy)["deals"]) == 2
    assert release_state(copy)["tracks"][0]["other_controllers"] == [
        ("Collect-It Ltd", ["RoyaltyAdministrator"], Decimal("100.000"), []),
        (
            "Unknown Rights Co",
            ["RightsController"],
            Decimal("10.000"),
            [
                {
                    "usage_types": ["stream"],
                    "territories": ["FR"],
                    "exclude_territories": [],
                    "start": "2027-01-01",
                    "end": None,
                }
            ],
        ),
    ]


def test_exports_are_deterministic_and_importing_one_twice_changes_nothing(label, make_org):
    send(label, b.single().xml(), 201)
    release = only_release(label.organization)
    fresh = make_org("label", "Fresh Imports")

    first, second = export(label, release.pk), export(label, release.pk)
    created = send(fresh, first, 201)
    again = send(fresh, second, 200)

    assert first == second
    assert again == {**created, "status": "unchanged"}


def test_a_changed_release_exports_as_a_newer_message_that_updates_the_copy(label, make_org):
    send(label, b.single().xml(), 201)
    release = only_release(label.organization)
    fresh = make_org("label", "Fresh Imports")
    send(fresh, export(label, release.pk), 201)
    response = label.patch(
        f"/api/v1/releases/{release.pk}/", {"title": "First Light (2026)"}, format="json"
    )
    expect(response, 200)

    updated = send(fresh, export(label, release.pk), 200)

    assert updated["status"] == "updated"
    assert only_release(fresh.organization).title == "First Light (2026)"


def test_other_organisations_releases_are_not_found(label, other_label, operator):
    send(label, b.single().xml(), 201)
    release = only_release(label.organization)

    response = other_label.get(f"/api/v1/releases/{release.pk}/ern/", HTTP_ACCEPT="application/xml")
    missing = label.get("/api/v1/releases/999999/ern/")

    assert response.status_code == 404
    assert response.json() == {
        "code": "RELEASE_NOT_FOUND",
        "message": f"release {release.pk} not found",
        "detail": {},
    }
    assert missing.status_code == 404
    assert export(operator, release.pk) == export(label, release.pk)


def test_the_export_command_prints_the_same_message(label):
    send(label, b.single().xml(), 201)
    release = only_release(label.organization)
    out = io.StringIO()

    call_command("export_ern", str(release.pk), stdout=out)

    assert out.getvalue().encode() == export(label, release.pk)
