"""The provenance log: every write appends a chained event; tampering is found and named."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from common.errors import DomainError
from registry import provenance, services
from registry.models import Party, ProvenanceEvent
from registry.provenance import Actor

pytestmark = pytest.mark.django_db


def _party(client, name="Ada", **extra):
    response = client.post("/api/v1/parties/", {"name": name, "kind": "person", **extra})
    assert response.status_code == 201, response.json()
    return response.json()


def _tamper(sql: str, params: list) -> None:
    """What an attacker with database access does: bypass the append-only trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_every_write_appends_an_event_with_actor_and_before_after(label):
    party = _party(label, "Ada Lovelace")
    response = label.patch(f"/api/v1/parties/{party['id']}/", {"name": "Ada King"})
    assert response.status_code == 200

    events = list(provenance.history(Party.objects.get(pk=party["id"])))
    assert [e.action for e in events] == ["party.create", "party.update"]
    created, updated = events
    assert created.actor_user == label.user.username
    assert created.actor_organization == label.organization.name
    assert created.before is None and created.after["name"] == "Ada Lovelace"
    assert updated.before["name"] == "Ada Lovelace" and updated.after["name"] == "Ada King"
    assert updated.prev_hash == created.hash
    assert len(updated.hash) == 64


def test_a_rejected_write_leaves_no_event(label):
    before = ProvenanceEvent.objects.count()
    response = label.post(
        "/api/v1/parties/", {"name": "Bad", "kind": "person", "ipi": "00052210041"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "IPI_INVALID"
    assert ProvenanceEvent.objects.count() == before


def test_events_roll_back_with_the_change(label):
    actor = Actor.for_user(label.user)
    before = ProvenanceEvent.objects.count()
    with pytest.raises(DomainError), transaction.atomic():
        services.party_create(actor=actor, data={"name": "Kept?", "kind": "person"})
        raise DomainError("boom")
    assert ProvenanceEvent.objects.count() == before
    assert not Party.objects.filter(name="Kept?").exists()


def test_record_refuses_to_run_outside_a_transaction(label):
    # pytest-django wraps each test in a transaction; leave it to see the guard.
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        connection.in_atomic_block = False
        try:
            provenance.record(actor=Actor.system(), action="x", object_type="t", object_id=1)
        finally:
            connection.in_atomic_block = True


def test_verify_passes_on_an_intact_chain(label, capsys):
    for i in range(3):
        _party(label, f"Writer {i}")
    call_command("verify_provenance")
    assert "provenance chain intact" in capsys.readouterr().out
    assert provenance.first_break() is None


def test_verify_names_the_first_event_whose_content_was_changed(label):
    for i in range(4):
        _party(label, f"Writer {i}")
    events = list(ProvenanceEvent.objects.order_by("id"))
    victim = events[-3]
    _tamper(
        "UPDATE registry_provenanceevent SET after = %s WHERE id = %s",
        ['{"name": "Someone Else"}', victim.pk],
    )
    with pytest.raises(CommandError) as error:
        call_command("verify_provenance")
    assert f"event {victim.pk}" in str(error.value)
    assert "content does not match its hash" in str(error.value)


def test_verify_catches_a_rehashed_forgery_at_the_next_event(label):
    for i in range(4):
        _party(label, f"Writer {i}")
    events = list(ProvenanceEvent.objects.order_by("id"))
    victim, following = events[-3], events[-2]
    victim.after = {"name": "Someone Else"}
    forged_hash = provenance.compute_hash(victim)
    _tamper(
        "UPDATE registry_provenanceevent SET after = %s, hash = %s WHERE id = %s",
        ['{"name": "Someone Else"}', forged_hash, victim.pk],
    )
    broken = provenance.first_break()
    assert broken is not None
    assert broken.event_id == following.pk
    assert "prev_hash" in broken.reason


def test_verify_catches_a_deleted_event(label):
    for i in range(4):
        _party(label, f"Writer {i}")
    events = list(ProvenanceEvent.objects.order_by("id"))
    _tamper("DELETE FROM registry_provenanceevent WHERE id = %s", [events[-2].pk])
    broken = provenance.first_break()
    assert broken is not None and broken.event_id == events[-1].pk


def test_the_database_refuses_updates_and_deletes_of_events(label):
    _party(label)
    event = ProvenanceEvent.objects.order_by("-id").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ProvenanceEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ProvenanceEvent.objects.filter(pk=event.pk).delete()
    assert ProvenanceEvent.objects.get(pk=event.pk).action == "party.create"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(make_org):
    orgs = [make_org("label"), make_org("label")]
    errors: list[BaseException] = []

    def write(client):
        try:
            actor = Actor.for_user(client.user)
            for i in range(15):
                services.party_create(actor=actor, data={"name": f"P{i}", "kind": "person"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(org,)) for org in orgs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Party.objects.count() == 30
    hashes = list(ProvenanceEvent.objects.order_by("id").values_list("prev_hash", "hash"))
    assert len({prev for prev, _ in hashes}) == len(hashes)  # nobody chained to the same parent
    assert provenance.first_break() is None
