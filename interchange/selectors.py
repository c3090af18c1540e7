"""Reads for the interchange app: a registered release as ERN message data, and as ERN XML."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from common.errors import NotFound
from registry import selectors as registry_selectors
from registry.models import Contribution, Organization, Party, Recording, Release, RightsShare

from . import ern_writer
from . import vocabulary as v
from .ern import (
    ContributionDoc,
    DealDoc,
    DelegationDoc,
    MessageDoc,
    PartyDoc,
    RecordingDoc,
    ReleaseDoc,
    RightsControllerDoc,
)
from .models import Deal, RightsController


def release_for_export(org: Organization, pk: Any) -> Release:
    """A release the organisation may read, with what the message needs; others are a 404."""
    queryset = registry_selectors.releases_visible(org).select_related("organization")
    try:
        return queryset.get(pk=int(pk))
    except (Release.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"release {pk} not found", code="RELEASE_NOT_FOUND") from None


class _Builder:
    """Collects parties as recordings refer to them, each listed once."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self.parties: dict[str, PartyDoc] = {}

    def party(self, party: Party) -> str:
        reference = f"P{party.pk}"
        if reference not in self.parties:
            self.parties[reference] = PartyDoc(
                reference=reference,
                name=party.name,
                kind=party.kind,
                isni=party.isni,
                ipi=party.ipi,
                dpid=party.dpid,
            )
        return reference

    def organization(self, org_pk: int, name: str) -> str:
        """An organisation as a party: its own registry party if it has one, else its name."""
        own = (
            Party.objects.filter(
                organization=self.release.organization, kind=Party.Kind.ORGANIZATION, name=name
            )
            .order_by("id")
            .first()
        )
        if own is not None:
            return self.party(own)
        reference = f"PORG{org_pk}"
        if reference not in self.parties:
            self.parties[reference] = PartyDoc(reference, name, marker="organization")
        return reference

    def unknown_organization(self, name: str) -> str:
        """A rights controller that is no registry party and no known organisation."""
        for party in self.parties.values():
            if party.name == name and party.marker == "organization":
                return party.reference
        count = sum(p.reference.startswith("PNAMED") for p in self.parties.values())
        reference = f"PNAMED{count + 1}"
        self.parties[reference] = PartyDoc(reference, name, marker="organization")
        return reference

    def display_name(self, name: str) -> str:
        for party in self.parties.values():
            if party.name == name and not party.marker:
                return party.reference
        for party in self.parties.values():
            if party.name == name and party.marker == "display":
                return party.reference
        reference = f"PDISPLAY{sum(p.marker == 'display' for p in self.parties.values()) + 1}"
        self.parties[reference] = PartyDoc(reference, name, marker="display")
        return reference

    def display_artists(
        self, name: str, contributions: list[Contribution]
    ) -> list[tuple[str, str]]:
        artists = []
        if name:
            artists.append((self.display_name(name), "MainArtist"))
        for contribution in contributions:
            if contribution.role == Contribution.Role.FEATURED_ARTIST:
                reference = self.party(contribution.party)
                if (reference, "FeaturedArtist") not in artists:
                    artists.append((reference, "FeaturedArtist"))
        return artists

    def recording(self, position: int, recording: Recording) -> RecordingDoc:
        contributions = list(recording.contributions.all())
        contribution_docs = [
            ContributionDoc(
                party=self.party(c.party),
                role=c.role,
                element=c.element,
                involvement=c.involvement,
            )
            for c in contributions
        ]
        controllers = [self.share(share) for share in recording.rights.all()]
        for stored in recording.ern_rights_controllers.all():
            if not stored.became_rights_share:
                controllers.append(self.stored_controller(stored))
        detail = getattr(recording, "ern_detail", None)
        duration = detail.declared_duration_s if detail is not None else None
        has_audio = bool(recording.audio_sha256)
        return RecordingDoc(
            reference=f"A{position}",
            isrc=recording.isrc,
            title=recording.title,
            display_artist=recording.display_artist,
            display_artists=self.display_artists(recording.display_artist, contributions),
            iswc=recording.work.iswc if recording.work else None,
            duration_s=duration if duration is not None else recording.duration_s,
            ai_disclosure=recording.ai_disclosure,
            contributions=contribution_docs,
            rights_controllers=controllers,
            audio_uri=(recording.audio_filename or f"{recording.audio_sha256}")
            if has_audio
            else "",
            audio_sha256=recording.audio_sha256,
            audio_size_bytes=recording.audio_size_bytes if has_audio else None,
        )

    def share(self, share: RightsShare) -> RightsControllerDoc:
        return RightsControllerDoc(
            party=self.organization(share.owner_id, share.owner.name),
            control_types=sorted(v.OWNERSHIP_CONTROL_TYPES),
            share_pct=share.share_pct,
            delegations=[
                DelegationDoc(
                    usage_types=list(share.usage_types),
                    territories=list(share.territories),
                    exclude_territories=list(share.exclude_territories),
                    start=share.start,
                    end=share.end,
                )
            ],
        )

    def stored_controller(self, stored: RightsController) -> RightsControllerDoc:
        if stored.party is not None:
            reference = self.party(stored.party)
        elif stored.owner is not None:
            reference = self.organization(stored.owner.pk, stored.owner.name)
        else:
            reference = self.unknown_organization(stored.party_name)
        return RightsControllerDoc(
            party=reference,
            control_types=list(stored.control_types),
            share_pct=stored.share_pct,
            share_unknown=stored.share_unknown,
            delegations=[
                DelegationDoc(
                    usage_types=d["usage_types"],
                    territories=d["territories"],
                    exclude_territories=d["exclude_territories"],
                    start=dt.date.fromisoformat(d["start"]) if d["start"] else None,
                    end=dt.date.fromisoformat(d["end"]) if d["end"] else None,
                )
                for d in stored.delegations
            ],
        )


def _sender(org: Organization) -> tuple[str, str]:
    """The sender's PartyId: the DPID of the organisation's own party, else a configured one."""
    own = Party.objects.filter(
        organization=org, kind=Party.Kind.ORGANIZATION, name=org.name, dpid__isnull=False
    ).first()
    if own is not None and own.dpid:
        return own.dpid, org.name
    configured = str(settings.STEMMA_DDEX_PARTY_ID or "")
    return configured or f"STEMMA-ORG-{org.pk}", org.name


def release_message(release: Release) -> MessageDoc:
    """The release as message data: its parties, recordings, rights, AI disclosures and deals."""
    tracks = list(
        release.tracks.order_by("position")
        .select_related("recording__work", "recording__ern_detail")
        .prefetch_related(
            Prefetch(
                "recording__contributions",
                queryset=Contribution.objects.select_related("party").order_by("id"),
            ),
            Prefetch(
                "recording__rights",
                queryset=RightsShare.objects.select_related("owner").order_by("id"),
            ),
            Prefetch(
                "recording__ern_rights_controllers",
                queryset=RightsController.objects.select_related("party", "owner").order_by(
                    "position"
                ),
            ),
        )
    )
    builder = _Builder(release)
    recordings = [builder.recording(t.position, t.recording) for t in tracks]
    label = builder.organization(release.organization.pk, release.organization.name)
    release_doc = ReleaseDoc(
        reference="R1",
        title=release.title,
        upc=release.upc,
        release_type=release.release_type,
        display_artist=release.display_artist,
        display_artists=builder.display_artists(release.display_artist, []),
        release_date=release.release_date,
        label=label,
        tracks=[r.reference for r in recordings],
    )
    deals = [
        DealDoc(
            territories=list(d.territories),
            exclude_territories=list(d.exclude_territories),
            use_types=list(d.use_types),
            commercial_model_types=list(d.commercial_model_types),
            start=d.start,
            end=d.end,
        )
        for d in Deal.objects.filter(release=release).order_by("position")
    ]
    changed = [release.updated_at, *(t.recording.updated_at for t in tracks)]
    sender_id, sender_name = _sender(release.organization)
    doc = MessageDoc(
        version=v.EXPORT_VERSION,
        message_id="",
        sender_id=sender_id,
        sender_name=sender_name,
        recipient_id="UNSPECIFIED",
        created_at=max(changed),
        parties=list(builder.parties.values()),
        recordings=recordings,
        release=release_doc,
        deals=deals,
    )
    # The same data always gives the same bytes, and so the same MessageId: importing an
    # export twice is a no-op, and a changed release gets a new MessageId.
    digest = hashlib.sha256(ern_writer.write(doc)).hexdigest()
    doc.message_id = f"STEMMA-R{release.pk}-{digest[:20]}"
    doc.thread_id = f"STEMMA-R{release.pk}"
    return doc


def release_ern(org: Organization, pk: Any) -> bytes:
    """The ERN 4.3.1 NewReleaseMessage of a release the organisation may read."""
    return ern_writer.write(release_message(release_for_export(org, pk)))
