"""Works end to end: ISWC forms, writers and their shares, updates, isolation."""

from __future__ import annotations

import pytest

from registry.models import Party, ProvenanceEvent, Work, WorkWriter

from .factories import (
    IPI,
    ISWC,
    ISWC_2,
    ISWC_DISPLAY,
    assert_error,
    create_party,
    create_work,
    expect,
    get,
    ids,
    patch,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/works/"


def writer_view(party, role, share):
    return {
        "party": {"id": party["id"], "name": party["name"], "kind": party["kind"]},
        "role": role,
        "share_pct": share,
        "involvement": "human",
    }


def test_iswc_is_stored_compact_and_shown_with_punctuation(label):
    response = label.post(URL, {"title": "Night Song", "iswc": "T-034.524.680-1"}, format="json")

    body = expect(response, 201)
    assert body["iswc"] == ISWC
    assert body["iswc_display"] == ISWC_DISPLAY
    assert (body["title"], body["writers"], body["rights"]) == ("Night Song", [], [])
    assert Work.objects.get(pk=body["id"]).iswc == "T0345246801"
    assert get(label, f"{URL}{body['id']}/") == body


def test_a_work_without_iswc_has_no_display_form(label):
    body = create_work(label, title="Untitled Sketch")

    assert (body["iswc"], body["iswc_display"]) == (None, None)


def test_iswc_with_a_wrong_check_digit_is_refused(label):
    response = label.post(URL, {"title": "Night Song", "iswc": "T-034.524.680-2"}, format="json")

    body = assert_error(response, 400, "ISWC_INVALID", field="iswc")
    assert body["message"] == "ISWC has the wrong check digit: expected 1, got 2."
    assert body["detail"]["reason"] == "check_digit"
    assert Work.objects.count() == 0


def test_iswc_without_the_t_prefix_is_refused(label):
    body = assert_error(
        label.post(URL, {"title": "X", "iswc": "0345246801"}, format="json"),
        400,
        "ISWC_INVALID",
        field="iswc",
    )
    assert body["detail"]["reason"] == "prefix"


def test_duplicate_iswc_in_the_same_organisation_conflicts(label, other_label):
    create_work(label, iswc=ISWC)

    assert_error(
        label.post(URL, {"title": "Again", "iswc": ISWC_DISPLAY}, format="json"),
        409,
        "WORK_EXISTS",
        field="iswc",
    )
    assert create_work(other_label, iswc=ISWC)["iswc"] == ISWC


def test_writers_with_shares_by_id_and_by_inline_party(label):
    composer = create_party(label, name="Mara Vale", ipi=IPI)

    body = create_work(
        label,
        title="Night Song",
        iswc=ISWC,
        writers=[
            {"party": composer["id"], "role": "composer", "share_pct": "60"},
            {"party": {"name": "Jon Reed"}, "role": "lyricist", "share_pct": 40},
        ],
    )

    jon = Party.objects.get(organization=label.organization, name="Jon Reed")
    assert body["writers"] == [
        writer_view(composer, "composer", "60.000"),
        writer_view({"id": jon.pk, "name": "Jon Reed", "kind": "person"}, "lyricist", "40.000"),
    ]
    event = ProvenanceEvent.objects.get(object_type="registry.work", object_id=str(body["id"]))
    assert event.action == "work.create"
    assert [w["share_pct"] for w in event.after["writers"]] == ["60.000", "40.000"]


def test_inline_writer_with_a_known_ipi_reuses_the_party(label):
    existing = create_party(label, name="Mara Vale", ipi=IPI)

    body = create_work(
        label, writers=[{"party": {"name": "M. Vale", "ipi": IPI}, "share_pct": "100"}]
    )

    assert body["writers"][0]["party"]["id"] == existing["id"]
    assert Party.objects.filter(organization=label.organization).count() == 1


def test_writers_over_100_percent_are_refused(label):
    a = create_party(label, name="A")
    b = create_party(label, name="B")

    response = label.post(
        URL,
        {
            "title": "Too Much",
            "writers": [
                {"party": a["id"], "share_pct": "60.5"},
                {"party": b["id"], "share_pct": "40"},
            ],
        },
        format="json",
    )

    body = assert_error(response, 400, "SHARES_EXCEED_100", field="writers")
    assert body["detail"]["total_pct"] == "100.500"
    assert body["message"] == "writers' shares add up to 100.500%, over 100%"
    assert Work.objects.count() == 0


def test_writers_at_exactly_100_percent_are_accepted(label):
    a = create_party(label, name="A")
    b = create_party(label, name="B")

    body = create_work(
        label,
        writers=[
            {"party": a["id"], "share_pct": "66.667"},
            {"party": b["id"], "share_pct": "33.333"},
        ],
    )

    assert [w["share_pct"] for w in body["writers"]] == ["66.667", "33.333"]


def test_a_writer_share_with_four_decimals_is_refused(label):
    party = create_party(label, name="A")

    body = assert_error(
        label.post(
            URL,
            {"title": "X", "writers": [{"party": party["id"], "share_pct": "10.1234"}]},
            format="json",
        ),
        400,
        "VALIDATION_ERROR",
        field="writers[0].share_pct",
    )
    assert body["detail"]["fields"]["writers[0].share_pct"][0]["code"] == "max_decimal_places"


def test_a_writer_referencing_another_organisations_party_is_not_found(label, other_label):
    theirs = create_party(other_label, name="Their Writer")

    response = label.post(
        URL, {"title": "X", "writers": [{"party": theirs["id"], "share_pct": "50"}]}, format="json"
    )

    assert_error(response, 404, "PARTY_NOT_FOUND", field="writers[0].party")
    assert Work.objects.count() == 0


def test_patch_writers_replaces_them(label):
    a = create_party(label, name="A")
    b = create_party(label, name="B")
    work = create_work(label, iswc=ISWC, writers=[{"party": a["id"], "share_pct": "100"}])

    body = patch(
        label,
        f"{URL}{work['id']}/",
        {
            "writers": [
                {"party": a["id"], "role": "composer", "share_pct": "50"},
                {"party": b["id"], "role": "arranger", "share_pct": "25"},
            ]
        },
    )

    assert body["writers"] == [
        writer_view(a, "composer", "50.000"),
        writer_view(b, "arranger", "25.000"),
    ]
    assert (body["title"], body["iswc"]) == ("Night Song", ISWC)
    assert WorkWriter.objects.filter(work_id=work["id"]).count() == 2
    event = ProvenanceEvent.objects.filter(object_type="registry.work").last()
    assert event.action == "work.update"
    assert len(event.before["writers"]) == 1
    assert len(event.after["writers"]) == 2


def test_patch_writers_over_100_percent_keeps_the_old_writers(label):
    a = create_party(label, name="A")
    work = create_work(label, writers=[{"party": a["id"], "share_pct": "100"}])

    response = label.patch(
        f"{URL}{work['id']}/",
        {"writers": [{"party": a["id"], "share_pct": "80"}, {"party": a["id"], "share_pct": "30"}]},
        format="json",
    )

    assert_error(response, 400, "SHARES_EXCEED_100", field="writers")
    assert get(label, f"{URL}{work['id']}/")["writers"] == work["writers"]


def test_put_empties_the_writers_it_leaves_out(label):
    a = create_party(label, name="A")
    work = create_work(label, title="Draft", writers=[{"party": a["id"], "share_pct": "100"}])

    body = expect(label.put(f"{URL}{work['id']}/", {"title": "Final"}, format="json"), 200)

    assert (body["title"], body["writers"], body["rights"]) == ("Final", [], [])
    assert WorkWriter.objects.filter(work_id=work["id"]).count() == 0


def test_patch_title_and_iswc(label):
    work = create_work(label, title="Draft", iswc=ISWC)

    body = patch(label, f"{URL}{work['id']}/", {"title": "Final", "iswc": "T-123.456.789-4"})

    assert (body["title"], body["iswc"], body["iswc_display"]) == (
        "Final",
        ISWC_2,
        "T-123.456.789-4",
    )


def test_patch_with_an_invalid_iswc_changes_nothing(label):
    work = create_work(label, title="Draft", iswc=ISWC)

    response = label.patch(
        f"{URL}{work['id']}/", {"title": "Final", "iswc": "T1234567890"}, format="json"
    )

    assert_error(response, 400, "ISWC_INVALID", field="iswc")
    assert get(label, f"{URL}{work['id']}/")["title"] == "Draft"


def test_list_filters_by_title_and_iswc(label):
    night = create_work(label, title="Night Song", iswc=ISWC)
    day = create_work(label, title="Day Song", iswc=ISWC_2)

    assert ids(get(label, URL)) == [day["id"], night["id"]]  # ordered by title
    assert ids(get(label, URL, title="night")) == [night["id"]]
    assert ids(get(label, URL, iswc=ISWC_DISPLAY)) == [night["id"]]


def test_another_organisations_work_does_not_exist_for_me(label, other_label):
    theirs = create_work(other_label, title="Their Work", iswc=ISWC)
    mine = create_work(label, title="My Work")
    url = f"{URL}{theirs['id']}/"

    assert_error(label.get(url), 404, "WORK_NOT_FOUND")
    assert_error(label.patch(url, {"title": "Mine now"}, format="json"), 404, "WORK_NOT_FOUND")
    assert_error(label.put(url, {"title": "Mine now"}, format="json"), 404, "WORK_NOT_FOUND")
    assert_error(label.delete(url), 405, "METHOD_NOT_ALLOWED")
    assert ids(get(label, URL)) == [mine["id"]]
    assert get(label, URL, iswc=ISWC)["count"] == 0
    assert get(other_label, url)["title"] == "Their Work"


def test_operator_sees_every_organisations_works(label, other_label, operator):
    mine = create_work(label, title="A Work")
    theirs = create_work(other_label, title="B Work")

    assert ids(get(operator, URL)) == [mine["id"], theirs["id"]]
    assert get(operator, f"{URL}{mine['id']}/")["title"] == "A Work"
