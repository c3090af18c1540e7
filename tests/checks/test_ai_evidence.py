"""AI-origin evidence in a check: a registered AI generation, re-encoded or byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import register_recording, submit_check

GENERATION = {
    "provider": "Tunesmith AI",
    "model_name": "melody-2",
    "model_version": "2.1",
    "prompt": "moody synthwave, 92 bpm",
    "provider_job_id": "job-77",
}


@pytest.fixture
def generation(make_org, audio, committed) -> dict[str, Any]:
    """An AI provider's generation, registered with its output's hash, fully AI."""
    provider = make_org("ai_provider", "Tunesmith AI")
    with committed():
        return register_recording(
            provider,
            audio.ai_song,
            {
                "title": "Neon Drive",
                "ai_disclosure": "all",
                "generations": [{**GENERATION, "output_sha256": audio.sha256("ai_song")}],
                "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
            },
        )


def verdict_of(client: Any, path: Any, committed: Any, declared: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"title": "Night Ride", "territories": ["US"]}
    if declared is not None:
        metadata["declared_ai"] = {"disclosure": declared, "elements": []}
    with committed():
        response = submit_check(client, path, metadata)
    assert response.status_code == 202, response.json()
    verdict = client.get(response.json()["url"]).json()
    assert verdict["status"] == "done", verdict
    return verdict


def fired(verdict: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["rule"], r["action"]) for r in verdict["decision"]["rules"]]


@pytest.mark.parametrize("declared", ["none", None])
def test_a_reencoded_ai_generation_submitted_as_human_is_detected(
    declared, generation, make_org, audio, committed
):
    distributor = make_org("distributor")
    verdict = verdict_of(distributor, audio.ai_song_mp3, committed, declared)

    [match] = verdict["matches"]
    assert match["recording"]["id"] == generation["id"]
    assert match["recording"]["ai_disclosure"] == "all"
    origin = verdict["ai_origin"]
    assert (origin["assessment"], origin["declared"], origin["undisclosed"]) == (
        "detected_ai",
        declared,
        True,
    )
    [evidence] = origin["evidence"]
    assert (evidence["source"], evidence["strength"]) == ("registry", "strong")
    assert evidence["score"] == pytest.approx(match["score"], abs=1e-3)
    assert origin["confidence"] == pytest.approx(evidence["score"], abs=1e-3)
    assert evidence["detail"] == (
        f"contains 20 s of recording {generation['id']}, registered as all AI "
        "(Tunesmith AI melody-2)"
    )
    assert evidence["algorithm"].startswith("stemma-match/1")

    decision = verdict["decision"]
    assert (decision["action"], decision["territories"]) == (
        "require_licence",
        {"US": "require_licence"},
    )
    if declared is None:
        # Saying nothing discloses nothing: the undisclosed-AI review fires. Whether the
        # work was "submitted as human" is unknown, so that rule does not.
        assert fired(verdict) == [
            ("reuse-needs-licence", "require_licence"),
            ("undisclosed-ai", "review"),
        ]
        return
    # Declared human: both AI reviews fire beside the licence, which is more restrictive
    assert fired(verdict) == [
        ("reuse-needs-licence", "require_licence"),
        ("ai-generation-as-human", "review"),
        ("undisclosed-ai", "review"),
    ]
    assert decision["explanation"].endswith(
        'Also fired, outweighed: "ai-generation-as-human" (send to review), '
        '"undisclosed-ai" (send to review).'
    )


def test_a_disclosed_ai_generation_is_declared_not_undisclosed(
    generation, make_org, audio, committed
):
    distributor = make_org("distributor")
    verdict = verdict_of(distributor, audio.ai_song_mp3, committed, "all")

    origin = verdict["ai_origin"]
    assert (origin["assessment"], origin["undisclosed"]) == ("detected_ai", False)
    rules = fired(verdict)
    assert ("undisclosed-ai", "review") not in rules
    assert ("ai-generation-as-human", "review") not in rules
    assert rules == [("reuse-needs-licence", "require_licence")]


def test_a_byte_identical_reupload_is_evidence_by_sha256(generation, make_org, audio, committed):
    distributor = make_org("distributor")
    verdict = verdict_of(distributor, audio.ai_song, committed, "none")

    origin = verdict["ai_origin"]
    assert (origin["assessment"], origin["confidence"]) == ("detected_ai", 1.0)
    by_hash = [e for e in origin["evidence"] if e["algorithm"] == "sha256"]
    assert sorted(e["detail"] for e in by_hash) == [
        f"byte-identical to recording {generation['id']}, registered as all AI",
        "byte-identical to the output of a generation by Tunesmith AI melody-2 2.1",
    ]
    assert all(
        (e["source"], e["score"], e["strength"]) == ("registry", 1.0, "strong") for e in by_hash
    )
    by_match = [e for e in origin["evidence"] if e not in by_hash]
    assert [e["algorithm"].split()[0] for e in by_match] == ["stemma-match/1"]
    assert ("undisclosed-ai", "review") in fired(verdict)


def test_human_music_has_no_ai_evidence(make_org, audio, committed):
    distributor = make_org("distributor")
    verdict = verdict_of(distributor, audio.unrelated, committed, "none")
    assert verdict["matches"] == []
    assert verdict["ai_origin"]["assessment"] == "no_evidence"
    assert verdict["ai_origin"]["evidence"] == []
    assert fired(verdict) == [("nothing-found", "allow")]
    assert verdict["decision"]["action"] == "allow"
