"""ISO 3166-1 territory codes, WORLD, and include/exclude territory-set arithmetic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from common.errors import ValidationError

TERRITORY_INVALID = "TERRITORY_INVALID"

WORLD = "WORLD"

# The 249 officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency,
# as shipped in Debian's iso-codes). Reserved / user-assigned codes (UK, EU, XK,
# AN, CS, YU...) are deliberately not in this set.
ISO_3166_ALPHA2: frozenset[str] = frozenset(
    """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
        BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
        BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN
        CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
        EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF
        GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
        HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
        JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
        LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
        ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
        NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG
        PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
        SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
        ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
        TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
        VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 (16 codes a line reads and diffs better)
)

# Frequent non-ISO spellings, only used to suggest the right code in error messages.
_SUGGESTIONS: dict[str, str] = {"UK": "GB", "EL": "GR", "WW": WORLD, "WORLDWIDE": WORLD}

_SPLIT = re.compile(r"[\s,;]+")


class TerritoryError(ValidationError):
    """A territory list that is not made of ISO 3166-1 alpha-2 codes (or WORLD alone)."""

    code = TERRITORY_INVALID


def _describe(item: Any) -> str:
    return item if isinstance(item, str) else repr(item)


def normalize_territories(codes: Iterable[str] | str | None) -> list[str]:
    """Return the codes upper-cased, de-duplicated and sorted; ``["WORLD"]`` only alone.

    ``codes`` is an iterable of codes; a single string is split on commas, semicolons
    and whitespace ("fr, de"). ``None`` and an empty iterable give ``[]``: whether an
    empty list is acceptable (an exclude list) or not (an include list) is the
    caller's decision. Raises ``TerritoryError`` (TERRITORY_INVALID) naming every
    unknown code in ``detail["invalid"]``.
    """
    if codes is None:
        return []
    original: Any = codes
    if isinstance(codes, str):
        items: list[Any] = [c for c in _SPLIT.split(codes) if c]
    else:
        try:
            items = list(codes)
        except TypeError:
            raise TerritoryError(
                f"Territories must be a list of ISO 3166-1 alpha-2 codes, "
                f"got {type(codes).__name__}.",
                detail={"value": repr(original), "reason": "type"},
            ) from None

    seen: set[str] = set()
    invalid: list[str] = []
    for item in items:
        code = item.strip().upper() if isinstance(item, str) else None
        if code is not None and (code in ISO_3166_ALPHA2 or code == WORLD):
            seen.add(code)
        else:
            bad = _describe(item)
            if bad not in invalid:
                invalid.append(bad)

    value = original if isinstance(original, str) else [_describe(i) for i in items]
    if invalid:
        hints = {
            bad: _SUGGESTIONS[bad.strip().upper()]
            for bad in invalid
            if bad.strip().upper() in _SUGGESTIONS
        }
        listed = ", ".join(repr(b) for b in invalid)
        message = (
            f"Unknown territory code{'s' if len(invalid) > 1 else ''}: {listed}. "
            f"Use ISO 3166-1 alpha-2 codes (e.g. GB, US) or WORLD."
        )
        if hints:
            message += " Did you mean " + ", ".join(
                f"{good} for {bad!r}" for bad, good in hints.items()
            )
            message += "?"
        detail: dict[str, Any] = {"value": value, "invalid": invalid, "reason": "unknown"}
        if hints:
            detail["suggestions"] = hints
        raise TerritoryError(message, detail=detail)

    if WORLD in seen and len(seen) > 1:
        others = sorted(seen - {WORLD})
        raise TerritoryError(
            "WORLD must be used alone; to leave countries out, list them as exclusions "
            f"instead of combining WORLD with {', '.join(others)}.",
            detail={"value": value, "invalid": others, "reason": "world_not_alone"},
        )
    return sorted(seen)


def effective_territories(
    include: Iterable[str] | str | None, exclude: Iterable[str] | str | None = None
) -> frozenset[str]:
    """The ISO codes covered by ``include`` minus ``exclude``; WORLD expands to all codes.

    Both lists are validated with ``normalize_territories``. Excluding codes that are
    not included is harmless; excluding WORLD leaves nothing.
    """
    return _expand(normalize_territories(include)) - _expand(normalize_territories(exclude))


def _expand(codes: list[str]) -> frozenset[str]:
    if codes == [WORLD]:
        return ISO_3166_ALPHA2
    return frozenset(codes)


def covers(
    include: Iterable[str] | str | None,
    exclude: Iterable[str] | str | None,
    territory: str,
) -> bool:
    """Whether a share with ``include``/``exclude`` applies in ``territory``.

    ``territory`` is one ISO code (any case). ``territory="WORLD"`` asks whether the
    share applies everywhere, i.e. its effective set is every ISO code.
    """
    (code,) = normalize_territories([territory])
    effective = effective_territories(include, exclude)
    if code == WORLD:
        return effective == ISO_3166_ALPHA2
    return code in effective


def territory_sets_overlap(
    include_a: Iterable[str] | str | None,
    exclude_a: Iterable[str] | str | None,
    include_b: Iterable[str] | str | None,
    exclude_b: Iterable[str] | str | None,
) -> bool:
    """Whether two include/exclude territory sets have at least one country in common."""
    a = effective_territories(include_a, exclude_a)
    if not a:
        return False
    return not a.isdisjoint(effective_territories(include_b, exclude_b))
