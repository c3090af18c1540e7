"""The admin: staff changes to users are logged; registry data is read-only there."""

from __future__ import annotations

import pytest

from registry.models import ProvenanceEvent, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, operator):
    operator.user.is_staff = operator.user.is_superuser = True
    operator.user.save()
    client.force_login(operator.user)
    return client


def test_a_user_added_in_the_admin_is_logged_without_secrets(staff_client, operator):
    response = staff_client.post(
        "/admin/registry/user/add/",
        {
            "username": "newcomer",
            "password1": "a-long-Passphrase-1",
            "password2": "a-long-Passphrase-1",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(username="newcomer")
    event = ProvenanceEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.actor_user == operator.user.username
    assert event.after["username"] == "newcomer"
    assert event.after["password_changed"] is True
    assert "Passphrase" not in str(event.after)


def test_registry_objects_and_events_cannot_be_changed_in_the_admin(staff_client, label):
    party = label.post("/api/v1/parties/", {"name": "Ada", "kind": "person"}).json()
    event = ProvenanceEvent.objects.order_by("-id").first()
    assert staff_client.get(f"/admin/registry/party/{party['id']}/change/").status_code == 200
    response = staff_client.post(
        f"/admin/registry/party/{party['id']}/change/", {"name": "Eve", "kind": "person"}
    )
    assert response.status_code == 403
    assert (
        staff_client.post(
            f"/admin/registry/provenanceevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ProvenanceEvent.objects.filter(pk=event.pk).exists()
    assert staff_client.get("/admin/registry/party/add/").status_code == 403
