"""Parties end to end: identifiers, duplicates, filters, pagination, updates, isolation."""

from __future__ import annotations

import pytest

from registry.models import Party, ProvenanceEvent

from .factories import (
    DPID,
    DPID_2,
    IPI,
    IPI_2,
    ISNI,
    ISNI_2,
    assert_error,
    create_party,
    expect,
    get,
    ids,
    patch,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/parties/"


def test_create_a_party_with_valid_identifiers(label):
    response = label.post(
        URL,
        {"name": "Mara Vale", "kind": "person", "ipi": IPI, "isni": ISNI, "dpid": DPID},
        format="json",
    )

    body = expect(response, 201)
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Mara Vale",
        "kind": "person",
        "ipi": "00052210040",
        "isni": "000000012281955X",
        "dpid": "PADPIDA2014122301Q",
    }
    assert expect(label.get(f"{URL}{body['id']}/"), 200) == body
    party = Party.objects.get(pk=body["id"])
    assert party.organization == label.organization


def test_identifiers_are_stored_in_their_canonical_form(label):
    body = create_party(
        label, name="Mara Vale", ipi="000 522 100 40", isni="0000 0001 2281 955x", dpid=""
    )

    assert (body["ipi"], body["isni"], body["dpid"]) == ("00052210040", "000000012281955X", None)


def test_create_records_provenance(label):
    body = create_party(label, name="Mara Vale", ipi=IPI)

    event = ProvenanceEvent.objects.get(object_type="registry.party", object_id=str(body["id"]))
    assert event.action == "party.create"
    assert event.actor_organization == "Northern Lights Records"
    assert event.after["ipi"] == IPI


def test_kind_defaults_to_person_and_accepts_ai_systems(label):
    assert create_party(label, name="Someone", kind="person")["kind"] == "person"
    assert expect(label.post(URL, {"name": "Nobody"}, format="json"), 201)["kind"] == "person"
    assert create_party(label, name="Tonewright v3", kind="ai_system")["kind"] == "ai_system"


@pytest.mark.parametrize(
    ("field", "value", "code", "reason"),
    [
        ("ipi", "00052210041", "IPI_INVALID", "check_digit"),
        ("ipi", "52210040", "IPI_INVALID", "length"),
        ("isni", "0000000122819550", "ISNI_INVALID", "check_digit"),
        ("isni", "00000001228195X5", "ISNI_INVALID", "character"),
        ("dpid", "PADPIDA2014122301A", "DPID_INVALID", "check_digit"),
        ("dpid", "XXDPIDA2014122301Q", "DPID_INVALID", "prefix"),
    ],
)
def test_invalid_identifiers_are_refused_with_their_code_and_field(
    label, field, value, code, reason
):
    response = label.post(URL, {"name": "Mara Vale", field: value}, format="json")

    body = assert_error(response, 400, code, field=field)
    assert body["detail"]["value"] == value
    assert body["detail"]["reason"] == reason
    assert Party.objects.count() == 0


def test_invalid_ipi_message_says_what_is_wrong(label):
    response = label.post(URL, {"name": "Mara Vale", "ipi": "00052210041"}, format="json")

    body = assert_error(response, 400, "IPI_INVALID", field="ipi")
    assert body["message"] == "IPI name number has the wrong check digits: expected 40, got 41."
    assert body["detail"]["expected_check"] == "40"


def test_duplicate_ipi_in_the_same_organisation_conflicts(label):
    create_party(label, name="Mara Vale", ipi=IPI)

    response = label.post(URL, {"name": "M. Vale", "ipi": "000-522-100-40"}, format="json")

    body = assert_error(response, 409, "PARTY_EXISTS", field="ipi")
    assert body["message"] == "a party with this IPI name number exists"
    assert Party.objects.filter(organization=label.organization).count() == 1


@pytest.mark.parametrize(("field", "value"), [("isni", ISNI), ("dpid", DPID)])
def test_duplicate_isni_or_dpid_in_the_same_organisation_conflicts(label, field, value):
    create_party(label, name="First", **{field: value})

    response = label.post(URL, {"name": "Second", field: value}, format="json")

    assert_error(response, 409, "PARTY_EXISTS", field=field)


def test_same_ipi_in_another_organisation_is_allowed(label, other_label):
    mine = create_party(label, name="Mara Vale", ipi=IPI)

    theirs = create_party(other_label, name="Mara Vale", ipi=IPI)

    assert theirs["id"] != mine["id"]
    assert theirs["ipi"] == IPI


def test_parties_without_identifiers_do_not_collide(label):
    create_party(label, name="One")
    create_party(label, name="Two")

    assert get(label, URL)["count"] == 2


def test_missing_name_is_a_validation_error(label):
    body = assert_error(
        label.post(URL, {"kind": "person"}, format="json"), 400, "VALIDATION_ERROR", field="name"
    )
    assert body["detail"]["fields"] == {
        "name": [{"code": "required", "message": "This field is required."}]
    }


def test_unknown_kind_is_a_validation_error(label):
    body = assert_error(
        label.post(URL, {"name": "X", "kind": "robot"}, format="json"),
        400,
        "VALIDATION_ERROR",
        field="kind",
    )
    assert body["detail"]["fields"]["kind"] == [
        {"code": "invalid_choice", "message": '"robot" is not a valid choice.'}
    ]


def test_list_filters_by_name_and_kind(label):
    ada = create_party(label, name="Ada Stone", kind="person")
    adam = create_party(label, name="Adam Reed", kind="person")
    bot = create_party(label, name="Adaptive Synth", kind="ai_system")
    create_party(label, name="Zed", kind="organization")

    by_name = get(label, URL, name="ada")
    by_kind = get(label, URL, kind="ai_system")
    both = get(label, URL, name="ada", kind="person")

    assert ids(by_name) == [ada["id"], adam["id"], bot["id"]]  # ordered by name
    assert by_name["count"] == 3
    assert ids(by_kind) == [bot["id"]]
    assert ids(both) == [ada["id"], adam["id"]]


def test_list_filters_by_identifier(label):
    wanted = create_party(label, name="Mara", ipi=IPI)
    create_party(label, name="Other", ipi=IPI_2)

    assert ids(get(label, URL, ipi=IPI)) == [wanted["id"]]


def test_list_is_paginated(label):
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    made = [create_party(label, name=n) for n in names]

    first = get(label, URL, page_size=2)
    last = get(label, URL, page_size=2, page=3)

    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/parties/?page=2&page_size=2"
    assert [p["name"] for p in first["results"]] == ["Alpha", "Bravo"]
    assert ids(last) == [made[4]["id"]]
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/parties/?page=2&page_size=2"


def test_page_past_the_end_is_not_found(label):
    create_party(label, name="Only")

    assert_error(label.get(URL, {"page": 9}), 404, "NOT_FOUND")


def test_patch_changes_only_the_given_fields(label):
    party = create_party(label, name="Mara Vale", kind="person", ipi=IPI)

    body = patch(label, f"{URL}{party['id']}/", {"name": "Mara V. Vale", "isni": ISNI_2})

    assert body["name"] == "Mara V. Vale"
    assert body["kind"] == "person"  # no default applied on a partial update
    assert body["ipi"] == IPI
    assert body["isni"] == ISNI_2
    assert get(label, f"{URL}{party['id']}/") == body
    event = ProvenanceEvent.objects.filter(object_type="registry.party").last()
    assert event.action == "party.update"
    assert (event.before["name"], event.after["name"]) == ("Mara Vale", "Mara V. Vale")


def test_put_replaces_the_party(label):
    party = create_party(label, name="Mara Vale", kind="organization", ipi=IPI)

    body = expect(
        label.put(f"{URL}{party['id']}/", {"name": "Vale Music", "isni": ISNI}, format="json"), 200
    )

    assert (body["name"], body["kind"], body["isni"]) == ("Vale Music", "person", ISNI)
    assert get(label, f"{URL}{party['id']}/") == body


def test_put_without_a_name_is_refused(label):
    party = create_party(label, name="Mara Vale")

    assert_error(
        label.put(f"{URL}{party['id']}/", {"kind": "person"}, format="json"),
        400,
        "VALIDATION_ERROR",
        field="name",
    )


def test_patch_can_clear_an_identifier(label):
    party = create_party(label, name="Mara Vale", dpid=DPID)

    assert patch(label, f"{URL}{party['id']}/", {"dpid": None})["dpid"] is None


def test_patch_with_an_invalid_identifier_changes_nothing(label):
    party = create_party(label, name="Mara Vale", ipi=IPI)

    response = label.patch(
        f"{URL}{party['id']}/", {"name": "Renamed", "ipi": "12345678900"}, format="json"
    )

    assert_error(response, 400, "IPI_INVALID", field="ipi")
    assert get(label, f"{URL}{party['id']}/")["name"] == "Mara Vale"


def test_patch_to_a_taken_identifier_conflicts(label):
    create_party(label, name="First", ipi=IPI)
    second = create_party(label, name="Second", ipi=IPI_2)

    response = label.patch(f"{URL}{second['id']}/", {"ipi": IPI}, format="json")

    assert_error(response, 409, "PARTY_EXISTS", field="ipi")
    assert get(label, f"{URL}{second['id']}/")["ipi"] == IPI_2


def test_another_organisations_party_does_not_exist_for_me(label, other_label):
    theirs = create_party(other_label, name="Secret Signing", ipi=IPI)
    mine = create_party(label, name="My Artist")
    url = f"{URL}{theirs['id']}/"

    assert_error(label.get(url), 404, "PARTY_NOT_FOUND")
    assert_error(label.patch(url, {"name": "Hijacked"}, format="json"), 404, "PARTY_NOT_FOUND")
    assert_error(label.put(url, {"name": "Hijacked"}, format="json"), 404, "PARTY_NOT_FOUND")
    assert ids(get(label, URL)) == [mine["id"]]
    assert get(label, URL, ipi=IPI)["count"] == 0
    assert get(other_label, url)["name"] == "Secret Signing"


def test_parties_cannot_be_deleted(label):
    party = create_party(label, name="Mara Vale")

    assert_error(label.delete(f"{URL}{party['id']}/"), 405, "METHOD_NOT_ALLOWED")
    assert get(label, f"{URL}{party['id']}/")["name"] == "Mara Vale"


def test_operator_sees_every_organisations_parties(label, other_label, operator):
    mine = create_party(label, name="Alpha Artist")
    theirs = create_party(other_label, name="Beta Artist")

    listing = get(operator, URL)

    assert ids(listing) == [mine["id"], theirs["id"]]
    assert get(operator, f"{URL}{theirs['id']}/")["name"] == "Beta Artist"


def test_operator_cannot_edit_another_organisations_party(label, operator):
    party = create_party(label, name="Alpha Artist")

    response = operator.patch(f"{URL}{party['id']}/", {"name": "Changed"}, format="json")

    assert_error(response, 404, "PARTY_NOT_FOUND")
    assert get(label, f"{URL}{party['id']}/")["name"] == "Alpha Artist"


def test_a_non_numeric_id_is_not_found(label):
    assert_error(label.get(f"{URL}abc/"), 404, "PARTY_NOT_FOUND")
    assert_error(label.patch(f"{URL}abc/", {"name": "x"}, format="json"), 404, "PARTY_NOT_FOUND")


def test_dpid_2_is_valid(label):
    assert create_party(label, name="Label Entity", kind="organization", dpid=DPID_2)["dpid"] == (
        DPID_2
    )
