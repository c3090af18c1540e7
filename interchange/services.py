"""ERN import: one message, one transaction, through the registry's services, every problem reported."""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction

from common.errors import Conflict, DomainError, ValidationError
from registry import provenance
from registry import services as registry
from registry.models import Organization, Party, Recording, Release, Work
from registry.provenance import Actor
from registry.territories import WORLD

from . import ern_reader
from .ern import DelegationDoc, MessageDoc, PartyDoc, Problem, RecordingDoc, ReleaseDoc
from .models import Deal, ErnMessage, RecordingDetail, RightsController

AudioSource = Callable[[str], File | None]


class ErnInvalid(ValidationError):
    """A message that cannot be imported; ``detail["problems"]`` lists every problem found."""

    code = "ERN_INVALID"

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        count = len(problems)
        super().__init__(
            f"the message has {count} problem{'s' if count != 1 else ''}; nothing was imported",
            detail={
                "problems": [p.as_dict() for p in problems],
                "warnings": [w.as_dict() for w in warnings],
            },
        )
        self.problems = list(problems)


@dataclass
class ImportOutcome:
    """What an import did: ``status`` is created, updated, unchanged or test."""

    status: str
    message: ErnMessage | None
    report: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.message.pk if self.message else None,
            **self.report,
            "status": self.status,
        }


def max_message_bytes() -> int:
    return int(settings.STEMMA_ERN_MAX_BYTES)


# ---------------------------------------------------------------- audio sources


def _uri_candidates(uri: str) -> list[str]:
    """Relative paths a URI may name locally, longest first: "a/b/c.wav", "b/c.wav", "c.wav".

    Whatever the scheme (file, https, none), only the path is used: nothing is fetched.
    """
    parts = urlsplit(uri)
    path = unquote(parts.path if parts.scheme else uri).replace("\\", "/")
    segments = [s for s in posixpath.normpath("/" + path).split("/") if s not in ("", ".", "..")]
    return ["/".join(segments[i:]) for i in range(len(segments))]


def uploaded_audio(files: Mapping[str, Any]) -> AudioSource:
    """Audio sent with the message: matched by part name, then by the uploaded file's name."""
    by_name: dict[str, Any] = {}
    for part, upload in files.items():
        by_name.setdefault(part, upload)
        by_name.setdefault(os.path.basename(getattr(upload, "name", "") or ""), upload)

    def source(uri: str) -> File | None:
        for candidate in [uri, *_uri_candidates(uri)]:
            if candidate in by_name:
                upload = by_name[candidate]
                upload.seek(0)
                return upload
        return None

    return source


def audio_directory(directory: Path, stack: ExitStack) -> AudioSource:
    """Audio in a local directory, never outside it; URLs are matched by file name, never fetched."""
    root = directory.resolve()

    def source(uri: str) -> File | None:
        for candidate in _uri_candidates(uri):
            path = (root / candidate).resolve()
            if path.is_file() and path.is_relative_to(root):
                handle = stack.enter_context(path.open("rb"))
                return File(handle, name=path.name)
        return None

    return source


# ---------------------------------------------------------------- import


def ern_import(*, actor: Actor, data: bytes, audio: AudioSource | None = None) -> ImportOutcome:
    """Register what a NewReleaseMessage says, all or nothing.

    The same message (sender, MessageId, content hash) again changes nothing; a message for a
    release already registered (same ICPN, or same GRid/proprietary id from the same sender)
    updates it; an older one than the last applied is refused. A TestMessage is checked in
    full and rolled back.
    """
    org = actor.organization
    if org is None:
        raise DomainError("this action needs an organisation", code="NO_ORGANIZATION", status=403)
    sha256 = hashlib.sha256(data).hexdigest()
    parsed = ern_reader.read(data, max_bytes=max_message_bytes())
    if parsed.problems or parsed.message is None:
        raise ErnInvalid(parsed.problems, parsed.warnings)
    doc = parsed.message
    earlier = _earlier(org, doc)
    if earlier is not None:
        return _replay(earlier, sha256)
    warnings = list(parsed.warnings)
    files = _collect_audio(doc, audio, warnings)
    try:
        with transaction.atomic():
            outcome = _Import(actor, org, doc, warnings, files).run(sha256, len(data))
            if doc.is_test:
                transaction.set_rollback(True)
    except IntegrityError:
        earlier = _earlier(org, doc)  # the same message, applied concurrently
        if earlier is None:
            raise
        return _replay(earlier, sha256)
    return outcome


def _earlier(org: Organization, doc: MessageDoc) -> ErnMessage | None:
    return ErnMessage.objects.filter(
        organization=org, sender_id=doc.sender_id, message_id=doc.message_id
    ).first()


def _replay(earlier: ErnMessage, sha256: str) -> ImportOutcome:
    if earlier.sha256 != sha256:
        raise Conflict(
            "this sender already sent a different message with this MessageId",
            code="MESSAGE_ID_REUSED",
            detail={"message_id": earlier.message_id, "sender": earlier.sender_id},
        )
    return ImportOutcome("unchanged", earlier, earlier.summary)


def _collect_audio(
    doc: MessageDoc, audio: AudioSource | None, warnings: list[Problem]
) -> dict[str, registry.StoredAudio]:
    """Find and store referenced audio before the transaction (copying can take a while)."""
    files: dict[str, registry.StoredAudio] = {}
    problems: list[Problem] = []
    for recording in doc.recordings:
        if not recording.audio_uri:
            continue
        path = recording.field_paths.get("audio", recording.path)
        file = audio(recording.audio_uri) if audio is not None else None
        if file is None:
            warnings.append(
                Problem(
                    path,
                    "AUDIO_NOT_PROVIDED",
                    f"{recording.audio_uri!r} was not sent with the message; "
                    "the recording is registered without (new) audio",
                )
            )
            continue
        try:
            stored = registry.audio_store(file)
        except DomainError as error:
            problems.append(Problem(path, error.code, error.message))
            continue
        if recording.audio_sha256 and stored.sha256 != recording.audio_sha256:
            problems.append(
                Problem(
                    path,
                    "AUDIO_HASH_MISMATCH",
                    f"the file's SHA-256 is {stored.sha256}, the message says "
                    f"{recording.audio_sha256}",
                )
            )
            continue
        files[recording.reference] = stored
    if problems:
        raise ErnInvalid(problems, warnings)
    return files


def _share_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    owner = row["owner"]
    return (
        owner.pk if isinstance(owner, Organization) else owner,
        Decimal(str(row["share_pct"])).normalize(),
        tuple(sorted(row["territories"] or [WORLD])),
        tuple(sorted(row["exclude_territories"] or [])),
        row["start"],
        row["end"],
        tuple(sorted({str(u).strip().lower() for u in row["usage_types"] or []})),
    )


def _delegation_dict(delegation: DelegationDoc) -> dict[str, Any]:
    return {
        "usage_types": delegation.usage_types,
        "territories": delegation.territories,
        "exclude_territories": delegation.exclude_territories,
        "start": delegation.start.isoformat() if delegation.start else None,
        "end": delegation.end.isoformat() if delegation.end else None,
    }


class _Import:
    """One message applied inside the caller's transaction; problems are collected, then raised."""

    def __init__(
        self,
        actor: Actor,
        org: Organization,
        doc: MessageDoc,
        warnings: list[Problem],
        files: dict[str, registry.StoredAudio],
    ) -> None:
        self.actor = actor
        self.org = org
        self.doc = doc
        self.warnings = warnings
        self.files = files
        self.problems: list[Problem] = []
        self.parties: dict[str, Party] = {}
        self.recordings: dict[str, Recording] = {}
        self.audio_status: dict[str, str] = {}
        self.rights_share_count = 0

    def fail(self, path: str, error: DomainError) -> None:
        self.problems.append(Problem(path, error.code, error.message))

    def run(self, sha256: str, size_bytes: int) -> ImportOutcome:
        doc = self.doc
        release_doc = doc.release
        assert release_doc is not None  # the reader requires one
        row = ErnMessage.objects.create(
            organization=self.org,
            sender_id=doc.sender_id,
            sender_name=doc.sender_name,
            message_id=doc.message_id,
            thread_id=doc.thread_id,
            sha256=sha256,
            size_bytes=size_bytes,
            ern_version=doc.version,
            message_created_at=doc.created_at,
            release_key=release_doc.key,
            action=ErnMessage.Action.CREATE,
            received_by=self.actor.username,
        )
        release = self.existing_release(release_doc, row)
        self.register_parties()
        works = self.register_works()
        for recording_doc in doc.recordings:
            self.register_recording(recording_doc, works, row)
        if self.problems:
            raise ErnInvalid(self.problems, self.warnings)
        release = self.register_release(release_doc, release)
        if self.problems or release is None:
            raise ErnInvalid(self.problems, self.warnings)
        deal_count = self.replace_deals(release, row)
        status = "created" if row.action == ErnMessage.Action.CREATE else "updated"
        report = self.report(release, deal_count)
        row.release = release
        row.summary = report
        row.save(update_fields=["release", "action", "summary"])
        provenance.record(
            actor=self.actor,
            action="ern.import",
            obj=row,
            after={
                "message_id": row.message_id,
                "sender_id": row.sender_id,
                "sha256": row.sha256,
                "ern_version": row.ern_version,
                "release": release.pk,
                "action": row.action,
            },
        )
        return ImportOutcome(
            "test" if doc.is_test else status, None if doc.is_test else row, report
        )

    # ------------------------------------------------------------ release identity

    def existing_release(self, release_doc: ReleaseDoc, row: ErnMessage) -> Release | None:
        release = None
        if release_doc.upc:
            release = Release.objects.filter(organization=self.org, upc=release_doc.upc).first()
        elif release_doc.key:
            previous = (
                ErnMessage.objects.filter(
                    organization=self.org,
                    sender_id=self.doc.sender_id,
                    release_key=release_doc.key,
                    release__isnull=False,
                )
                .exclude(pk=row.pk)
                .select_related("release")
                .first()
            )
            release = previous.release if previous else None
        if release is None:
            if self.doc.update_indicator == "UpdateMessage":
                raise ErnInvalid(
                    [
                        Problem(
                            release_doc.path,
                            "RELEASE_NOT_FOUND",
                            "an UpdateMessage for a release that is not registered",
                        )
                    ],
                    self.warnings,
                )
            return None
        release = Release.objects.select_for_update().get(pk=release.pk)
        last = (
            ErnMessage.objects.filter(release=release, message_created_at__isnull=False)
            .exclude(pk=row.pk)
            .order_by("-message_created_at")
            .first()
        )
        created_at = self.doc.created_at
        applied_at = last.message_created_at if last is not None else None
        if last is not None and applied_at and created_at and created_at < applied_at:
            raise Conflict(
                "a newer message for this release was already applied",
                code="MESSAGE_STALE",
                detail={
                    "release": release.pk,
                    "applied_message_id": last.message_id,
                    "applied_created_at": applied_at.isoformat(),
                },
            )
        row.action = ErnMessage.Action.UPDATE
        return release

    # ------------------------------------------------------------ parties and works

    def register_parties(self) -> None:
        for party_doc in self.doc.parties:
            if party_doc.marker:
                continue  # organisations and display names are not registry parties
            ref = {
                "name": party_doc.name,
                "kind": party_doc.kind or Party.Kind.PERSON,
                "ipi": party_doc.ipi,
                "isni": party_doc.isni,
                "dpid": party_doc.dpid,
            }
            try:
                self.parties[party_doc.reference] = registry.party_resolve(
                    actor=self.actor, ref=ref
                )
            except DomainError as error:
                self.fail(party_doc.path, error)

    def register_works(self) -> dict[str, Work]:
        works: dict[str, Work] = {}
        for recording_doc in self.doc.recordings:
            iswc = recording_doc.iswc
            if not iswc or iswc in works:
                continue
            work = Work.objects.filter(organization=self.org, iswc=iswc).first()
            if work is None:
                try:
                    work = registry.work_create(
                        actor=self.actor, data={"title": recording_doc.title, "iswc": iswc}
                    )
                except DomainError as error:
                    self.fail(recording_doc.field_paths.get("work", recording_doc.path), error)
                    continue
            works[iswc] = work
        return works

    def owner_of(self, party: PartyDoc) -> Organization | None:
        """The registry organisation a rights controller stands for: the one of that exact name,
        else the importing organisation when the controller is the message's sender."""
        named = Organization.objects.filter(name=party.name).first()
        if named is not None:
            return named
        if party.marker != "organization" and party.dpid and party.dpid == self.doc.sender_id:
            return self.org
        return None

    # ------------------------------------------------------------ recordings

    def recording_data(
        self, recording_doc: RecordingDoc, works: dict[str, Work]
    ) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
        data: dict[str, Any] = {
            "title": recording_doc.title,
            "isrc": recording_doc.isrc,
            "display_artist": recording_doc.display_artist,
            "ai_disclosure": recording_doc.ai_disclosure,
        }
        if recording_doc.iswc in works:
            data["work"] = works[recording_doc.iswc].pk
        contributions = []
        for contribution in recording_doc.contributions:
            party = self.parties.get(contribution.party)
            if party is None:
                self.warnings.append(
                    Problem(
                        contribution.path,
                        "CONTRIBUTOR_IGNORED",
                        "the contributor is a display name or an organisation, not a party",
                    )
                )
                continue
            contributions.append(
                {
                    "party": party.pk,
                    "role": contribution.role,
                    "element": contribution.element,
                    "involvement": contribution.involvement,
                }
            )
        if recording_doc.contributions:
            data["contributions"] = contributions
        rights: list[dict[str, Any]] = []
        rights_paths: list[str] = []
        controllers: list[dict[str, Any]] = []
        for position, controller in enumerate(recording_doc.rights_controllers, start=1):
            party_doc = next((p for p in self.doc.parties if p.reference == controller.party), None)
            owner = None
            owns = controller.expresses_ownership and bool(controller.share_pct)
            if party_doc is not None and owns:
                owner = self.owner_of(party_doc)
                if owner is None:
                    self.warnings.append(
                        Problem(
                            controller.path,
                            "RIGHTS_OWNER_UNKNOWN",
                            f"no organisation is named {party_doc.name!r}; "
                            "the controller is kept, without a rights share",
                        )
                    )
            if owner is not None:
                for delegation in controller.delegations or [DelegationDoc([], [WORLD])]:
                    rights.append(
                        {
                            "owner": owner.pk,
                            "share_pct": controller.share_pct,
                            "territories": delegation.territories,
                            "exclude_territories": delegation.exclude_territories,
                            "start": delegation.start,
                            "end": delegation.end,
                            "usage_types": delegation.usage_types,
                        }
                    )
                    rights_paths.append(controller.path)
            controllers.append(
                {
                    "position": position,
                    "party": self.parties.get(controller.party),
                    "party_name": party_doc.name if party_doc else controller.party,
                    "owner": owner,
                    "control_types": controller.control_types,
                    "share_pct": controller.share_pct,
                    "share_unknown": controller.share_unknown,
                    "delegations": [_delegation_dict(d) for d in controller.delegations],
                    "became_rights_share": owner is not None,
                }
            )
        if recording_doc.rights_controllers:
            data["rights"] = rights
        return data, rights_paths, controllers

    def error_path(
        self, error: DomainError, recording_doc: RecordingDoc, rights_paths: list[str]
    ) -> str:
        field = str(error.detail.get("field") or "")
        head = field.split(".", 1)[0]
        if head.startswith("rights[") and head.endswith("]"):
            index = int(head[7:-1])
            if index < len(rights_paths):
                return rights_paths[index]
        if head.startswith("contributions["):
            return recording_doc.field_paths.get(head, recording_doc.path)
        if error.code == "SHARES_EXCEED_100" and rights_paths:
            return rights_paths[0].rsplit("/", 1)[0]
        return recording_doc.field_paths.get(head, recording_doc.path)

    def register_recording(
        self, recording_doc: RecordingDoc, works: dict[str, Work], row: ErnMessage
    ) -> None:
        data, rights_paths, controllers = self.recording_data(recording_doc, works)
        file = self.files.get(recording_doc.reference)
        recording = Recording.objects.filter(organization=self.org, isrc=recording_doc.isrc).first()
        try:
            if recording is None:
                recording, _ = registry.recording_register_with_audio(
                    actor=self.actor, data=data, audio=None, stored=file
                )
                audio = "attached" if file is not None else "none"
            else:
                if self.recording_differs(recording, data):
                    recording = registry.recording_update(
                        actor=self.actor, recording=recording, data=data
                    )
                audio = "unchanged" if recording.audio_sha256 else "none"
                if file is not None and file.sha256 != recording.audio_sha256:
                    registry.recording_attach_stored(
                        actor=self.actor, recording=recording, stored=file
                    )
                    audio = "attached"
        except DomainError as error:
            self.fail(self.error_path(error, recording_doc, rights_paths), error)
            return
        if recording_doc.audio_uri and file is None:
            audio = "not_provided" if audio == "none" else audio
        self.audio_status[recording_doc.reference] = audio
        self.recordings[recording_doc.reference] = recording
        self.rights_share_count += len(data.get("rights", []))
        self.save_detail(recording, recording_doc.duration_s)
        if recording_doc.rights_controllers:
            self.replace_rights_controllers(recording, controllers, row)

    @staticmethod
    def recording_differs(recording: Recording, data: Mapping[str, Any]) -> bool:
        current = (
            recording.title,
            recording.isrc,
            recording.display_artist,
            recording.ai_disclosure,
        )
        wanted = (data["title"], data["isrc"], data["display_artist"], data["ai_disclosure"])
        if current != wanted:
            return True
        if "work" in data and recording.work_id != data["work"]:
            return True
        if "contributions" in data:
            have = sorted(
                (c.party_id, c.role, c.element, c.involvement)
                for c in recording.contributions.all()
            )
            want = sorted(
                (c["party"], c["role"], c["element"], c["involvement"])
                for c in data["contributions"]
            )
            if have != want:
                return True
        if "rights" in data:
            have_rights = sorted(
                _share_key(
                    {
                        "owner": s.owner_id,
                        "share_pct": s.share_pct,
                        "territories": s.territories,
                        "exclude_territories": s.exclude_territories,
                        "start": s.start,
                        "end": s.end,
                        "usage_types": s.usage_types,
                    }
                )
                for s in recording.rights.filter(registered_by=recording.organization)
            )
            want_rights = sorted(_share_key(r) for r in data["rights"])
            if have_rights != want_rights:
                return True
        return False

    def save_detail(self, recording: Recording, duration_s: float | None) -> None:
        detail = RecordingDetail.objects.filter(recording=recording).first()
        before = detail.declared_duration_s if detail else None
        if detail is not None and before == duration_s:
            return
        if detail is None and duration_s is None:
            return
        RecordingDetail.objects.update_or_create(
            recording=recording,
            defaults={"organization": self.org, "declared_duration_s": duration_s},
        )
        provenance.record(
            actor=self.actor,
            action="ern.recording_detail.update",
            obj=recording,
            before={"declared_duration_s": before},
            after={"declared_duration_s": duration_s},
        )

    def replace_rights_controllers(
        self, recording: Recording, controllers: list[dict[str, Any]], row: ErnMessage
    ) -> None:
        def snapshot(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                provenance.jsonable(
                    {
                        "position": c["position"],
                        "party": c["party"].pk if c["party"] else None,
                        "party_name": c["party_name"],
                        "owner": c["owner"].pk if c["owner"] else None,
                        "control_types": c["control_types"],
                        "share_pct": str(Decimal(c["share_pct"]).normalize())
                        if c["share_pct"] is not None
                        else None,
                        "share_unknown": c["share_unknown"],
                        "delegations": c["delegations"],
                        "became_rights_share": c["became_rights_share"],
                    }
                )
                for c in items
            ]

        existing = list(
            RightsController.objects.filter(recording=recording).select_related("party", "owner")
        )
        before = snapshot(
            [
                {
                    "position": c.position,
                    "party": c.party,
                    "party_name": c.party_name,
                    "owner": c.owner,
                    "control_types": c.control_types,
                    "share_pct": c.share_pct,
                    "share_unknown": c.share_unknown,
                    "delegations": c.delegations,
                    "became_rights_share": c.became_rights_share,
                }
                for c in existing
            ]
        )
        after = snapshot(controllers)
        if before == after:
            return
        RightsController.objects.filter(recording=recording).delete()
        RightsController.objects.bulk_create(
            RightsController(organization=self.org, recording=recording, message=row, **c)
            for c in controllers
        )
        provenance.record(
            actor=self.actor,
            action="ern.rights_controllers.replace",
            obj=recording,
            before=before,
            after=after,
        )

    # ------------------------------------------------------------ release and deals

    def register_release(self, release_doc: ReleaseDoc, release: Release | None) -> Release | None:
        data = {
            "title": release_doc.title,
            "upc": release_doc.upc,
            "release_type": release_doc.release_type,
            "display_artist": release_doc.display_artist,
            "release_date": release_doc.release_date,
            "tracks": [self.recordings[ref].pk for ref in release_doc.tracks],
        }
        try:
            if release is None:
                return registry.release_register(actor=self.actor, data=data)
            current = (
                release.title,
                release.upc,
                release.release_type,
                release.display_artist,
                release.release_date,
                list(release.tracks.order_by("position").values_list("recording_id", flat=True)),
            )
            if current != tuple(data.values()):
                release = registry.release_update(actor=self.actor, release=release, data=data)
            return release
        except DomainError as error:
            field = str(error.detail.get("field") or "").split(".", 1)[0]
            where = {"upc": "ReleaseId/ICPN", "title": "DisplayTitleText"}.get(field)
            self.fail(f"{release_doc.path}/{where}" if where else release_doc.path, error)
            return None

    def replace_deals(self, release: Release, row: ErnMessage) -> int:
        before = [
            provenance.snapshot(d, exclude=("id", "organization", "release", "message"))
            for d in Deal.objects.filter(release=release).order_by("position")
        ]
        after = [
            provenance.jsonable({"position": i, **deal.as_dict()})
            for i, deal in enumerate(self.doc.deals, start=1)
        ]
        if before != after:
            Deal.objects.filter(release=release).delete()
            Deal.objects.bulk_create(
                Deal(
                    organization=self.org,
                    release=release,
                    message=row,
                    position=i,
                    territories=deal.territories,
                    exclude_territories=deal.exclude_territories,
                    use_types=deal.use_types,
                    commercial_model_types=deal.commercial_model_types,
                    start=deal.start,
                    end=deal.end,
                )
                for i, deal in enumerate(self.doc.deals, start=1)
            )
            provenance.record(
                actor=self.actor,
                action="ern.deals.replace",
                obj=release,
                before=before,
                after=after,
            )
        return len(self.doc.deals)

    def report(self, release: Release, deal_count: int) -> dict[str, Any]:
        release_doc = self.doc.release
        assert release_doc is not None
        # A TestMessage is rolled back: the ids it would have had do not exist.
        test = self.doc.is_test
        return provenance.jsonable(
            {
                "message_id": self.doc.message_id,
                "sender": {"id": self.doc.sender_id, "name": self.doc.sender_name},
                "ern_version": self.doc.version,
                "release": {
                    "id": None if test else release.pk,
                    "title": release.title,
                    "upc": release.upc,
                },
                "recordings": [
                    {
                        "id": None if test else self.recordings[ref].pk,
                        "isrc": self.recordings[ref].isrc,
                        "title": self.recordings[ref].title,
                        "position": position,
                        "audio": self.audio_status[ref],
                    }
                    for position, ref in enumerate(release_doc.tracks, start=1)
                ],
                "parties": len({p.pk for p in self.parties.values()}),
                "rights_shares": self.rights_share_count,
                "deals": deal_count,
                "warnings": [w.as_dict() for w in self.warnings],
            }
        )
