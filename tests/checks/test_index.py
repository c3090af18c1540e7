"""The index in PostgreSQL: registering indexes, withdrawing removes, `reindex` rebuilds the same."""

from __future__ import annotations

from io import StringIO

import numpy as np
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fingerprinting import chromaprint, index, matching
from fingerprinting.models import Fingerprint, IndexedRecording, IndexTerm
from registry import services as registry_services
from registry.models import Recording
from registry.provenance import Actor

from .conftest import register_recording


def postings() -> set[tuple[int, int, int]]:
    return set(IndexTerm.objects.values_list("key", "recording_id", "position"))


def entries() -> dict[int, tuple[str, str, int]]:
    return {
        e.recording_id: (e.audio_sha256, e.algorithm, e.term_count)
        for e in IndexedRecording.objects.all()
    }


def primary_key() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [IndexTerm._meta.db_table],
        )
        return cursor.fetchall()


def items_of(recording_id: int) -> np.ndarray:
    sha = Recording.objects.get(pk=recording_id).audio_sha256
    return chromaprint.from_bytes(bytes(Fingerprint.objects.get(audio_sha256=sha).items))


def rows_of(postings: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[tuple[int, int, int]]:
    return sorted(zip(*(column.tolist() for column in postings), strict=True))


def register_three(label, audio, committed) -> list[int]:
    with committed():
        ids = [
            register_recording(label, path, {"title": title})["id"]
            for title, path in [
                ("Aurora", audio.reference),
                ("Decoy", audio.decoy),
                ("Tunesmith job", audio.ai_song),
            ]
        ]
    assert set(Recording.objects.values_list("fingerprint_status", flat=True)) == {"done"}
    return ids


def test_registering_indexes_and_withdrawing_removes(make_org, audio, committed):
    label = make_org("label")
    aurora, decoy, song = register_three(label, audio, committed)

    keys, positions = matching.index_terms(items_of(aurora))
    assert {(k, p) for k, _, p in postings() if _ == aurora} == set(
        zip(keys.tolist(), positions.tolist(), strict=True)
    )
    assert entries()[aurora][1:] == (
        matching.ALGORITHM_VERSION,
        len(set(zip(keys, positions, strict=True))),
    )
    found = matching.search(items_of(aurora)[100:250], index.DatabaseIndex())
    assert [m.ref_id for m in found] == [aurora]

    registry_services.recording_withdraw(
        actor=Actor.system("test"), recording=Recording.objects.get(pk=decoy)
    )

    assert {rec for _, rec, _ in postings()} == {aurora, song}
    assert set(entries()) == {aurora, song}
    assert matching.search(items_of(decoy), index.DatabaseIndex()) == []


def test_reindex_rebuilds_the_same_index_and_keeps_its_primary_key(make_org, audio, committed):
    label = make_org("label")
    aurora, decoy, _ = register_three(label, audio, committed)
    registry_services.recording_withdraw(
        actor=Actor.system("test"), recording=Recording.objects.get(pk=decoy)
    )
    before, before_entries, before_key = postings(), entries(), primary_key()
    IndexTerm.objects.filter(recording_id=aurora).delete()  # damage it

    out = StringIO()
    call_command("reindex", stdout=out)

    assert postings() == before
    assert entries() == before_entries
    assert primary_key() == before_key
    assert before_key[0][1] == 'PRIMARY KEY (key, recording_id, "position")'
    assert f"indexed 2 recordings, {len(before)} terms" in out.getvalue()
    found = matching.search(items_of(aurora)[100:250], index.DatabaseIndex())
    assert [m.ref_id for m in found] == [aurora]


def test_changes_made_while_the_index_was_built_are_put_right(make_org, audio, committed):
    label = make_org("label")
    aurora, decoy, song = register_three(label, audio, committed)
    # As if, while the shadow table was loading: the decoy was withdrawn after it had been
    # loaded, and the song registered after the list of recordings had been read.
    built = {pk: (sha, n) for pk, (sha, _, n) in entries().items() if pk != song}
    registry_services.recording_withdraw(
        actor=Actor.system("test"), recording=Recording.objects.get(pk=decoy)
    )
    index.remove(song)
    IndexedRecording.objects.all().delete()
    IndexTerm.objects.all().delete()
    IndexedRecording.objects.bulk_create(
        IndexedRecording(
            recording_id=pk, audio_sha256=sha, algorithm=matching.ALGORITHM_VERSION, term_count=n
        )
        for pk, (sha, n) in built.items()
    )
    for pk in built:
        keys, positions = index._terms(items_of(pk))
        index._insert_terms(pk, keys, positions)

    delta = index._reconcile(built)

    assert set(entries()) == {aurora, song}
    assert {rec for _, rec, _ in postings()} == {aurora, song}
    assert delta == entries()[song][2] - built[decoy][1]


def test_reindex_outside_a_transaction_vacuums_the_new_table(
    transactional_db, make_org, audio, committed
):
    # As the command runs in production (autocommit): VACUUM sets the visibility map,
    # so that lookups are index-only scans from the first one.
    label = make_org("label")
    register_three(label, audio, committed)
    before = postings()

    call_command("reindex", stdout=StringIO())

    assert postings() == before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relid = %s::regclass",
            [IndexTerm._meta.db_table],
        )
        assert cursor.fetchone() == (True, True)


def test_postings_of_several_key_sets_come_from_one_query_and_match_each_sets_own(db):
    int4_min, int4_max = -(2**31), 2**31 - 1
    rows = [
        (int4_min, 1, 0),
        (-5, 1, 3),
        (-5, 2, 3),  # one key, several recordings and positions
        (-5, 2, 900),
        (0, 3, 7),
        (7, 2_000_000_000, 1),
        (int4_max, 3, 65_000),
    ]
    IndexTerm.objects.bulk_create(IndexTerm(key=k, recording_id=r, position=p) for k, r, p in rows)
    key_sets = [
        np.array([-5, 7, int4_max], dtype=np.int32),
        np.array([7, 7, 0, 12345], dtype=np.int32),  # repeated, and a key nobody has
        np.zeros(0, dtype=np.int32),
        np.array([int4_min], dtype=np.int32),
    ]
    database_index = index.DatabaseIndex()

    with CaptureQueriesContext(connection) as queries:
        together = matching.postings_for_each(database_index, key_sets)
    one_by_one = [database_index.postings(keys) for keys in key_sets]

    assert len(queries) == 1
    expected = [sorted(r for r in rows if r[0] in keys.tolist()) for keys in key_sets]
    assert [rows_of(found) for found in together] == expected
    assert [rows_of(found) for found in one_by_one] == expected
    assert {column.dtype for found in together + one_by_one for column in found} == {
        np.dtype(np.int32)
    }
    assert len(expected[0]) == 5 and expected[2] == []
