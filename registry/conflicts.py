"""Ownership conflict detection: where do overlapping rights shares add up to over 100%? (pure)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .territories import effective_territories

ANY_OTHER_USAGE = "*"


@dataclass(frozen=True)
class ShareSpec:
    id: int
    pct: Decimal
    territories: Sequence[str]
    exclude_territories: Sequence[str] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    usage_types: Sequence[str] = ()


@dataclass
class ConflictSpec:
    share_ids: tuple[int, ...]
    total_pct: Decimal
    territories: set[str] = field(default_factory=set)
    usage_types: set[str] = field(default_factory=set)
    start: dt.date | None = None
    end: dt.date | None = None
    open_start: bool = False
    open_end: bool = False


def _intervals(shares: Sequence[ShareSpec]) -> list[tuple[dt.date | None, dt.date | None]]:
    """Elementary periods (inclusive; None = unbounded) on which no share starts or ends."""
    cuts: set[dt.date] = set()
    for share in shares:
        if share.start is not None:
            cuts.add(share.start)
        if share.end is not None:
            cuts.add(share.end + dt.timedelta(days=1))
    points = sorted(cuts)
    bounds: list[dt.date | None] = [None, *points]
    result: list[tuple[dt.date | None, dt.date | None]] = []
    for i, lo in enumerate(bounds):
        hi = points[i] - dt.timedelta(days=1) if i < len(points) else None
        result.append((lo, hi))
    return result


def _active(share: ShareSpec, lo: dt.date | None, hi: dt.date | None) -> bool:
    # Elementary periods never straddle a share's bounds, so testing one end suffices.
    probe = lo if lo is not None else hi
    if probe is None:
        return True
    if lo is None:
        return share.start is None
    return (share.start is None or share.start <= probe) and (
        share.end is None or probe <= share.end
    )


def _uses(share: ShareSpec, usage: str) -> bool:
    if not share.usage_types:
        return True
    return usage in share.usage_types


def find_conflicts(
    shares: Iterable[ShareSpec], limit_pct: Decimal = Decimal(100)
) -> list[ConflictSpec]:
    """Every set of shares that together exceed ``limit_pct`` for a common territory, period and usage.

    A share with no usage types covers every usage; "WORLD" expands to every territory.
    Sets are reported once each, with the territories, usages and span where they collide.
    """
    shares = list(shares)
    if len(shares) < 2 and all(s.pct <= limit_pct for s in shares):
        return []
    territory_sets = {
        s.id: effective_territories(s.territories, s.exclude_territories) for s in shares
    }
    usages = [*sorted({u for s in shares for u in s.usage_types}), ANY_OTHER_USAGE]
    found: dict[tuple[int, ...], ConflictSpec] = {}
    for lo, hi in _intervals(shares):
        period_shares = [s for s in shares if _active(s, lo, hi)]
        if not period_shares:
            continue
        for usage in usages:
            active = [
                s
                for s in period_shares
                if (_uses(s, usage) if usage != ANY_OTHER_USAGE else not s.usage_types)
            ]
            if sum((s.pct for s in active), Decimal(0)) <= limit_pct:
                continue
            by_set: dict[tuple[int, ...], set[str]] = {}
            territories = set().union(*(territory_sets[s.id] for s in active))
            for territory in territories:
                members = tuple(sorted(s.id for s in active if territory in territory_sets[s.id]))
                by_set.setdefault(members, set()).add(territory)
            pct = {s.id: s.pct for s in active}
            for members, where in by_set.items():
                total = sum((pct[i] for i in members), Decimal(0))
                if total <= limit_pct:
                    continue
                spec = found.get(members)
                if spec is None:
                    spec = found[members] = ConflictSpec(
                        members, total, start=lo, end=hi, open_start=lo is None, open_end=hi is None
                    )
                spec.territories |= where
                spec.usage_types.add(usage)
                if lo is None:
                    spec.open_start = True
                elif not spec.open_start and (spec.start is None or lo < spec.start):
                    spec.start = lo
                if hi is None:
                    spec.open_end = True
                elif not spec.open_end and (spec.end is None or hi > spec.end):
                    spec.end = hi
    for spec in found.values():
        if spec.open_start:
            spec.start = None
        if spec.open_end:
            spec.end = None
    return sorted(found.values(), key=lambda c: c.share_ids)
