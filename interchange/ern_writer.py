"""Write plain message data as an ERN 4.3.1 NewReleaseMessage, in the schema's element order (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, indent, register_namespace, tostring

from registry.territories import WORLD

from . import vocabulary as v
from .ern import DelegationDoc, MessageDoc, PartyDoc, RecordingDoc, ReleaseDoc

GENRE_UNSPECIFIED = "Unspecified"
PARENTAL_WARNING = "NoAdviceAvailable"

register_namespace("ern", v.EXPORT_NAMESPACE)


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    element = SubElement(parent, tag, {k: val for k, val in attrs.items() if val})
    if text is not None:
        element.text = text
    return element


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _header(root: Element, doc: MessageDoc) -> None:
    header = _add(root, "MessageHeader")
    if doc.thread_id:
        _add(header, "MessageThreadId", doc.thread_id)
    _add(header, "MessageId", doc.message_id)
    sender = _add(header, "MessageSender")
    _add(sender, "PartyId", doc.sender_id)
    if doc.sender_name:
        _add(_add(sender, "PartyName"), "FullName", doc.sender_name)
    recipient = _add(header, "MessageRecipient")
    _add(recipient, "PartyId", doc.recipient_id)
    if doc.recipient_name:
        _add(_add(recipient, "PartyName"), "FullName", doc.recipient_name)
    _add(header, "MessageCreatedDateTime", _datetime(doc.created_at or dt.datetime.now(dt.UTC)))
    _add(header, "MessageControlType", doc.control_type)


def _party(parent: Element, party: PartyDoc) -> None:
    element = _add(parent, "Party")
    _add(element, "PartyReference", party.reference)
    _add(_add(element, "PartyName"), "FullName", party.name)
    party_id = _add(element, "PartyId")
    if party.isni:
        _add(party_id, "ISNI", party.isni)
    if party.dpid:
        _add(party_id, "DPID", party.dpid)
    if party.ipi:
        _add(party_id, "IpiNameNumber", party.ipi)
    stemma = party.marker or (f"kind:{party.kind}" if party.kind else "")
    if stemma:
        _add(party_id, "ProprietaryId", stemma, Namespace=v.STEMMA_NAMESPACE)


def _titles(parent: Element, title: str) -> None:
    _add(parent, "DisplayTitleText", title)
    _add(_add(parent, "DisplayTitle"), "TitleText", title)


def _display_artists(parent: Element, name: str, artists: list[tuple[str, str]]) -> None:
    _add(parent, "DisplayArtistName", name)
    for sequence, (party, role) in enumerate(artists, start=1):
        artist = _add(parent, "DisplayArtist", SequenceNumber=str(sequence))
        _add(artist, "ArtistPartyReference", party)
        _add(artist, "DisplayArtistRole", role)


def _delegation(parent: Element, delegation: DelegationDoc) -> None:
    element = _add(parent, "DelegatedUsageRights")
    for usage in delegation.usage_types or []:
        use_type, user_defined = v.usage_to_use_type(usage)
        _add(element, "UseType", use_type, UserDefinedValue=user_defined)
    if not delegation.usage_types:
        _add(element, "UseType", v.ANY_USE)
    if delegation.start or delegation.end:
        period = _add(element, "PeriodOfRightsDelegation")
        if delegation.start:
            _add(period, "StartDate", delegation.start.isoformat())
        if delegation.end:
            _add(period, "EndDate", delegation.end.isoformat())
    for code in v.expand_territories(delegation.territories, delegation.exclude_territories):
        _add(element, "TerritoryOfRightsDelegation", v.territory_to_ddex(code))


def _needs_delegation(delegation: DelegationDoc) -> bool:
    return bool(
        delegation.usage_types
        or delegation.start
        or delegation.end
        or delegation.exclude_territories
        or delegation.territories != [WORLD]
    )


def _recording(parent: Element, recording: RecordingDoc, technical: str) -> None:
    element = _add(parent, "SoundRecording")
    _add(element, "ResourceReference", recording.reference)
    _add(element, "Type", "MusicalWorkSoundRecording")
    edition = _add(element, "SoundRecordingEdition")
    resource_id = _add(edition, "ResourceId")
    if recording.isrc:
        _add(resource_id, "ISRC", recording.isrc)
    else:  # ERN needs an identifier; the registry has none to offer
        _add(resource_id, "ProprietaryId", recording.reference, Namespace=v.STEMMA_NAMESPACE)
    if recording.audio_uri:
        details = _add(edition, "TechnicalDetails")
        _add(details, "TechnicalResourceDetailsReference", technical)
        delivery = _add(details, "DeliveryFile")
        _add(delivery, "Type", "AudioFile")
        file = _add(delivery, "File")
        _add(file, "URI", recording.audio_uri)
        if recording.audio_sha256:
            hash_sum = _add(file, "HashSum")
            _add(hash_sum, "Algorithm", "SHA256")
            _add(hash_sum, "HashSumValue", recording.audio_sha256)
        if recording.audio_size_bytes is not None:
            _add(file, "FileSize", str(recording.audio_size_bytes))
    if recording.iswc:
        _add(_add(element, "WorkId"), "ISWC", recording.iswc)
    _titles(element, recording.title)
    _display_artists(element, recording.display_artist, recording.display_artists)
    for sequence, contribution in enumerate(recording.contributions, start=1):
        contributor = _add(element, "Contributor", SequenceNumber=str(sequence))
        _add(contributor, "ContributorPartyReference", contribution.party)
        ddex_role, default_element = v.ROLE_EXPORT[contribution.role]
        _add(contributor, "Role", ddex_role)
        if contribution.element != default_element:
            _add(
                contributor,
                "Role",
                "UserDefined",
                Namespace=v.STEMMA_NAMESPACE,
                UserDefinedValue=f"element:{contribution.element}",
            )
        if contribution.role == "featured_artist":
            _add(contributor, "HasMadeFeaturedContribution", "true")
        _add(
            contributor,
            "AiContribution",
            v.INVOLVEMENT_TO_AI_CONTRIBUTION[contribution.involvement],
        )
    for sequence, controller in enumerate(recording.rights_controllers, start=1):
        rc = _add(element, "ResourceRightsController", SequenceNumber=str(sequence))
        _add(rc, "RightsControllerPartyReference", controller.party)
        for control_type in controller.control_types:
            _add(rc, "RightsControlType", control_type)
        if controller.share_pct is not None:
            _add(rc, "RightSharePercentage", _pct(controller.share_pct))
        if controller.share_unknown:
            _add(rc, "RightShareUnknown", "true")
        delegations = controller.delegations
        if len(delegations) > 1 or (delegations and _needs_delegation(delegations[0])):
            for delegation in delegations:
                _delegation(rc, delegation)
    if recording.duration_s is not None:
        _add(element, "Duration", v.format_duration(recording.duration_s))
    _add(element, "ParentalWarningType", PARENTAL_WARNING)
    _add(element, "ContainsAI", v.DISCLOSURE_TO_CONTAINS_AI[recording.ai_disclosure])


def _release(parent: Element, release: ReleaseDoc) -> None:
    element = _add(parent, "Release")
    _add(element, "ReleaseReference", release.reference)
    _add(element, "ReleaseType", v.RELEASE_TYPE_EXPORT[release.release_type])
    release_id = _add(element, "ReleaseId")
    if release.grid:
        _add(release_id, "GRid", release.grid)
    if release.upc:
        _add(release_id, "ICPN", release.upc)
    for namespace, value in release.proprietary_ids:
        _add(release_id, "ProprietaryId", value, Namespace=namespace)
    _titles(element, release.title)
    _display_artists(element, release.display_artist, release.display_artists)
    if release.label:
        _add(element, "ReleaseLabelReference", release.label)
    _add(_add(element, "Genre"), "GenreText", GENRE_UNSPECIFIED)
    if release.release_date:
        _add(element, "ReleaseDate", release.release_date.isoformat())
    _add(element, "ParentalWarningType", PARENTAL_WARNING)
    if release.release_type == "compilation":
        _add(element, "IsMultiArtistCompilation", "true")
    group = _add(element, "ResourceGroup")
    for sequence, reference in enumerate(release.tracks, start=1):
        item = _add(group, "ResourceGroupContentItem")
        _add(item, "SequenceNumber", str(sequence))
        _add(item, "ReleaseResourceReference", reference)


def _deals(root: Element, doc: MessageDoc) -> None:
    if not doc.deals or doc.release is None:
        return
    release_deal = _add(_add(root, "DealList"), "ReleaseDeal")
    _add(release_deal, "DealReleaseReference", doc.release.reference)
    for deal in doc.deals:
        terms = _add(_add(release_deal, "Deal"), "DealTerms")
        if deal.exclude_territories:
            for code in deal.exclude_territories:
                _add(terms, "ExcludedTerritoryCode", v.territory_to_ddex(code))
        else:
            for code in deal.territories:
                _add(terms, "TerritoryCode", v.territory_to_ddex(code))
        period = _add(terms, "ValidityPeriod")
        if deal.start:
            _add(period, "StartDate", deal.start.isoformat())
        if deal.end:
            _add(period, "EndDate", deal.end.isoformat())
        for model in deal.commercial_model_types:
            _add(terms, "CommercialModelType", model)
        for use_type in deal.use_types:
            if use_type.startswith("UserDefined:"):
                _add(terms, "UseType", "UserDefined", UserDefinedValue=use_type[12:])
            else:
                _add(terms, "UseType", use_type)


def write(doc: MessageDoc) -> bytes:
    """The message as UTF-8 XML (ERN 4.3.1 namespace; children unqualified, as the schema says)."""
    root = Element(
        f"{{{v.EXPORT_NAMESPACE}}}NewReleaseMessage",
        {"AvsVersionId": v.EXPORT_AVS_VERSION, "LanguageAndScriptCode": "en"},
    )
    _header(root, doc)
    party_list = _add(root, "PartyList")
    for party in doc.parties:
        _party(party_list, party)
    resource_list = _add(root, "ResourceList")
    for index, recording in enumerate(doc.recordings, start=1):
        _recording(resource_list, recording, f"T{index}")
    release_list = _add(root, "ReleaseList")
    if doc.release is not None:
        _release(release_list, doc.release)
    _deals(root, doc)
    indent(root)
    body = tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode()
