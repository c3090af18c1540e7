"""Builds ERN 4.3 / 4.3.1 NewReleaseMessages for the tests, independently of the app's writer."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, SubElement, tostring

from registry import identifiers

NS43 = "http://ddex.net/xml/ern/43"
NS431 = "http://ddex.net/xml/ern/431"
SENDER_DPID = "PADPIDA2014122301Q"
LABEL_NAME = "Northern Lights Records"

_numbers = itertools.count(1)


def isni(n: int) -> str:
    body = f"{n:015d}"
    return body + identifiers.isni_check_char(body)


def ipi(n: int) -> str:
    body = f"{n:09d}"
    return body + identifiers.ipi_check_digits(body)


def dpid(n: int) -> str:
    body = f"PADPIDA{n:010d}"
    return body + identifiers.dpid_check_char(body)


def upc(n: int) -> str:
    body = f"{n:012d}"
    return body + identifiers.upc_check_digit(body)


def isrc(n: int) -> str:
    return f"GBLNR26{n:05d}"


@dataclass
class Party:
    ref: str
    name: str
    isni: str = ""
    ipi: str = ""
    dpid: str = ""
    stemma_ids: tuple[str, ...] = ()


@dataclass
class Contributor:
    party: str
    roles: tuple[str, ...]
    ai: str | None = None  # AiContribution: All, Partly, None
    featured: bool = False


@dataclass
class Delegation:
    use_types: tuple[str, ...] = ("OnDemandStream",)
    territories: tuple[str, ...] = ("Worldwide",)
    start: str = ""
    end: str = ""


@dataclass
class Controller:
    party: str
    pct: str | None = "100"
    control_types: tuple[str, ...] = ("RightsController",)
    delegations: tuple[Delegation, ...] = ()


@dataclass
class Track:
    ref: str
    isrc: str
    title: str
    display_artist: str = "Mara Vale"
    duration: str = "PT3M30S"
    contains_ai: str | None = None
    contributors: list[Contributor] = field(default_factory=list)
    controllers: list[Controller] = field(default_factory=list)
    uri: str = ""
    sha256: str = ""
    iswc: str = ""


@dataclass
class Deal:
    territories: tuple[str, ...] = ("Worldwide",)
    excluded: tuple[str, ...] = ()
    use_types: tuple[str, ...] = ("OnDemandStream",)
    models: tuple[str, ...] = ("SubscriptionModel",)
    start: str = "2026-03-01"
    end: str = ""


@dataclass
class Message:
    message_id: str = "MSG-0001"
    sender: str = SENDER_DPID
    sender_name: str = LABEL_NAME
    created: str = "2026-03-01T10:00:00Z"
    control_type: str | None = "LiveMessage"
    namespace: str = NS43
    parties: list[Party] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    release_title: str = "First Light"
    release_type: str = "Album"
    icpn: str = ""
    release_artist: str = "Mara Vale"
    release_date: str = "2026-03-01"
    label: str = "PLABEL"
    order: list[str] | None = None  # ResourceReferences in track order (default: tracks order)
    deals: list[Deal] = field(default_factory=list)

    def xml(self) -> bytes:
        root = Element(f"{{{self.namespace}}}NewReleaseMessage")
        root.set("AvsVersionId", "12")
        root.set("LanguageAndScriptCode", "en")
        header = _el(root, "MessageHeader")
        _el(header, "MessageId", self.message_id)
        sender = _el(header, "MessageSender")
        _el(sender, "PartyId", self.sender)
        _el(_el(sender, "PartyName"), "FullName", self.sender_name)
        recipient = _el(header, "MessageRecipient")
        _el(recipient, "PartyId", "PADPIDA2007040502I")
        _el(header, "MessageCreatedDateTime", self.created)
        if self.control_type:
            _el(header, "MessageControlType", self.control_type)
        party_list = _el(root, "PartyList")
        for party in self.parties:
            element = _el(party_list, "Party")
            _el(element, "PartyReference", party.ref)
            _el(_el(element, "PartyName"), "FullName", party.name)
            if party.isni or party.ipi or party.dpid or party.stemma_ids:
                party_id = _el(element, "PartyId")
                for tag, value in (("ISNI", party.isni), ("DPID", party.dpid)):
                    if value:
                        _el(party_id, tag, value)
                if party.ipi:
                    _el(party_id, "IpiNameNumber", party.ipi)
                for value in party.stemma_ids:
                    _el(party_id, "ProprietaryId", value, Namespace="Stemma")
        resource_list = _el(root, "ResourceList")
        for track in self.tracks:
            self._track(resource_list, track)
        release = _el(_el(root, "ReleaseList"), "Release")
        _el(release, "ReleaseReference", "R0")
        _el(release, "ReleaseType", self.release_type)
        release_id = _el(release, "ReleaseId")
        if self.icpn:
            _el(release_id, "ICPN", self.icpn)
        else:
            _el(
                release_id,
                "ProprietaryId",
                f"{self.release_title}",
                Namespace="DPID:" + self.sender,
            )
        _el(release, "DisplayTitleText", self.release_title)
        _el(_el(release, "DisplayTitle"), "TitleText", self.release_title)
        _el(release, "DisplayArtistName", self.release_artist)
        _el(release, "ReleaseLabelReference", self.label)
        _el(_el(release, "Genre"), "GenreText", "Pop")
        if self.release_date:
            _el(release, "ReleaseDate", self.release_date)
        _el(release, "ParentalWarningType", "NotExplicit")
        group = _el(release, "ResourceGroup")
        for sequence, ref in enumerate(self.order or [t.ref for t in self.tracks], start=1):
            item = _el(group, "ResourceGroupContentItem")
            _el(item, "SequenceNumber", str(sequence))
            _el(item, "ReleaseResourceReference", ref)
        if self.deals:
            release_deal = _el(_el(root, "DealList"), "ReleaseDeal")
            _el(release_deal, "DealReleaseReference", "R0")
            for deal in self.deals:
                terms = _el(_el(release_deal, "Deal"), "DealTerms")
                for code in deal.territories if not deal.excluded else ():
                    _el(terms, "TerritoryCode", code)
                for code in deal.excluded:
                    _el(terms, "ExcludedTerritoryCode", code)
                period = _el(terms, "ValidityPeriod")
                if deal.start:
                    _el(period, "StartDate", deal.start)
                if deal.end:
                    _el(period, "EndDate", deal.end)
                for model in deal.models:
                    _el(terms, "CommercialModelType", model)
                for use_type in deal.use_types:
                    _el(terms, "UseType", use_type)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root)

    def _track(self, parent: Element, track: Track) -> None:
        element = _el(parent, "SoundRecording")
        _el(element, "ResourceReference", track.ref)
        _el(element, "Type", "MusicalWorkSoundRecording")
        edition = _el(element, "SoundRecordingEdition")
        _el(_el(edition, "ResourceId"), "ISRC", track.isrc)
        if track.uri:
            details = _el(edition, "TechnicalDetails")
            _el(details, "TechnicalResourceDetailsReference", f"T{track.ref}")
            delivery = _el(details, "DeliveryFile")
            _el(delivery, "Type", "AudioFile")
            file = _el(delivery, "File")
            _el(file, "URI", track.uri)
            if track.sha256:
                hash_sum = _el(file, "HashSum")
                _el(hash_sum, "Algorithm", "SHA256")
                _el(hash_sum, "HashSumValue", track.sha256)
        if track.iswc:
            _el(_el(element, "WorkId"), "ISWC", track.iswc)
        _el(element, "DisplayTitleText", track.title)
        _el(_el(element, "DisplayTitle"), "TitleText", track.title)
        _el(element, "DisplayArtistName", track.display_artist)
        artist = _el(element, "DisplayArtist", SequenceNumber="1")
        main = next((c.party for c in track.contributors), "PLABEL")
        _el(artist, "ArtistPartyReference", main)
        _el(artist, "DisplayArtistRole", "MainArtist")
        for sequence, contributor in enumerate(track.contributors, start=1):
            item = _el(element, "Contributor", SequenceNumber=str(sequence))
            _el(item, "ContributorPartyReference", contributor.party)
            for role in contributor.roles:
                _el(item, "Role", role)
            if contributor.featured:
                _el(item, "HasMadeFeaturedContribution", "true")
            if contributor.ai is not None:
                _el(item, "AiContribution", contributor.ai)
        for controller in track.controllers:
            rc = _el(element, "ResourceRightsController")
            _el(rc, "RightsControllerPartyReference", controller.party)
            for control_type in controller.control_types:
                _el(rc, "RightsControlType", control_type)
            if controller.pct is not None:
                _el(rc, "RightSharePercentage", controller.pct)
            for delegation in controller.delegations:
                dur = _el(rc, "DelegatedUsageRights")
                for use_type in delegation.use_types:
                    _el(dur, "UseType", use_type)
                if delegation.start or delegation.end:
                    period = _el(dur, "PeriodOfRightsDelegation")
                    if delegation.start:
                        _el(period, "StartDate", delegation.start)
                    if delegation.end:
                        _el(period, "EndDate", delegation.end)
                for code in delegation.territories:
                    _el(dur, "TerritoryOfRightsDelegation", code)
        if track.duration:
            _el(element, "Duration", track.duration)
        _el(element, "ParentalWarningType", "NotExplicit")
        if track.contains_ai is not None:
            _el(element, "ContainsAI", track.contains_ai)


def _el(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    element = SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def label_party() -> Party:
    return Party("PLABEL", LABEL_NAME, dpid=SENDER_DPID)


def single(**overrides: object) -> Message:
    """One track, one human performer and composer, the label owning it worldwide."""
    message = Message(
        icpn=upc(4006381333),
        release_type="Single",
        parties=[
            label_party(),
            Party("PMARA", "Mara Vale", isni=isni(1001), ipi=ipi(52210)),
            Party("PJON", "Jon Reyes", ipi=ipi(52211)),
        ],
        tracks=[
            Track(
                "A1",
                isrc(1),
                "Lantern",
                contains_ai="None",
                iswc="T0345246801",
                contributors=[
                    Contributor("PMARA", ("Vocalist",), ai="None"),
                    Contributor("PJON", ("ComposerLyricist",), ai="None"),
                ],
                controllers=[Controller("PLABEL", "100")],
            )
        ],
        deals=[Deal()],
    )
    for key, value in overrides.items():
        setattr(message, key, value)
    return message


def album(tracks: int = 12, **overrides: object) -> Message:
    """An album of ``tracks`` recordings by one performer, ordered A1..An."""
    message = Message(
        icpn=upc(4006381334),
        parties=[label_party(), Party("PMARA", "Mara Vale", isni=isni(1001))],
        tracks=[
            Track(
                f"A{n}",
                isrc(100 + n),
                f"Song {n:02d}",
                duration=f"PT{2 + n % 3}M{n:02d}S",
                contains_ai="None",
                contributors=[Contributor("PMARA", ("Vocalist", "Composer"), ai="None")],
                controllers=[Controller("PLABEL", "100")],
            )
            for n in range(1, tracks + 1)
        ],
        deals=[Deal()],
    )
    for key, value in overrides.items():
        setattr(message, key, value)
    return message


def next_number() -> int:
    return next(_numbers)
