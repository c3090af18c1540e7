"""Reading ERN messages: every problem named by its element's path, roles and AI mapped (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from interchange import ern_reader, ern_writer
from interchange.ern import ContributionDoc, DelegationDoc, MessageDoc, Problem

from . import ern_builder as b
from .ern_builder import Contributor, Controller, Deal, Delegation, Party

SR = "/NewReleaseMessage/ResourceList/SoundRecording"
PARTIES = "/NewReleaseMessage/PartyList/Party"
RELEASE = "/NewReleaseMessage/ReleaseList/Release"


def problems(message: b.Message) -> list[tuple[str, str]]:
    result = ern_reader.read(message.xml())
    return [(p.path, p.code) for p in result.problems]


def test_a_single_reads_into_message_data():
    result = ern_reader.read(b.single().xml())

    assert (result.problems, result.warnings) == ([], [])
    doc = result.message
    assert doc is not None
    assert (doc.version, doc.message_id, doc.sender_id, doc.sender_name, doc.created_at) == (
        "4.3",
        "MSG-0001",
        b.SENDER_DPID,
        b.LABEL_NAME,
        dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC),
    )
    assert [(p.reference, p.name, p.kind, p.isni, p.ipi, p.dpid) for p in doc.parties] == [
        ("PLABEL", b.LABEL_NAME, "organization", None, None, b.SENDER_DPID),
        ("PMARA", "Mara Vale", "person", b.isni(1001), b.ipi(52210), None),
        ("PJON", "Jon Reyes", "person", None, b.ipi(52211), None),
    ]
    (recording,) = doc.recordings
    assert (
        recording.isrc,
        recording.title,
        recording.display_artist,
        recording.iswc,
        recording.duration_s,
        recording.ai_disclosure,
    ) == ("GBLNR2600001", "Lantern", "Mara Vale", "T0345246801", 210.0, "none")
    assert [(c.party, c.role, c.element, c.involvement) for c in recording.contributions] == [
        ("PMARA", "vocalist", "vocals", "human"),
        ("PJON", "composer", "composition", "human"),
        ("PJON", "lyricist", "lyrics", "human"),
    ]
    (controller,) = recording.rights_controllers
    assert (controller.party, controller.share_pct, controller.delegations) == (
        "PLABEL",
        Decimal("100"),
        [],
    )
    assert doc.release is not None
    assert (doc.release.title, doc.release.upc, doc.release.release_type, doc.release.tracks) == (
        "First Light",
        b.upc(4006381333),
        "single",
        ["A1"],
    )
    assert [d.as_dict() for d in doc.deals] == [
        {
            "territories": ["WORLD"],
            "exclude_territories": [],
            "use_types": ["OnDemandStream"],
            "commercial_model_types": ["SubscriptionModel"],
            "start": "2026-03-01",
            "end": None,
        }
    ]


def test_bad_check_digits_are_each_reported_with_their_path():
    message = b.single(
        parties=[
            b.label_party(),
            Party("PMARA", "Mara Vale", isni="0000000000010016", ipi="00005221051"),
            Party("PJON", "Jon Reyes", dpid="PADPIDA2014122301R"),
        ],
        icpn="0040063813338",
    )
    message.tracks[0].isrc = "XXLNR2600001"
    message.tracks[0].iswc = "T0345246802"

    result = ern_reader.read(message.xml())

    assert [(p.path, p.code) for p in result.problems] == [
        (f"{PARTIES}[2]/PartyId/ISNI", "ISNI_INVALID"),
        (f"{PARTIES}[2]/PartyId/IpiNameNumber", "IPI_INVALID"),
        (f"{PARTIES}[3]/PartyId/DPID", "DPID_INVALID"),
        (f"{SR}/SoundRecordingEdition/ResourceId/ISRC", "ISRC_INVALID"),
        (f"{SR}/WorkId/ISWC", "ISWC_INVALID"),
        (f"{RELEASE}/ReleaseId/ICPN", "UPC_INVALID"),
    ]
    assert result.problems[2] == Problem(
        f"{PARTIES}[3]/PartyId/DPID",
        "DPID_INVALID",
        "DPID has the wrong check character: expected Q, got R.",
    )


def test_unknown_references_invalid_values_and_missing_elements_are_all_reported():
    message = b.single()
    track = message.tracks[0]
    track.contributors.append(Contributor("PGHOST", ("Vocalist",), ai="Some"))
    track.contains_ai = "Maybe"
    track.duration = "3:30"
    track.controllers = [Controller("PLABEL", "150")]
    track.title = ""
    message.order = ["A1", "A9"]
    message.release_date = "2026-13-01"
    message.deals = [Deal(territories=("UK",), use_types=("Streaming",), models=("Free",))]

    assert problems(message) == [
        (f"{SR}/DisplayTitleText", "REQUIRED"),
        (f"{SR}/Contributor[3]/AiContribution", "INVOLVEMENT_INVALID"),
        (f"{SR}/ResourceRightsController/RightSharePercentage", "SHARE_INVALID"),
        (f"{SR}/Duration", "DURATION_INVALID"),
        (f"{SR}/ContainsAI", "AI_DISCLOSURE_INVALID"),
        (f"{RELEASE}/ReleaseDate", "DATE_INVALID"),
        (
            f"{RELEASE}/ResourceGroup/ResourceGroupContentItem[2]/ReleaseResourceReference",
            "REFERENCE_UNKNOWN",
        ),
        (
            "/NewReleaseMessage/DealList/ReleaseDeal/Deal/DealTerms/TerritoryCode",
            "TERRITORY_INVALID",
        ),
        ("/NewReleaseMessage/DealList/ReleaseDeal/Deal/DealTerms/UseType", "USE_TYPE_INVALID"),
        (
            "/NewReleaseMessage/DealList/ReleaseDeal/Deal/DealTerms/CommercialModelType",
            "COMMERCIAL_MODEL_INVALID",
        ),
        (f"{SR}/Contributor[3]/ContributorPartyReference", "REFERENCE_UNKNOWN"),
    ]


def test_other_messages_and_versions_are_refused():
    purge = b'<ern:PurgeReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"/>'
    old = b.single(namespace="http://ddex.net/xml/ern/382").xml()

    assert [(p.path, p.code) for p in ern_reader.read(purge).problems] == [
        ("/PurgeReleaseMessage", "MESSAGE_TYPE_UNSUPPORTED")
    ]
    assert [(p.path, p.code) for p in ern_reader.read(old).problems] == [
        ("/NewReleaseMessage", "ERN_VERSION_UNSUPPORTED")
    ]
    assert ern_reader.read(b.single(namespace=b.NS431).xml()).message.version == "4.3.1"  # type: ignore[union-attr]


def test_contributor_roles_and_ai_contributions_map_to_registry_contributions():
    message = b.single()
    message.parties.append(Party("PBOT", "Songsmith v2", stemma_ids=("kind:ai_system",)))
    message.tracks[0].contributors = [
        Contributor("PMARA", ("Performer",), ai="None", featured=True),
        Contributor("PBOT", ("ComposerLyricist",), ai="All"),
        Contributor("PJON", ("StudioProducer", "MixingEngineer"), ai="Partly"),
        Contributor("PJON", ("Tambourinist",)),
    ]
    message.tracks[0].contains_ai = "Partly"

    result = ern_reader.read(message.xml())

    assert result.problems == []
    assert [(w.path, w.code) for w in result.warnings] == [
        (f"{SR}/Contributor[4]/Role", "ROLE_UNMAPPED"),
        (f"{SR}/Contributor[4]", "CONTRIBUTOR_IGNORED"),
    ]
    doc = result.message
    assert doc is not None
    assert doc.party("PBOT").kind == "ai_system"
    recording = doc.recordings[0]
    assert recording.ai_disclosure == "partly"
    assert [(c.party, c.role, c.element, c.involvement) for c in recording.contributions] == [
        ("PMARA", "featured_artist", "vocals", "human"),
        ("PBOT", "composer", "composition", "ai_generated"),
        ("PBOT", "lyricist", "lyrics", "ai_generated"),
        ("PJON", "producer", "production", "ai_assisted"),
        ("PJON", "mixing_engineer", "post_production", "ai_assisted"),
    ]


def test_rights_controllers_keep_their_delegated_usage_rights():
    message = b.single()
    message.tracks[0].controllers = [
        Controller(
            "PLABEL",
            "60",
            delegations=(
                Delegation(("OnDemandStream", "PermanentDownload"), ("US", "CA"), "2026-01-01"),
                Delegation(("Use",), ("Worldwide",), "", "2030-12-31"),
            ),
        ),
        Controller("PJON", "40", control_types=("RoyaltyAdministrator",)),
    ]

    result = ern_reader.read(message.xml())

    assert result.problems == []
    first, second = result.message.recordings[0].rights_controllers  # type: ignore[union-attr]
    assert first.delegations == [
        DelegationDoc(
            ["on_demand_stream", "permanent_download"], ["CA", "US"], [], dt.date(2026, 1, 1), None
        ),
        DelegationDoc([], ["WORLD"], [], None, dt.date(2030, 12, 31)),
    ]
    assert (first.expresses_ownership, second.expresses_ownership) == (True, False)


def test_tracks_follow_sequence_numbers_through_nested_groups():
    message = b.album(4)
    xml = message.xml().decode()
    start = xml.index("<ResourceGroup>")
    end = xml.index("</ResourceGroup>") + len("</ResourceGroup>")

    def item(sequence: int, ref: str) -> str:
        return (
            f"<ResourceGroupContentItem><SequenceNumber>{sequence}</SequenceNumber>"
            f"<ReleaseResourceReference>{ref}</ReleaseResourceReference>"
            "</ResourceGroupContentItem>"
        )

    nested = (
        "<ResourceGroup>"
        f"<ResourceGroup><SequenceNumber>2</SequenceNumber>{item(2, 'A1')}{item(1, 'A4')}</ResourceGroup>"
        f"<ResourceGroup><SequenceNumber>1</SequenceNumber>{item(1, 'A3')}{item(2, 'A2')}</ResourceGroup>"
        "</ResourceGroup>"
    )

    result = ern_reader.read((xml[:start] + nested + xml[end:]).encode())

    assert result.problems == []
    assert result.message.release.tracks == ["A3", "A2", "A4", "A1"]  # type: ignore[union-attr]


def _without_paths(doc: MessageDoc) -> MessageDoc:
    doc = dataclasses.replace(
        doc, version="", parties=[dataclasses.replace(p, path="") for p in doc.parties]
    )
    doc.recordings = [
        dataclasses.replace(
            r,
            path="",
            field_paths={},
            contributions=[dataclasses.replace(c, path="") for c in r.contributions],
            rights_controllers=[dataclasses.replace(rc, path="") for rc in r.rights_controllers],
        )
        for r in doc.recordings
    ]
    doc.release = dataclasses.replace(doc.release, path="")  # type: ignore[type-var]
    doc.deals = [dataclasses.replace(d, path="") for d in doc.deals]
    return doc


def test_what_the_writer_writes_the_reader_reads_back_unchanged():
    message = b.single()
    message.tracks[0].controllers = [
        Controller("PLABEL", "60", delegations=(Delegation(("Stream",), ("FR", "DE")),)),
        Controller("PJON", "40", control_types=("RoyaltyAdministrator",)),
    ]
    message.tracks[0].contributors.append(Contributor("PJON", ("Musician",), ai="Partly"))
    first = ern_reader.read(message.xml())
    assert first.problems == []
    assert first.message is not None
    first.message.recordings[0].contributions.append(
        ContributionDoc("PMARA", "vocalist", "instrumentation", "ai_assisted")
    )

    written = ern_writer.write(first.message)
    second = ern_reader.read(written)

    assert (second.problems, second.warnings) == ([], [])
    assert second.message is not None
    assert second.message.version == "4.3.1"
    assert _without_paths(second.message) == _without_paths(first.message)


def test_an_album_lists_its_tracks_in_order():
    message = b.album(12, order=[f"A{n}" for n in (12, *range(1, 12))])

    result = ern_reader.read(message.xml())

    assert result.problems == []
    doc = result.message
    assert doc is not None
    assert doc.release.tracks == ["A12", *(f"A{n}" for n in range(1, 12))]  # type: ignore[union-attr]
    assert [r.duration_s for r in doc.recordings][:4] == [181.0, 242.0, 123.0, 184.0]


def test_parties_without_a_kind_are_people_unless_only_labels_or_rights_controllers():
    message = b.single()
    message.tracks[0].controllers = [Controller("PLABEL", "50"), Controller("PMARA", "50")]

    doc = ern_reader.read(message.xml()).message

    assert doc is not None
    assert [(p.reference, p.kind) for p in doc.parties] == [
        ("PLABEL", "organization"),
        ("PMARA", "person"),
        ("PJON", "person"),
    ]
