"""Shared fixtures: organisations with API clients, and audio files the tests make."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry import services
from registry.models import Organization, User

_counter = itertools.count(1)


class OrgClient(APIClient):
    """An API client authenticated as the first user of an organisation."""

    organization: Organization
    user: User
    token: str


@pytest.fixture
def make_org(db: Any) -> Callable[..., OrgClient]:
    def make(kind: str = "label", name: str | None = None) -> OrgClient:
        n = next(_counter)
        org, user, token = services.organization_create(
            name=name or f"{kind.title()} {n}",
            kind=kind,
            username=f"{kind}-user-{n}",
            password="correct horse battery staple",
        )
        client = OrgClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.organization, client.user, client.token = org, user, token
        return client

    return make


@pytest.fixture
def label(make_org: Callable[..., OrgClient]) -> OrgClient:
    return make_org("label", "Northern Lights Records")


@pytest.fixture
def other_label(make_org: Callable[..., OrgClient]) -> OrgClient:
    return make_org("label", "Southern Cross Music")


@pytest.fixture
def operator(make_org: Callable[..., OrgClient]) -> OrgClient:
    return make_org("operator", "Stemma Operations")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
