"""Every write to the registry: validated, atomic, and recorded in the provenance log."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from common.errors import Conflict, DomainError, NotFound, PayloadTooLarge, ValidationError

from . import conflicts as conflict_rules
from . import identifiers, provenance, selectors, territories
from .models import (
    Contribution,
    GenerationInput,
    GenerationRecord,
    Involvement,
    Organization,
    OwnershipConflict,
    Party,
    Recording,
    Release,
    ReleaseTrack,
    RightsShare,
    User,
    Work,
    WorkWriter,
)
from .provenance import Actor

# ---------------------------------------------------------------- helpers


@contextmanager
def at(*path: str | int) -> Iterator[None]:
    """Prefix the field path of any domain error raised inside with ``path``."""
    try:
        yield
    except DomainError as error:
        prefix = ""
        for part in path:
            prefix += f"[{part}]" if isinstance(part, int) else (f".{part}" if prefix else part)
        inner = error.detail.get("field")
        if inner:
            joiner = "" if str(inner).startswith("[") else "."
            error.detail["field"] = f"{prefix}{joiner}{inner}"
        else:
            error.detail["field"] = prefix
        raise


def _optional_id(kind: str, value: str | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    return identifiers.validate(kind, str(value))


def _pct(value: Any, *, allow_zero: bool = True) -> Decimal:
    try:
        pct = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            f"{value!r} is not a percentage", code="SHARE_INVALID", detail={"value": str(value)}
        ) from None
    low_ok = pct >= 0 if allow_zero else pct > 0
    if not (low_ok and pct <= 100) or pct.as_tuple().exponent < -3:  # type: ignore[operator]
        raise ValidationError(
            "a share is a percentage above 0 and at most 100, with at most 3 decimals",
            code="SHARE_INVALID",
            detail={"value": str(value)},
        )
    return pct


def _visible(actor: Actor, obj: Any) -> bool:
    org = actor.organization
    return org is not None and (org.is_operator or obj.organization_id == org.pk)


def _require_org(actor: Actor) -> Organization:
    if actor.organization is None:
        raise DomainError("this action needs an organisation", code="NO_ORGANIZATION", status=403)
    return actor.organization


def _get_owned(model: Any, actor: Actor, pk: Any, *, name: str) -> Any:
    """Load an object the actor's organisation owns; anything else does not exist for them."""
    return selectors.owned_or_404(model, _require_org(actor), pk, name=name)


def _save_unique(obj: Any, uniques: Mapping[str, tuple[str, str, str]]) -> None:
    """Save; a duplicate identifier becomes a 409 that names the field, on any database."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        manager = type(obj)._default_manager
        for code, message, field in uniques.values():
            value = getattr(obj, field)
            clash = manager.filter(organization_id=obj.organization_id, **{field: value})
            if value is not None and clash.exclude(pk=obj.pk).exists():
                raise Conflict(
                    message, code=code, detail={"field": field, "value": value}
                ) from None
        raise Conflict("this would duplicate an existing record", code="DUPLICATE") from None


# ---------------------------------------------------------------- organisations


@transaction.atomic
def organization_create(
    *,
    name: str,
    kind: str,
    username: str,
    password: str,
    email: str = "",
    actor: Actor | None = None,
) -> tuple[Organization, User, str]:
    """An organisation, its first user, and that user's API token."""
    if kind not in Organization.Kind.values:
        raise ValidationError(
            f"kind must be one of {', '.join(Organization.Kind.values)}",
            code="ORGANIZATION_KIND_INVALID",
            detail={"field": "kind", "value": kind},
        )
    if Organization.objects.filter(name=name).exists():
        raise Conflict(
            f"organisation {name!r} exists", code="ORGANIZATION_EXISTS", detail={"field": "name"}
        )
    if User.objects.filter(username=username).exists():
        raise Conflict(
            f"user {username!r} exists", code="USER_EXISTS", detail={"field": "username"}
        )
    org = Organization.objects.create(name=name, kind=kind)
    user = User.objects.create_user(
        username=username, password=password, email=email, organization=org
    )
    token = Token.objects.create(user=user)
    who = actor or Actor(user=user, organization=org)
    provenance.record(
        actor=who, action="organization.create", obj=org, after=provenance.snapshot(org)
    )
    provenance.record(
        actor=who,
        action="user.create",
        obj=user,
        after={"username": username, "organization": org.pk},
    )
    return org, user, token.key


@transaction.atomic
def user_save_by_staff(*, actor: Actor, user: User, changed: Sequence[str], created: bool) -> User:
    """A user created or changed in the admin; the log keeps which fields (never secrets)."""
    user.save()
    provenance.record(
        actor=actor,
        action="user.create" if created else "user.update",
        obj=user,
        after={
            "username": user.username,
            "organization": user.organization_id,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "changed": sorted(set(changed) - {"password", "password1", "password2"}),
            "password_changed": bool({"password", "password1", "password2"} & set(changed)),
        },
    )
    return user


# ---------------------------------------------------------------- parties


PARTY_IDS = ("ipi", "isni", "dpid")
_PARTY_UNIQUE = {
    "party_unique_ipi": ("PARTY_EXISTS", "a party with this IPI name number exists", "ipi"),
    "party_unique_isni": ("PARTY_EXISTS", "a party with this ISNI exists", "isni"),
    "party_unique_dpid": ("PARTY_EXISTS", "a party with this DPID exists", "dpid"),
}


def _party_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            raise ValidationError("a party needs a name", code="REQUIRED", detail={"field": "name"})
        fields["name"] = name
    if "kind" in data:
        if data["kind"] not in Party.Kind.values:
            raise ValidationError(
                f"kind must be one of {', '.join(Party.Kind.values)}",
                code="PARTY_KIND_INVALID",
                detail={"field": "kind", "value": data["kind"]},
            )
        fields["kind"] = data["kind"]
    for key in PARTY_IDS:
        if key in data:
            with at(key):
                fields[key] = _optional_id(key, data[key])
    return fields


@transaction.atomic
def party_create(*, actor: Actor, data: Mapping[str, Any]) -> Party:
    org = _require_org(actor)
    fields = _party_fields({"kind": data.get("kind", Party.Kind.PERSON), **data})
    if "name" not in fields:
        raise ValidationError("a party needs a name", code="REQUIRED", detail={"field": "name"})
    party = Party(organization=org, **fields)
    _save_unique(party, _PARTY_UNIQUE)
    provenance.record(
        actor=actor, action="party.create", obj=party, after=provenance.snapshot(party)
    )
    return party


@transaction.atomic
def party_update(*, actor: Actor, party: Party, data: Mapping[str, Any]) -> Party:
    party = Party.objects.select_for_update().get(pk=party.pk)
    before = provenance.snapshot(party)
    for key, value in _party_fields(data).items():
        setattr(party, key, value)
    _save_unique(party, _PARTY_UNIQUE)
    provenance.record(
        actor=actor,
        action="party.update",
        obj=party,
        before=before,
        after=provenance.snapshot(party),
    )
    return party


def _party_from_object(actor: Actor, ref: Mapping[str, Any], kind: str | None) -> Party:
    fields = _party_fields({"kind": kind or Party.Kind.PERSON, **ref})
    org = _require_org(actor)
    for key in PARTY_IDS:
        if fields.get(key):
            existing = Party.objects.filter(organization=org, **{key: fields[key]}).first()
            if existing is not None:
                return existing
    if "name" in fields and not any(fields.get(k) for k in PARTY_IDS):
        existing = Party.objects.filter(
            organization=org, name=fields["name"], kind=fields["kind"]
        ).first()
        if existing is not None:
            return existing
    return party_create(actor=actor, data=ref if "kind" in ref else {**ref, "kind": fields["kind"]})


def party_resolve(*, actor: Actor, ref: Any, kind: str | None = None) -> Party:
    """A party given by id, or by an object: found by its identifiers, else created.

    When ``kind`` is given, the party must be of that kind however it was given
    (an object may declare another kind, or match an existing party of another kind).
    """
    if isinstance(ref, Mapping):
        party = _party_from_object(actor, ref, kind)
    else:
        party = _get_owned(Party, actor, ref, name="party")
    if kind is not None and party.kind != kind:
        raise ValidationError(
            f"party {party.pk} is a {party.kind}, not a {kind}",
            code="PARTY_KIND_MISMATCH",
            detail={"party": party.pk, "expected": kind},
        )
    return party


# ---------------------------------------------------------------- rights shares


def _rights_input(actor: Actor, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    org = _require_org(actor)
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        with at(i):
            owner = org
            if item.get("owner") not in (None, ""):
                try:
                    owner = Organization.objects.get(pk=int(item["owner"]))
                except (Organization.DoesNotExist, TypeError, ValueError):
                    raise NotFound(
                        f"organisation {item['owner']} not found",
                        code="ORGANIZATION_NOT_FOUND",
                        detail={"field": "owner"},
                    ) from None
            with at("share_pct"):
                pct = _pct(item.get("share_pct"), allow_zero=False)
            with at("territories"):
                include = territories.normalize_territories(item.get("territories") or ["WORLD"])
            with at("exclude_territories"):
                exclude = territories.normalize_territories(item.get("exclude_territories") or [])
                if territories.WORLD in exclude:
                    raise territories.TerritoryError(
                        "WORLD cannot be excluded",
                        code="TERRITORY_INVALID",
                        detail={"value": "WORLD"},
                    )
            if not territories.effective_territories(include, exclude):
                raise ValidationError(
                    "the share covers no territory once exclusions are applied",
                    code="TERRITORY_EMPTY",
                    detail={"field": "territories"},
                )
            start, end = item.get("start"), item.get("end")
            if start and end and end < start:
                raise ValidationError(
                    "the period ends before it starts",
                    code="PERIOD_INVALID",
                    detail={"field": "end"},
                )
            usages = sorted(
                {str(u).strip().lower() for u in item.get("usage_types") or [] if str(u).strip()}
            )
            result.append(
                {
                    "owner": owner,
                    "share_pct": pct,
                    "territories": include,
                    "exclude_territories": exclude,
                    "start": start or None,
                    "end": end or None,
                    "usage_types": usages,
                }
            )
    specs = [
        conflict_rules.ShareSpec(
            id=i,
            **{k: v for k, v in r.items() if k != "owner" and k != "share_pct"},
            pct=r["share_pct"],
        )
        for i, r in enumerate(result)
    ]
    over = conflict_rules.find_conflicts(specs)
    if over:
        worst = max(over, key=lambda c: c.total_pct)
        raise ValidationError(
            f"these shares add up to {worst.total_pct}% in {', '.join(sorted(worst.territories)[:5])}"
            f"{'...' if len(worst.territories) > 5 else ''}",
            code="SHARES_EXCEED_100",
            detail={"total_pct": str(worst.total_pct), "shares": list(worst.share_ids)},
        )
    return result


def _replace_rights(
    actor: Actor, *, subject: Recording | Work, items: Sequence[Mapping[str, Any]]
) -> None:
    rows = _rights_input(actor, items)
    org = _require_org(actor)
    kwargs: dict[str, Any] = (
        {"recording": subject} if isinstance(subject, Recording) else {"work": subject}
    )
    # Shares that stay the same keep their rows (and so their place in past conflicts).
    existing: dict[tuple[Any, ...], list[RightsShare]] = {}
    for share in RightsShare.objects.filter(registered_by=org, **kwargs):
        existing.setdefault(_share_identity(share.__dict__ | {"owner": share.owner_id}), []).append(
            share
        )
    new = []
    for row in rows:
        kept = existing.get(_share_identity(row | {"owner": row["owner"].pk}))
        if kept:
            kept.pop()
        else:
            new.append(RightsShare(registered_by=org, **kwargs, **row))
    stale = [share.pk for shares in existing.values() for share in shares]
    RightsShare.objects.filter(pk__in=stale).delete()
    RightsShare.objects.bulk_create(new)


def _share_identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        row["owner"],
        Decimal(row["share_pct"]).normalize(),
        tuple(row["territories"]),
        tuple(row["exclude_territories"]),
        row["start"],
        row["end"],
        tuple(row["usage_types"]),
    )


def rights_snapshot(subject: Recording | Work) -> list[dict[str, Any]]:
    return [
        provenance.snapshot(share, exclude=("id", "recording", "work", "created_at"))
        for share in subject.rights.all()
    ]


def _subject_key(subject: Recording | Work) -> tuple[str, str]:
    if isinstance(subject, Recording):
        return OwnershipConflict.SubjectKind.RECORDING, subject.isrc or f"recording:{subject.pk}"
    return OwnershipConflict.SubjectKind.WORK, subject.iswc or f"work:{subject.pk}"


def _subject_shares(kind: str, key: str) -> list[RightsShare]:
    qs = RightsShare.objects.select_related("owner", "registered_by")
    if kind == OwnershipConflict.SubjectKind.RECORDING:
        qs = (
            qs.filter(recording__pk=int(key.split(":")[1]))
            if key.startswith("recording:")
            else qs.filter(recording__isrc=key, recording__status=Recording.Status.ACTIVE)
        )
    else:
        qs = (
            qs.filter(work__pk=int(key.split(":")[1]))
            if key.startswith("work:")
            else qs.filter(work__iswc=key)
        )
    return list(qs.order_by("id"))


def conflicts_refresh(*, actor: Actor, subject: Recording | Work) -> list[OwnershipConflict]:
    """Recompute the open conflicts of a recording (by ISRC) or work (by ISWC); return new ones."""
    kind, key = _subject_key(subject)
    shares = _subject_shares(kind, key)
    by_id = {s.pk: s for s in shares}
    found = conflict_rules.find_conflicts(
        conflict_rules.ShareSpec(
            id=s.pk,
            pct=s.share_pct,
            territories=s.territories,
            exclude_territories=s.exclude_territories,
            start=s.start,
            end=s.end,
            usage_types=s.usage_types,
        )
        for s in shares
    )
    wanted = {
        hashlib.sha256(",".join(map(str, c.share_ids)).encode()).hexdigest(): c for c in found
    }
    open_conflicts = OwnershipConflict.objects.select_for_update().filter(
        subject_kind=kind, subject_key=key, status=OwnershipConflict.Status.OPEN
    )
    for conflict in open_conflicts:
        if conflict.share_set_key not in wanted:
            _conflict_resolve(actor, conflict)
        else:
            wanted.pop(conflict.share_set_key)
    created = []
    for set_key, spec in wanted.items():
        conflict = OwnershipConflict.objects.create(
            subject_kind=kind,
            subject_key=key,
            share_set_key=set_key,
            territories=sorted(spec.territories),
            usage_types=sorted(spec.usage_types),
            start=spec.start,
            end=spec.end,
            total_pct=spec.total_pct,
        )
        members = [by_id[i] for i in spec.share_ids]
        conflict.shares.set(members)
        conflict.organizations.set(
            {s.owner_id for s in members} | {s.registered_by_id for s in members}
        )
        provenance.record(
            actor=actor,
            action="conflict.detect",
            obj=conflict,
            after={
                "subject": f"{kind}:{key}",
                "shares": list(spec.share_ids),
                "total_pct": str(spec.total_pct),
                "territories": sorted(spec.territories),
            },
        )
        from review.services import review_open_for_conflict

        review_open_for_conflict(conflict=conflict, actor=actor)
        created.append(conflict)
    return created


def _conflict_resolve(actor: Actor, conflict: OwnershipConflict) -> None:
    """The shares no longer exceed 100%: close the conflict and its review item."""
    conflict.status = OwnershipConflict.Status.RESOLVED
    conflict.resolved_at = timezone.now()
    conflict.save(update_fields=["status", "resolved_at"])
    provenance.record(
        actor=actor, action="conflict.resolve", obj=conflict, after={"status": "resolved"}
    )
    from review.services import review_close_for_conflict

    review_close_for_conflict(conflict=conflict, actor=actor)


# ---------------------------------------------------------------- works


def _writers_input(actor: Actor, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    total = Decimal(0)
    for i, item in enumerate(items):
        with at("writers", i):
            with at("party"):
                party = party_resolve(actor=actor, ref=item.get("party"))
            role = item.get("role") or WorkWriter.Role.COMPOSER
            if role not in WorkWriter.Role.values:
                raise ValidationError(
                    f"role must be one of {', '.join(WorkWriter.Role.values)}",
                    code="ROLE_INVALID",
                    detail={"field": "role", "value": role},
                )
            with at("share_pct"):
                pct = _pct(item.get("share_pct", 0))
            involvement = _choice(item, "involvement", Involvement, "human", "INVOLVEMENT_INVALID")
        total += pct
        rows.append({"party": party, "role": role, "share_pct": pct, "involvement": involvement})
    if total > 100:
        raise ValidationError(
            f"writers' shares add up to {total}%, over 100%",
            code="SHARES_EXCEED_100",
            detail={"field": "writers", "total_pct": str(total)},
        )
    return rows


def work_snapshot(work: Work) -> dict[str, Any]:
    data = provenance.snapshot(work)
    data["writers"] = [provenance.snapshot(w, exclude=("id", "work")) for w in work.writers.all()]
    data["rights"] = rights_snapshot(work)
    return data


_WORK_UNIQUE = {"work_unique_iswc": ("WORK_EXISTS", "a work with this ISWC exists", "iswc")}


@transaction.atomic
def work_create(*, actor: Actor, data: Mapping[str, Any]) -> Work:
    org = _require_org(actor)
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationError("a work needs a title", code="REQUIRED", detail={"field": "title"})
    with at("iswc"):
        iswc = _optional_id("iswc", data.get("iswc"))
    writers = _writers_input(actor, data.get("writers") or [])
    work = Work(organization=org, title=title, iswc=iswc)
    _save_unique(work, _WORK_UNIQUE)
    WorkWriter.objects.bulk_create(WorkWriter(work=work, **row) for row in writers)
    if data.get("rights"):
        with at("rights"):
            _replace_rights(actor, subject=work, items=data["rights"])
    provenance.record(actor=actor, action="work.create", obj=work, after=work_snapshot(work))
    conflicts_refresh(actor=actor, subject=work)
    return work


@transaction.atomic
def work_update(*, actor: Actor, work: Work, data: Mapping[str, Any]) -> Work:
    work = Work.objects.select_for_update().get(pk=work.pk)
    before = work_snapshot(work)
    old_key = _subject_key(work)
    if "title" in data:
        work.title = str(data["title"] or "").strip() or work.title
    if "iswc" in data:
        with at("iswc"):
            work.iswc = _optional_id("iswc", data["iswc"])
    _save_unique(work, _WORK_UNIQUE)
    if "writers" in data:
        rows = _writers_input(actor, data["writers"] or [])
        work.writers.all().delete()
        WorkWriter.objects.bulk_create(WorkWriter(work=work, **row) for row in rows)
    if "rights" in data:
        with at("rights"):
            _replace_rights(actor, subject=work, items=data["rights"] or [])
    provenance.record(
        actor=actor, action="work.update", obj=work, before=before, after=work_snapshot(work)
    )
    conflicts_refresh(actor=actor, subject=work)
    if old_key != _subject_key(work):
        _refresh_key(actor, *old_key)
    return work


def _refresh_key(actor: Actor, kind: str, key: str) -> None:
    """Refresh the conflicts a subject left behind when its ISRC/ISWC changed."""
    if kind == OwnershipConflict.SubjectKind.RECORDING:
        other = Recording.objects.filter(isrc=key).first() if ":" not in key else None
    else:
        other = Work.objects.filter(iswc=key).first() if ":" not in key else None  # type: ignore[assignment]
    if other is not None:
        conflicts_refresh(actor=actor, subject=other)
    else:
        for conflict in OwnershipConflict.objects.filter(
            subject_kind=kind, subject_key=key, status=OwnershipConflict.Status.OPEN
        ):
            _conflict_resolve(actor, conflict)


# ---------------------------------------------------------------- recordings


def _choice(data: Mapping[str, Any], key: str, choices: Any, default: str, code: str) -> str:
    value = data.get(key) or default
    if value not in choices.values:
        raise ValidationError(
            f"{key} must be one of {', '.join(choices.values)}",
            code=code,
            detail={"field": key, "value": value},
        )
    return str(value)


def _contributions_input(actor: Actor, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items):
        with at("contributions", i):
            with at("party"):
                party = party_resolve(actor=actor, ref=item.get("party"))
            rows.append(
                {
                    "party": party,
                    "role": _choice(item, "role", Contribution.Role, "", "ROLE_INVALID"),
                    "element": _choice(
                        item, "element", Contribution.Element, "", "ELEMENT_INVALID"
                    ),
                    "involvement": _choice(
                        item, "involvement", Involvement, "human", "INVOLVEMENT_INVALID"
                    ),
                }
            )
    return rows


def _seed(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = str(value).strip()
    if len(text) > 40:
        raise ValidationError(
            "a seed is at most 40 characters", code="SEED_INVALID", detail={"field": "seed"}
        )
    return text


def _generations_input(actor: Actor, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items):
        with at("generations", i):
            ai_system = None
            if item.get("ai_system") not in (None, ""):
                with at("ai_system"):
                    ai_system = party_resolve(
                        actor=actor, ref=item["ai_system"], kind=Party.Kind.AI_SYSTEM
                    )
            provider = str(item.get("provider") or "").strip()
            model_name = str(item.get("model_name") or "").strip()
            if not provider:
                raise ValidationError(
                    "a generation names its provider", code="REQUIRED", detail={"field": "provider"}
                )
            if not model_name:
                raise ValidationError(
                    "a generation names its model", code="REQUIRED", detail={"field": "model_name"}
                )
            parameters = item.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise ValidationError(
                    "parameters is a JSON object",
                    code="PARAMETERS_INVALID",
                    detail={"field": "parameters"},
                )
            output_sha256 = str(item.get("output_sha256") or "").strip().lower()
            if output_sha256 and (
                len(output_sha256) != 64 or any(c not in "0123456789abcdef" for c in output_sha256)
            ):
                raise ValidationError(
                    "output_sha256 is 64 hexadecimal characters",
                    code="SHA256_INVALID",
                    detail={"field": "output_sha256"},
                )
            inputs = []
            for j, ref in enumerate(item.get("input_recordings") or []):
                with at("input_recordings", j):
                    if isinstance(ref, Mapping):
                        with at("isrc"):
                            isrc = _optional_id("isrc", ref.get("isrc")) or ""
                        inputs.append(
                            {"recording": None, "isrc": isrc, "title": str(ref.get("title") or "")}
                        )
                    else:
                        recording = _get_owned(Recording, actor, ref, name="recording")
                        inputs.append(
                            {
                                "recording": recording,
                                "isrc": recording.isrc or "",
                                "title": recording.title,
                            }
                        )
            with at("seed"):
                seed = _seed(item.get("seed"))
            rows.append(
                {
                    "fields": {
                        "ai_system": ai_system,
                        "provider": provider,
                        "model_name": model_name,
                        "model_version": str(item.get("model_version") or ""),
                        "prompt": str(item.get("prompt") or ""),
                        "negative_prompt": str(item.get("negative_prompt") or ""),
                        "lyrics": str(item.get("lyrics") or ""),
                        "seed": seed,
                        "parameters": parameters,
                        "provider_job_id": str(item.get("provider_job_id") or ""),
                        "terms": str(item.get("terms") or ""),
                        "training_data": str(item.get("training_data") or ""),
                        "output_sha256": output_sha256,
                    },
                    "inputs": inputs,
                }
            )
    return rows


def _store_generations(actor: Actor, recording: Recording, rows: list[dict[str, Any]]) -> None:
    org = _require_org(actor)
    for i, row in enumerate(rows):
        generation = GenerationRecord(organization=org, recording=recording, **row["fields"])
        try:
            with transaction.atomic():
                generation.save()
        except IntegrityError:
            raise Conflict(
                "this provider job id is already registered",
                code="GENERATION_EXISTS",
                detail={"field": f"generations[{i}].provider_job_id"},
            ) from None
        GenerationInput.objects.bulk_create(
            GenerationInput(generation=generation, **inp) for inp in row["inputs"]
        )


def recording_snapshot(recording: Recording) -> dict[str, Any]:
    data = provenance.snapshot(recording)
    data["contributions"] = [
        provenance.snapshot(c, exclude=("id", "recording")) for c in recording.contributions.all()
    ]
    data["generations"] = [
        {
            **provenance.snapshot(g, exclude=("recording", "created_at")),
            "inputs": [
                provenance.snapshot(i, exclude=("id", "generation")) for i in g.inputs.all()
            ],
        }
        for g in recording.generations.all()
    ]
    data["rights"] = rights_snapshot(recording)
    return data


_RECORDING_UNIQUE = {
    "recording_unique_isrc": (
        "RECORDING_EXISTS",
        "you already registered a recording with this ISRC",
        "isrc",
    )
}


def _recording_fields(actor: Actor, data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "title" in data:
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValidationError(
                "a recording needs a title", code="REQUIRED", detail={"field": "title"}
            )
        fields["title"] = title
    if not partial or "isrc" in data:
        with at("isrc"):
            fields["isrc"] = _optional_id("isrc", data.get("isrc"))
    if not partial or "display_artist" in data:
        fields["display_artist"] = str(data.get("display_artist") or "")
    if not partial or "ai_disclosure" in data:
        fields["ai_disclosure"] = _choice(
            data, "ai_disclosure", Recording.AiDisclosure, "none", "AI_DISCLOSURE_INVALID"
        )
    if "work" in data:
        with at("work"):
            fields["work"] = (
                _get_owned(Work, actor, data["work"], name="work") if data["work"] else None
            )
    return fields


def recording_register(
    *, actor: Actor, data: Mapping[str, Any], audio: File | None = None
) -> Recording:
    """A recording with its contributions, generation records and rights shares; audio optional."""
    return recording_register_with_audio(actor=actor, data=data, audio=audio)[0]


def recording_register_with_audio(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    audio: File | None,
    stored: StoredAudio | None = None,
) -> tuple[Recording, dict[str, Any] | None]:
    """Register a recording and attach its audio in one transaction; also return the audio report.

    ``audio`` is stored first (outside the transaction); callers that stored it already pass
    ``stored`` instead.
    """
    if audio is not None:
        with at("audio"):
            stored = audio_store(audio)
    with transaction.atomic():
        recording = _recording_register(actor, data)
        report = _attach_stored(actor, recording, stored) if stored is not None else None
    return recording, report


def _recording_register(actor: Actor, data: Mapping[str, Any]) -> Recording:
    org = _require_org(actor)
    fields = _recording_fields(actor, data, partial=False)
    contributions = _contributions_input(actor, data.get("contributions") or [])
    generations = _generations_input(actor, data.get("generations") or [])
    recording = Recording(organization=org, **fields)
    _save_unique(recording, _RECORDING_UNIQUE)
    Contribution.objects.bulk_create(
        Contribution(recording=recording, **row) for row in contributions
    )
    _store_generations(actor, recording, generations)
    with at("rights"):
        _replace_rights(actor, subject=recording, items=data.get("rights") or [])
    provenance.record(
        actor=actor, action="recording.register", obj=recording, after=recording_snapshot(recording)
    )
    conflicts_refresh(actor=actor, subject=recording)
    return recording


@transaction.atomic
def recording_update(*, actor: Actor, recording: Recording, data: Mapping[str, Any]) -> Recording:
    """Change fields; lists given (contributions, generations, rights) replace the old ones."""
    recording = Recording.objects.select_for_update().get(pk=recording.pk)
    before = recording_snapshot(recording)
    old_key = _subject_key(recording)
    for key, value in _recording_fields(actor, data, partial=True).items():
        setattr(recording, key, value)
    _save_unique(recording, _RECORDING_UNIQUE)
    if "contributions" in data:
        rows = _contributions_input(actor, data["contributions"] or [])
        recording.contributions.all().delete()
        Contribution.objects.bulk_create(Contribution(recording=recording, **row) for row in rows)
    if "generations" in data:
        generation_rows = _generations_input(actor, data["generations"] or [])
        recording.generations.all().delete()
        _store_generations(actor, recording, generation_rows)
    if "rights" in data:
        with at("rights"):
            _replace_rights(actor, subject=recording, items=data["rights"] or [])
    provenance.record(
        actor=actor,
        action="recording.update",
        obj=recording,
        before=before,
        after=recording_snapshot(recording),
    )
    conflicts_refresh(actor=actor, subject=recording)
    if old_key != _subject_key(recording):
        _refresh_key(actor, *old_key)
    return recording


@transaction.atomic
def recording_withdraw(*, actor: Actor, recording: Recording) -> Recording:
    """Take a recording out of circulation: it stays in the log, leaves matching and conflicts."""
    recording = Recording.objects.select_for_update().get(pk=recording.pk)
    if recording.status == Recording.Status.WITHDRAWN:
        return recording
    recording.status = Recording.Status.WITHDRAWN
    recording.save(update_fields=["status", "updated_at"])
    from fingerprinting.index import remove as unindex

    unindex(recording.pk)
    provenance.record(
        actor=actor,
        action="recording.withdraw",
        obj=recording,
        before={"status": "active"},
        after={"status": "withdrawn"},
    )
    conflicts_refresh(actor=actor, subject=recording)
    return recording


@dataclass(frozen=True)
class StoredAudio:
    """An uploaded file, copied to storage under its content hash."""

    name: str
    sha256: str
    size_bytes: int
    filename: str


def _safe_filename(name: str) -> str:
    base = os.path.basename(name or "audio").replace("\x00", "")
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[-120:]
    return keep.lstrip(".") or "audio"


def audio_store(audio: File) -> StoredAudio:
    """Stream an upload to storage, content-addressed; run it outside any transaction.

    Copying a large file can take seconds: doing it before the transaction keeps the
    provenance lock free meanwhile. Identical audio is stored once, and no version is
    ever deleted, so every audio file the log names stays retrievable.
    """
    max_bytes = settings.STEMMA_MAX_AUDIO_BYTES
    if audio.size is not None and audio.size > max_bytes:
        raise PayloadTooLarge(
            f"audio is {audio.size} bytes; the limit is {max_bytes}",
            code="AUDIO_TOO_LARGE",
            detail={"size_bytes": audio.size, "max_bytes": max_bytes},
        )
    digest = hashlib.sha256()
    size = 0
    for chunk in audio.chunks():
        digest.update(chunk)
        size += len(chunk)
    audio.seek(0)
    sha256 = digest.hexdigest()
    filename = _safe_filename(audio.name or "audio")
    extension = os.path.splitext(filename)[1].lower()[:10]
    name = f"audio/{sha256[:2]}/{sha256}{extension}"
    storage = Recording._meta.get_field("audio").storage
    if not storage.exists(name):
        name = storage.save(name, audio)
    return StoredAudio(name=name, sha256=sha256, size_bytes=size, filename=filename)


def _attach_stored(actor: Actor, recording: Recording, stored: StoredAudio) -> dict[str, Any]:
    """Point the recording at stored audio and queue its fingerprint after commit."""
    recording = Recording.objects.select_for_update().get(pk=recording.pk)
    before = {
        "audio": recording.audio.name or "",
        "audio_sha256": recording.audio_sha256,
        "fingerprint_status": recording.fingerprint_status,
    }
    if recording.audio_sha256 and recording.audio_sha256 != stored.sha256:
        from fingerprinting.index import remove as unindex

        unindex(
            recording.pk
        )  # the old audio's postings; the new audio is indexed once fingerprinted
    recording.audio.name = stored.name
    recording.audio_filename = stored.filename
    recording.audio_sha256 = stored.sha256
    recording.audio_size_bytes = stored.size_bytes
    recording.duration_s = None
    recording.fingerprint_status = Recording.FingerprintStatus.PENDING
    recording.fingerprint_error = ""
    recording.fingerprint_error_message = ""
    recording.save()
    duplicates = list(
        Recording.objects.filter(audio_sha256=stored.sha256)
        .exclude(pk=recording.pk)
        .values_list("pk", "organization_id")
    )
    provenance.record(
        actor=actor,
        action="recording.attach_audio",
        obj=recording,
        before=before,
        after={
            "audio": stored.name,
            "audio_sha256": stored.sha256,
            "audio_size_bytes": stored.size_bytes,
            "audio_filename": stored.filename,
            "identical_audio_recordings": [pk for pk, _ in duplicates],
        },
    )
    from fingerprinting.tasks import fingerprint_recording

    recording_id = recording.pk
    transaction.on_commit(lambda: fingerprint_recording.delay(recording_id))
    own = recording.organization_id
    return {
        "audio_sha256": stored.sha256,
        "identical_audio": [pk for pk, org in duplicates if org == own],
        "identical_audio_elsewhere": any(org != own for _, org in duplicates),
    }


def recording_attach_audio(*, actor: Actor, recording: Recording, audio: File) -> dict[str, Any]:
    """Store new audio for a recording and queue its fingerprint.

    Returns what the caller should know: the recordings already holding identical audio
    (ids only within the caller's organisation).
    """
    return recording_attach_stored(actor=actor, recording=recording, stored=audio_store(audio))


def recording_attach_stored(
    *, actor: Actor, recording: Recording, stored: StoredAudio
) -> dict[str, Any]:
    """Attach audio already put in storage by :func:`audio_store` (the same report)."""
    with transaction.atomic():
        return _attach_stored(actor, recording, stored)


# ---------------------------------------------------------------- releases


def release_snapshot(release: Release) -> dict[str, Any]:
    data = provenance.snapshot(release)
    data["tracks"] = [
        {"position": t.position, "recording": t.recording_id} for t in release.tracks.all()
    ]
    return data


_RELEASE_UNIQUE = {
    "release_unique_upc": (
        "RELEASE_EXISTS",
        "you already registered a release with this UPC",
        "upc",
    )
}


def _release_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "title" in data:
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValidationError(
                "a release needs a title", code="REQUIRED", detail={"field": "title"}
            )
        fields["title"] = title
    if not partial or "upc" in data:
        with at("upc"):
            fields["upc"] = _optional_id("upc", data.get("upc"))
    if not partial or "release_type" in data:
        fields["release_type"] = _choice(
            data, "release_type", Release.Type, "album", "RELEASE_TYPE_INVALID"
        )
    for key in ("display_artist",):
        if not partial or key in data:
            fields[key] = str(data.get(key) or "")
    if not partial or "release_date" in data:
        fields["release_date"] = data.get("release_date") or None
    return fields


def _tracks(actor: Actor, release: Release, items: Sequence[Any]) -> None:
    seen: set[int] = set()
    for i, item in enumerate(items):
        with at("tracks", i):
            if isinstance(item, Mapping):
                recording = recording_register(actor=actor, data=item)
            else:
                recording = _get_owned(Recording, actor, item, name="recording")
            if recording.pk in seen:
                raise ValidationError(
                    f"recording {recording.pk} appears twice",
                    code="TRACK_DUPLICATE",
                    detail={"recording": recording.pk},
                )
            seen.add(recording.pk)
            ReleaseTrack.objects.create(release=release, recording=recording, position=i + 1)


@transaction.atomic
def release_register(*, actor: Actor, data: Mapping[str, Any]) -> Release:
    """A release with its tracks (existing recordings or new ones), all or nothing."""
    org = _require_org(actor)
    release = Release(organization=org, **_release_fields(data, partial=False))
    _save_unique(release, _RELEASE_UNIQUE)
    _tracks(actor, release, data.get("tracks") or [])
    provenance.record(
        actor=actor, action="release.register", obj=release, after=release_snapshot(release)
    )
    return release


@transaction.atomic
def release_update(*, actor: Actor, release: Release, data: Mapping[str, Any]) -> Release:
    release = Release.objects.select_for_update().get(pk=release.pk)
    before = release_snapshot(release)
    for key, value in _release_fields(data, partial=True).items():
        setattr(release, key, value)
    _save_unique(release, _RELEASE_UNIQUE)
    if "tracks" in data:
        release.tracks.all().delete()
        _tracks(actor, release, data["tracks"] or [])
    provenance.record(
        actor=actor,
        action="release.update",
        obj=release,
        before=before,
        after=release_snapshot(release),
    )
    return release


# ---------------------------------------------------------------- content credentials (C2PA)


def _signing_material() -> tuple[bytes, bytes]:
    cert, key = settings.STEMMA_C2PA_SIGNER_CERT, settings.STEMMA_C2PA_SIGNER_KEY
    if not cert or not key:
        raise DomainError(
            "no signing certificate is configured (STEMMA_C2PA_SIGNER_CERT, STEMMA_C2PA_SIGNER_KEY)",
            code="C2PA_NOT_CONFIGURED",
            status=409,
        )
    with open(cert, "rb") as chain, open(key, "rb") as private:
        return chain.read(), private.read()


def recording_manifest(recording: Recording) -> dict[str, Any]:
    """The C2PA manifest the registry signs into a recording's audio: what it knows, no names."""
    from fingerprinting import c2pa

    return c2pa.manifest_for_recording(
        title=recording.title,
        registry_url=f"{settings.STEMMA_PUBLIC_URL}/api/v1/recordings/{recording.pk}/",
        disclosure=recording.ai_disclosure,  # type: ignore[arg-type]
        contributions=[
            (c.party.name, c.role, c.element, c.involvement)
            for c in recording.contributions.select_related("party")
        ],
        ai_systems=[
            (g.ai_system.name if g.ai_system else g.provider, g.model_name, g.model_version)
            for g in recording.generations.select_related("ai_system")
        ],
    )


def recording_issue_credential(*, actor: Actor, recording: Recording) -> Recording:
    """Sign a C2PA manifest into a copy of the recording's audio and keep it beside the original."""
    import tempfile

    from fingerprinting import c2pa

    if not recording.audio:
        raise ValidationError(
            "the recording has no audio to sign", code="AUDIO_MISSING", detail={"field": "audio"}
        )
    chain, key = _signing_material()
    manifest = recording_manifest(recording)
    extension = os.path.splitext(recording.audio.name or "")[1].lower() or ".wav"
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, f"source{extension}")
        signed = os.path.join(folder, f"signed{extension}")
        with recording.audio.open("rb") as original, open(source, "wb") as copy:
            for chunk in original.chunks():
                copy.write(chunk)
        c2pa.sign(
            source, signed, manifest=manifest, signer_cert_chain_pem=chain, signer_key_pem=key
        )
        with open(signed, "rb") as handle:
            sha256 = hashlib.sha256(handle.read()).hexdigest()
            handle.seek(0)
            storage = Recording._meta.get_field("credential").storage
            name = storage.save(f"credentials/{sha256[:2]}/{sha256}{extension}", File(handle))
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        before = {
            "credential": recording.credential.name or "",
            "sha256": recording.credential_sha256,
        }
        recording.credential.name = name
        recording.credential_sha256 = sha256
        recording.credential_issued_at = timezone.now()
        recording.save(update_fields=["credential", "credential_sha256", "credential_issued_at"])
        provenance.record(
            actor=actor,
            action="recording.issue_credential",
            obj=recording,
            before=before,
            after={"credential": name, "sha256": sha256, "manifest": manifest},
        )
    return recording
