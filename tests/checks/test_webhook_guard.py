"""Webhook URLs are customers' input: the workers never call into private networks."""

from __future__ import annotations

import pytest

from checks import webhooks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "ftp://example.com/hook",
    ],
)
def test_private_and_odd_destinations_are_refused(settings, url):
    settings.STEMMA_WEBHOOK_ALLOW_PRIVATE = False
    assert webhooks._forbidden_destination(url) != ""


def test_development_may_allow_loopback(settings):
    settings.STEMMA_WEBHOOK_ALLOW_PRIVATE = True
    assert webhooks._forbidden_destination("http://127.0.0.1:8080/hook") == ""
