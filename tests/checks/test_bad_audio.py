"""Bad audio ends in a failed check with its reason code, a logged failure and a webhook."""

from __future__ import annotations

import pytest

from checks import webhooks
from checks.models import Check, WebhookDelivery
from registry.models import ProvenanceEvent

from .conftest import submit_check


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("not_audio", "AUDIO_UNDECODABLE"),
        ("empty", "AUDIO_EMPTY"),
        ("truncated", "AUDIO_TRUNCATED"),
        ("silent", "AUDIO_SILENT"),
    ],
)
def test_bad_audio_fails_the_check_with_its_reason(
    name, code, make_org, audio, receiver, committed
):
    # Given a distributor with a webhook
    distributor = make_org("distributor")
    configured = distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    assert configured.status_code == 200, configured.json()
    secret = configured.json()["secret"]

    # When it submits audio that is not usable
    with committed():
        response = submit_check(distributor, getattr(audio, name))

    # Then the submission is accepted, and the check fails with the reason code
    assert response.status_code == 202, response.json()
    check_id = response.json()["id"]
    verdict = distributor.get(f"/api/v1/checks/{check_id}/").json()
    check = Check.objects.get(pk=check_id)
    assert check.error_message
    assert (verdict["status"], verdict["error"], verdict["error_message"]) == (
        "failed",
        code,
        check.error_message,
    )
    assert (verdict["matches"], verdict["ai_origin"], verdict["decision"]) == ([], None, None)
    assert verdict["attempts"] == 1
    assert verdict["audio"]["size_bytes"] == getattr(audio, name).stat().st_size

    # ... logged as a failure ...
    events = ProvenanceEvent.objects.filter(
        object_type="checks.check", object_id=str(check_id)
    ).order_by("id")
    assert [e.action for e in events] == ["check.submit", "check.fail"]
    assert events.last().after == {
        "status": "failed",
        "code": code,
        "message": check.error_message,
    }

    # ... and told to the webhook, signed
    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert (delivery.event, delivery.status, delivery.attempts, delivery.last_status_code) == (
        "check.failed",
        "delivered",
        1,
        200,
    )
    [received] = receiver.received
    assert received.headers["X-Stemma-Event"] == "check.failed"
    assert webhooks.verify(secret, received.headers["X-Stemma-Signature"], received.body)
    body = received.json()
    assert body["event"] == "check.failed"
    assert (body["check"]["id"], body["check"]["status"], body["check"]["error"]) == (
        check_id,
        "failed",
        code,
    )
