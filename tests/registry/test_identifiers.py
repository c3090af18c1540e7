"""Tests for registry.identifiers: normalisation, check digits, errors and formatters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from common.errors import ValidationError
from registry.identifiers import (
    DPID_INVALID,
    IDENTIFIER_KIND_UNKNOWN,
    IPI_INVALID,
    ISNI_INVALID,
    ISRC_COUNTRY_CODES,
    ISRC_EXTRA_PREFIXES,
    ISRC_INVALID,
    ISWC_INVALID,
    KINDS,
    UPC_INVALID,
    IdentifierError,
    dpid_check_char,
    format_dpid,
    format_identifier,
    format_ipi,
    format_isni,
    format_isrc,
    format_iswc,
    format_upc,
    ipi_check_digits,
    isni_check_char,
    iswc_check_digit,
    mod37_36_check_char,
    normalize_dpid,
    normalize_ipi,
    normalize_isni,
    normalize_isrc,
    normalize_iswc,
    normalize_upc,
    upc_check_digit,
    validate,
)
from registry.territories import ISO_3166_ALPHA2


def _error(fn: Callable[[Any], str], value: Any) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        fn(value)
    return info.value


def _assert_error(
    fn: Callable[[Any], str],
    value: Any,
    code: str,
    reason: str,
    fragments: tuple[str, ...],
    extra: dict[str, Any],
) -> None:
    err = _error(fn, value)
    assert isinstance(err, ValidationError)
    assert err.status == 400
    assert err.code == code
    assert err.detail["reason"] == reason
    assert err.detail["value"] == (value if isinstance(value, str) else repr(value))
    for fragment in fragments:
        assert fragment in err.message, (fragment, err.message)
    for key, expected in extra.items():
        assert err.detail[key] == expected, (key, err.detail)
    assert err.as_dict()["code"] == code


# ------------------------------------------------------------------------------ ISRC


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("USRC17607839", "USRC17607839"),
        ("us-rc1-76-07839", "USRC17607839"),
        ("US RC1 76 07839", "USRC17607839"),
        ("US.RC1.76.07839", "USRC17607839"),
        ("US\u2013RC1\u201376\u201307839", "USRC17607839"),  # en dashes
        ("  USRC17607839\n", "USRC17607839"),
        ("ISRC US-RC1-76-07839", "USRC17607839"),
        ("isrc:USRC17607839", "USRC17607839"),
        ("GBAYE0601498", "GBAYE0601498"),
        ("FR9W11234567", "FR9W11234567"),  # digit in the registrant code
        ("QMDA71418090", "QMDA71418090"),
        ("QZ-ES7-19-82312", "QZES71982312"),
        ("QT-AB1-24-00001", "QTAB12400001"),
        ("ZZ-OUM-07-00001", "ZZOUM0700001"),
        ("CP-A00-24-00001", "CPA002400001"),
        ("DG-A00-24-00001", "DGA002400001"),
        ("UK-AAA-05-00001", "UKAAA0500001"),
        # Iceland: starts with the letters "ISRC" but is itself a 12-character ISRC.
        ("ISRCX2400001", "ISRCX2400001"),
    ],
)
def test_normalize_isrc_accepts_human_forms(raw: str, canonical: str) -> None:
    assert normalize_isrc(raw) == canonical
    assert validate("isrc", raw) == canonical


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        ("USRC1760783", "length", ("12 characters", "got 11"), {"length": 11}),
        ("USRC176078390", "length", ("12 characters", "got 13"), {"length": 13}),
        ("", "length", ("got 0", "empty"), {"length": 0}),
        ("US-RC1-76-078", "length", ("got 10",), {"length": 10}),
        ("USRC17607_39", "character", ("'_'", "position 10"), {"position": 10}),
        ("USRC1760783\u00e9", "character", ("position 12",), {"character": "\u00e9"}),
        ("U1RC17607839", "character", ("'1'", "position 2", "country"), {"position": 2}),
        ("USRC1A607839", "character", ("'A'", "position 6", "year"), {"position": 6}),
        ("US-RC1-76-0783O", "character", ("'O'", "position 12", "designation"), {}),
        ("XQRC17607839", "country", ("'XQ'", "ISO 3166"), {"country": "XQ"}),
        ("EU-RC1-76-07839", "country", ("'EU'",), {"country": "EU"}),
        (None, "type", ("string", "NoneType"), {}),
        (123456789012, "type", ("string", "int"), {}),
    ],
)
def test_normalize_isrc_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_isrc, value, ISRC_INVALID, reason, fragments, extra)


def test_isrc_prefix_constants() -> None:
    assert {"QM", "QZ", "QT", "ZZ", "CP", "DG"} <= ISRC_EXTRA_PREFIXES
    assert ISRC_EXTRA_PREFIXES.isdisjoint(ISO_3166_ALPHA2)
    assert ISRC_COUNTRY_CODES == ISO_3166_ALPHA2 | ISRC_EXTRA_PREFIXES
    for prefix in ISRC_EXTRA_PREFIXES:
        assert normalize_isrc(f"{prefix}AB12400001") == f"{prefix}AB12400001"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("usrc17607839", "US-RC1-76-07839"), ("QZ ES7 19 82312", "QZ-ES7-19-82312")],
)
def test_format_isrc(raw: str, shown: str) -> None:
    assert format_isrc(raw) == shown
    assert format_identifier("ISRC", raw) == shown


# ------------------------------------------------------------------------------ ISWC


def test_iswc_check_digit_examples() -> None:
    assert iswc_check_digit("034524680") == "1"
    assert iswc_check_digit("000000000") == "9"  # S = 1
    assert iswc_check_digit("100000000") == "8"  # S = 2


@pytest.mark.parametrize("digits", ["000000000", "123456789", "999999999", "070244478"])
def test_iswc_generated_examples_are_valid(digits: str) -> None:
    iswc = "T" + digits + iswc_check_digit(digits)
    assert normalize_iswc(iswc) == iswc
    assert normalize_iswc(format_iswc(iswc)) == iswc
    assert format_iswc(iswc) == f"T-{digits[:3]}.{digits[3:6]}.{digits[6:]}-{iswc[-1]}"


@pytest.mark.parametrize(
    "raw",
    [
        "T-034.524.680-1",
        "T0345246801",
        "t-034.524.680-1",
        "T 034 524 680 1",
        "T-034524680-1",
        "ISWC T-034.524.680-1",
        "iswc:T0345246801",
    ],
)
def test_normalize_iswc_accepts_human_forms(raw: str) -> None:
    assert normalize_iswc(raw) == "T0345246801"
    assert validate("iswc", raw) == "T0345246801"
    assert format_iswc(raw) == "T-034.524.680-1"


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        (
            "T-034.524.680-2",
            "check_digit",
            ("check digit", "expected 1, got 2"),
            {"expected_check": "1", "actual_check": "2"},
        ),
        ("0345246801", "prefix", ("start with 'T'", "'0'"), {"position": 1}),
        ("X-034.524.680-1", "character", ("'X'", "position 1"), {"position": 1}),
        ("T-034.524.68O-1", "character", ("'O'", "position 10"), {"position": 10}),
        ("T03452468T1", "character", ("'T'", "position 10", "digit"), {"position": 10}),
        ("T034524680", "length", ("11 characters", "got 10"), {"length": 10}),
        ("T03452468011", "length", ("got 12",), {"length": 12}),
        ("", "length", ("got 0", "empty"), {"length": 0}),
        (3452468, "type", ("string",), {}),
    ],
)
def test_normalize_iswc_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_iswc, value, ISWC_INVALID, reason, fragments, extra)


# ------------------------------------------------------------------------------ UPC / EAN


def test_upc_check_digit_examples() -> None:
    assert upc_check_digit("03600029145") == "2"
    assert upc_check_digit("400638133393") == "1"
    assert upc_check_digit("01234567890") == "5"
    with pytest.raises(ValueError):
        upc_check_digit("0360002914")  # 10 data digits
    with pytest.raises(ValueError):
        upc_check_digit("0360002914A")


@pytest.mark.parametrize("data", ["00000000000", "72527273070", "978020137962", "501234567890"])
def test_upc_generated_examples_are_valid(data: str) -> None:
    code = data + upc_check_digit(data)
    assert normalize_upc(code) == code
    assert format_upc(code) == code


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("036000291452", "036000291452"),  # UPC-A kept at 12 digits, not padded
        ("0 36000 29145 2", "036000291452"),
        ("0-36000-29145-2", "036000291452"),
        ("4006381333931", "4006381333931"),
        ("4 006381 333931", "4006381333931"),
        ("0036000291452", "0036000291452"),  # the same product as EAN-13, kept as given
    ],
)
def test_normalize_upc_accepts_human_forms(raw: str, canonical: str) -> None:
    assert normalize_upc(raw) == canonical
    for kind in ("upc", "icpn", "ean", "EAN"):
        assert validate(kind, raw) == canonical


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        (
            "036000291453",
            "check_digit",
            ("check digit", "expected 2, got 3"),
            {"expected_check": "2", "actual_check": "3"},
        ),
        (
            "4006381333932",
            "check_digit",
            ("expected 1, got 2",),
            {"expected_check": "1", "actual_check": "2"},
        ),
        ("03600029145", "length", ("12 or 13 digits", "got 11"), {"length": 11}),
        ("40063813339310", "length", ("got 14",), {"length": 14}),
        ("", "length", ("got 0",), {"length": 0}),
        ("03600029145A", "character", ("'A'", "position 12"), {"position": 12}),
        (36000291452, "type", ("string", "int"), {}),
    ],
)
def test_normalize_upc_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_upc, value, UPC_INVALID, reason, fragments, extra)


# ------------------------------------------------------------------------------ ISNI


def test_isni_check_char_examples() -> None:
    assert isni_check_char("000000012281955") == "X"
    assert isni_check_char("000000012150090") == "X"
    with pytest.raises(ValueError):
        isni_check_char("00000001228195")


@pytest.mark.parametrize("body", ["000000000000000", "000000012345678", "123456789012345"])
def test_isni_generated_examples_are_valid(body: str) -> None:
    isni = body + isni_check_char(body)
    assert normalize_isni(isni) == isni
    assert normalize_isni(format_isni(isni)) == isni


def test_isni_check_detects_single_substitutions_and_transpositions() -> None:
    body = "000000012281955"
    check = isni_check_char(body)
    for i in range(15):
        for d in "0123456789":
            if d != body[i]:
                changed = body[:i] + d + body[i + 1 :]
                assert isni_check_char(changed) != check
        if i < 14 and body[i] != body[i + 1]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            assert isni_check_char(swapped) != check


@pytest.mark.parametrize(
    "raw",
    [
        "000000012281955X",
        "000000012281955x",
        "0000 0001 2281 955X",
        "0000 0001 2281 955x",
        "0000-0001-2281-955X",
        "ISNI 0000 0001 2281 955X",
    ],
)
def test_normalize_isni_accepts_human_forms(raw: str) -> None:
    assert normalize_isni(raw) == "000000012281955X"
    assert validate("isni", raw) == "000000012281955X"
    assert format_isni(raw) == "0000 0001 2281 955X"


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        (
            "0000000122819550",
            "check_digit",
            ("check character", "expected X, got 0"),
            {"expected_check": "X", "actual_check": "0"},
        ),
        ("00000001228195X5", "character", ("'X'", "position 15", "last"), {"position": 15}),
        ("000000012281955Y", "character", ("'Y'", "position 16"), {"position": 16}),
        ("00000001228195X", "length", ("16 characters", "got 15"), {"length": 15}),
        ("0000 0001 2281 955X 0", "length", ("got 17",), {"length": 17}),
        ("", "length", ("got 0",), {}),
        (None, "type", ("string",), {}),
    ],
)
def test_normalize_isni_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_isni, value, ISNI_INVALID, reason, fragments, extra)


# ------------------------------------------------------------------------------ IPI


def test_ipi_check_digits_examples() -> None:
    assert ipi_check_digits("000522100") == "40"
    assert ipi_check_digits("000000000") == "00"  # r == 0
    assert ipi_check_digits("123456789") == "93"
    with pytest.raises(ValueError):
        ipi_check_digits("52210040")


@pytest.mark.parametrize("body", ["000000000", "000000001", "123456789", "999999999", "100000000"])
def test_ipi_generated_examples_are_valid(body: str) -> None:
    ipi = body + ipi_check_digits(body)
    assert len(ipi) == 11
    assert normalize_ipi(ipi) == ipi
    assert format_ipi(ipi) == ipi


@pytest.mark.parametrize(
    "raw", ["00052210040", "000 522 100 40", "000.522.100.40", " 00052210040 "]
)
def test_normalize_ipi_accepts_human_forms(raw: str) -> None:
    assert normalize_ipi(raw) == "00052210040"
    assert validate("ipi", raw) == "00052210040"


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        (
            "00052210041",
            "check_digit",
            ("check digits", "expected 40, got 41"),
            {"expected_check": "40", "actual_check": "41"},
        ),
        ("52210040", "length", ("11 digits", "got 8", "leading zeros"), {"length": 8}),
        ("000522100400", "length", ("got 12",), {"length": 12}),
        ("", "length", ("got 0", "empty"), {"length": 0}),
        ("0005221004A", "character", ("'A'", "position 11"), {"position": 11}),
        ("I-000522100-4", "character", ("'I'", "position 1"), {"position": 1}),
        (52210040, "type", ("string",), {}),
    ],
)
def test_normalize_ipi_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_ipi, value, IPI_INVALID, reason, fragments, extra)


# ------------------------------------------------------------------------------ DPID


def test_dpid_check_char_examples() -> None:
    assert dpid_check_char("PADPIDA2014122301") == "Q"
    assert mod37_36_check_char("PADPIDA2014122301") == "Q"
    with pytest.raises(ValueError):
        dpid_check_char("PADPIDA201412230")
    with pytest.raises(ValueError):
        mod37_36_check_char("padpida")


@pytest.mark.parametrize(
    "dpid",
    [
        "PADPIDA2014122301Q",  # PRODUCT.md
        # DPIDs seen in public DDEX messages; they independently confirm the algorithm.
        "PADPIDA2013020802I",
        "PADPIDA2011072101T",
        "PADPIDA2007040502I",
        "PADPIDA2009101501Y",
    ],
)
def test_known_dpids_are_valid(dpid: str) -> None:
    assert normalize_dpid(dpid) == dpid


@pytest.mark.parametrize("digits", ["0000000000", "2024010101", "9999999999", "2014122302"])
def test_dpid_generated_examples_are_valid(digits: str) -> None:
    dpid = "PADPIDA" + digits
    dpid += dpid_check_char(dpid)
    assert normalize_dpid(dpid) == dpid
    assert format_dpid(dpid.lower()) == dpid


def test_dpid_check_detects_single_substitutions() -> None:
    # Hybrid MOD 37,36 catches every single substitution but not every transposition
    # (e.g. ...2014122301 and ...2014212301 share the check character Q).
    body = "PADPIDA2014122301"
    for i in range(7, 17):
        for d in "0123456789":
            if d != body[i]:
                assert dpid_check_char(body[:i] + d + body[i + 1 :]) != "Q"
    assert dpid_check_char("PADPIDA2014212301") == "Q"


@pytest.mark.parametrize(
    "raw",
    ["PADPIDA2014122301Q", "padpida2014122301q", "PA-DPIDA-2014122301-Q", "PADPIDA 2014122301 Q"],
)
def test_normalize_dpid_accepts_human_forms(raw: str) -> None:
    assert normalize_dpid(raw) == "PADPIDA2014122301Q"
    assert validate("DPID", raw) == "PADPIDA2014122301Q"


@pytest.mark.parametrize(
    ("value", "reason", "fragments", "extra"),
    [
        (
            "PADPIDA2014122301R",
            "check_digit",
            ("check character", "expected Q, got R"),
            {"expected_check": "Q", "actual_check": "R"},
        ),
        ("PADPIDB2014122301Q", "prefix", ("'PADPIDA'", "'PADPIDB'"), {}),
        ("XXDPIDA2014122301Q", "prefix", ("'PADPIDA'",), {}),
        ("PADPIDA201412230Q", "length", ("18 characters", "got 17"), {"length": 17}),
        ("PADPIDA2014122301QQ", "length", ("got 19",), {"length": 19}),
        ("PAD", "length", ("got 3",), {"length": 3}),
        ("PADPIDA20141223_1Q", "character", ("'_'", "position 16"), {"position": 16}),
        ("PADPIDA201412230AQ", "character", ("'A'", "position 17", "digit"), {"position": 17}),
        (None, "type", ("string",), {}),
    ],
)
def test_normalize_dpid_rejects(
    value: Any, reason: str, fragments: tuple[str, ...], extra: dict[str, Any]
) -> None:
    _assert_error(normalize_dpid, value, DPID_INVALID, reason, fragments, extra)


# ------------------------------------------------------------------------------ dispatch


def test_kinds() -> None:
    assert {"isrc", "iswc", "upc", "icpn", "ean", "isni", "ipi", "dpid"} == KINDS


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("isrc", "USRC1760783", ISRC_INVALID),
        ("iswc", "T0345246802", ISWC_INVALID),
        ("upc", "036000291453", UPC_INVALID),
        ("isni", "0000000122819550", ISNI_INVALID),
        ("ipi", "00052210041", IPI_INVALID),
        ("dpid", "PADPIDA2014122301R", DPID_INVALID),
    ],
)
def test_validate_dispatch_raises_the_kind_code(kind: str, value: str, code: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate(kind, value)
    assert info.value.code == code
    with pytest.raises(IdentifierError) as info:
        format_identifier(kind, value)
    assert info.value.code == code


@pytest.mark.parametrize("kind", ["isbn", "", None])
def test_validate_unknown_kind(kind: Any) -> None:
    with pytest.raises(IdentifierError) as info:
        validate(kind, "USRC17607839")
    assert info.value.code == IDENTIFIER_KIND_UNKNOWN
    assert "isrc" in info.value.message
    assert "isrc" in info.value.detail["known"]


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("isrc", "USRC17607839", "US-RC1-76-07839"),
        ("iswc", "T0345246801", "T-034.524.680-1"),
        ("upc", "036000291452", "036000291452"),
        ("isni", "000000012281955x", "0000 0001 2281 955X"),
        ("ipi", "000 522 100 40", "00052210040"),
        ("dpid", "padpida2014122301q", "PADPIDA2014122301Q"),
    ],
)
def test_format_identifier(kind: str, value: str, shown: str) -> None:
    assert format_identifier(kind, value) == shown
