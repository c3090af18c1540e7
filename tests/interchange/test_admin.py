"""ERN messages and deals are browsable in the admin and cannot be changed there."""

from __future__ import annotations

import pytest

from interchange.models import ErnMessage

from . import ern_builder as b
from .conftest import send

pytestmark = pytest.mark.django_db


def test_imported_messages_can_be_browsed_but_not_changed(label, client, django_user_model):
    send(label, b.single().xml(), 201)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    message = ErnMessage.objects.get()

    listing = client.get("/admin/interchange/ernmessage/")
    detail = client.get(f"/admin/interchange/ernmessage/{message.pk}/change/")
    deals = client.get("/admin/interchange/deal/")
    add = client.post("/admin/interchange/ernmessage/add/", {})

    assert (listing.status_code, detail.status_code, deals.status_code) == (200, 200, 200)
    assert b"MSG-0001" in listing.content
    assert b"OnDemandStream" in detail.content
    assert add.status_code == 403
