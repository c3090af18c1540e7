"""Releases end to end: one-request releases, all or nothing, UPC/EAN, tracks, isolation."""

from __future__ import annotations

import pytest

from registry.models import (
    Contribution,
    Party,
    ProvenanceEvent,
    Recording,
    Release,
    ReleaseTrack,
    RightsShare,
)

from .factories import (
    EAN_13,
    UPC_A,
    assert_error,
    create_party,
    expect,
    get,
    ids,
    patch,
    register_recording,
    register_release,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/releases/"


def track(position, recording):
    return {
        "position": position,
        "recording": recording["id"],
        "title": recording["title"],
        "isrc": recording["isrc"],
    }


def test_one_request_release_with_three_new_recordings(label):
    response = label.post(
        URL,
        {
            "title": "First Light",
            "upc": UPC_A,
            "release_type": "ep",
            "display_artist": "Mara Vale",
            "release_date": "2026-03-01",
            "tracks": [
                {"title": "Dawn", "isrc": "GB-AAA-26-10001", "rights": [{"share_pct": "100"}]},
                {
                    "title": "Noon",
                    "isrc": "GBAAA2610002",
                    "contributions": [
                        {"party": {"name": "Mara Vale"}, "role": "vocalist", "element": "vocals"}
                    ],
                },
                {"title": "Dusk", "isrc": "gbaaa2610003", "ai_disclosure": "all"},
            ],
        },
        format="json",
    )

    body = expect(response, 201)
    recordings = {r.title: r for r in Recording.objects.filter(organization=label.organization)}
    assert set(recordings) == {"Dawn", "Noon", "Dusk"}
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "title": "First Light",
        "upc": "036000291452",
        "release_type": "ep",
        "display_artist": "Mara Vale",
        "release_date": "2026-03-01",
        "tracks": [
            {
                "position": 1,
                "recording": recordings["Dawn"].pk,
                "title": "Dawn",
                "isrc": "GBAAA2610001",
            },
            {
                "position": 2,
                "recording": recordings["Noon"].pk,
                "title": "Noon",
                "isrc": "GBAAA2610002",
            },
            {
                "position": 3,
                "recording": recordings["Dusk"].pk,
                "title": "Dusk",
                "isrc": "GBAAA2610003",
            },
        ],
    }
    assert get(label, f"{URL}{body['id']}/") == body
    dusk = get(label, f"/api/v1/recordings/{recordings['Dusk'].pk}/")
    assert (dusk["ai_disclosure"], dusk["owner"]) == ("all", label.organization.pk)
    noon = get(label, f"/api/v1/recordings/{recordings['Noon'].pk}/")
    assert [c["party"]["name"] for c in noon["contributions"]] == ["Mara Vale"]
    actions = list(
        ProvenanceEvent.objects.filter(
            object_type__in=["registry.recording", "registry.release"]
        ).values_list("action", flat=True)
    )
    assert actions == ["recording.register"] * 3 + ["release.register"]
    event = ProvenanceEvent.objects.get(action="release.register")
    assert event.after["tracks"] == [
        {"position": i, "recording": recordings[t].pk}
        for i, t in enumerate(["Dawn", "Noon", "Dusk"], start=1)
    ]


def test_a_release_whose_third_track_is_invalid_creates_nothing(label):
    """All or nothing: tracks 1 and 2 were valid, yet neither they nor the release remain."""
    before_api = {
        "releases": get(label, URL)["count"],
        "recordings": get(label, "/api/v1/recordings/")["count"],
        "parties": get(label, "/api/v1/parties/")["count"],
    }
    before_db = {
        "release": Release.objects.count(),
        "recording": Recording.objects.count(),
        "track": ReleaseTrack.objects.count(),
        "party": Party.objects.count(),
        "contribution": Contribution.objects.count(),
        "share": RightsShare.objects.count(),
        "event": ProvenanceEvent.objects.count(),
    }

    response = label.post(
        URL,
        {
            "title": "Broken",
            "upc": EAN_13,
            "tracks": [
                {
                    "title": "One",
                    "isrc": "GBAAA2620001",
                    "contributions": [
                        {"party": {"name": "New Person"}, "role": "vocalist", "element": "vocals"}
                    ],
                    "rights": [{"share_pct": "100"}],
                },
                {"title": "Two", "isrc": "GBAAA2620002"},
                {"title": "Three", "isrc": "GB-AAA-26-2003"},
            ],
        },
        format="json",
    )

    body = assert_error(response, 400, "ISRC_INVALID", field="tracks[2].isrc")
    assert body["message"] == "ISRC must be 12 characters long, got 11."
    assert body["detail"]["value"] == "GB-AAA-26-2003"
    assert (
        {
            "releases": get(label, URL)["count"],
            "recordings": get(label, "/api/v1/recordings/")["count"],
            "parties": get(label, "/api/v1/parties/")["count"],
        }
        == before_api
        == {"releases": 0, "recordings": 0, "parties": 0}
    )
    assert {
        "release": Release.objects.count(),
        "recording": Recording.objects.count(),
        "track": ReleaseTrack.objects.count(),
        "party": Party.objects.count(),
        "contribution": Contribution.objects.count(),
        "share": RightsShare.objects.count(),
        "event": ProvenanceEvent.objects.count(),
    } == before_db
    assert not ProvenanceEvent.objects.filter(
        action__in=["recording.register", "release.register", "party.create"]
    ).exists()
    assert get(label, "/api/v1/recordings/", isrc="GBAAA2620001")["count"] == 0


def test_after_a_failed_release_the_same_request_fixed_succeeds(label):
    tracks = [{"title": "One", "isrc": "GBAAA2620001"}, {"title": "Two", "isrc": "GBAAA26"}]
    assert_error(
        label.post(URL, {"title": "R", "tracks": tracks}, format="json"),
        400,
        "ISRC_INVALID",
        field="tracks[1].isrc",
    )

    tracks[1]["isrc"] = "GBAAA2620002"
    body = register_release(label, title="R", tracks=tracks)

    assert [(t["position"], t["isrc"]) for t in body["tracks"]] == [
        (1, "GBAAA2620001"),
        (2, "GBAAA2620002"),
    ]


def test_a_nested_track_with_a_wrong_type_names_its_index(label):
    response = label.post(
        URL,
        {"title": "R", "tracks": [{"title": "One"}, {"title": "Two", "ai_disclosure": "maybe"}]},
        format="json",
    )

    body = assert_error(response, 400, "VALIDATION_ERROR", field="tracks[1].ai_disclosure")
    assert body["detail"]["fields"] == {
        "tracks[1].ai_disclosure": [
            {"code": "invalid_choice", "message": '"maybe" is not a valid choice.'}
        ]
    }
    assert Recording.objects.count() == 0


def test_a_track_duplicating_an_existing_isrc_rolls_everything_back(label):
    register_recording(label, isrc="GBAAA2620009")

    response = label.post(
        URL,
        {
            "title": "R",
            "tracks": [
                {"title": "New", "isrc": "GBAAA2620001"},
                {"title": "Dup", "isrc": "GBAAA2620009"},
            ],
        },
        format="json",
    )

    assert_error(response, 409, "RECORDING_EXISTS", field="tracks[1].isrc")
    assert list(Recording.objects.values_list("isrc", flat=True)) == ["GBAAA2620009"]
    assert Release.objects.count() == 0


def test_tracks_given_by_existing_recording_ids(label):
    first = register_recording(label, title="Alpha")
    second = register_recording(label, title="Beta")

    body = register_release(label, title="Best Of", tracks=[second["id"], first["id"]])

    assert body["tracks"] == [track(1, second), track(2, first)]
    assert Recording.objects.count() == 2  # nothing new registered


def test_tracks_mixing_ids_and_new_recordings(label):
    existing = register_recording(label, title="Old One", isrc="GBAAA2620001")

    body = register_release(
        label, tracks=[existing["id"], {"title": "New One", "isrc": "GBAAA2620002"}]
    )

    new = Recording.objects.get(isrc="GBAAA2620002")
    assert body["tracks"] == [
        track(1, existing),
        {"position": 2, "recording": new.pk, "title": "New One", "isrc": "GBAAA2620002"},
    ]


def test_the_same_recording_twice_is_refused(label):
    recording = register_recording(label)

    response = label.post(
        URL, {"title": "R", "tracks": [recording["id"], recording["id"]]}, format="json"
    )

    body = assert_error(response, 400, "TRACK_DUPLICATE", field="tracks[1]")
    assert body["detail"]["recording"] == recording["id"]
    assert Release.objects.count() == 0


def test_another_organisations_recording_as_a_track_is_not_found(label, other_label):
    mine = register_recording(label)
    theirs = register_recording(other_label)

    response = label.post(URL, {"title": "R", "tracks": [mine["id"], theirs["id"]]}, format="json")

    body = assert_error(response, 404, "RECORDING_NOT_FOUND", field="tracks[1]")
    assert body["message"] == f"recording {theirs['id']} not found"
    assert Release.objects.count() == 0


def test_an_unknown_recording_id_as_a_track_is_not_found(label):
    assert_error(
        label.post(URL, {"title": "R", "tracks": [987654]}, format="json"),
        404,
        "RECORDING_NOT_FOUND",
        field="tracks[0]",
    )


def test_a_track_that_is_neither_an_id_nor_an_object_is_refused(label):
    body = assert_error(
        label.post(URL, {"title": "R", "tracks": ["first"]}, format="json"),
        400,
        "VALIDATION_ERROR",
        field="tracks[0]",
    )
    assert body["detail"]["fields"]["tracks[0]"] == [
        {"code": "invalid", "message": "an id or an object"}
    ]


@pytest.mark.parametrize(("upc", "kind"), [(UPC_A, "UPC-A"), (EAN_13, "EAN-13")])
def test_valid_upc_a_and_ean_13_are_kept_as_given(label, upc, kind):
    body = register_release(label, upc=upc)

    assert body["upc"] == upc
    assert len(body["upc"]) == (12 if kind == "UPC-A" else 13)


def test_upc_with_spaces_is_stored_as_digits(label):
    assert register_release(label, upc="0 36000 29145 2")["upc"] == UPC_A


def test_an_invalid_upc_check_digit_is_refused(label):
    response = label.post(URL, {"title": "R", "upc": "036000291453"}, format="json")

    body = assert_error(response, 400, "UPC_INVALID", field="upc")
    assert body["message"] == "UPC/EAN has the wrong check digit: expected 2, got 3."
    assert (body["detail"]["expected_check"], body["detail"]["actual_check"]) == ("2", "3")
    assert Release.objects.count() == 0


def test_a_upc_of_the_wrong_length_is_refused(label):
    body = assert_error(
        label.post(URL, {"title": "R", "upc": "12345"}, format="json"),
        400,
        "UPC_INVALID",
        field="upc",
    )
    assert body["detail"]["reason"] == "length"


def test_duplicate_upc_in_the_same_organisation_conflicts(label, other_label):
    register_release(label, upc=EAN_13)

    assert_error(
        label.post(URL, {"title": "Again", "upc": EAN_13}, format="json"),
        409,
        "RELEASE_EXISTS",
        field="upc",
    )
    assert register_release(other_label, upc=EAN_13)["upc"] == EAN_13


def test_an_unknown_release_type_is_refused(label):
    body = assert_error(
        label.post(URL, {"title": "R", "release_type": "mixtape"}, format="json"),
        400,
        "VALIDATION_ERROR",
        field="release_type",
    )
    assert body["detail"]["fields"]["release_type"][0]["code"] == "invalid_choice"


def test_patch_replaces_the_tracks(label):
    a = register_recording(label, title="A")
    b = register_recording(label, title="B")
    c = register_recording(label, title="C")
    release = register_release(label, tracks=[a["id"], b["id"]])

    body = patch(
        label, f"{URL}{release['id']}/", {"title": "Reissue", "tracks": [c["id"], a["id"]]}
    )

    assert body["title"] == "Reissue"
    assert body["release_type"] == "album"
    assert body["tracks"] == [track(1, c), track(2, a)]
    event = ProvenanceEvent.objects.filter(action="release.update").get()
    assert [t["recording"] for t in event.before["tracks"]] == [a["id"], b["id"]]
    assert [t["recording"] for t in event.after["tracks"]] == [c["id"], a["id"]]


def test_put_empties_the_tracks_it_leaves_out(label):
    a = register_recording(label, title="A")
    release = register_release(label, title="Draft", release_type="single", tracks=[a["id"]])

    body = expect(label.put(f"{URL}{release['id']}/", {"title": "Final"}, format="json"), 200)

    assert (body["title"], body["release_type"], body["tracks"]) == ("Final", "album", [])
    assert get(label, f"/api/v1/recordings/{a['id']}/")["status"] == "active"


def test_patch_with_another_organisations_track_changes_nothing(label, other_label):
    a = register_recording(label, title="A")
    theirs = register_recording(other_label)
    release = register_release(label, tracks=[a["id"]])

    response = label.patch(
        f"{URL}{release['id']}/", {"title": "X", "tracks": [theirs["id"]]}, format="json"
    )

    assert_error(response, 404, "RECORDING_NOT_FOUND", field="tracks[0]")
    assert get(label, f"{URL}{release['id']}/") == release


def test_list_filters(label):
    album = register_release(label, title="Harbour", upc=UPC_A, release_type="album")
    single = register_release(label, title="Lantern", release_type="single")

    assert ids(get(label, URL)) == [single["id"], album["id"]]  # newest first
    assert ids(get(label, URL, release_type="single")) == [single["id"]]
    assert ids(get(label, URL, upc=UPC_A)) == [album["id"]]
    assert ids(get(label, URL, title="harb")) == [album["id"]]


def test_another_organisations_release_does_not_exist_for_me(label, other_label):
    theirs = register_release(other_label, title="Their Album", upc=UPC_A)
    mine = register_release(label, title="My Album")
    url = f"{URL}{theirs['id']}/"

    assert_error(label.get(url), 404, "RELEASE_NOT_FOUND")
    assert_error(label.patch(url, {"title": "Mine"}, format="json"), 404, "RELEASE_NOT_FOUND")
    assert_error(label.put(url, {"title": "Mine"}, format="json"), 404, "RELEASE_NOT_FOUND")
    assert_error(label.delete(url), 405, "METHOD_NOT_ALLOWED")
    assert ids(get(label, URL)) == [mine["id"]]
    assert get(label, URL, upc=UPC_A)["count"] == 0
    assert get(other_label, url)["title"] == "Their Album"


def test_operator_sees_every_organisations_releases(label, other_label, operator):
    mine = register_release(label, title="Mine")
    theirs = register_release(other_label, title="Theirs")

    assert ids(get(operator, URL)) == [theirs["id"], mine["id"]]
    assert get(operator, f"{URL}{theirs['id']}/") == get(other_label, f"{URL}{theirs['id']}/")


def test_a_contribution_party_of_another_organisation_inside_a_track_is_not_found(
    label, other_label
):
    theirs = create_party(other_label, name="Their Artist")

    response = label.post(
        URL,
        {
            "title": "R",
            "tracks": [
                {"title": "One", "isrc": "GBAAA2620001"},
                {
                    "title": "Two",
                    "contributions": [
                        {"party": theirs["id"], "role": "vocalist", "element": "vocals"}
                    ],
                },
            ],
        },
        format="json",
    )

    assert_error(response, 404, "PARTY_NOT_FOUND", field="tracks[1].contributions[0].party")
    assert Recording.objects.count() == 0
