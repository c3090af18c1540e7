"""Tests for registry.territories: normalisation, WORLD rules, include/exclude arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from common.errors import ValidationError
from registry.territories import (
    ISO_3166_ALPHA2,
    TERRITORY_INVALID,
    WORLD,
    TerritoryError,
    covers,
    effective_territories,
    normalize_territories,
    territory_sets_overlap,
)


def test_iso_list() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(c) == 2 and c.isascii() and c.isupper() for c in ISO_3166_ALPHA2)
    assert {"GB", "US", "FR", "SS", "BQ", "CW", "SX", "AX", "TC"} <= ISO_3166_ALPHA2
    # Reserved, user-assigned or withdrawn codes are not assigned country codes.
    assert ISO_3166_ALPHA2.isdisjoint({"UK", "EU", "XK", "AN", "CS", "YU", "FX", "WORLD"})
    assert WORLD == "WORLD"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["fr", "DE", " us ", "FR"], ["DE", "FR", "US"]),
        (("gb",), ["GB"]),
        ({"jp", "kr"}, ["JP", "KR"]),
        ("fr, de;us  gb", ["DE", "FR", "GB", "US"]),
        ([], []),
        ("", []),
        (None, []),
        (["world"], ["WORLD"]),
        (["WORLD", "World"], ["WORLD"]),
    ],
)
def test_normalize_territories(codes: Any, expected: list[str]) -> None:
    assert normalize_territories(codes) == expected


@pytest.mark.parametrize(
    ("codes", "invalid", "fragments"),
    [
        (["FR", "XX"], ["XX"], ("'XX'", "ISO 3166-1")),
        (["FR", "XX", "UK", "xx"], ["XX", "UK", "xx"], ("'XX'", "'UK'", "GB")),
        (["FRA"], ["FRA"], ("'FRA'",)),
        ([""], [""], ("''",)),
        (["FR", 12], ["12"], ("'12'",)),
        (["EU"], ["EU"], ("'EU'",)),
        ("fr, zz", ["zz"], ("'zz'",)),
    ],
)
def test_normalize_territories_rejects_unknown_codes(
    codes: Any, invalid: list[str], fragments: tuple[str, ...]
) -> None:
    with pytest.raises(TerritoryError) as info:
        normalize_territories(codes)
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.code == TERRITORY_INVALID
    assert err.status == 400
    assert err.detail["reason"] == "unknown"
    assert err.detail["invalid"] == invalid
    for fragment in fragments:
        assert fragment in err.message, (fragment, err.message)


def test_unknown_code_suggestion() -> None:
    with pytest.raises(TerritoryError) as info:
        normalize_territories(["uk"])
    assert info.value.detail["suggestions"] == {"uk": "GB"}
    assert "Did you mean GB" in info.value.message


@pytest.mark.parametrize("codes", [["WORLD", "FR"], ["fr", "world", "de"]])
def test_world_must_be_alone(codes: list[str]) -> None:
    with pytest.raises(TerritoryError) as info:
        normalize_territories(codes)
    assert info.value.code == TERRITORY_INVALID
    assert info.value.detail["reason"] == "world_not_alone"
    assert "WORLD must be used alone" in info.value.message
    assert "FR" in info.value.detail["invalid"]


def test_normalize_territories_rejects_non_iterables() -> None:
    with pytest.raises(TerritoryError) as info:
        normalize_territories(5)  # type: ignore[arg-type]
    assert info.value.detail["reason"] == "type"


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["WORLD"], [], ISO_3166_ALPHA2),
        (["WORLD"], None, ISO_3166_ALPHA2),
        (["WORLD"], ["us"], ISO_3166_ALPHA2 - {"US"}),
        (["FR", "DE"], ["DE"], frozenset({"FR"})),
        (["FR"], ["DE"], frozenset({"FR"})),  # excluding what is not included is harmless
        (["FR"], ["WORLD"], frozenset()),
        ([], [], frozenset()),
    ],
)
def test_effective_territories(include: Any, exclude: Any, expected: frozenset[str]) -> None:
    assert effective_territories(include, exclude) == expected


def test_effective_territories_validates_both_lists() -> None:
    with pytest.raises(TerritoryError):
        effective_territories(["WORLD"], ["XX"])
    with pytest.raises(TerritoryError):
        effective_territories(["WORLD", "FR"], [])


@pytest.mark.parametrize(
    ("include", "exclude", "territory", "expected"),
    [
        (["WORLD"], [], "fr", True),
        (["WORLD"], ["FR"], "FR", False),
        (["WORLD"], ["FR"], "DE", True),
        (["FR", "DE"], [], "de", True),
        (["DE"], [], "FR", False),
        (["FR"], ["FR"], "FR", False),
        ([], [], "FR", False),
        (["WORLD"], [], "WORLD", True),
        (["WORLD"], ["US"], "WORLD", False),
        (["FR"], [], "world", False),
    ],
)
def test_covers(include: list[str], exclude: list[str], territory: str, expected: bool) -> None:
    assert covers(include, exclude, territory) is expected


@pytest.mark.parametrize("territory", ["XX", "", "FRA"])
def test_covers_rejects_unknown_territory(territory: str) -> None:
    with pytest.raises(TerritoryError):
        covers(["WORLD"], [], territory)


OVERLAP_CASES = [
    (["WORLD"], [], ["WORLD"], [], True),
    (["WORLD"], ["US"], ["US"], [], False),
    (["WORLD"], ["US"], ["US", "CA"], [], True),
    (["FR"], [], ["DE"], [], False),
    (["FR", "DE"], [], ["de"], [], True),
    (["WORLD"], ["FR"], ["WORLD"], ["DE"], True),
    (["FR"], ["FR"], ["WORLD"], [], False),
    ([], [], ["WORLD"], [], False),
    (["WORLD"], ["WORLD"], ["WORLD"], [], False),
    (["WORLD"], ["FR", "DE"], ["FR", "DE"], [], False),
    (["WORLD"], ["FR", "DE"], ["FR", "DE", "IT"], ["IT"], False),
    (["WORLD"], ["FR", "DE"], ["FR", "DE", "IT"], ["FR"], True),
]


@pytest.mark.parametrize(("inc_a", "exc_a", "inc_b", "exc_b", "expected"), OVERLAP_CASES)
def test_territory_sets_overlap(
    inc_a: list[str], exc_a: list[str], inc_b: list[str], exc_b: list[str], expected: bool
) -> None:
    assert territory_sets_overlap(inc_a, exc_a, inc_b, exc_b) is expected
    assert territory_sets_overlap(inc_b, exc_b, inc_a, exc_a) is expected  # symmetric
    # Overlap means: some territory is covered by both.
    by_covers = any(
        covers(inc_a, exc_a, t) and covers(inc_b, exc_b, t) for t in sorted(ISO_3166_ALPHA2)
    )
    assert by_covers is expected


def test_territory_sets_overlap_validates() -> None:
    with pytest.raises(TerritoryError) as info:
        territory_sets_overlap(["FR"], [], ["XX"], [])
    assert info.value.detail["invalid"] == ["XX"]
