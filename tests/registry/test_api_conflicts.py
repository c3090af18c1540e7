"""Ownership conflicts end to end: detection across organisations, visibility, resolution."""

from __future__ import annotations

import pytest

from registry.models import OwnershipConflict, ProvenanceEvent

from .factories import assert_error, create_work, expect, get, ids, patch, register_recording

pytestmark = pytest.mark.django_db

URL = "/api/v1/conflicts/"
ISRC = "GBAAA2630001"


def world(pct, **extra):
    return {"share_pct": pct, "territories": ["WORLD"], **extra}


@pytest.fixture
def clash(label, other_label):
    """Label A: 100% WORLD. Label B: the same ISRC, 50% in France."""
    a = register_recording(label, title="Tide", isrc=ISRC, rights=[world("100")])
    b = register_recording(
        other_label,
        title="Tide",
        isrc="GB-AAA-26-30001",
        rights=[{"share_pct": "50", "territories": ["FR"]}],
    )
    return a, b


def test_both_labels_see_one_open_conflict(label, other_label, clash):
    a, b = clash

    seen_by_a = get(label, URL)
    seen_by_b = get(other_label, URL)

    assert seen_by_a == seen_by_b
    assert seen_by_a["count"] == 1
    conflict = seen_by_a["results"][0]
    a_share, b_share = a["rights"][0], b["rights"][0]
    assert {k: v for k, v in conflict.items() if k not in ("id", "detected_at")} == {
        "status": "open",
        "subject_kind": "recording",
        "subject_key": ISRC,
        "total_pct": "150.000",
        "territories": ["FR"],
        "usage_types": ["*"],
        "start": None,
        "end": None,
        "shares": [
            {
                "id": a_share["id"],
                "owner": label.organization.pk,
                "owner_name": "Northern Lights Records",
                "registered_by": label.organization.pk,
                "share_pct": "100.000",
                "territories": ["WORLD"],
                "exclude_territories": [],
                "start": None,
                "end": None,
                "usage_types": [],
            },
            {
                "id": b_share["id"],
                "owner": other_label.organization.pk,
                "owner_name": "Southern Cross Music",
                "registered_by": other_label.organization.pk,
                "share_pct": "50.000",
                "territories": ["FR"],
                "exclude_territories": [],
                "start": None,
                "end": None,
                "usage_types": [],
            },
        ],
        "organizations": [
            {"id": label.organization.pk, "name": "Northern Lights Records"},
            {"id": other_label.organization.pk, "name": "Southern Cross Music"},
        ],
        "resolved_at": None,
    }
    assert get(label, f"{URL}{conflict['id']}/") == conflict
    assert get(label, "/api/v1/me/")["open_conflicts"] == 1
    assert get(other_label, "/api/v1/me/")["open_conflicts"] == 1


def test_an_unrelated_organisation_sees_no_conflict(make_org, clash):
    stranger = make_org("label")
    conflict = OwnershipConflict.objects.get()

    assert get(stranger, URL) == {"count": 0, "next": None, "previous": None, "results": []}
    assert_error(stranger.get(f"{URL}{conflict.pk}/"), 404, "CONFLICT_NOT_FOUND")
    assert get(stranger, "/api/v1/me/")["open_conflicts"] == 0


def test_an_operator_sees_every_conflict(operator, clash):
    conflict = OwnershipConflict.objects.get()

    assert ids(get(operator, URL)) == [conflict.pk]
    assert get(operator, f"{URL}{conflict.pk}/")["total_pct"] == "150.000"


def test_conflicts_are_read_only(label, clash):
    conflict = OwnershipConflict.objects.get()
    url = f"{URL}{conflict.pk}/"

    assert_error(label.patch(url, {"status": "resolved"}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert_error(label.put(url, {"status": "resolved"}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert_error(label.delete(url), 405, "METHOD_NOT_ALLOWED")
    assert_error(label.post(URL, {}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert get(label, url)["status"] == "open"


def test_the_conflict_is_recorded_in_provenance(label, clash):
    conflict = OwnershipConflict.objects.get()
    a, b = clash

    event = ProvenanceEvent.objects.get(action="conflict.detect")
    assert event.object_id == str(conflict.pk)
    assert event.actor_organization == "Southern Cross Music"
    assert event.after == {
        "subject": f"recording:{ISRC}",
        "shares": [a["rights"][0]["id"], b["rights"][0]["id"]],
        "total_pct": "150.000",
        "territories": ["FR"],
    }


def test_shares_in_disjoint_territories_do_not_conflict(label, other_label):
    register_recording(label, isrc=ISRC, rights=[{"share_pct": "100", "territories": ["US"]}])
    register_recording(other_label, isrc=ISRC, rights=[{"share_pct": "100", "territories": ["FR"]}])

    assert get(label, URL)["count"] == 0
    assert get(other_label, URL)["count"] == 0
    assert OwnershipConflict.objects.count() == 0


def test_world_minus_a_country_does_not_conflict_with_that_country(label, other_label):
    register_recording(label, isrc=ISRC, rights=[world("100", exclude_territories=["FR"])])
    register_recording(other_label, isrc=ISRC, rights=[{"share_pct": "100", "territories": ["FR"]}])

    assert get(label, URL)["count"] == 0


def test_shares_in_disjoint_periods_do_not_conflict(label, other_label):
    register_recording(label, isrc=ISRC, rights=[world("100", end="2025-12-31")])
    register_recording(other_label, isrc=ISRC, rights=[world("100", start="2026-01-01")])

    assert get(label, URL)["count"] == 0
    assert OwnershipConflict.objects.count() == 0


def test_periods_overlapping_by_one_day_conflict_on_that_day(label, other_label):
    register_recording(label, isrc=ISRC, rights=[world("100", end="2026-01-01")])
    register_recording(other_label, isrc=ISRC, rights=[world("100", start="2026-01-01")])

    conflict = get(label, URL)["results"][0]
    assert (conflict["start"], conflict["end"], conflict["total_pct"]) == (
        "2026-01-01",
        "2026-01-01",
        "200.000",
    )


def test_shares_for_different_usages_do_not_conflict(label, other_label):
    register_recording(label, isrc=ISRC, rights=[world("100", usage_types=["stream"])])
    register_recording(other_label, isrc=ISRC, rights=[world("100", usage_types=["download"])])

    assert get(label, URL)["count"] == 0


def test_shares_adding_to_exactly_100_do_not_conflict(label, other_label):
    register_recording(label, isrc=ISRC, rights=[world("60")])
    register_recording(other_label, isrc=ISRC, rights=[world("40")])

    assert get(label, URL)["count"] == 0


def test_withdrawing_one_recording_resolves_the_conflict(label, other_label, clash):
    _, b = clash
    conflict_id = get(label, URL)["results"][0]["id"]

    expect(other_label.delete(f"/api/v1/recordings/{b['id']}/"), 200)

    conflict = get(label, f"{URL}{conflict_id}/")
    assert conflict["status"] == "resolved"
    assert conflict["resolved_at"] is not None
    assert ids(get(label, URL, status="resolved")) == [conflict_id]
    assert get(label, URL, status="open")["count"] == 0
    assert get(other_label, f"{URL}{conflict_id}/")["status"] == "resolved"  # still involved
    assert get(label, "/api/v1/me/")["open_conflicts"] == 0


def test_lowering_a_share_to_make_100_resolves_the_conflict(label, clash):
    a, _ = clash

    patch(label, f"/api/v1/recordings/{a['id']}/", {"rights": [world("50")]})

    assert [(c["status"], c["total_pct"]) for c in get(label, URL)["results"]] == [
        ("resolved", "150.000")
    ]


def test_a_changed_conflict_replaces_the_old_one(label, other_label, clash):
    _, b = clash
    old_id = get(label, URL)["results"][0]["id"]

    patch(
        other_label,
        f"/api/v1/recordings/{b['id']}/",
        {"rights": [{"share_pct": "30", "territories": ["FR", "DE"]}]},
    )

    conflicts = {c["id"]: c for c in get(label, URL)["results"]}
    assert conflicts[old_id]["status"] == "resolved"
    (new,) = [c for c in conflicts.values() if c["status"] == "open"]
    assert (new["total_pct"], new["territories"]) == ("130.000", ["DE", "FR"])


def test_changing_the_isrc_away_resolves_the_conflict(label, other_label, clash):
    _, b = clash

    patch(other_label, f"/api/v1/recordings/{b['id']}/", {"isrc": "GBAAA2630002"})

    assert [c["status"] for c in get(label, URL)["results"]] == ["resolved"]


def test_a_request_whose_own_shares_exceed_100_is_refused(label):
    response = label.post(
        "/api/v1/recordings/",
        {
            "title": "Greedy",
            "isrc": ISRC,
            "rights": [world("70"), {"share_pct": "40", "territories": ["FR", "DE"]}],
        },
        format="json",
    )

    body = assert_error(response, 400, "SHARES_EXCEED_100", field="rights")
    assert body["detail"]["total_pct"] == "110.000"
    assert body["detail"]["shares"] == [0, 1]
    assert body["message"] == "these shares add up to 110.000% in DE, FR"
    assert get(label, "/api/v1/recordings/")["count"] == 0
    assert OwnershipConflict.objects.count() == 0


def test_a_patch_whose_own_shares_exceed_100_keeps_the_old_shares(label):
    recording = register_recording(label, isrc=ISRC, rights=[world("100")])

    response = label.patch(
        f"/api/v1/recordings/{recording['id']}/",
        {"rights": [world("60"), world("60", usage_types=["stream"])]},
        format="json",
    )

    body = assert_error(response, 400, "SHARES_EXCEED_100", field="rights")
    assert body["detail"]["total_pct"] == "120.000"
    assert get(label, f"/api/v1/recordings/{recording['id']}/")["rights"] == recording["rights"]


def test_list_filters_by_subject_kind(label, clash):
    assert get(label, URL, subject_kind="recording")["count"] == 1
    assert get(label, URL, subject_kind="work")["count"] == 0


def test_works_with_the_same_iswc_over_100_percent_conflict(label, other_label, make_org):
    create_work(label, iswc="T-034.524.680-1", rights=[world("100")])
    create_work(
        other_label, iswc="T0345246801", rights=[{"share_pct": "25", "territories": ["JP"]}]
    )

    (conflict,) = get(other_label, URL)["results"]
    assert (conflict["subject_kind"], conflict["subject_key"]) == ("work", "T0345246801")
    assert (conflict["total_pct"], conflict["territories"]) == ("125.000", ["JP"])
    assert get(label, URL, subject_kind="work")["count"] == 1
    assert get(make_org("label"), URL)["count"] == 0


def test_an_owner_that_registered_nothing_is_involved_too(label, other_label, make_org):
    register_recording(
        label, isrc=ISRC, rights=[world("70"), world("30", owner=other_label.organization.pk)]
    )
    third = make_org("label", "Third Label")

    register_recording(third, isrc=ISRC, rights=[{"share_pct": "10", "territories": ["IT"]}])

    (conflict,) = get(other_label, URL)["results"]
    assert conflict["total_pct"] == "110.000"
    assert conflict["territories"] == ["IT"]
    assert sorted(o["name"] for o in conflict["organizations"]) == [
        "Northern Lights Records",
        "Southern Cross Music",
        "Third Label",
    ]
    assert [(sh["owner"], sh["registered_by"]) for sh in conflict["shares"]] == [
        (label.organization.pk, label.organization.pk),
        (other_label.organization.pk, label.organization.pk),
        (third.organization.pk, third.organization.pk),
    ]


def test_restating_unchanged_shares_keeps_the_conflict_and_its_shares(label, other_label, clash):
    _, b = clash
    before = get(other_label, URL)["results"][0]

    patch(
        other_label,
        f"/api/v1/recordings/{b['id']}/",
        {"title": "Tide (remastered)", "rights": [{"share_pct": "50.000", "territories": ["fr"]}]},
    )

    after = get(other_label, URL)
    assert after["count"] == 1
    conflict = after["results"][0]
    assert conflict["id"] == before["id"] and conflict["status"] == "open"
    assert [s["id"] for s in conflict["shares"]] == [s["id"] for s in before["shares"]]
