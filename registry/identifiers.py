"""Normalising validators, check-digit functions and formatters for music identifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.errors import ValidationError
from registry.territories import ISO_3166_ALPHA2

# Stable error codes, one per identifier kind.
ISRC_INVALID = "ISRC_INVALID"
ISWC_INVALID = "ISWC_INVALID"
UPC_INVALID = "UPC_INVALID"
ISNI_INVALID = "ISNI_INVALID"
IPI_INVALID = "IPI_INVALID"
DPID_INVALID = "DPID_INVALID"
IDENTIFIER_KIND_UNKNOWN = "IDENTIFIER_KIND_UNKNOWN"

# ISRC first elements that are not ISO 3166-1 alpha-2 codes but are (or were) in use,
# per the IFPI list "Valid characters in the ISRC prefix". ISO codes are accepted too.
ISRC_EXTRA_PREFIXES: frozenset[str] = frozenset(
    {
        "QM", "QT", "QZ",  # US agency (RIAA), in addition to US
        "ZZ", "CP", "DG", "QN", "VV",  # allocated by the International ISRC Agency
        "BC", "BK", "BP", "BX",  # Brazil, in addition to BR
        "CB",  # Canada, in addition to CA
        "FX",  # France, in addition to FR
        "GX", "UK",  # United Kingdom, in addition to GB
        "KS",  # Republic of Korea, in addition to KR
        "ZB",  # South Africa, in addition to ZA
        "XK",  # Kosovo (user-assigned in ISO 3166)
        "CS", "YU",  # Serbia and Montenegro, Yugoslavia: retired, still in old ISRCs
    }
)  # fmt: skip
ISRC_COUNTRY_CODES: frozenset[str] = ISO_3166_ALPHA2 | ISRC_EXTRA_PREFIXES

DPID_PREFIX = "PADPIDA"

# Characters dropped before validation: spaces (incl. no-break/thin), hyphens and
# dashes, dots. Letters are upper-cased (ASCII only). Positions in error messages are
# 1-based and count characters after separators (and a leading label) are removed.
SEPARATORS = frozenset(" \t\r\n\u00a0\u2009\u202f-\u2010\u2011\u2012\u2013\u2014\u2212.")

_DIGITS = frozenset("0123456789")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = _DIGITS | _UPPER
_ALNUM_ORDER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class IdentifierError(ValidationError):
    """An identifier that is malformed or fails its check; ``code`` names the kind."""

    code = "IDENTIFIER_INVALID"


# --------------------------------------------------------------------------- helpers


def _fail(code: str, message: str, value: Any, reason: str, **extra: Any) -> IdentifierError:
    shown = value if isinstance(value, str) else repr(value)
    return IdentifierError(message, code=code, detail={"value": shown, "reason": reason, **extra})


def _compact(value: Any, name: str, code: str, *, label: str = "", body_len: int = 0) -> str:
    """Drop separators, upper-case ASCII letters, strip an optional leading label.

    The label ("ISRC", "ISWC", "ISNI", optionally followed by ":") is stripped only when
    what follows has exactly the identifier's length, so it can never eat real data.
    """
    if not isinstance(value, str):
        raise _fail(
            code,
            f"{name} must be a string, got {type(value).__name__}.",
            value,
            "type",
        )
    chars = []
    for ch in value:
        if ch in SEPARATORS:
            continue
        chars.append(ch.upper() if "a" <= ch <= "z" else ch)
    compact = "".join(chars)
    if label:
        for prefix in (label + ":", label):
            if compact.startswith(prefix) and len(compact) - len(prefix) == body_len:
                return compact[len(prefix) :]
    return compact


def _check_alphabet(
    s: str, allowed: frozenset[str], what: str, name: str, code: str, value: Any
) -> None:
    for i, ch in enumerate(s, start=1):
        if ch not in allowed:
            raise _fail(
                code,
                f"{name} has a bad character {ch!r} at position {i}: only {what} are allowed.",
                value,
                "character",
                position=i,
                character=ch,
            )


def _check_length(
    s: str, lengths: tuple[int, ...], unit: str, name: str, code: str, value: Any
) -> None:
    if len(s) not in lengths:
        expected = " or ".join(str(n) for n in lengths)
        raise _fail(
            code,
            f"{name} must be {expected} {unit} long, got {len(s)}"
            + (" (empty)." if not s else "."),
            value,
            "length",
            length=len(s),
            expected_length=list(lengths),
        )


def _check_positions(
    s: str,
    spec: list[tuple[int, int, frozenset[str], str]],
    name: str,
    code: str,
    value: Any,
) -> None:
    """``spec``: (first, last, allowed, description) with 1-based inclusive positions."""
    for first, last, allowed, description in spec:
        for i in range(first, last + 1):
            ch = s[i - 1]
            if ch not in allowed:
                raise _fail(
                    code,
                    f"{name} has a bad character {ch!r} at position {i}: expected {description}.",
                    value,
                    "character",
                    position=i,
                    character=ch,
                )


def _check_value(expected: str, actual: str, what: str, name: str, code: str, value: Any) -> None:
    if expected != actual:
        raise _fail(
            code,
            f"{name} has the wrong {what}: expected {expected}, got {actual}.",
            value,
            "check_digit",
            expected_check=expected,
            actual_check=actual,
        )


def _require(s: str, allowed: frozenset[str], length: int | None, what: str) -> None:
    """Argument check for the pure check-digit functions (programming errors)."""
    if not isinstance(s, str) or (length is not None and len(s) != length):
        raise ValueError(f"expected {length} {what}, got {s!r}")
    if not s or any(ch not in allowed for ch in s):
        raise ValueError(f"expected {what}, got {s!r}")


# --------------------------------------------------------------------------- ISRC


def normalize_isrc(value: str) -> str:
    """Return the 12-character ISRC ``CCXXXYYNNNNN`` (upper case, no separators).

    Accepts hyphens, dots, spaces, lower case and a leading "ISRC" label. The country
    element must be in ``ISRC_COUNTRY_CODES``. There is no check digit.
    Positions in error messages count characters after separators are removed.
    """
    s = _compact(value, "ISRC", ISRC_INVALID, label="ISRC", body_len=12)
    _check_alphabet(s, _ALNUM, "letters A-Z and digits 0-9", "ISRC", ISRC_INVALID, value)
    _check_length(s, (12,), "characters", "ISRC", ISRC_INVALID, value)
    _check_positions(
        s,
        [
            (1, 2, _UPPER, "a letter (country code)"),
            (3, 5, _ALNUM, "a letter or digit (registrant code)"),
            (6, 7, _DIGITS, "a digit (year of reference)"),
            (8, 12, _DIGITS, "a digit (designation code)"),
        ],
        "ISRC",
        ISRC_INVALID,
        value,
    )
    country = s[:2]
    if country not in ISRC_COUNTRY_CODES:
        raise _fail(
            ISRC_INVALID,
            f"ISRC country code {country!r} is not an ISO 3166-1 alpha-2 code "
            "or an IFPI-allocated ISRC prefix.",
            value,
            "country",
            country=country,
        )
    return s


def format_isrc(value: str) -> str:
    """Display form ``CC-XXX-YY-NNNNN``."""
    s = normalize_isrc(value)
    return f"{s[:2]}-{s[2:5]}-{s[5:7]}-{s[7:]}"


# --------------------------------------------------------------------------- ISWC


def iswc_check_digit(digits9: str) -> str:
    """Check digit for the 9 digits after "T": S = 1 + sum(i * d_i); (10 - S mod 10) mod 10."""
    _require(digits9, _DIGITS, 9, "digits")
    total = 1 + sum(i * int(d) for i, d in enumerate(digits9, start=1))
    return str((10 - total % 10) % 10)


def normalize_iswc(value: str) -> str:
    """Return the 11-character ISWC ``T`` + 9 digits + check digit.

    Accepts "T-034.524.680-1", "T0345246801", lower case, spaces, an "ISWC" label.
    """
    s = _compact(value, "ISWC", ISWC_INVALID, label="ISWC", body_len=11)
    _check_alphabet(s, _DIGITS | {"T"}, "'T' and digits 0-9", "ISWC", ISWC_INVALID, value)
    if s and not s.startswith("T"):
        raise _fail(
            ISWC_INVALID,
            f"ISWC must start with 'T', got {s[0]!r} at position 1.",
            value,
            "prefix",
            position=1,
            character=s[0],
        )
    _check_length(s, (11,), "characters", "ISWC", ISWC_INVALID, value)
    _check_positions(s, [(2, 11, _DIGITS, "a digit")], "ISWC", ISWC_INVALID, value)
    _check_value(iswc_check_digit(s[1:10]), s[10], "check digit", "ISWC", ISWC_INVALID, value)
    return s


def format_iswc(value: str) -> str:
    """Display form ``T-034.524.680-1``."""
    s = normalize_iswc(value)
    return f"T-{s[1:4]}.{s[4:7]}.{s[7:10]}-{s[10]}"


# --------------------------------------------------------------------------- UPC / EAN


def upc_check_digit(data: str) -> str:
    """GS1 check digit for 11 (UPC-A) or 12 (EAN-13) data digits.

    Weights 3, 1, 3, ... starting from the rightmost data digit;
    check = (10 - sum mod 10) mod 10.
    """
    _require(data, _DIGITS, None, "digits")
    if len(data) not in (11, 12):
        raise ValueError(f"expected 11 or 12 data digits, got {len(data)}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return str((10 - total % 10) % 10)


def normalize_upc(value: str) -> str:
    """Return a 12-digit UPC-A or 13-digit EAN-13 (ICPN) exactly as given, digits only.

    A UPC-A is not padded to 13 digits.
    """
    s = _compact(value, "UPC/EAN", UPC_INVALID)
    _check_alphabet(s, _DIGITS, "digits 0-9", "UPC/EAN", UPC_INVALID, value)
    _check_length(s, (12, 13), "digits", "UPC/EAN", UPC_INVALID, value)
    _check_value(upc_check_digit(s[:-1]), s[-1], "check digit", "UPC/EAN", UPC_INVALID, value)
    return s


def format_upc(value: str) -> str:
    """Display form: the digits, unchanged (no grouping is standard)."""
    return normalize_upc(value)


# --------------------------------------------------------------------------- ISNI


def isni_check_char(digits15: str) -> str:
    """ISO 7064 MOD 11-2 check character ("0"-"9" or "X") for the first 15 digits."""
    _require(digits15, _DIGITS, 15, "digits")
    p = 0
    for d in digits15:
        p = ((p + int(d)) * 2) % 11
    c = (12 - p) % 11
    return "X" if c == 10 else str(c)


def normalize_isni(value: str) -> str:
    """Return the 16-character ISNI: 15 digits + a digit or "X".

    Accepts "0000 0001 2281 955X", lower-case x, hyphens, an "ISNI" label.
    """
    s = _compact(value, "ISNI", ISNI_INVALID, label="ISNI", body_len=16)
    _check_alphabet(s, _DIGITS | {"X"}, "digits 0-9 and a final X", "ISNI", ISNI_INVALID, value)
    _check_length(s, (16,), "characters", "ISNI", ISNI_INVALID, value)
    _check_positions(
        s,
        [(1, 15, _DIGITS, "a digit (X is only allowed as the last character)")],
        "ISNI",
        ISNI_INVALID,
        value,
    )
    _check_value(isni_check_char(s[:15]), s[15], "check character", "ISNI", ISNI_INVALID, value)
    return s


def format_isni(value: str) -> str:
    """Display form: four groups of four, "0000 0001 2281 955X"."""
    s = normalize_isni(value)
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------- IPI


def ipi_check_digits(digits9: str) -> str:
    """The two check digits of an IPI name number from its first 9 digits.

    r = sum(d_k * (10 - k), k = 0..8) mod 101 (weights 10, 9, ..., 2);
    check = (101 - r) mod 100 if r else 0, written with two digits.
    PRODUCT.md writes the sum over i = 1..9, i.e. weights 9..1; its own example
    00052210040 (and the CISAC algorithm) only checks with weights 10..2, used here.
    """
    _require(digits9, _DIGITS, 9, "digits")
    r = sum(int(d) * (10 - k) for k, d in enumerate(digits9)) % 101
    return f"{(101 - r) % 100 if r else 0:02d}"


def normalize_ipi(value: str) -> str:
    """Return the 11-digit IPI name number (leading zeros required, not added)."""
    s = _compact(value, "IPI name number", IPI_INVALID)
    _check_alphabet(s, _DIGITS, "digits 0-9", "IPI name number", IPI_INVALID, value)
    if len(s) != 11:
        hint = " (write it with its leading zeros)" if 0 < len(s) < 11 else ""
        raise _fail(
            IPI_INVALID,
            f"IPI name number must be 11 digits long, got {len(s)}"
            + (" (empty)" if not s else "")
            + f"{hint}.",
            value,
            "length",
            length=len(s),
            expected_length=[11],
        )
    _check_value(
        ipi_check_digits(s[:9]), s[9:], "check digits", "IPI name number", IPI_INVALID, value
    )
    return s


def format_ipi(value: str) -> str:
    """Display form: the 11 digits."""
    return normalize_ipi(value)


# --------------------------------------------------------------------------- DPID


def mod37_36_check_char(body: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid) check character over ``body`` (0-9, A-Z).

    P = 36; for each character: P = (P + value) mod 36, 0 becomes 36; P = 2P mod 37.
    The check character c satisfies (P + c) mod 36 == 1.
    """
    _require(body, _ALNUM, None, "characters 0-9 A-Z")
    m = 36
    p = m
    for ch in body:
        p = (p + _ALNUM_ORDER.index(ch)) % m or m
        p = (2 * p) % (m + 1)
    return _ALNUM_ORDER[(1 - p) % m]


def dpid_check_char(body17: str) -> str:
    """Check character of a DPID from its first 17 characters ("PADPIDA" + 10 digits)."""
    _require(body17, _ALNUM, 17, "characters 0-9 A-Z")
    return mod37_36_check_char(body17)


def normalize_dpid(value: str) -> str:
    """Return the 18-character DDEX Party ID ``PADPIDA`` + 10 digits + check character."""
    s = _compact(value, "DPID", DPID_INVALID)
    _check_alphabet(s, _ALNUM, "letters A-Z and digits 0-9", "DPID", DPID_INVALID, value)
    if not s.startswith(DPID_PREFIX) and len(s) >= len(DPID_PREFIX):
        raise _fail(
            DPID_INVALID,
            f"DPID must start with {DPID_PREFIX!r}, got {s[: len(DPID_PREFIX)]!r}.",
            value,
            "prefix",
        )
    _check_length(s, (18,), "characters", "DPID", DPID_INVALID, value)
    _check_positions(s, [(8, 17, _DIGITS, "a digit")], "DPID", DPID_INVALID, value)
    _check_value(dpid_check_char(s[:17]), s[17], "check character", "DPID", DPID_INVALID, value)
    return s


def format_dpid(value: str) -> str:
    """Display form: the 18 characters."""
    return normalize_dpid(value)


# --------------------------------------------------------------------------- dispatch

NORMALIZERS: dict[str, Callable[[str], str]] = {
    "isrc": normalize_isrc,
    "iswc": normalize_iswc,
    "upc": normalize_upc,
    "icpn": normalize_upc,
    "ean": normalize_upc,
    "isni": normalize_isni,
    "ipi": normalize_ipi,
    "dpid": normalize_dpid,
}

FORMATTERS: dict[str, Callable[[str], str]] = {
    "isrc": format_isrc,
    "iswc": format_iswc,
    "upc": format_upc,
    "icpn": format_upc,
    "ean": format_upc,
    "isni": format_isni,
    "ipi": format_ipi,
    "dpid": format_dpid,
}

KINDS: frozenset[str] = frozenset(NORMALIZERS)


def _lookup(table: dict[str, Callable[[str], str]], kind: str) -> Callable[[str], str]:
    key = kind.strip().lower() if isinstance(kind, str) else ""
    if key not in table:
        raise IdentifierError(
            f"Unknown identifier kind {kind!r}; known kinds: {', '.join(sorted(table))}.",
            code=IDENTIFIER_KIND_UNKNOWN,
            detail={"kind": kind if isinstance(kind, str) else repr(kind), "known": sorted(table)},
        )
    return table[key]


def validate(kind: str, value: str) -> str:
    """Normalise ``value`` as an identifier of ``kind`` (isrc, iswc, upc/icpn/ean, isni,
    ipi, dpid; any case) and return its canonical stored form."""
    return _lookup(NORMALIZERS, kind)(value)


def format_identifier(kind: str, value: str) -> str:
    """Display form of ``value`` as an identifier of ``kind``."""
    return _lookup(FORMATTERS, kind)(value)
