"""Read an ERN 4.3 / 4.3.1 NewReleaseMessage into plain data, collecting every problem (pure)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from common.errors import ValidationError
from registry import identifiers
from registry.territories import ISO_3166_ALPHA2, WORLD

from . import vocabulary as v
from . import xmlsafe
from .ern import (
    ContributionDoc,
    DealDoc,
    DelegationDoc,
    MessageDoc,
    ParseResult,
    PartyDoc,
    Problem,
    RecordingDoc,
    ReleaseDoc,
    RightsControllerDoc,
)

ROOT = "/NewReleaseMessage"
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2})?$")
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


class Node:
    """An element with its XPath-like path (an [n] index only where a name repeats)."""

    __slots__ = ("el", "path")

    def __init__(self, el: Element, path: str) -> None:
        self.el = el
        self.path = path

    def children(self, name: str | None = None) -> list[Node]:
        kids = [c for c in self.el if isinstance(c.tag, str)]
        counts = Counter(local_name(c.tag) for c in kids)
        seen: Counter[str] = Counter()
        found = []
        for kid in kids:
            kid_name = local_name(kid.tag)
            seen[kid_name] += 1
            if name is None or kid_name == name:
                index = f"[{seen[kid_name]}]" if counts[kid_name] > 1 else ""
                found.append(Node(kid, f"{self.path}/{kid_name}{index}"))
        return found

    def child(self, name: str) -> Node | None:
        kids = self.children(name)
        return kids[0] if kids else None

    @property
    def text(self) -> str:
        return (self.el.text or "").strip()

    def child_text(self, name: str) -> str:
        kid = self.child(name)
        return kid.text if kid is not None else ""

    def attr(self, name: str) -> str:
        return (self.el.get(name) or "").strip()

    def at(self, *names: str) -> str:
        """The path of a (possibly missing) descendant."""
        return "/".join([self.path, *names])


def _preferred(nodes: list[Node]) -> Node | None:
    """Of repeated, territory- or language-specific elements, the default one."""
    for node in nodes:
        if node.attr("IsDefault") == "true":
            return node
    for node in nodes:
        if not node.attr("ApplicableTerritoryCode") or node.attr("ApplicableTerritoryCode") in (
            v.WORLDWIDE,
            "",
        ):
            return node
    return nodes[0] if nodes else None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.party_refs: dict[str, PartyDoc] = {}
        self.resource_refs: set[str] = set()
        self.party_uses: list[tuple[str, str, str]] = []  # (reference, path, use)

    # ------------------------------------------------------------ helpers

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Problem(path, code, message))

    def required(self, node: Node, name: str, what: str = "") -> Node | None:
        kid = node.child(name)
        if kid is None or (not list(kid.el) and not kid.text):
            self.problem(node.at(name), "REQUIRED", f"{what or name} is required")
            return None
        return kid

    def identifier(self, kind: str, node: Node) -> str | None:
        try:
            return identifiers.validate(kind, node.text)
        except ValidationError as error:
            self.problem(node.path, error.code, error.message)
            return None

    def party_ref(self, node: Node | None, use: str) -> str:
        if node is None:
            return ""
        self.party_uses.append((node.text, node.path, use))
        return node.text

    def date(self, node: Node | None, *, partial_ok: bool = False) -> dt.date | None:
        if node is None or not node.text:
            return None
        text = _TZ_SUFFIX.sub("", node.text)
        if partial_ok and _PARTIAL_DATE.match(text):
            self.warn(node.path, "DATE_PARTIAL", f"{node.text!r} is not a full date; ignored")
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.problem(node.path, "DATE_INVALID", f"{node.text!r} is not a date (YYYY-MM-DD)")
            return None

    def datetime(self, node: Node | None) -> dt.datetime | None:
        if node is None or not node.text:
            return None
        try:
            value = dt.datetime.fromisoformat(node.text.replace("Z", "+00:00"))
        except ValueError:
            self.problem(node.path, "DATETIME_INVALID", f"{node.text!r} is not an xs:dateTime")
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def period(self, node: Node | None) -> tuple[dt.date | None, dt.date | None]:
        if node is None:
            return None, None
        start = self.date(node.child("StartDate"))
        end = self.date(node.child("EndDate"))
        start_dt = self.datetime(node.child("StartDateTime"))
        end_dt = self.datetime(node.child("EndDateTime"))
        start = start or (start_dt.date() if start_dt else None)
        end = end or (end_dt.date() if end_dt else None)
        if start and end and end < start:
            self.problem(node.path, "PERIOD_INVALID", "the period ends before it starts")
        return start, end

    def territory(self, node: Node) -> str | None:
        code = v.territory_from_ddex(node.text)
        if code == WORLD or code in ISO_3166_ALPHA2:
            return code
        self.problem(
            node.path,
            "TERRITORY_INVALID",
            f"{node.text!r} is not an ISO 3166-1 alpha-2 code or Worldwide",
        )
        return None

    def territories(self, nodes: list[Node]) -> list[str]:
        codes = [code for code in (self.territory(n) for n in nodes) if code]
        return [WORLD] if WORLD in codes else sorted(set(codes))

    def use_types(self, nodes: list[Node]) -> list[tuple[str, str]]:
        found = []
        for node in nodes:
            if node.text not in v.USE_TYPES_ERN:
                self.problem(node.path, "USE_TYPE_INVALID", f"{node.text!r} is not an ERN UseType")
            elif node.text == "UserDefined" and not node.attr("UserDefinedValue"):
                self.problem(
                    node.path, "USE_TYPE_INVALID", "a UserDefined UseType needs a UserDefinedValue"
                )
            else:
                found.append((node.text, node.attr("UserDefinedValue")))
        return found

    # ------------------------------------------------------------ message

    def message(self, root: Node, version: str) -> MessageDoc | None:
        header = self.required(root, "MessageHeader")
        doc = MessageDoc(version=version, message_id="", sender_id="")
        if header is not None:
            self.header(header, doc)
        indicator = root.child("UpdateIndicator") or (header and header.child("UpdateIndicator"))
        if indicator is not None:
            if indicator.text not in ("OriginalMessage", "UpdateMessage"):
                self.problem(
                    indicator.path,
                    "UPDATE_INDICATOR_INVALID",
                    "UpdateIndicator is OriginalMessage or UpdateMessage",
                )
            doc.update_indicator = indicator.text
        party_list = self.required(root, "PartyList")
        if party_list is not None:
            doc.parties = [self.party(p) for p in party_list.children("Party")]
        resource_list = self.required(root, "ResourceList")
        other_resources: set[str] = set()
        if resource_list is not None:
            for resource in resource_list.children():
                if resource.el.tag.endswith("SoundRecording"):
                    doc.recordings.append(self.recording(resource))
                else:
                    reference = resource.child_text("ResourceReference")
                    if reference:
                        other_resources.add(reference)
                        self.resource_refs.add(reference)
        release_list = self.required(root, "ReleaseList")
        track_releases: set[str] = set()
        if release_list is not None:
            releases = release_list.children("Release")
            if not releases:
                self.problem(release_list.at("Release"), "REQUIRED", "a Release is required")
            elif len(releases) > 1:
                self.problem(
                    releases[1].path, "RELEASE_MULTIPLE", "one Release per message is supported"
                )
            if releases:
                doc.release = self.release(releases[0], doc, other_resources)
            track_releases = {
                t.child_text("ReleaseReference")
                for t in release_list.children()
                if t.el.tag.endswith(("TrackRelease", "ClipRelease"))
            }
        deal_list = root.child("DealList")
        if deal_list is not None and doc.release is not None:
            doc.deals = self.deals(deal_list, doc.release.reference, track_releases)
        self.check_party_uses(doc)
        return doc

    def header(self, header: Node, doc: MessageDoc) -> None:
        message_id = self.required(header, "MessageId")
        doc.message_id = message_id.text if message_id is not None else ""
        doc.thread_id = header.child_text("MessageThreadId")
        sender = self.required(header, "MessageSender")
        if sender is not None:
            sender_id = self.required(sender, "PartyId", "the sender's PartyId")
            doc.sender_id = sender_id.text if sender_id is not None else ""
            name = sender.child("PartyName")
            doc.sender_name = name.child_text("FullName") if name is not None else ""
        recipient = header.child("MessageRecipient")
        if recipient is not None:
            doc.recipient_id = recipient.child_text("PartyId")
            name = recipient.child("PartyName")
            doc.recipient_name = name.child_text("FullName") if name is not None else ""
        created = self.required(header, "MessageCreatedDateTime")
        doc.created_at = self.datetime(created)
        control = header.child("MessageControlType")
        if control is not None:
            if control.text not in ("LiveMessage", "TestMessage"):
                self.problem(
                    control.path,
                    "CONTROL_TYPE_INVALID",
                    "MessageControlType is LiveMessage or TestMessage",
                )
            else:
                doc.control_type = control.text

    # ------------------------------------------------------------ parties

    def party(self, node: Node) -> PartyDoc:
        reference_node = self.required(node, "PartyReference")
        reference = reference_node.text if reference_node is not None else ""
        name_node = _preferred(node.children("PartyName"))
        name = name_node.child_text("FullName") if name_node is not None else ""
        if not name:
            self.problem(
                name_node.at("FullName") if name_node else node.at("PartyName", "FullName"),
                "REQUIRED",
                "a party needs a FullName",
            )
        party = PartyDoc(reference=reference, name=name, path=node.path)
        for party_id in node.children("PartyId"):
            for kid in party_id.children():
                tag = local_name(kid.el.tag)
                if tag == "ISNI":
                    party.isni = party.isni or self.identifier("isni", kid)
                elif tag == "DPID":
                    party.dpid = party.dpid or self.identifier("dpid", kid)
                elif tag == "IpiNameNumber":
                    party.ipi = party.ipi or self.identifier("ipi", kid)
                elif tag == "ProprietaryId" and kid.attr("Namespace") == v.STEMMA_NAMESPACE:
                    self.stemma_party_id(kid, party)
        if reference in self.party_refs:
            self.problem(
                reference_node.path if reference_node else node.path,
                "REFERENCE_DUPLICATE",
                f"PartyReference {reference!r} is used twice",
            )
        elif reference:
            self.party_refs[reference] = party
        return party

    def stemma_party_id(self, node: Node, party: PartyDoc) -> None:
        value = node.text
        if value.startswith("kind:") and value[5:] in ("person", "organization", "ai_system"):
            party.kind = value[5:]
        elif value in ("organization", "display"):
            party.marker = value
        else:
            self.warn(node.path, "PROPRIETARY_ID_IGNORED", f"unknown {v.STEMMA_NAMESPACE} id")

    def check_party_uses(self, doc: MessageDoc) -> None:
        uses: dict[str, set[str]] = {}
        for reference, path, use in self.party_uses:
            if reference not in self.party_refs:
                self.problem(
                    path, "REFERENCE_UNKNOWN", f"no Party has PartyReference {reference!r}"
                )
            uses.setdefault(reference, set()).add(use)
        for party in doc.parties:
            if party.kind is None:
                # ERN has no party type: labels and rights controllers that are nothing else
                # are taken for organisations, everyone else for people.
                used_as = uses.get(party.reference, set())
                corporate = bool(used_as) and used_as <= {"label", "rights_controller"}
                party.kind = "organization" if corporate else "person"

    # ------------------------------------------------------------ sound recordings

    def recording(self, node: Node) -> RecordingDoc:
        reference_node = self.required(node, "ResourceReference")
        reference = reference_node.text if reference_node is not None else ""
        if reference in self.resource_refs:
            self.problem(
                reference_node.path if reference_node else node.path,
                "REFERENCE_DUPLICATE",
                f"ResourceReference {reference!r} is used twice",
            )
        self.resource_refs.add(reference)
        recording = RecordingDoc(reference=reference, isrc=None, title="", path=node.path)
        self.edition(node, recording)
        work_id = node.child("WorkId")
        iswc = work_id.child("ISWC") if work_id is not None else None
        if iswc is not None and iswc.text:
            recording.iswc = self.identifier("iswc", iswc)
            recording.field_paths["work"] = iswc.path
        recording.title = self.title(node)
        recording.field_paths["title"] = node.at("DisplayTitleText")
        recording.display_artist, recording.display_artists = self.display_artists(node)
        for contributor in node.children("Contributor"):
            recording.contributions.extend(self.contributor(contributor))
        for index, contribution in enumerate(recording.contributions):
            recording.field_paths[f"contributions[{index}]"] = contribution.path
        recording.rights_controllers = [
            self.rights_controller(rc) for rc in node.children("ResourceRightsController")
        ]
        duration = node.child("Duration")
        if duration is not None and duration.text:
            recording.duration_s = v.parse_duration(duration.text)
            if recording.duration_s is None:
                self.problem(
                    duration.path,
                    "DURATION_INVALID",
                    f"{duration.text!r} is not an ISO 8601 duration such as PT3M30S",
                )
        contains_ai = node.child("ContainsAI")
        if contains_ai is not None:
            if contains_ai.text in v.CONTAINS_AI_TO_DISCLOSURE:
                recording.ai_disclosure = v.CONTAINS_AI_TO_DISCLOSURE[contains_ai.text]
            else:
                self.problem(
                    contains_ai.path, "AI_DISCLOSURE_INVALID", "ContainsAI is All, Partly or None"
                )
            recording.field_paths["ai_disclosure"] = contains_ai.path
        return recording

    def edition(self, node: Node, recording: RecordingDoc) -> None:
        editions = node.children("SoundRecordingEdition")
        if not editions:
            self.problem(node.at("SoundRecordingEdition"), "REQUIRED", "a SoundRecordingEdition")
            return
        edition = editions[0]
        isrc_nodes = [
            isrc for rid in edition.children("ResourceId") for isrc in rid.children("ISRC")
        ]
        if not isrc_nodes or not isrc_nodes[0].text:
            self.problem(
                edition.at("ResourceId", "ISRC"),
                "REQUIRED",
                "an ISRC is required to register the recording",
            )
        else:
            recording.isrc = self.identifier("isrc", isrc_nodes[0])
            recording.field_paths["isrc"] = isrc_nodes[0].path
        for details in edition.children("TechnicalDetails"):
            files = [df.child("File") for df in details.children("DeliveryFile")]
            files.append(details.child("File"))
            for file in files:
                if file is not None and self.audio_file(file, recording):
                    return

    def audio_file(self, file: Node, recording: RecordingDoc) -> bool:
        uri = file.child_text("URI")
        if not uri:
            name = file.child_text("FileName")
            folder = file.child_text("FilePath").rstrip("/")
            uri = f"{folder}/{name}" if folder and name else name
        if not uri:
            return False
        recording.audio_uri = uri
        recording.field_paths["audio"] = file.path
        hash_sum = file.child("HashSum")
        if hash_sum is not None:
            algorithm = hash_sum.child_text("Algorithm").replace("-", "").upper()
            value = hash_sum.child_text("HashSumValue").lower()
            if algorithm == "SHA256":
                if re.fullmatch(r"[0-9a-f]{64}", value):
                    recording.audio_sha256 = value
                else:
                    self.problem(
                        hash_sum.at("HashSumValue"), "SHA256_INVALID", "not a SHA-256 hex digest"
                    )
        size = file.child_text("FileSize")
        if size:
            try:
                recording.audio_size_bytes = int(Decimal(size))
            except InvalidOperation:
                self.problem(file.at("FileSize"), "FILE_SIZE_INVALID", f"{size!r} is not a size")
        return True

    def title(self, node: Node) -> str:
        chosen = _preferred(node.children("DisplayTitleText"))
        if chosen is not None and chosen.text:
            return chosen.text
        display_title = _preferred(node.children("DisplayTitle"))
        if display_title is not None and display_title.child_text("TitleText"):
            return display_title.child_text("TitleText")
        self.problem(node.at("DisplayTitleText"), "REQUIRED", "a title (DisplayTitleText)")
        return ""

    def display_artists(self, node: Node) -> tuple[str, list[tuple[str, str]]]:
        parties = []
        for artist in node.children("DisplayArtist"):
            reference = self.party_ref(artist.child("ArtistPartyReference"), "display_artist")
            parties.append((reference, artist.child_text("DisplayArtistRole") or "MainArtist"))
        chosen = _preferred(node.children("DisplayArtistName"))
        if chosen is not None and chosen.text:
            return chosen.text, parties
        names = [self.party_refs[ref].name for ref, _ in parties if ref in self.party_refs]
        return ", ".join(names), parties

    def contributor(self, node: Node) -> list[ContributionDoc]:
        party = self.party_ref(self.required(node, "ContributorPartyReference"), "contributor")
        roles: list[str] = []
        element = ""
        for role in node.children("Role"):
            value = role.text
            user_value = role.attr("UserDefinedValue")
            if value == "UserDefined" and role.attr("Namespace") == v.STEMMA_NAMESPACE:
                if user_value.startswith("element:") and user_value[8:] in v.ELEMENTS:
                    element = user_value[8:]
                else:
                    self.problem(role.path, "ELEMENT_INVALID", f"unknown element {user_value!r}")
            elif value == "UserDefined" and user_value in v.REGISTRY_ROLES:
                roles.append(user_value)
            elif value in v.ROLE_IMPORT:
                roles.extend(v.ROLE_IMPORT[value])
            else:
                shown = f"UserDefined ({user_value})" if value == "UserDefined" else value
                self.warn(role.path, "ROLE_UNMAPPED", f"the role {shown!r} has no registry role")
        if node.child_text("HasMadeFeaturedContribution") == "true":
            roles = ["featured_artist" if r == "performer" else r for r in roles]
            if not roles:
                roles = ["featured_artist"]
        involvement = "human"
        ai = node.child("AiContribution")
        if ai is not None:
            if ai.text in v.AI_CONTRIBUTION_TO_INVOLVEMENT:
                involvement = v.AI_CONTRIBUTION_TO_INVOLVEMENT[ai.text]
            else:
                self.problem(
                    ai.path, "INVOLVEMENT_INVALID", "AiContribution is All, Partly or None"
                )
        if not roles:
            self.warn(node.path, "CONTRIBUTOR_IGNORED", "no role of this contributor is mapped")
        unique = list(dict.fromkeys(roles))
        return [
            ContributionDoc(
                party=party,
                role=role,
                element=element or v.DEFAULT_ELEMENT[role],
                involvement=involvement,
                path=node.path,
            )
            for role in unique
        ]

    def rights_controller(self, node: Node) -> RightsControllerDoc:
        party = self.party_ref(
            self.required(node, "RightsControllerPartyReference"), "rights_controller"
        )
        share: Decimal | None = None
        pct = node.child("RightSharePercentage")
        if pct is not None:
            try:
                share = Decimal(pct.text)
            except InvalidOperation:
                share = Decimal(-1)
            if not (0 <= share <= 100) or share.as_tuple().exponent < -3:  # type: ignore[operator]
                self.problem(
                    pct.path,
                    "SHARE_INVALID",
                    f"{pct.text!r} is not a percentage from 0 to 100 with at most 3 decimals",
                )
                share = None
        delegations = []
        for delegated in node.children("DelegatedUsageRights"):
            use_types = self.use_types(delegated.children("UseType"))
            usages = sorted({v.use_type_to_usage(u, d) for u, d in use_types if u != v.ANY_USE})
            period = delegated.child("PeriodOfRightsDelegation")
            start, end = self.period(period)
            codes = self.territories(delegated.children("TerritoryOfRightsDelegation"))
            include, exclude = v.compact_territories(codes or [WORLD])
            delegations.append(DelegationDoc(usages, include, exclude, start, end))
        if len(delegations) == 1 and delegations[0] == DelegationDoc([], [WORLD]):
            delegations = []  # "any use, worldwide, always" says nothing more than no delegation
        return RightsControllerDoc(
            party=party,
            control_types=[t.text for t in node.children("RightsControlType") if t.text],
            share_pct=share,
            share_unknown=node.child_text("RightShareUnknown") == "true",
            delegations=delegations,
            path=node.path,
        )

    # ------------------------------------------------------------ release

    def release(self, node: Node, doc: MessageDoc, other_resources: set[str]) -> ReleaseDoc:
        reference_node = self.required(node, "ReleaseReference")
        release = ReleaseDoc(
            reference=reference_node.text if reference_node is not None else "",
            title=self.title(node),
            upc=None,
            release_type="album",
            path=node.path,
        )
        release_type = node.child("ReleaseType")
        if release_type is not None:
            mapped = v.RELEASE_TYPE_IMPORT.get(release_type.text)
            if mapped is None:
                self.warn(
                    release_type.path,
                    "RELEASE_TYPE_UNMAPPED",
                    f"{release_type.text!r} is registered as an album",
                )
            release.release_type = mapped or "album"
        compilation = any(
            node.child_text(flag) == "true"
            for flag in ("IsMultiArtistCompilation", "IsSingleArtistCompilation")
        )
        if compilation and release.release_type == "album":
            release.release_type = "compilation"
        release_id = self.required(node, "ReleaseId")
        if release_id is not None:
            icpn = release_id.child("ICPN")
            if icpn is not None and icpn.text:
                release.upc = self.identifier("upc", icpn)
            release.grid = release_id.child_text("GRid")
            release.proprietary_ids = [
                (p.attr("Namespace"), p.text) for p in release_id.children("ProprietaryId")
            ]
        release.display_artist, release.display_artists = self.display_artists(node)
        label = node.child("ReleaseLabelReference")
        release.label = self.party_ref(label, "label")
        release.release_date = self.date(
            _preferred(node.children("ReleaseDate")) or node.child("OriginalReleaseDate"),
            partial_ok=True,
        )
        group = self.required(node, "ResourceGroup")
        if group is not None:
            known = {r.reference for r in doc.recordings}
            for item in self.group_items(group):
                reference_node = item.child("ReleaseResourceReference")
                reference = reference_node.text if reference_node is not None else ""
                if reference in known:
                    if reference in release.tracks:
                        self.problem(item.path, "TRACK_DUPLICATE", f"{reference!r} appears twice")
                    else:
                        release.tracks.append(reference)
                elif reference not in other_resources:
                    self.problem(
                        reference_node.path if reference_node else item.path,
                        "REFERENCE_UNKNOWN",
                        f"no resource has ResourceReference {reference!r}",
                    )
        return release

    def group_items(self, group: Node) -> list[Node]:
        """Content items of a group and its sub-groups (discs), in sequence order."""
        entries: list[tuple[int, int, list[Node]]] = []
        for position, kid in enumerate(group.children()):
            name = local_name(kid.el.tag)
            if name not in ("ResourceGroup", "ResourceGroupContentItem"):
                continue
            sequence = kid.child_text("SequenceNumber")
            order = int(sequence) if sequence.isdigit() else 1_000_000 + position
            items = self.group_items(kid) if name == "ResourceGroup" else [kid]
            entries.append((order, position, items))
        return [item for _, _, items in sorted(entries, key=lambda e: e[:2]) for item in items]

    # ------------------------------------------------------------ deals

    def deals(self, deal_list: Node, release_reference: str, others: set[str]) -> list[DealDoc]:
        deals = []
        for release_deal in deal_list.children("ReleaseDeal"):
            references = release_deal.children("DealReleaseReference")
            for reference in references:
                if reference.text not in (release_reference, *others):
                    self.problem(
                        reference.path,
                        "REFERENCE_UNKNOWN",
                        f"no release has ReleaseReference {reference.text!r}",
                    )
            if release_reference not in {r.text for r in references}:
                self.warn(
                    release_deal.path,
                    "DEAL_IGNORED",
                    "deals for track or clip releases are not registered",
                )
                continue
            for deal in release_deal.children("Deal"):
                deals.extend(self.deal(deal))
        return deals

    def deal(self, node: Node) -> list[DealDoc]:
        terms = node.child("DealTerms")
        if terms is None:
            self.warn(node.path, "DEAL_IGNORED", "a deal without DealTerms is not registered")
            return []
        include = self.territories(terms.children("TerritoryCode"))
        exclude = self.territories(terms.children("ExcludedTerritoryCode"))
        if WORLD in exclude:
            self.problem(terms.path, "TERRITORY_INVALID", "Worldwide cannot be excluded")
        include = include or [WORLD]
        use_types = [
            f"UserDefined:{d}" if u == "UserDefined" else u
            for u, d in self.use_types(terms.children("UseType"))
        ]
        models = []
        for model in terms.children("CommercialModelType"):
            if model.text in v.COMMERCIAL_MODEL_TYPES_ERN:
                models.append(model.text)
            else:
                self.problem(
                    model.path,
                    "COMMERCIAL_MODEL_INVALID",
                    f"{model.text!r} is not an ERN CommercialModelType",
                )
        periods: list[Node | None] = list(terms.children("ValidityPeriod")) or [None]
        return [
            DealDoc(include, exclude, use_types, models, *self.period(period), path=node.path)
            for period in periods
        ]


def read_root(root: Element) -> ParseResult:
    """A message from a parsed root element, with every problem found in it."""
    name = local_name(root.tag)
    if name != "NewReleaseMessage":
        problem = Problem(
            f"/{name}", "MESSAGE_TYPE_UNSUPPORTED", f"{name} is not a NewReleaseMessage"
        )
        return ParseResult(None, [problem], [])
    version = v.NAMESPACES.get(namespace_of(root.tag))
    if version is None:
        problem = Problem(
            ROOT,
            "ERN_VERSION_UNSUPPORTED",
            f"namespace {namespace_of(root.tag)!r} is not ERN 4.3, 4.3.1 or 4.3.2",
        )
        return ParseResult(None, [problem], [])
    reader = _Reader()
    doc = reader.message(Node(root, ROOT), version)
    return ParseResult(doc, reader.problems, reader.warnings)


def read(data: bytes, *, max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES) -> ParseResult:
    """Parse ``data`` safely and read it; hostile or malformed XML raises a DomainError."""
    return read_root(xmlsafe.parse(data, max_bytes=max_bytes))
