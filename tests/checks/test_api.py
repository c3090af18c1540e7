"""The checks API: idempotent submissions, and a verdict only its submitter (or an operator) reads."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from checks import services
from checks.models import Check
from checks.tasks import process_check
from registry import services as registry_services

from .conftest import register_recording, submit_check

AI_PROMPT = "moody synthwave, in the style of a famous band, 92 bpm"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids process_check is queued with (the task still runs, inline)."""
    calls: list[int] = []
    original = process_check.delay

    def spy(check_id: int) -> Any:
        calls.append(check_id)
        return original(check_id)

    monkeypatch.setattr(process_check, "delay", spy)
    return calls


def test_the_same_idempotency_key_returns_the_same_check(make_org, audio, committed, queued):
    distributor = make_org("distributor")
    other = make_org("distributor")
    metadata = {"title": "Track 1", "idempotency_key": "batch-7/track-1"}

    with committed():
        first = submit_check(distributor, audio.unrelated, metadata)
    assert first.status_code == 202
    check_id = first.json()["id"]
    url = f"/api/v1/checks/{check_id}/"
    assert first.json() == {"id": check_id, "status": "queued", "url": url}

    # The same key again (a client retrying after a timeout): the same check, no new task
    with committed():
        again = submit_check(distributor, audio.unrelated, metadata)
    assert again.status_code == 202
    assert again.json() == {"id": check_id, "status": "done", "url": url}
    assert again["Location"] == url
    assert Check.objects.filter(organization=distributor.organization).count() == 1
    assert queued == [check_id]

    # Another organisation's key is its own
    with committed():
        theirs = submit_check(other, audio.unrelated, metadata)
    assert theirs.status_code == 202
    their_id = theirs.json()["id"]
    assert their_id != check_id
    assert queued == [check_id, their_id]

    # The same key for different audio is a conflict, and changes nothing
    with committed():
        reused = submit_check(distributor, audio.query, metadata)
    assert reused.status_code == 409
    assert reused.json() == {
        "code": "IDEMPOTENCY_KEY_REUSED",
        "message": "this idempotency key was used for different audio",
        "detail": {"field": "idempotency_key", "check": check_id},
    }
    assert Check.objects.count() == 2
    assert queued == [check_id, their_id]

    # Without a key, every submission is a new check
    with committed():
        ids = [submit_check(distributor, audio.unrelated).json()["id"] for _ in range(2)]
    assert len(set(ids) | {check_id}) == 3
    assert queued == [check_id, their_id, *ids]


def test_two_requests_racing_with_one_key_make_one_check(
    transactional_db, make_org, audio, monkeypatch
):
    # Given two submissions that both looked for the key before either stored its check
    distributor = make_org("distributor")
    enqueued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", enqueued.append)
    both_looked = threading.Barrier(2, timeout=10)
    store = registry_services.audio_store

    def slow_store(audio_file: Any) -> Any:
        both_looked.wait()
        return store(audio_file)

    monkeypatch.setattr(services, "audio_store", slow_store)
    results: list[Any] = []

    def submit() -> None:
        from django.db import connection

        try:
            results.append(submit_check(distributor, audio.unrelated, {"idempotency_key": "k-1"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then both get the one check, queued once
    assert [r.status_code for r in results] == [202, 202]
    assert results[0].json()["id"] == results[1].json()["id"]
    assert list(Check.objects.values_list("pk", flat=True)) == [results[0].json()["id"]]
    assert enqueued == [results[0].json()["id"]]


@pytest.fixture
def matched_checks(make_org, audio, committed) -> dict[str, Any]:
    """A label's recording and an AI provider's generation, each found in a distributor's check."""
    label = make_org("label", "Northern Lights Records")
    provider = make_org("ai_provider", "Tunesmith AI")
    distributor = make_org("distributor", "Eastbound Distribution")
    with committed():
        aurora = register_recording(
            label,
            audio.reference,
            {
                "title": "Aurora",
                "isrc": "GBAAA2600001",
                "rights": [{"share_pct": "62.5", "territories": ["WORLD"]}],
            },
            filename="NLR-private-master-take-3.flac",
        )
        generated = register_recording(
            provider,
            audio.ai_song,
            {
                "title": "Neon Drive",
                "ai_disclosure": "all",
                "generations": [
                    {
                        "provider": "Tunesmith AI",
                        "model_name": "melody-2",
                        "model_version": "2.1",
                        "prompt": AI_PROMPT,
                        "negative_prompt": "no vocals",
                        "lyrics": "secret lyric line",
                        "seed": "884422",
                        "provider_job_id": "job-77",
                        "parameters": {"temperature": 0.93},
                    }
                ],
                "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
            },
            filename="tunesmith-job-77-private.flac",
        )
        checks = {
            "label": submit_check(distributor, audio.query).json()["id"],
            "ai": submit_check(distributor, audio.ai_song_mp3).json()["id"],
        }
    return {
        "label": label,
        "provider": provider,
        "distributor": distributor,
        "recordings": {"label": aurora, "ai": generated},
        "checks": checks,
    }


def test_another_organisations_check_is_not_found(matched_checks, make_org):
    distributor = matched_checks["distributor"]
    check_id = matched_checks["checks"]["label"]
    for outsider in (make_org("distributor"), matched_checks["label"]):
        response = outsider.get(f"/api/v1/checks/{check_id}/")
        assert response.status_code == 404
        assert response.json() == {
            "code": "CHECK_NOT_FOUND",
            "message": f"check {check_id} not found",
            "detail": {},
        }
        assert outsider.get("/api/v1/checks/").json()["results"] == []
    listed = distributor.get("/api/v1/checks/").json()["results"]
    assert sorted(c["id"] for c in listed) == sorted(matched_checks["checks"].values())
    missing = distributor.get("/api/v1/checks/999999/")
    assert (missing.status_code, missing.json()["code"]) == (404, "CHECK_NOT_FOUND")


def test_operators_read_any_check(matched_checks, operator):
    distributor = matched_checks["distributor"]
    for check_id in matched_checks["checks"].values():
        url = f"/api/v1/checks/{check_id}/"
        seen_by_operator = operator.get(url)
        assert seen_by_operator.status_code == 200
        assert seen_by_operator.json() == distributor.get(url).json()
    listed = operator.get("/api/v1/checks/").json()["results"]
    assert sorted(c["id"] for c in listed) == sorted(matched_checks["checks"].values())


@pytest.mark.parametrize("which", ["label", "ai"])
def test_the_verdict_shows_only_public_facts_of_a_matched_recording(which, matched_checks):
    distributor = matched_checks["distributor"]
    recording = matched_checks["recordings"][which]
    owner = matched_checks["label" if which == "label" else "provider"].organization
    verdict = distributor.get(f"/api/v1/checks/{matched_checks['checks'][which]}/").json()

    assert verdict["status"] == "done"
    [match] = verdict["matches"]
    assert set(match) == {
        "recording",
        "score",
        "query_start_s",
        "query_end_s",
        "reference_start_s",
        "reference_end_s",
        "query_coverage_pct",
        "reference_coverage_pct",
        "bit_error_rate",
        "speed_factor",
        "algorithm",
        "id",
    }
    assert set(match["recording"]) == {
        "id",
        "title",
        "isrc",
        "isrc_display",
        "display_artist",
        "owner",
        "ai_disclosure",
    }
    assert match["recording"]["id"] == recording["id"]
    assert match["recording"]["owner"] == {"id": owner.pk, "name": owner.name}
    for evidence in verdict["ai_origin"]["evidence"]:
        assert set(evidence) == {"source", "score", "strength", "detail", "algorithm"}

    # Nothing private of the owner's anywhere: prompts, shares, files, audio
    text = json.dumps(verdict)
    private = [
        AI_PROMPT,
        "no vocals",
        "secret lyric line",
        "884422",
        "job-77",
        "temperature",
        "62.5",
        "share_pct",
        "rights",
        "prompt",
        recording["audio"]["filename"],
        recording["audio"]["sha256"],
        "/media/",
    ]
    assert [word for word in private if word in text] == []


def test_the_decision_a_verdict_links_to_hides_the_owners_shares(matched_checks):
    distributor = matched_checks["distributor"]
    verdict = distributor.get(f"/api/v1/checks/{matched_checks['checks']['label']}/").json()
    decision = distributor.get(f"/api/v1/decisions/{verdict['decision']['id']}/")
    assert decision.status_code == 200
    assert "62.5" not in json.dumps(decision.json())
