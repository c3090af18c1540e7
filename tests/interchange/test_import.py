"""ERN import through HTTP: what gets registered, all or nothing, idempotent, updatable, isolated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from interchange.models import Deal, ErnMessage, RecordingDetail, RightsController
from registry.models import Party, ProvenanceEvent, Recording, Release, RightsShare, Work

from . import ern_builder as b
from .conftest import IMPORT_URL, only_release, release_state, row_counts, send
from .ern_builder import Contributor, Controller, Delegation
from .ern_builder import Deal as DealSpec
from .ern_builder import Party as PartySpec
from .test_xmlsafe import BILLION_LAUGHS, EXTERNAL_ENTITY

pytestmark = pytest.mark.django_db

SR = "/NewReleaseMessage/ResourceList/SoundRecording"


def last_event_id() -> int:
    return ProvenanceEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def actions_since(event_id: int) -> list[tuple[str, str]]:
    return list(
        ProvenanceEvent.objects.filter(pk__gt=event_id)
        .order_by("id")
        .values_list("action", "object_type")
    )


def test_a_single_registers_parties_recording_work_release_rights_and_deals(label):
    start = last_event_id()

    body = send(label, b.single().xml(), 201)

    release = only_release(label.organization)
    recording = Recording.objects.get(organization=label.organization)
    assert body == {
        "id": ErnMessage.objects.get().pk,
        "status": "created",
        "message_id": "MSG-0001",
        "sender": {"id": b.SENDER_DPID, "name": b.LABEL_NAME},
        "ern_version": "4.3",
        "release": {"id": release.pk, "title": "First Light", "upc": b.upc(4006381333)},
        "recordings": [
            {
                "id": recording.pk,
                "isrc": "GBLNR2600001",
                "title": "Lantern",
                "position": 1,
                "audio": "none",
            }
        ],
        "parties": 3,
        "rights_shares": 1,
        "deals": 1,
        "warnings": [],
    }
    assert release_state(release) == {
        "title": "First Light",
        "upc": b.upc(4006381333),
        "release_type": "single",
        "display_artist": "Mara Vale",
        "release_date": dt.date(2026, 3, 1),
        "tracks": [
            {
                "position": 1,
                "title": "Lantern",
                "isrc": "GBLNR2600001",
                "display_artist": "Mara Vale",
                "ai_disclosure": "none",
                "iswc": "T0345246801",
                "declared_duration_s": 210.0,
                "contributions": [
                    (
                        "Jon Reyes",
                        "person",
                        b.ipi(52211),
                        None,
                        None,
                        "composer",
                        "composition",
                        "human",
                    ),
                    (
                        "Jon Reyes",
                        "person",
                        b.ipi(52211),
                        None,
                        None,
                        "lyricist",
                        "lyrics",
                        "human",
                    ),
                    (
                        "Mara Vale",
                        "person",
                        b.ipi(52210),
                        b.isni(1001),
                        None,
                        "vocalist",
                        "vocals",
                        "human",
                    ),
                ],
                "rights": [(b.LABEL_NAME, Decimal("1E+2"), ("WORLD",), (), None, None, ())],
                "other_controllers": [],
                "audio_sha256": "",
            }
        ],
        "deals": [
            (["WORLD"], [], ["OnDemandStream"], ["SubscriptionModel"], dt.date(2026, 3, 1), None)
        ],
    }
    assert sorted(
        Party.objects.filter(organization=label.organization).values_list("name", "kind", "dpid")
    ) == [
        ("Jon Reyes", "person", None),
        ("Mara Vale", "person", None),
        (b.LABEL_NAME, "organization", b.SENDER_DPID),
    ]
    share = RightsShare.objects.get()
    assert (share.owner, share.registered_by) == (label.organization, label.organization)
    assert Work.objects.get().title == "Lantern"
    assert actions_since(start) == [
        ("party.create", "registry.party"),
        ("party.create", "registry.party"),
        ("party.create", "registry.party"),
        ("work.create", "registry.work"),
        ("recording.register", "registry.recording"),
        ("ern.recording_detail.update", "registry.recording"),
        ("ern.rights_controllers.replace", "registry.recording"),
        ("release.register", "registry.release"),
        ("ern.deals.replace", "registry.release"),
        ("ern.import", "interchange.ernmessage"),
    ]


def test_a_twelve_track_album_keeps_its_track_order(label):
    order = [f"A{n}" for n in (3, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12)]

    body = send(label, b.album(12, order=order).xml(), 201)

    release = only_release(label.organization)
    titles = list(release.tracks.order_by("position").values_list("position", "recording__title"))
    assert titles == [(i, f"Song {int(ref[1:]):02d}") for i, ref in enumerate(order, start=1)]
    assert [r["position"] for r in body["recordings"]] == list(range(1, 13))
    assert [r["isrc"] for r in body["recordings"]] == [b.isrc(100 + int(r[1:])) for r in order]
    assert release.release_type == "album"
    assert Recording.objects.filter(organization=label.organization).count() == 12
    assert list(
        RecordingDetail.objects.order_by("recording__isrc").values_list(
            "declared_duration_s", flat=True
        )[:3]
    ) == [181.0, 242.0, 123.0]
    assert Party.objects.filter(organization=label.organization).count() == 2


def test_partly_ai_contributors_set_disclosure_and_involvement(label):
    message = b.single()
    message.parties.append(PartySpec("PBOT", "Songsmith v2", stemma_ids=("kind:ai_system",)))
    message.tracks[0].contains_ai = "Partly"
    message.tracks[0].contributors = [
        Contributor("PMARA", ("Vocalist",), ai="None"),
        Contributor("PBOT", ("Composer", "Musician"), ai="All"),
        Contributor("PJON", ("MixingEngineer",), ai="Partly"),
    ]

    send(label, message.xml(), 201)

    recording = Recording.objects.get(organization=label.organization)
    assert recording.ai_disclosure == "partly"
    assert sorted(
        recording.contributions.values_list(
            "party__name", "party__kind", "role", "element", "involvement"
        )
    ) == [
        ("Jon Reyes", "person", "mixing_engineer", "post_production", "ai_assisted"),
        ("Mara Vale", "person", "vocalist", "vocals", "human"),
        ("Songsmith v2", "ai_system", "composer", "composition", "ai_generated"),
        ("Songsmith v2", "ai_system", "instrumentalist", "instrumentation", "ai_generated"),
    ]


def test_bad_check_digits_are_reported_per_element_and_nothing_is_imported(label):
    message = b.single(
        parties=[
            b.label_party(),
            PartySpec("PMARA", "Mara Vale", isni="0000000000010016"),
            PartySpec("PJON", "Jon Reyes", ipi="00005221051", dpid="PADPIDA2014122301R"),
        ],
        icpn="0040063813338",
    )
    before = row_counts()

    body = send(label, message.xml(), 400)

    assert body["code"] == "ERN_INVALID"
    assert body["message"] == "the message has 4 problems; nothing was imported"
    assert [(p["path"], p["code"]) for p in body["detail"]["problems"]] == [
        ("/NewReleaseMessage/PartyList/Party[2]/PartyId/ISNI", "ISNI_INVALID"),
        ("/NewReleaseMessage/PartyList/Party[3]/PartyId/DPID", "DPID_INVALID"),
        ("/NewReleaseMessage/PartyList/Party[3]/PartyId/IpiNameNumber", "IPI_INVALID"),
        ("/NewReleaseMessage/ReleaseList/Release/ReleaseId/ICPN", "UPC_INVALID"),
    ]
    assert all(p["message"] for p in body["detail"]["problems"])
    assert row_counts() == before


def test_a_failure_in_the_registry_rolls_the_whole_message_back(label):
    message = b.single()
    message.tracks[0].controllers = [Controller("PLABEL", "70"), Controller("PLABEL", "60")]
    before = row_counts()

    body = send(label, message.xml(), 400)

    assert body["code"] == "ERN_INVALID"
    assert [(p["path"], p["code"]) for p in body["detail"]["problems"]] == [
        (SR, "SHARES_EXCEED_100")
    ]
    assert row_counts() == before


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused_with_a_stable_code(label, document):
    before = row_counts()

    body = send(label, document, 400)

    assert body == {
        "code": "XML_FORBIDDEN",
        "message": "document type declarations (DTDs) are not accepted in a message",
        "detail": {"reason": "dtd"},
    }
    assert row_counts() == before


def test_the_same_message_twice_changes_nothing(label):
    first = send(label, b.single().xml(), 201)
    before = row_counts()

    again = send(label, b.single().xml(), 200)

    assert again == {**first, "status": "unchanged"}
    assert row_counts() == before


def test_a_message_id_reused_for_different_content_is_a_conflict(label):
    send(label, b.single().xml(), 201)
    changed = b.single()
    changed.tracks[0].title = "Lantern (Radio Edit)"

    body = send(label, changed.xml(), 409)

    assert body["code"] == "MESSAGE_ID_REUSED"
    assert Recording.objects.get(organization=label.organization).title == "Lantern"


def test_a_newer_message_for_the_same_release_updates_it(label):
    send(label, b.album(4).xml(), 201)
    release = only_release(label.organization)
    original_ids = list(release.tracks.order_by("position").values_list("recording_id", flat=True))
    update = b.album(
        4,
        message_id="MSG-0002",
        created="2026-03-05T09:00:00Z",
        order=["A2", "A1", "A4"],
        release_title="First Light (Deluxe)",
        deals=[
            DealSpec(
                excluded=("CU", "KP"), use_types=("PermanentDownload",), models=("PayAsYouGoModel",)
            )
        ],
    )
    update.tracks[1].title = "Song 02 (Remastered)"
    events_before = last_event_id()

    body = send(label, update.xml(), 200)

    assert body["status"] == "updated"
    release.refresh_from_db()
    assert body["release"]["id"] == release.pk
    assert release.title == "First Light (Deluxe)"
    assert list(
        release.tracks.order_by("position").values_list("recording_id", "recording__title")
    ) == [
        (original_ids[1], "Song 02 (Remastered)"),
        (original_ids[0], "Song 01"),
        (original_ids[3], "Song 04"),
    ]
    assert list(
        Deal.objects.filter(release=release).values_list(
            "territories", "exclude_territories", "use_types", "commercial_model_types"
        )
    ) == [(["WORLD"], ["CU", "KP"], ["PermanentDownload"], ["PayAsYouGoModel"])]
    new_events = list(
        ProvenanceEvent.objects.filter(pk__gt=events_before)
        .order_by("id")
        .values_list("action", "object_id")
    )
    assert new_events == [
        ("recording.update", str(original_ids[1])),
        ("release.update", str(release.pk)),
        ("ern.deals.replace", str(release.pk)),
        ("ern.import", str(ErnMessage.objects.get(message_id="MSG-0002").pk)),
    ]
    assert ErnMessage.objects.get(message_id="MSG-0002").action == "update"


def test_an_older_message_than_the_one_applied_is_refused(label):
    send(label, b.album(2, created="2026-03-05T09:00:00Z").xml(), 201)
    stale = b.album(2, message_id="MSG-OLD", created="2026-03-01T09:00:00Z", release_title="Old")
    before = row_counts()

    body = send(label, stale.xml(), 409)

    assert body["code"] == "MESSAGE_STALE"
    assert body["detail"]["applied_message_id"] == "MSG-0001"
    assert row_counts() == before
    assert only_release(label.organization).title == "First Light"


def test_an_update_message_for_an_unknown_release_is_refused(label):
    data = (
        b.single()
        .xml()
        .replace(b"<PartyList>", b"<UpdateIndicator>UpdateMessage</UpdateIndicator><PartyList>")
    )

    body = send(label, data, 400)

    assert [(p["path"], p["code"]) for p in body["detail"]["problems"]] == [
        ("/NewReleaseMessage/ReleaseList/Release", "RELEASE_NOT_FOUND")
    ]


def test_a_test_message_is_checked_and_nothing_is_kept(label):
    before = row_counts()

    body = send(label, b.single(control_type="TestMessage").xml(), 200)

    assert (body["status"], body["id"], body["warnings"]) == ("test", None, [])
    assert body["release"] == {"id": None, "title": "First Light", "upc": b.upc(4006381333)}
    assert [r["id"] for r in body["recordings"]] == [None]
    assert row_counts() == before


def test_rights_controllers_become_shares_only_where_they_express_ownership(label, other_label):
    message = b.single()
    message.parties += [
        PartySpec("PSCM", other_label.organization.name),
        PartySpec("PADMIN", "Collect-It Ltd"),
        PartySpec("PNOBODY", "Unknown Rights Co"),
    ]
    message.tracks[0].controllers = [
        Controller(
            "PLABEL",
            "60",
            delegations=(
                Delegation(
                    ("OnDemandStream", "PermanentDownload"),
                    ("US", "CA"),
                    "2026-01-01",
                    "2030-12-31",
                ),
            ),
        ),
        Controller("PSCM", "40"),
        Controller("PADMIN", "100", control_types=("RoyaltyAdministrator",)),
        Controller("PNOBODY", "10", delegations=(Delegation(("Stream",), ("FR",)),)),
    ]

    body = send(label, message.xml(), 201)

    assert [(w["path"], w["code"]) for w in body["warnings"]] == [
        (f"{SR}/ResourceRightsController[4]", "RIGHTS_OWNER_UNKNOWN")
    ]
    recording = Recording.objects.get(organization=label.organization)
    assert sorted(
        (s.owner.name, str(s.share_pct), s.territories, s.start, s.end, s.usage_types)
        for s in recording.rights.select_related("owner")
    ) == [
        (
            b.LABEL_NAME,
            "60.000",
            ["CA", "US"],
            dt.date(2026, 1, 1),
            dt.date(2030, 12, 31),
            ["on_demand_stream", "permanent_download"],
        ),
        (other_label.organization.name, "40.000", ["WORLD"], None, None, []),
    ]
    assert list(
        RightsController.objects.filter(recording=recording)
        .order_by("position")
        .values_list("party_name", "control_types", "became_rights_share")
    ) == [
        (b.LABEL_NAME, ["RightsController"], True),
        (other_label.organization.name, ["RightsController"], True),
        ("Collect-It Ltd", ["RoyaltyAdministrator"], False),
        ("Unknown Rights Co", ["RightsController"], False),
    ]
    assert body["rights_shares"] == 2


def test_each_organisation_imports_into_its_own_registry(label, other_label):
    send(label, b.single().xml(), 201)

    body = send(other_label, b.single().xml(), 201)

    assert body["status"] == "created"
    mine, theirs = only_release(label.organization), only_release(other_label.organization)
    assert mine.pk != theirs.pk
    assert Recording.objects.filter(isrc="GBLNR2600001").count() == 2
    assert Party.objects.filter(organization=other_label.organization).count() == 3
    assert ErnMessage.objects.filter(message_id="MSG-0001").count() == 2


def test_only_xml_or_multipart_is_accepted(label):
    response = label.post(IMPORT_URL, {"message": "x"}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA"


def test_a_message_over_the_limit_is_refused_as_too_large(label, settings):
    settings.STEMMA_ERN_MAX_BYTES = 1000

    body = send(label, b.album(3).xml(), 413)

    assert body["code"] == "MESSAGE_TOO_LARGE"
    assert Release.objects.count() == 0


def test_text_xml_is_accepted_and_an_unauthenticated_caller_is_not(label, anonymous):
    send(label, b.single().xml(), 201, content_type="text/xml")

    response = anonymous.post(IMPORT_URL, b.single().xml(), content_type="application/xml")
    assert response.status_code == 401
