"""Webhooks: configured per organisation, signed with its secret, retried with backoff, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time

from django.db import connection
from django.db.models import F
from django.utils import timezone

from checks import webhooks
from checks.models import WebhookDelivery, WebhookEndpoint
from registry.models import ProvenanceEvent

from .conftest import Received, register_recording, submit_check, wait_until


def signature_parts(received: Received) -> tuple[int, str]:
    header = received.headers["X-Stemma-Signature"]
    found = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    assert found, header
    return int(found[1]), found[2]


def independent_hmac(secret: str, timestamp: int, body: bytes) -> str:
    """What a receiver written from the docs computes, without Stemma's code."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def test_the_webhook_secret_is_shown_once_and_rotates(make_org, receiver):
    distributor = make_org("distributor")
    other = make_org("distributor")
    missing = distributor.get("/api/v1/webhook/")
    assert (missing.status_code, missing.json()["code"]) == (404, "WEBHOOK_NOT_FOUND")

    created = distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    assert created.status_code == 200
    first_secret = created.json()["secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", first_secret)
    assert created.json() == {"url": receiver.url, "active": True, "secret": first_secret}

    changed = distributor.put(
        "/api/v1/webhook/", {"url": receiver.url + "/v2", "active": False}, format="json"
    )
    assert changed.json() == {"url": receiver.url + "/v2", "active": False}  # no secret again
    assert distributor.get("/api/v1/webhook/").json() == {
        "url": receiver.url + "/v2",
        "active": False,
    }

    rotated = distributor.put("/api/v1/webhook/?rotate=1", {"url": receiver.url}, format="json")
    second_secret = rotated.json()["secret"]
    assert rotated.json() == {"url": receiver.url, "active": True, "secret": second_secret}
    assert second_secret != first_secret
    endpoint = WebhookEndpoint.objects.get(organization=distributor.organization)
    assert endpoint.secret == second_secret

    bad = distributor.put("/api/v1/webhook/", {"url": "not a url"}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "VALIDATION_ERROR")
    assert other.get("/api/v1/webhook/").status_code == 404  # one organisation's, not another's

    events = ProvenanceEvent.objects.filter(action="webhook.configure").order_by("id")
    assert [e.after["secret_rotated"] for e in events] == [True, False, True]
    logged = json.dumps([[e.before, e.after] for e in events])
    assert first_secret not in logged and second_secret not in logged


def test_a_finished_check_is_posted_to_the_webhook_signed(make_org, audio, receiver, committed):
    label = make_org("label", "Northern Lights Records")
    distributor = make_org("distributor")
    secret = distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json").json()[
        "secret"
    ]
    with committed():
        recording = register_recording(label, audio.reference, {"title": "Aurora"})
        response = submit_check(distributor, audio.query)
    check_id = response.json()["id"]

    [received] = receiver.received
    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert received.path == "/hooks/stemma"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "Stemma-Webhooks/1"
    assert received.headers["X-Stemma-Event"] == "check.completed"
    assert received.headers["X-Stemma-Delivery"] == str(delivery.pk)

    # The signature: HMAC-SHA256 of "<t>." + body with the organisation's secret
    timestamp, signature = signature_parts(received)
    assert abs(time.time() - timestamp) < 60
    assert signature == independent_hmac(secret, timestamp, received.body)
    assert webhooks.verify(secret, received.headers["X-Stemma-Signature"], received.body)
    assert not webhooks.verify("0" * 64, received.headers["X-Stemma-Signature"], received.body)
    tampered = received.body.replace(b'"done"', b'"failed"')
    assert tampered != received.body
    assert not webhooks.verify(secret, received.headers["X-Stemma-Signature"], tampered)
    replayed = webhooks.sign(secret, timestamp - 3600, received.body)  # an old, valid signature
    assert not webhooks.verify(secret, replayed, received.body)

    # The body is the verdict, exactly as the API shows it
    body = received.json()
    assert body == {
        "event": "check.completed",
        "check": distributor.get(f"/api/v1/checks/{check_id}/").json(),
    }
    assert [m["recording"]["id"] for m in body["check"]["matches"]] == [recording["id"]]
    assert body["check"]["decision"]["action"] == "require_licence"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered",
        1,
        200,
    )
    assert delivery.last_error == "" and delivery.delivered_at is not None


def test_a_failing_receiver_gets_the_delivery_on_a_retry(make_org, audio, receiver, committed):
    receiver.statuses = [500, 500, 200]
    distributor = make_org("distributor")
    secret = distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json").json()[
        "secret"
    ]
    with committed():  # eager Celery runs the retries at once, without the backoff's wait
        check_id = submit_check(distributor, audio.unrelated).json()["id"]

    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert (delivery.event, delivery.status, delivery.attempts, delivery.last_status_code) == (
        "check.completed",
        "delivered",
        3,
        200,
    )
    assert delivery.last_error == ""
    assert len(receiver.received) == 3
    for received in receiver.received:  # each attempt signed afresh, the same body
        assert webhooks.verify(secret, received.headers["X-Stemma-Signature"], received.body)
        assert received.body == receiver.received[0].body
        assert received.headers["X-Stemma-Delivery"] == str(delivery.pk)


def test_a_receiver_that_always_fails_ends_in_a_failed_delivery(
    make_org, audio, receiver, committed, settings
):
    settings.STEMMA_WEBHOOK_MAX_RETRIES = 2
    receiver.statuses = [500]
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]

    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert (delivery.last_error, delivery.delivered_at) == ("HTTP 500", None)
    assert len(receiver.received) == 3  # the first attempt and two retries


def test_an_unreachable_receiver_is_logged_and_given_up(make_org, audio, committed, settings):
    settings.STEMMA_WEBHOOK_MAX_RETRIES = 1
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": "http://127.0.0.1:9/hook"}, format="json")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]

    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, None)
    assert "refused" in delivery.last_error.lower()


def test_a_redirect_is_not_a_delivery(make_org, audio, receiver, committed, settings):
    # A 302 to a page that answers GETs: following it would drop the body and the signature
    settings.STEMMA_WEBHOOK_MAX_RETRIES = 0
    receiver.statuses = [302, 200]
    receiver.location = receiver.url + "/moved"
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]

    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 302)
    assert [(r.method, r.path) for r in receiver.received] == [("POST", "/hooks/stemma")]


def test_a_late_failing_copy_never_undoes_a_delivery(
    transactional_db, make_org, audio, receiver, committed
):
    # Given a delivery whose task runs twice at once (a redelivered message)
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": receiver.url}, format="json")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]
    delivery = WebhookDelivery.objects.get(submission_id=check_id)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending", delivered_at=None)
    receiver.statuses, receiver.gate = [500], threading.Event()

    # When one copy's attempt is in flight (it read "pending") ...
    def late_copy() -> None:
        try:
            webhooks.attempt(delivery.pk)
        finally:
            connection.close()

    copy = threading.Thread(target=late_copy)
    copy.start()
    wait_until(lambda: len(receiver.received) == 2, what="the late copy's request")
    # ... the other copy gets through, and then the first one's receiver answers 500
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="delivered", delivered_at=timezone.now(), attempts=F("attempts") + 1
    )
    receiver.gate.set()
    copy.join(timeout=30)

    # Then the delivery stays delivered, with every attempt counted
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 500)
    assert delivery.delivered_at is not None


def test_an_inactive_webhook_gets_nothing(make_org, audio, receiver, committed):
    distributor = make_org("distributor")
    distributor.put("/api/v1/webhook/", {"url": receiver.url, "active": False}, format="json")
    with committed():
        check_id = submit_check(distributor, audio.unrelated).json()["id"]
    assert distributor.get(f"/api/v1/checks/{check_id}/").json()["status"] == "done"
    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []
