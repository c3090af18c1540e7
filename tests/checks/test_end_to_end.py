"""Checks end to end through HTTP, on real Celery workers (Redis, RabbitMQ) and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from checks import services
from checks.models import Check, CheckMatch
from policies.models import Decision
from registry.models import ProvenanceEvent

from .conftest import (
    BROKERS,
    EXCERPT_FROM_S,
    EXCERPT_S,
    LEAD_S,
    QUERY_S,
    REFERENCE_S,
    forget_redis_queue,
    producing_to,
    queue_name,
    register_recording,
    submit_check,
    wait_until,
)

pytestmark = pytest.mark.worker

AURORA = {
    "title": "Aurora",
    "isrc": "GBAAA2600001",
    "display_artist": "The Northern Lights",
    "rights": [{"share_pct": "100", "territories": ["WORLD"]}],
}


def register_and_index(label: Any, path: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    recording = register_recording(label, path, metadata)
    url = f"/api/v1/recordings/{recording['id']}/"
    status = wait_until(
        lambda: (s := label.get(url).json()["fingerprint_status"]) != "pending" and s,
        timeout_s=60,
        what=f"recording {recording['id']} to be fingerprinted",
    )
    assert status == "done"
    return recording


def follow(client: Any, url: str, first_status: str) -> tuple[list[str], dict[str, Any]]:
    """Poll a check until it finishes; the distinct statuses seen, in order, and the verdict."""
    seen = [first_status]
    verdict: dict[str, Any] = {}

    def finished() -> bool:
        nonlocal verdict
        response = client.get(url)
        assert response.status_code == 200, response.json()
        verdict = response.json()
        if verdict["status"] != seen[-1]:
            seen.append(verdict["status"])
        return verdict["status"] in ("done", "failed")

    wait_until(finished, timeout_s=60, interval_s=0.05, what=f"{url} to finish")
    return seen, verdict


def provenance_actions(check_id: int) -> list[str]:
    return list(
        ProvenanceEvent.objects.filter(object_type="checks.check", object_id=str(check_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_a_reencoded_excerpt_is_found_by_a_worker(broker, use_worker, make_org, audio):
    # Given a label's recordings, fingerprinted and indexed by the worker
    worker = use_worker(broker)
    label = make_org("label", "Northern Lights Records")
    distributor = make_org("distributor", "Eastbound Distribution")
    aurora = register_and_index(label, audio.reference, AURORA)
    register_and_index(label, audio.decoy, {"title": "Decoy", "isrc": "GBAAA2600002"})

    # When a distributor submits 15 s of it, as MP3, inside 30 s of unregistered music
    response = submit_check(
        distributor,
        audio.query,
        {
            "title": "Borealis (club edit)",
            "artist": "DJ Someone",
            "declared_ai": {"disclosure": "none", "elements": []},
            "territories": ["GB", "US"],
            "usage_types": ["stream"],
        },
    )

    # Then it is accepted at once, and goes queued -> processing -> done on the worker
    assert response.status_code == 202, response.json()
    accepted = response.json()
    check_id = accepted["id"]
    url = f"/api/v1/checks/{check_id}/"
    assert accepted == {"id": check_id, "status": "queued", "url": url}
    assert response["Location"] == url
    seen, verdict = follow(distributor, url, accepted["status"])
    assert seen == ["queued", "processing", "done"], verdict
    assert "checks.process_check[" in worker.log()

    # The match: the recording's public facts, where the excerpt is, and how much of each
    assert (verdict["status"], verdict["error"], verdict["attempts"]) == ("done", None, 1)
    assert verdict["audio"]["duration_s"] == pytest.approx(QUERY_S, abs=0.1)
    assert len(verdict["matches"]) == 1
    match = verdict["matches"][0]
    assert match["recording"] == {
        "id": aurora["id"],
        "title": "Aurora",
        "isrc": "GBAAA2600001",
        "isrc_display": "GB-AAA-26-00001",
        "display_artist": "The Northern Lights",
        "owner": {"id": label.organization.pk, "name": "Northern Lights Records"},
        "ai_disclosure": "none",
    }
    assert match["query_start_s"] == pytest.approx(LEAD_S, abs=1.0)
    assert match["query_end_s"] == pytest.approx(LEAD_S + EXCERPT_S, abs=1.0)
    assert match["reference_start_s"] == pytest.approx(EXCERPT_FROM_S, abs=1.0)
    assert match["reference_end_s"] == pytest.approx(EXCERPT_FROM_S + EXCERPT_S, abs=1.0)
    assert match["query_coverage_pct"] == pytest.approx(100 * EXCERPT_S / QUERY_S, abs=3)
    assert match["reference_coverage_pct"] == pytest.approx(100 * EXCERPT_S / REFERENCE_S, abs=3)
    assert match["speed_factor"] == 1.0
    assert 0.8 <= match["score"] <= 1.0

    # Nothing says AI, and the default policy wants a licence for the reuse, everywhere asked
    assert verdict["ai_origin"]["assessment"] == "no_evidence"
    assert verdict["ai_origin"]["evidence"] == []
    decision = verdict["decision"]
    assert decision["action"] == "require_licence"
    assert decision["territories"] == {"GB": "require_licence", "US": "require_licence"}
    assert decision["rules"] == [
        {
            "policy": "Stemma default",
            "policy_version": 1,
            "rule": "reuse-needs-licence",
            "action": "require_licence",
        }
    ]
    assert (decision["policy"], decision["policy_version"]) == (
        "Stemma default",
        "Stemma default v1",
    )
    assert decision["explanation"].startswith("Decision: require a licence.\n")
    assert 'rule "reuse-needs-licence"' in decision["explanation"]
    assert f'recording {aurora["id"]} "Aurora" (ISRC GBAAA2600001)' in decision["explanation"]
    assert verdict["review"] == {
        "state": "none",
        "note": "",
        "final_action": None,
        "resolved_at": None,
        "reviewer": None,
    }

    # Stored once, logged once
    assert CheckMatch.objects.filter(submission_id=check_id).count() == 1
    assert Decision.objects.filter(subject_type="check", subject_id=str(check_id)).count() == 1
    assert provenance_actions(check_id) == ["check.submit", "check.complete"]


def test_a_check_no_worker_picked_up_is_requeued_by_the_sweeper(use_worker, make_org, audio):
    worker = use_worker("redis")
    label = make_org("label", "Northern Lights Records")
    distributor = make_org("distributor")
    aurora = register_and_index(label, audio.reference, AURORA)

    # Given a check whose task went where no worker listens (a lost message)
    lost = queue_name("lost")
    with producing_to(worker.broker_url, lost):
        response = submit_check(distributor, audio.query)
    assert response.status_code == 202
    check_id = response.json()["id"]
    forget_redis_queue(worker.broker_url, lost)  # the message is gone for good
    assert Check.objects.get(pk=check_id).status == "queued"

    # When the sweeper runs: not yet stale by the default age, stale at age 0
    assert services.checks_sweep() == []
    assert services.checks_sweep(stale_after_s=0) == [check_id]

    # Then the worker does it
    seen, verdict = follow(distributor, f"/api/v1/checks/{check_id}/", "queued")
    assert seen == ["queued", "processing", "done"]
    assert [m["recording"]["id"] for m in verdict["matches"]] == [aurora["id"]]
    assert verdict["decision"]["action"] == "require_licence"
    assert verdict["attempts"] == 1
    assert provenance_actions(check_id) == ["check.submit", "check.complete"]
    assert services.checks_sweep(stale_after_s=0) == []  # done checks are left alone
