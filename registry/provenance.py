"""The tamper-evident provenance log: append events in the caller's transaction, verify the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.forms.models import model_to_dict
from django.utils import timezone

from .models import Organization, ProvenanceEvent, User

GENESIS_HASH = "0" * 64
# Any constant: serialises appends so each event chains to the one committed before it.
_ADVISORY_LOCK_KEY = 0x5354454D4D41  # "STEMMA"


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a user of an organisation, or the system itself."""

    user: User | None = None
    organization: Organization | None = None
    label: str = ""

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(user=user, organization=user.organization)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)

    @property
    def username(self) -> str:
        return self.user.get_username() if self.user is not None else self.label

    @property
    def organization_name(self) -> str:
        return self.organization.name if self.organization is not None else ""


def jsonable(value: Any) -> Any:
    """The JSON form a value has once stored (decimals, dates and UUIDs become strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model's concrete fields as JSON-ready data (foreign keys by id, files by name)."""
    data = model_to_dict(instance, exclude=list(exclude))
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        if isinstance(field, models.FileField):
            data[field.name] = getattr(instance, field.attname).name or ""
        elif field.name not in data:
            data[field.name] = getattr(instance, field.attname)
    for field in instance._meta.many_to_many:
        data.pop(field.name, None)
    return jsonable(data)


def canonical_content(event: ProvenanceEvent) -> bytes:
    payload = {
        "created_at": event.created_at.isoformat(),
        "actor_user": event.actor_user,
        "actor_organization": event.actor_organization,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: ProvenanceEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
) -> ProvenanceEvent:
    """Append one event; must run inside the transaction that makes the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("provenance.record() must run inside the change's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    _lock_chain()
    last = ProvenanceEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = ProvenanceEvent(
        created_at=timezone.now(),
        actor_user=actor.username,
        actor_organization=actor.organization_name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=jsonable(before),
        after=jsonable(after),
        prev_hash=last or GENESIS_HASH,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def iter_breaks(batch_size: int = 2000) -> Iterator[ChainBreak]:
    """Recompute every hash in order; yield each event where the chain does not hold."""
    expected_prev = GENESIS_HASH
    for event in ProvenanceEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            yield ChainBreak(event.pk, "prev_hash does not match the previous event's hash")
        elif compute_hash(event) != event.hash:
            yield ChainBreak(event.pk, "content does not match its hash")
        expected_prev = event.hash


def first_break() -> ChainBreak | None:
    return next(iter_breaks(), None)


def history(obj: models.Model) -> models.QuerySet[ProvenanceEvent]:
    return ProvenanceEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("id")
