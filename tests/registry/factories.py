"""Builders for the HTTP tests: data made through the public API, so provenance is recorded.

Every builder asserts the status it expects and returns the decoded body, so a setup
step that fails says why instead of failing later on a missing key.
"""

from __future__ import annotations

import itertools
from typing import Any

from rest_framework.test import APIClient

# Valid identifiers (check digits computed by registry.identifiers; PRODUCT.md examples first).
IPI = "00052210040"
IPI_2 = "00052210138"
ISNI = "000000012281955X"
ISNI_2 = "000000012146438X"
DPID = "PADPIDA2014122301Q"
DPID_2 = "PADPIDA2007040502I"
ISWC = "T0345246801"
ISWC_DISPLAY = "T-034.524.680-1"
ISWC_2 = "T1234567894"
UPC_A = "036000291452"
EAN_13 = "4006381333931"

_isrc_counter = itertools.count(1)


def new_isrc(prefix: str = "GBAAA26") -> str:
    """A fresh, valid ISRC (GB, registrant AAA, year 26, designation counting up)."""
    return f"{prefix}{next(_isrc_counter):05d}"


def body_of(response: Any) -> Any:
    return response.json() if response.content else None


def expect(response: Any, status: int) -> Any:
    """The decoded body, after checking the status (showing the body when it differs)."""
    body = body_of(response)
    assert response.status_code == status, (response.status_code, body)
    return body


def assert_error(
    response: Any, status: int, code: str, *, field: str | None = None
) -> dict[str, Any]:
    """The error body, after checking its status, its shape, its code and its field."""
    body = expect(response, status)
    assert set(body) == {"code", "message", "detail"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["detail"], dict), body
    if field is not None:
        assert body["detail"].get("field") == field, body
    return body


def post(client: APIClient, url: str, data: Any, status: int = 201) -> Any:
    return expect(client.post(url, data, format="json"), status)


def patch(client: APIClient, url: str, data: Any, status: int = 200) -> Any:
    return expect(client.patch(url, data, format="json"), status)


def get(client: APIClient, url: str, expected_status: int = 200, **params: Any) -> Any:
    """GET with query parameters (``status=`` is a filter here, not the expected status)."""
    return expect(client.get(url, params or None), expected_status)


def create_party(client: APIClient, **fields: Any) -> dict[str, Any]:
    data = {"name": "Ada Lovelace", "kind": "person", **fields}
    return post(client, "/api/v1/parties/", data)


def create_work(client: APIClient, **fields: Any) -> dict[str, Any]:
    data = {"title": "Night Song", **fields}
    return post(client, "/api/v1/works/", data)


def register_recording(client: APIClient, **fields: Any) -> dict[str, Any]:
    data = {"title": "Lantern", "isrc": new_isrc(), **fields}
    return post(client, "/api/v1/recordings/", data)


def register_release(client: APIClient, **fields: Any) -> dict[str, Any]:
    data = {"title": "First Light", "release_type": "album", **fields}
    return post(client, "/api/v1/releases/", data)


def ids(listing: dict[str, Any]) -> list[int]:
    """The ids on one page of a paginated list."""
    return [item["id"] for item in listing["results"]]
