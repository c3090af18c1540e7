"""An ERN NewReleaseMessage as plain data: what the reader produces and the writer consumes (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) in a message, named by the element it is about."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


@dataclass
class PartyDoc:
    reference: str
    name: str
    kind: str | None = None  # registry Party.Kind, when the message says (or implies) it
    isni: str | None = None
    ipi: str | None = None
    dpid: str | None = None
    # "organization": stands for a registry organisation (a rights owner, the label);
    # "display": a display name only. Neither is registered as a party.
    marker: str = ""
    path: str = ""


@dataclass
class ContributionDoc:
    party: str  # PartyReference
    role: str  # registry Contribution.Role
    element: str  # registry Contribution.Element
    involvement: str  # registry Involvement
    path: str = ""


@dataclass
class DelegationDoc:
    """One DelegatedUsageRights: the scope of a rights controller's share."""

    usage_types: list[str]  # registry words ("stream"); empty = any use
    territories: list[str]  # ISO codes or ["WORLD"]
    exclude_territories: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class RightsControllerDoc:
    party: str  # PartyReference
    control_types: list[str]  # DDEX RightsControlType values
    share_pct: Decimal | None
    share_unknown: bool = False
    delegations: list[DelegationDoc] = field(default_factory=list)
    path: str = ""

    @property
    def expresses_ownership(self) -> bool:
        from .vocabulary import OWNERSHIP_CONTROL_TYPES

        return not self.control_types or bool(OWNERSHIP_CONTROL_TYPES & set(self.control_types))


@dataclass
class RecordingDoc:
    reference: str  # ResourceReference
    isrc: str | None
    title: str
    display_artist: str = ""
    display_artists: list[tuple[str, str]] = field(default_factory=list)  # (party, role)
    iswc: str | None = None
    duration_s: float | None = None
    ai_disclosure: str = "none"
    contributions: list[ContributionDoc] = field(default_factory=list)
    rights_controllers: list[RightsControllerDoc] = field(default_factory=list)
    audio_uri: str = ""
    audio_sha256: str = ""
    audio_size_bytes: int | None = None
    path: str = ""
    # Paths of the elements the registry's field names come from, to name service errors.
    field_paths: dict[str, str] = field(default_factory=dict)


@dataclass
class DealDoc:
    territories: list[str]
    exclude_territories: list[str]
    use_types: list[str]  # DDEX UseType values (UserDefined ones as "UserDefined:value")
    commercial_model_types: list[str]
    start: dt.date | None = None
    end: dt.date | None = None
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "territories": self.territories,
            "exclude_territories": self.exclude_territories,
            "use_types": self.use_types,
            "commercial_model_types": self.commercial_model_types,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


@dataclass
class ReleaseDoc:
    reference: str  # ReleaseReference
    title: str
    upc: str | None
    release_type: str  # registry Release.Type
    display_artist: str = ""
    display_artists: list[tuple[str, str]] = field(default_factory=list)
    release_date: dt.date | None = None
    grid: str = ""
    proprietary_ids: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""  # PartyReference of the label
    tracks: list[str] = field(default_factory=list)  # ResourceReferences, in order
    path: str = ""

    @property
    def key(self) -> str:
        """What identifies the release across messages from one sender."""
        if self.upc:
            return f"icpn:{self.upc}"
        if self.grid:
            return f"grid:{self.grid}"
        if self.proprietary_ids:
            namespace, value = self.proprietary_ids[0]
            return f"proprietary:{namespace}:{value}"
        return ""


@dataclass
class MessageDoc:
    version: str
    message_id: str
    sender_id: str
    sender_name: str = ""
    thread_id: str = ""
    recipient_id: str = ""
    recipient_name: str = ""
    created_at: dt.datetime | None = None
    control_type: str = "LiveMessage"
    update_indicator: str = ""
    parties: list[PartyDoc] = field(default_factory=list)
    recordings: list[RecordingDoc] = field(default_factory=list)
    release: ReleaseDoc | None = None
    deals: list[DealDoc] = field(default_factory=list)

    def party(self, reference: str) -> PartyDoc:
        return next(p for p in self.parties if p.reference == reference)

    def recording(self, reference: str) -> RecordingDoc:
        return next(r for r in self.recordings if r.reference == reference)

    @property
    def is_test(self) -> bool:
        return self.control_type == "TestMessage"


@dataclass
class ParseResult:
    message: MessageDoc | None
    problems: list[Problem]
    warnings: list[Problem]
