"""Auth end to end: token exchange, token checks, /me/, create_organization, error format."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.cache import cache
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry.models import Organization, ProvenanceEvent, User

from .factories import assert_error, expect, register_recording

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct horse battery staple"  # what tests/conftest.py gives every user


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The token endpoint is throttled per client address; start each test from zero."""
    cache.clear()
    yield
    cache.clear()


def test_token_exchange_returns_the_users_token(label, anonymous):
    response = anonymous.post(
        TOKEN_URL, {"username": label.user.username, "password": PASSWORD}, format="json"
    )

    assert expect(response, 200) == {"token": label.token}


def test_token_from_the_exchange_authenticates(label, anonymous):
    token = expect(
        anonymous.post(
            TOKEN_URL, {"username": label.user.username, "password": PASSWORD}, format="json"
        ),
        200,
    )["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = expect(client.get("/api/v1/me/"), 200)

    assert me["username"] == label.user.username
    assert me["organization"]["id"] == label.organization.pk


def test_token_exchange_with_a_wrong_password_is_refused(label, anonymous):
    response = anonymous.post(
        TOKEN_URL, {"username": label.user.username, "password": "wrong"}, format="json"
    )

    body = assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert body == {
        "code": "AUTHENTICATION_FAILED",
        "message": "wrong username or password",
        "detail": {},
    }
    assert "token" not in body


def test_token_exchange_with_an_unknown_user_is_refused(anonymous):
    response = anonymous.post(TOKEN_URL, {"username": "nobody", "password": "x"}, format="json")

    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_token_exchange_with_an_inactive_user_is_refused(label, anonymous):
    User.objects.filter(pk=label.user.pk).update(is_active=False)

    response = anonymous.post(
        TOKEN_URL, {"username": label.user.username, "password": PASSWORD}, format="json"
    )

    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_token_exchange_without_a_password_names_the_missing_field(anonymous):
    response = anonymous.post(TOKEN_URL, {"username": "someone"}, format="json")

    body = assert_error(response, 400, "VALIDATION_ERROR", field="password")
    assert body["detail"]["fields"] == {
        "password": [{"code": "required", "message": "This field is required."}]
    }


def test_request_without_a_token_is_unauthenticated(anonymous):
    response = anonymous.get("/api/v1/recordings/")

    body = assert_error(response, 401, "NOT_AUTHENTICATED")
    assert body["detail"] == {}
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_request_with_an_invalid_token_is_refused(label):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = client.get("/api/v1/parties/")

    body = assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert body["message"] == "Invalid token."


def test_request_with_a_malformed_authorization_header_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two words")

    assert_error(client.get("/api/v1/me/"), 401, "AUTHENTICATION_FAILED")


def test_writes_without_a_token_are_refused_and_change_nothing(anonymous):
    events = ProvenanceEvent.objects.count()

    response = anonymous.post("/api/v1/parties/", {"name": "Intruder"}, format="json")

    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert ProvenanceEvent.objects.count() == events


def test_a_user_without_an_organisation_is_forbidden():
    user = User.objects.create_user(username="loner", password="pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    body = assert_error(client.get("/api/v1/me/"), 403, "PERMISSION_DENIED")
    assert body["message"] == "this account belongs to no organisation"


def test_me_describes_the_caller_and_its_open_conflicts(label, other_label):
    isrc = "GBAAA2690001"
    register_recording(label, isrc=isrc, rights=[{"share_pct": "100"}])
    register_recording(other_label, isrc=isrc, rights=[{"share_pct": "50"}])

    me = expect(label.get("/api/v1/me/"), 200)

    assert me == {
        "username": label.user.username,
        "organization": {
            "id": label.organization.pk,
            "name": "Northern Lights Records",
            "kind": "label",
        },
        "open_conflicts": 1,
    }


def test_me_of_an_organisation_without_conflicts(operator):
    assert expect(operator.get("/api/v1/me/"), 200) == {
        "username": operator.user.username,
        "organization": {
            "id": operator.organization.pk,
            "name": "Stemma Operations",
            "kind": "operator",
        },
        "open_conflicts": 0,
    }


def test_create_organization_command_prints_a_working_token():
    out = StringIO()

    call_command(
        "create_organization",
        "--name",
        "Harbour Sounds",
        "--kind",
        "label",
        "--username",
        "harbour",
        "--password",
        "s3cret-pass",
        stdout=out,
    )

    token = out.getvalue().strip()
    assert len(token) == 40
    org = Organization.objects.get(name="Harbour Sounds")
    assert org.kind == "label"
    assert Token.objects.get(key=token).user.username == "harbour"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert expect(client.get("/api/v1/me/"), 200) == {
        "username": "harbour",
        "organization": {"id": org.pk, "name": "Harbour Sounds", "kind": "label"},
        "open_conflicts": 0,
    }
    party = expect(client.post("/api/v1/parties/", {"name": "Mara Vale"}, format="json"), 201)
    assert party["name"] == "Mara Vale"
    assert expect(client.get("/api/v1/parties/"), 200)["count"] == 1


def test_create_organization_command_user_can_exchange_the_password(anonymous):
    out = StringIO()
    call_command(
        "create_organization",
        name="Delta AI",
        kind="ai_provider",
        username="delta",
        password="s3cret-pass",
        stdout=out,
    )

    response = anonymous.post(
        TOKEN_URL, {"username": "delta", "password": "s3cret-pass"}, format="json"
    )

    assert expect(response, 200) == {"token": out.getvalue().strip()}


def test_create_organization_command_records_provenance():
    before = ProvenanceEvent.objects.count()

    call_command(
        "create_organization",
        name="Echo Dist",
        kind="distributor",
        username="echo",
        password="pw-echo-1",
        stdout=StringIO(),
    )

    events = list(ProvenanceEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["organization.create", "user.create"]
    assert {e.actor_user for e in events} == {"create_organization"}


def test_create_organization_command_refuses_a_taken_name(label):
    with pytest.raises(CommandError, match="ORGANIZATION_EXISTS"):
        call_command(
            "create_organization",
            name="Northern Lights Records",
            kind="label",
            username="someone-new",
            password="pw",
            stdout=StringIO(),
        )
    assert User.objects.filter(username="someone-new").exists() is False


def test_create_organization_command_refuses_an_unknown_kind():
    with pytest.raises(CommandError, match="kind"):
        call_command(
            "create_organization",
            "--name",
            "Odd",
            "--kind",
            "publisher",
            "--username",
            "odd",
            "--password",
            "pw",
            stdout=StringIO(),
        )
    assert Organization.objects.filter(name="Odd").exists() is False


# ---------------------------------------------------------------- schema and docs


def test_schema_is_an_openapi_document_with_the_contract_paths(anonymous):
    response = anonymous.get("/api/schema/", {"format": "json"})

    schema = expect(response, 200)
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Stemma API"
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/parties/",
        "/api/v1/works/",
        "/api/v1/recordings/",
        "/api/v1/recordings/{id}/",
        "/api/v1/recordings/{id}/audio/",
        "/api/v1/releases/",
        "/api/v1/conflicts/",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/recordings/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/conflicts/{id}/"]) == {"get"}
    recording_in = schema["paths"]["/api/v1/recordings/"]["post"]["requestBody"]["content"]
    assert set(recording_in) == {"application/json", "multipart/form-data"}


def test_schema_defaults_to_yaml(anonymous):
    response = anonymous.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert "/api/v1/releases/" in schema["paths"]


def test_docs_serve_swagger_ui_html(anonymous):
    response = anonymous.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    assert "/api/schema/" in html
