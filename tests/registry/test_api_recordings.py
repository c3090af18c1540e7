"""Recordings (JSON, no audio) end to end: the full payload, identifiers, territories,
duplicates, updates, withdrawal, history, filters, isolation and the error format."""

from __future__ import annotations

import pytest

from registry.models import Contribution, GenerationRecord, Party, ProvenanceEvent, Recording

from .factories import (
    IPI,
    IPI_2,
    ISWC,
    assert_error,
    create_party,
    create_work,
    expect,
    get,
    ids,
    patch,
    post,
    register_recording,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/recordings/"
VOLATILE = ("id", "created_at", "updated_at")


def brief(party):
    return {"id": party["id"], "name": party["name"], "kind": party["kind"]}


def without(mapping, *keys):
    return {k: v for k, v in mapping.items() if k not in keys}


@pytest.fixture
def full(label, other_label):
    """The API.md payload, every field used, plus what it refers to."""
    ai = create_party(label, name="Tonewright", kind="ai_system")
    singer = create_party(label, name="Mara Vale", ipi=IPI)
    source = register_recording(label, title="Source Stem", isrc="GBAAA2500002")
    work = create_work(label, title="Lantern", iswc=ISWC)
    payload = {
        "title": "Lantern (AI Mix)",
        "isrc": "GB-AAA-25-00001",
        "work": work["id"],
        "display_artist": "Mara Vale & Tonewright",
        "ai_disclosure": "partly",
        "contributions": [
            {
                "party": singer["id"],
                "role": "vocalist",
                "element": "vocals",
                "involvement": "human",
            },
            {
                "party": {"name": "Jon Reed", "ipi": IPI_2},
                "role": "producer",
                "element": "production",
                "involvement": "ai_assisted",
            },
            {
                "party": ai["id"],
                "role": "programmer",
                "element": "instrumentation",
                "involvement": "ai_generated",
            },
        ],
        "generations": [
            {
                "ai_system": ai["id"],
                "provider": "Tonewright Inc.",
                "model_name": "tonewright",
                "model_version": "3.1",
                "prompt": "warm analog synths, 92 bpm",
                "negative_prompt": "no drums",
                "lyrics": "lanterns in the harbour",
                "seed": 424242,
                "parameters": {"temperature": 0.8, "steps": 50, "styles": ["ambient", "dub"]},
                "input_recordings": [
                    source["id"],
                    {"isrc": "US-S1Z-99-00001", "title": "Outside Sample"},
                ],
                "provider_job_id": "job-123",
                "terms": "commercial licence v2",
                "training_data": "licensed catalogue only",
            }
        ],
        "rights": [
            {
                "share_pct": "60",
                "territories": ["WORLD"],
                "exclude_territories": ["us"],
                "start": "2025-01-01",
                "end": "2030-12-31",
                "usage_types": ["Stream", "download"],
            },
            {
                "owner": other_label.organization.pk,
                "share_pct": "40",
                "territories": ["fr", "DE"],
            },
        ],
    }
    return {"payload": payload, "ai": ai, "singer": singer, "source": source, "work": work}


def test_register_the_full_payload(label, other_label, full):
    response = label.post(URL, full["payload"], format="json")

    body = expect(response, 201)
    jon = Party.objects.get(organization=label.organization, name="Jon Reed")
    assert jon.ipi == IPI_2
    generation = GenerationRecord.objects.get(recording_id=body["id"])
    assert without(body, *VOLATILE, "generations", "rights") == {
        "title": "Lantern (AI Mix)",
        "isrc": "GBAAA2500001",
        "isrc_display": "GB-AAA-25-00001",
        "work": full["work"]["id"],
        "display_artist": "Mara Vale & Tonewright",
        "ai_disclosure": "partly",
        "status": "active",
        "owner": label.organization.pk,
        "duration_s": None,
        "audio": None,
        "credential": None,
        "fingerprint_status": "no_audio",
        "fingerprint_error": "",
        "fingerprint_error_message": "",
        "contributions": [
            {
                "party": brief(full["singer"]),
                "role": "vocalist",
                "element": "vocals",
                "involvement": "human",
            },
            {
                "party": {"id": jon.pk, "name": "Jon Reed", "kind": "person"},
                "role": "producer",
                "element": "production",
                "involvement": "ai_assisted",
            },
            {
                "party": brief(full["ai"]),
                "role": "programmer",
                "element": "instrumentation",
                "involvement": "ai_generated",
            },
        ],
    }
    assert [without(g, "created_at") for g in body["generations"]] == [
        {
            "id": generation.pk,
            "ai_system": brief(full["ai"]),
            "provider": "Tonewright Inc.",
            "model_name": "tonewright",
            "model_version": "3.1",
            "prompt": "warm analog synths, 92 bpm",
            "negative_prompt": "no drums",
            "lyrics": "lanterns in the harbour",
            "seed": 424242,
            "parameters": {"temperature": 0.8, "steps": 50, "styles": ["ambient", "dub"]},
            "input_recordings": [
                {"recording": full["source"]["id"], "isrc": "GBAAA2500002", "title": "Source Stem"},
                {"recording": None, "isrc": "USS1Z9900001", "title": "Outside Sample"},
            ],
            "provider_job_id": "job-123",
            "terms": "commercial licence v2",
            "training_data": "licensed catalogue only",
            "output_sha256": "",
        }
    ]
    assert [without(r, "id") for r in body["rights"]] == [
        {
            "owner": label.organization.pk,
            "owner_name": "Northern Lights Records",
            "share_pct": "60.000",
            "territories": ["WORLD"],
            "exclude_territories": ["US"],
            "start": "2025-01-01",
            "end": "2030-12-31",
            "usage_types": ["download", "stream"],
        },
        {
            "owner": other_label.organization.pk,
            "owner_name": "Southern Cross Music",
            "share_pct": "40.000",
            "territories": ["DE", "FR"],
            "exclude_territories": [],
            "start": None,
            "end": None,
            "usage_types": [],
        },
    ]
    assert get(label, f"{URL}{body['id']}/") == body


def test_register_records_one_provenance_event_with_everything(label, full):
    body = post(label, URL, full["payload"])

    events = list(
        ProvenanceEvent.objects.filter(object_type="registry.recording", object_id=str(body["id"]))
    )
    assert [e.action for e in events] == ["recording.register"]
    after = events[0].after
    assert after["isrc"] == "GBAAA2500001"
    assert [c["role"] for c in after["contributions"]] == ["vocalist", "producer", "programmer"]
    assert after["generations"][0]["seed"] == "424242"
    assert [i["isrc"] for i in after["generations"][0]["inputs"]] == [
        "GBAAA2500002",
        "USS1Z9900001",
    ]
    assert [r["share_pct"] for r in after["rights"]] == ["60.000", "40.000"]


def test_generation_with_an_inline_ai_system_and_a_string_seed(label):
    body = register_recording(
        label,
        ai_disclosure="all",
        generations=[
            {
                "ai_system": {"name": "Wavesmith"},
                "provider": "Wavesmith Labs",
                "model_name": "ws-2",
                "seed": "0xBEEF",
            }
        ],
    )

    generation = body["generations"][0]
    assert generation["seed"] == "0xBEEF"
    assert generation["parameters"] == {}
    assert generation["input_recordings"] == []
    ai = Party.objects.get(pk=generation["ai_system"]["id"])
    assert (ai.name, ai.kind, ai.organization_id) == (
        "Wavesmith",
        "ai_system",
        label.organization.pk,
    )


def test_a_generation_ai_system_that_is_a_person_is_refused(label):
    person = create_party(label, name="Mara Vale")

    response = label.post(
        URL,
        {
            "title": "X",
            "generations": [{"ai_system": person["id"], "provider": "P", "model_name": "M"}],
        },
        format="json",
    )

    body = assert_error(response, 400, "PARTY_KIND_MISMATCH", field="generations[0].ai_system")
    assert body["detail"]["expected"] == "ai_system"
    assert Recording.objects.count() == 0


def test_a_boolean_seed_is_refused(label):
    response = label.post(
        URL,
        {"title": "X", "generations": [{"provider": "P", "model_name": "M", "seed": True}]},
        format="json",
    )

    body = assert_error(response, 400, "VALIDATION_ERROR", field="generations[0].seed")
    assert body["detail"]["fields"]["generations[0].seed"] == [
        {"code": "invalid", "message": "a seed is an integer or a string"}
    ]


def test_a_duplicate_provider_job_id_conflicts(label):
    generation = {"provider": "P", "model_name": "M", "provider_job_id": "job-1"}
    register_recording(label, generations=[generation])

    response = label.post(URL, {"title": "Again", "generations": [generation]}, format="json")

    assert_error(response, 409, "GENERATION_EXISTS", field="generations[0].provider_job_id")
    assert Recording.objects.count() == 1


@pytest.mark.parametrize(
    "given", ["GB-AAA-25-00001", "gbaaa2500001", "GB AAA 25 00001", "ISRC GBAAA2500001"]
)
def test_isrc_forms_are_stored_compact(label, given):
    body = register_recording(label, isrc=given)

    assert (body["isrc"], body["isrc_display"]) == ("GBAAA2500001", "GB-AAA-25-00001")
    assert Recording.objects.get(pk=body["id"]).isrc == "GBAAA2500001"


def test_a_recording_without_isrc(label):
    body = register_recording(label, isrc=None)

    assert (body["isrc"], body["isrc_display"]) == (None, None)


@pytest.mark.parametrize(
    ("isrc", "message", "reason"),
    [
        ("GB-AAA-25-0001", "ISRC must be 12 characters long, got 11.", "length"),
        (
            "XXAAA2500001",
            "ISRC country code 'XX' is not an ISO 3166-1 alpha-2 code or an IFPI-allocated "
            "ISRC prefix.",
            "country",
        ),
        (
            "1BAAA2500001",
            "ISRC has a bad character '1' at position 1: expected a letter (country code).",
            "character",
        ),
    ],
)
def test_invalid_isrc_says_what_is_wrong(label, isrc, message, reason):
    response = label.post(URL, {"title": "Lantern", "isrc": isrc}, format="json")

    body = assert_error(response, 400, "ISRC_INVALID", field="isrc")
    assert body["message"] == message
    assert (body["detail"]["value"], body["detail"]["reason"]) == (isrc, reason)
    assert Recording.objects.count() == 0


def test_an_unknown_territory_is_refused(label):
    response = label.post(
        URL,
        {"title": "X", "rights": [{"share_pct": "50", "territories": ["FR", "UK", "XX"]}]},
        format="json",
    )

    body = assert_error(response, 400, "TERRITORY_INVALID", field="rights[0].territories")
    assert body["detail"]["invalid"] == ["UK", "XX"]
    assert body["detail"]["suggestions"] == {"UK": "GB"}
    assert "Did you mean GB for 'UK'?" in body["message"]
    assert Recording.objects.count() == 0


def test_world_with_other_countries_is_refused(label):
    response = label.post(
        URL,
        {"title": "X", "rights": [{"share_pct": "50", "territories": ["WORLD", "FR"]}]},
        format="json",
    )

    body = assert_error(response, 400, "TERRITORY_INVALID", field="rights[0].territories")
    assert body["detail"]["reason"] == "world_not_alone"


def test_a_bad_excluded_territory_is_refused(label):
    response = label.post(
        URL,
        {"title": "X", "rights": [{"share_pct": "50", "exclude_territories": ["ZZ"]}]},
        format="json",
    )

    body = assert_error(response, 400, "TERRITORY_INVALID", field="rights[0].exclude_territories")
    assert body["detail"]["invalid"] == ["ZZ"]


def test_a_period_that_ends_before_it_starts_is_refused(label):
    response = label.post(
        URL,
        {"title": "X", "rights": [{"share_pct": "50", "start": "2026-01-01", "end": "2025-01-01"}]},
        format="json",
    )

    assert_error(response, 400, "PERIOD_INVALID", field="rights[0].end")


def test_a_zero_share_is_refused(label):
    response = label.post(URL, {"title": "X", "rights": [{"share_pct": "0"}]}, format="json")

    assert_error(response, 400, "SHARE_INVALID", field="rights[0].share_pct")


def test_owner_defaults_to_the_caller(label):
    body = register_recording(label, rights=[{"share_pct": "100"}])

    assert [(r["owner"], r["territories"]) for r in body["rights"]] == [
        (label.organization.pk, ["WORLD"])
    ]


def test_an_unknown_owner_is_not_found(label):
    response = label.post(
        URL, {"title": "X", "rights": [{"share_pct": "10", "owner": 999999}]}, format="json"
    )

    assert_error(response, 404, "ORGANIZATION_NOT_FOUND", field="rights[0].owner")


def test_duplicate_isrc_in_the_same_organisation_conflicts(label):
    register_recording(label, isrc="GBAAA2500001")

    response = label.post(URL, {"title": "Again", "isrc": "GB-AAA-25-00001"}, format="json")

    body = assert_error(response, 409, "RECORDING_EXISTS", field="isrc")
    assert body["message"] == "you already registered a recording with this ISRC"
    assert Recording.objects.filter(organization=label.organization).count() == 1


def test_same_isrc_in_another_organisation_is_allowed(label, other_label):
    mine = register_recording(label, isrc="GBAAA2500001", rights=[{"share_pct": "50"}])

    theirs = register_recording(other_label, isrc="GBAAA2500001", rights=[{"share_pct": "50"}])

    assert theirs["id"] != mine["id"]
    assert theirs["owner"] == other_label.organization.pk
    assert get(label, "/api/v1/conflicts/")["count"] == 0  # 50 + 50 is not over 100


def test_same_isrc_in_another_organisation_over_100_percent_opens_a_conflict(label, other_label):
    register_recording(label, isrc="GBAAA2500001", rights=[{"share_pct": "70"}])

    register_recording(other_label, isrc="GBAAA2500001", rights=[{"share_pct": "40"}])

    conflicts = get(label, "/api/v1/conflicts/")["results"]
    assert [(c["subject_key"], c["total_pct"], c["status"]) for c in conflicts] == [
        ("GBAAA2500001", "110.000", "open")
    ]


def test_a_contribution_with_another_organisations_party_is_not_found(label, other_label):
    theirs = create_party(other_label, name="Their Artist")
    before = ProvenanceEvent.objects.count()

    response = label.post(
        URL,
        {
            "title": "X",
            "contributions": [{"party": theirs["id"], "role": "vocalist", "element": "vocals"}],
        },
        format="json",
    )

    body = assert_error(response, 404, "PARTY_NOT_FOUND", field="contributions[0].party")
    assert body["message"] == f"party {theirs['id']} not found"
    assert Recording.objects.count() == 0
    assert ProvenanceEvent.objects.count() == before


def test_an_inline_contribution_party_with_a_bad_ipi_names_the_field(label):
    response = label.post(
        URL,
        {
            "title": "X",
            "contributions": [
                {"party": {"name": "Jon", "ipi": "1"}, "role": "producer", "element": "production"}
            ],
        },
        format="json",
    )

    assert_error(response, 400, "IPI_INVALID", field="contributions[0].party.ipi")
    assert Party.objects.count() == 0


def test_a_work_of_another_organisation_is_not_found(label, other_label):
    theirs = create_work(other_label)

    response = label.post(URL, {"title": "X", "work": theirs["id"]}, format="json")

    assert_error(response, 404, "WORK_NOT_FOUND", field="work")


def test_an_input_recording_of_another_organisation_is_not_found(label, other_label):
    theirs = register_recording(other_label)

    response = label.post(
        URL,
        {
            "title": "X",
            "generations": [
                {"provider": "P", "model_name": "M", "input_recordings": [theirs["id"]]}
            ],
        },
        format="json",
    )

    assert_error(response, 404, "RECORDING_NOT_FOUND", field="generations[0].input_recordings[0]")


def test_patch_replaces_contributions(label):
    a = create_party(label, name="A")
    b = create_party(label, name="B")
    recording = register_recording(
        label,
        contributions=[
            {"party": a["id"], "role": "vocalist", "element": "vocals"},
            {"party": a["id"], "role": "composer", "element": "composition"},
        ],
    )

    body = patch(
        label,
        f"{URL}{recording['id']}/",
        {
            "contributions": [
                {
                    "party": b["id"],
                    "role": "producer",
                    "element": "production",
                    "involvement": "ai_assisted",
                }
            ]
        },
    )

    assert body["contributions"] == [
        {
            "party": brief(b),
            "role": "producer",
            "element": "production",
            "involvement": "ai_assisted",
        }
    ]
    assert (body["title"], body["isrc"]) == (recording["title"], recording["isrc"])
    assert Contribution.objects.filter(recording_id=recording["id"]).count() == 1
    assert get(label, f"{URL}{recording['id']}/")["contributions"] == body["contributions"]


def test_patch_leaves_unmentioned_lists_alone(label):
    a = create_party(label, name="A")
    recording = register_recording(
        label,
        ai_disclosure="partly",
        contributions=[{"party": a["id"], "role": "vocalist", "element": "vocals"}],
        rights=[{"share_pct": "100"}],
    )

    body = patch(label, f"{URL}{recording['id']}/", {"title": "Renamed"})

    assert body["title"] == "Renamed"
    assert body["ai_disclosure"] == "partly"  # no default applied on a partial update
    assert body["contributions"] == recording["contributions"]
    assert [r["share_pct"] for r in body["rights"]] == ["100.000"]


def test_put_empties_the_lists_it_leaves_out(label):
    a = create_party(label, name="A")
    recording = register_recording(
        label,
        ai_disclosure="all",
        contributions=[{"party": a["id"], "role": "vocalist", "element": "vocals"}],
        generations=[{"provider": "P", "model_name": "M"}],
        rights=[{"share_pct": "100"}],
    )

    body = expect(
        label.put(
            f"{URL}{recording['id']}/",
            {"title": "Replaced", "isrc": recording["isrc"]},
            format="json",
        ),
        200,
    )

    assert (body["title"], body["isrc"], body["ai_disclosure"]) == (
        "Replaced",
        recording["isrc"],
        "none",
    )
    assert (body["contributions"], body["generations"], body["rights"]) == ([], [], [])
    assert [e["action"] for e in get(label, f"{URL}{recording['id']}/history/")] == [
        "recording.register",
        "recording.update",
    ]


def test_patch_rights_replaces_them(label):
    recording = register_recording(label, rights=[{"share_pct": "100"}])

    body = patch(
        label,
        f"{URL}{recording['id']}/",
        {"rights": [{"share_pct": "30", "territories": ["GB"]}]},
    )

    assert [(r["share_pct"], r["territories"]) for r in body["rights"]] == [("30.000", ["GB"])]


def test_patch_with_an_invalid_isrc_changes_nothing(label):
    recording = register_recording(label, isrc="GBAAA2500001")

    response = label.patch(
        f"{URL}{recording['id']}/", {"title": "Renamed", "isrc": "GB-AAA-25"}, format="json"
    )

    assert_error(response, 400, "ISRC_INVALID", field="isrc")
    assert get(label, f"{URL}{recording['id']}/") == recording


def test_delete_withdraws_but_keeps_the_recording_readable(label):
    recording = register_recording(label, rights=[{"share_pct": "100"}])

    body = expect(label.delete(f"{URL}{recording['id']}/"), 200)

    assert body["status"] == "withdrawn"
    assert without(body, "status", "updated_at") == without(recording, "status", "updated_at")
    assert get(label, f"{URL}{recording['id']}/")["status"] == "withdrawn"
    assert ids(get(label, URL, status="withdrawn")) == [recording["id"]]
    assert get(label, URL, status="active")["count"] == 0


def test_withdrawing_twice_changes_nothing_more(label):
    recording = register_recording(label)
    expect(label.delete(f"{URL}{recording['id']}/"), 200)

    body = expect(label.delete(f"{URL}{recording['id']}/"), 200)

    assert body["status"] == "withdrawn"
    actions = [e["action"] for e in get(label, f"{URL}{recording['id']}/history/")]
    assert actions == ["recording.register", "recording.withdraw"]


def test_history_lists_the_provenance_events_oldest_first(label):
    recording = register_recording(label, title="Draft", isrc="GBAAA2500001")
    patch(label, f"{URL}{recording['id']}/", {"title": "Final"})
    expect(label.delete(f"{URL}{recording['id']}/"), 200)

    history = get(label, f"{URL}{recording['id']}/history/")

    assert [e["action"] for e in history] == [
        "recording.register",
        "recording.update",
        "recording.withdraw",
    ]
    register, update, withdraw = history
    assert set(register) == {
        "id",
        "at",
        "action",
        "actor",
        "organization",
        "before",
        "after",
        "hash",
    }
    assert register["actor"] == label.user.username
    assert register["organization"] == "Northern Lights Records"
    assert register["before"] is None
    assert (register["after"]["title"], register["after"]["isrc"]) == ("Draft", "GBAAA2500001")
    assert (update["before"]["title"], update["after"]["title"]) == ("Draft", "Final")
    assert (withdraw["before"], withdraw["after"]) == (
        {"status": "active"},
        {"status": "withdrawn"},
    )
    assert register["id"] < update["id"] < withdraw["id"]
    assert len({e["hash"] for e in history}) == 3


def test_filters_by_isrc_in_any_form_and_by_ai_disclosure(label):
    human = register_recording(label, isrc="GBAAA2500001", ai_disclosure="none")
    partly = register_recording(label, isrc="GBAAA2500002", ai_disclosure="partly")
    machine = register_recording(label, isrc="GBAAA2500003", ai_disclosure="all")

    assert ids(get(label, URL, isrc="GB-AAA-25-00002")) == [partly["id"]]
    assert ids(get(label, URL, isrc="gbaaa2500003")) == [machine["id"]]
    assert get(label, URL, isrc="GBAAA2599999")["count"] == 0
    assert ids(get(label, URL, ai_disclosure="none")) == [human["id"]]
    assert ids(get(label, URL, ai_disclosure="all")) == [machine["id"]]
    assert ids(get(label, URL)) == [machine["id"], partly["id"], human["id"]]  # newest first


def test_an_unknown_filter_choice_is_a_validation_error(label):
    body = assert_error(
        label.get(URL, {"ai_disclosure": "maybe"}), 400, "VALIDATION_ERROR", field="ai_disclosure"
    )
    assert body["detail"]["fields"]["ai_disclosure"][0]["code"] == "invalid_choice"


def test_filter_by_work_and_title(label):
    work = create_work(label)
    linked = register_recording(label, title="Harbour Lights", work=work["id"])
    register_recording(label, title="Other")

    assert ids(get(label, URL, work=work["id"])) == [linked["id"]]
    assert ids(get(label, URL, title="harbour")) == [linked["id"]]


def test_another_organisations_recording_does_not_exist_for_me(label, other_label):
    theirs = register_recording(other_label, isrc="GBAAA2500009")
    mine = register_recording(label)
    url = f"{URL}{theirs['id']}/"

    assert_error(label.get(url), 404, "RECORDING_NOT_FOUND")
    assert_error(label.get(f"{url}history/"), 404, "RECORDING_NOT_FOUND")
    assert_error(label.patch(url, {"title": "Mine"}, format="json"), 404, "RECORDING_NOT_FOUND")
    assert_error(label.put(url, {"title": "Mine"}, format="json"), 404, "RECORDING_NOT_FOUND")
    assert_error(label.delete(url), 404, "RECORDING_NOT_FOUND")
    assert ids(get(label, URL)) == [mine["id"]]
    assert get(label, URL, isrc="GBAAA2500009")["count"] == 0
    after = get(other_label, url)
    assert (after["title"], after["status"]) == (theirs["title"], "active")


def test_operator_sees_every_organisations_recordings(label, other_label, operator):
    mine = register_recording(label)
    theirs = register_recording(other_label)

    assert ids(get(operator, URL)) == [theirs["id"], mine["id"]]
    assert get(operator, f"{URL}{mine['id']}/") == get(label, f"{URL}{mine['id']}/")
    assert [e["action"] for e in get(operator, f"{URL}{theirs['id']}/history/")] == [
        "recording.register"
    ]
    assert_error(operator.delete(f"{URL}{mine['id']}/"), 404, "RECORDING_NOT_FOUND")


# ---------------------------------------------------------------- the error format


def test_malformed_json_is_a_malformed_request(label):
    response = label.generic("POST", URL, '{"title": "Lantern",', content_type="application/json")

    body = assert_error(response, 400, "MALFORMED_REQUEST")
    assert body["message"].startswith("JSON parse error")
    assert body["detail"] == {}


def test_wrong_types_list_every_bad_field(label):
    response = label.post(
        URL,
        {"title": ["not", "a", "string"], "work": "seven", "contributions": "everyone"},
        format="json",
    )

    body = assert_error(response, 400, "VALIDATION_ERROR")
    fields = body["detail"]["fields"]
    assert set(fields) == {"title", "work", "contributions"}
    assert fields["title"] == [{"code": "invalid", "message": "Not a valid string."}]
    assert fields["work"] == [{"code": "invalid", "message": "A valid integer is required."}]
    assert fields["contributions"][0]["code"] == "not_a_list"
    assert body["detail"]["field"] == "title"
    assert body["message"] == "title: Not a valid string."
    assert Recording.objects.count() == 0


def test_an_unknown_choice_is_a_validation_error(label):
    response = label.post(URL, {"title": "X", "ai_disclosure": "maybe"}, format="json")

    body = assert_error(response, 400, "VALIDATION_ERROR", field="ai_disclosure")
    assert body["detail"]["fields"] == {
        "ai_disclosure": [{"code": "invalid_choice", "message": '"maybe" is not a valid choice.'}]
    }


def test_an_unknown_choice_inside_a_list_names_its_index(label):
    party = create_party(label, name="A")

    response = label.post(
        URL,
        {
            "title": "X",
            "contributions": [
                {"party": party["id"], "role": "vocalist", "element": "vocals"},
                {"party": party["id"], "role": "dj", "element": "vocals"},
            ],
        },
        format="json",
    )

    body = assert_error(response, 400, "VALIDATION_ERROR", field="contributions[1].role")
    assert body["detail"]["fields"] == {
        "contributions[1].role": [
            {"code": "invalid_choice", "message": '"dj" is not a valid choice.'}
        ]
    }


def test_a_body_that_is_not_an_object_is_a_validation_error(label):
    body = assert_error(label.post(URL, [1, 2], format="json"), 400, "VALIDATION_ERROR")
    assert body["detail"]["fields"][""][0]["code"] == "invalid"


def test_an_unsupported_media_type_is_refused(label):
    response = label.generic("POST", URL, "title=x", content_type="text/plain")

    assert_error(response, 415, "UNSUPPORTED_MEDIA")


def test_an_inline_party_with_a_known_name_and_kind_is_reused(label):
    existing = create_party(label, name="Mara Vale", kind="person")

    body = register_recording(
        label,
        contributions=[
            {"party": {"name": "Mara Vale"}, "role": "vocalist", "element": "vocals"},
            {
                "party": {"name": "Mara Vale", "kind": "organization"},
                "role": "producer",
                "element": "production",
            },
        ],
    )

    first, second = (c["party"] for c in body["contributions"])
    assert first == brief(existing)
    assert second["id"] != existing["id"]
    assert (second["name"], second["kind"]) == ("Mara Vale", "organization")


@pytest.mark.parametrize(
    "ai_system",
    [{"name": "Wavesmith", "kind": "person"}, {"name": "Someone", "ipi": IPI}],
    ids=["declared-person", "found-person-by-ipi"],
)
def test_an_inline_ai_system_that_is_a_person_is_refused(label, ai_system):
    create_party(label, name="Mara Vale", kind="person", ipi=IPI)

    response = label.post(
        URL,
        {
            "title": "X",
            "generations": [{"ai_system": ai_system, "provider": "P", "model_name": "M"}],
        },
        format="json",
    )

    body = assert_error(response, 400, "PARTY_KIND_MISMATCH", field="generations[0].ai_system")
    assert body["detail"]["expected"] == "ai_system"
    assert Recording.objects.count() == 0
    assert list(Party.objects.values_list("name", flat=True)) == ["Mara Vale"]
