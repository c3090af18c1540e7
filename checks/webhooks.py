"""Webhooks: signed deliveries of check events, retried with backoff, each attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from .models import Check, WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "X-Stemma-Signature"
TIMEOUT_S = 10
USER_AGENT = "Stemma-Webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would follow it as a GET, body dropped."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx code


_OPENER = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (the time defeats replays)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def payload_for(check: Check, event: str) -> dict[str, Any]:
    from .selectors import verdict

    return {"event": event, "check": verdict(check, viewer=check.organization)}


def queue_delivery(check: Check, event: str) -> WebhookDelivery | None:
    """Record a delivery for the check's organisation (if it has a webhook), sent after commit."""
    endpoint = WebhookEndpoint.objects.filter(
        organization_id=check.organization_id, active=True
    ).first()
    if endpoint is None:
        return None
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        submission=check,
        # Encoded as the API encodes it (ISO times with "Z"), so the body equals GET's.
        payload=json.loads(json.dumps(payload_for(check, event), cls=JSONEncoder)),
    )
    from .tasks import deliver_webhook

    delivery_id = delivery.pk
    transaction.on_commit(lambda: deliver_webhook.delay(delivery_id))
    return delivery


def _forbidden_destination(url: str) -> str:
    """Why a URL may not be called from inside our network ("" when it may).

    Webhook URLs come from customers: without this a URL could make the workers probe
    internal services (SSRF). Loopback and private ranges are allowed only when
    STEMMA_WEBHOOK_ALLOW_PRIVATE is set (local development and tests).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"not an http(s) URL: {url}"
    if settings.STEMMA_WEBHOOK_ALLOW_PRIVATE:
        return ""
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"cannot resolve {parts.hostname}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{parts.hostname} resolves to a non-public address ({address})"
    return ""


def attempt(delivery_id: int) -> bool:
    """POST the delivery once; True when the receiver answered 2xx. Never raises for the network."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 -- the organisation's own https/http URL
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Stemma-Event": delivery.event,
            "X-Stemma-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(delivery.endpoint.secret, int(time.time()), body),
        },
    )
    status_code: int | None = None
    error = _forbidden_destination(delivery.endpoint.url)
    try:
        if error:
            raise ValueError(error)
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    ok = status_code is not None and 200 <= status_code < 300
    # Counted in the database, and a failure never touches the status: another copy of
    # the task (a redelivered message) may have delivered it meanwhile.
    updates: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "last_status_code": status_code,
        "last_error": error,
    }
    if ok:
        updates.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**updates)
    return ok


def give_up(delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(status=WebhookDelivery.Status.FAILED)
