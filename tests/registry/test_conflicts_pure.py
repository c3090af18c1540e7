"""registry.conflicts.find_conflicts, pure: territories, exclusions, periods, usages, sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from registry.conflicts import ANY_OTHER_USAGE, ShareSpec, find_conflicts
from registry.territories import ISO_3166_ALPHA2

D = dt.date


def share(id, pct, territories=("WORLD",), **extra):
    return ShareSpec(id=id, pct=Decimal(str(pct)), territories=list(territories), **extra)


def summary(conflicts):
    return [
        (c.share_ids, c.total_pct, sorted(c.territories), sorted(c.usage_types), c.start, c.end)
        for c in conflicts
    ]


# ---------------------------------------------------------------- territories


def test_world_against_a_single_country_conflicts_in_that_country_only():
    found = find_conflicts([share(1, 100), share(2, 50, ["FR"])])

    assert summary(found) == [((1, 2), Decimal(150), ["FR"], [ANY_OTHER_USAGE], None, None)]


def test_world_against_world_conflicts_everywhere():
    (conflict,) = find_conflicts([share(1, 60), share(2, 60)])

    assert conflict.territories == set(ISO_3166_ALPHA2)
    assert conflict.total_pct == Decimal(120)


def test_disjoint_countries_do_not_conflict():
    assert find_conflicts([share(1, 100, ["US"]), share(2, 100, ["FR"])]) == []


def test_overlapping_country_lists_conflict_where_they_overlap():
    found = find_conflicts([share(1, 80, ["FR", "DE", "BE"]), share(2, 30, ["DE", "BE", "NL"])])

    assert summary(found) == [((1, 2), Decimal(110), ["BE", "DE"], ["*"], None, None)]


def test_an_excluded_country_does_not_conflict():
    shares = [share(1, 100, exclude_territories=["FR"]), share(2, 100, ["FR"])]

    assert find_conflicts(shares) == []


def test_an_exclusion_leaves_the_other_countries_in_conflict():
    shares = [share(1, 100, exclude_territories=["FR"]), share(2, 50, ["FR", "DE"])]

    assert summary(find_conflicts(shares)) == [((1, 2), Decimal(150), ["DE"], ["*"], None, None)]


# ---------------------------------------------------------------- periods


def test_touching_periods_do_not_conflict():
    shares = [share(1, 100, end=D(2025, 12, 31)), share(2, 100, start=D(2026, 1, 1))]

    assert find_conflicts(shares) == []


def test_periods_overlapping_by_one_day_conflict_on_that_day():
    shares = [share(1, 100, end=D(2026, 1, 1)), share(2, 100, start=D(2026, 1, 1))]

    (conflict,) = find_conflicts(shares)

    assert (conflict.start, conflict.end) == (D(2026, 1, 1), D(2026, 1, 1))
    assert conflict.total_pct == Decimal(200)


def test_bounded_periods_conflict_on_their_intersection():
    shares = [
        share(1, 70, start=D(2025, 1, 1), end=D(2025, 12, 31)),
        share(2, 70, start=D(2025, 6, 1), end=D(2026, 6, 30)),
    ]

    (conflict,) = find_conflicts(shares)

    assert (conflict.start, conflict.end) == (D(2025, 6, 1), D(2025, 12, 31))


def test_open_ended_shares_conflict_from_the_later_start_onwards():
    shares = [share(1, 100, start=D(2025, 1, 1)), share(2, 100, start=D(2030, 1, 1))]

    (conflict,) = find_conflicts(shares)

    assert (conflict.start, conflict.end) == (D(2030, 1, 1), None)


def test_an_unbounded_share_conflicts_with_a_past_one_up_to_its_end():
    shares = [share(1, 100), share(2, 100, end=D(2020, 12, 31))]

    (conflict,) = find_conflicts(shares)

    assert (conflict.start, conflict.end) == (None, D(2020, 12, 31))


def test_a_share_ending_before_another_starts_never_overlaps_even_unbounded_on_one_side():
    shares = [share(1, 100, end=D(2020, 1, 1)), share(2, 100, start=D(2020, 1, 2))]

    assert find_conflicts(shares) == []


# ---------------------------------------------------------------- usages


def test_stream_and_download_do_not_conflict():
    shares = [share(1, 100, usage_types=["stream"]), share(2, 100, usage_types=["download"])]

    assert find_conflicts(shares) == []


def test_no_usage_types_means_every_usage_and_conflicts_with_stream():
    shares = [share(1, 100), share(2, 50, usage_types=["stream"])]

    assert summary(find_conflicts(shares)) == [
        ((1, 2), Decimal(150), sorted(ISO_3166_ALPHA2), ["stream"], None, None)
    ]


def test_shared_usage_in_two_lists_conflicts_on_that_usage_only():
    shares = [
        share(1, 60, ["FR"], usage_types=["stream", "download"]),
        share(2, 60, ["FR"], usage_types=["stream", "broadcast"]),
    ]

    assert summary(find_conflicts(shares)) == [
        ((1, 2), Decimal(120), ["FR"], ["stream"], None, None)
    ]


# ---------------------------------------------------------------- sums


def test_three_shares_where_only_one_pair_exceeds_100():
    shares = [share(1, 60), share(2, 50, ["FR"]), share(3, 30, ["DE"])]

    assert summary(find_conflicts(shares)) == [((1, 2), Decimal(110), ["FR"], ["*"], None, None)]


def test_three_shares_exceeding_100_together_are_one_conflict():
    shares = [share(1, 40, ["FR"]), share(2, 40, ["FR"]), share(3, 40, ["FR"])]

    assert summary(find_conflicts(shares)) == [((1, 2, 3), Decimal(120), ["FR"], ["*"], None, None)]


def test_exactly_100_is_not_a_conflict():
    assert find_conflicts([share(1, 60), share(2, 40, ["FR"])]) == []
    assert find_conflicts([share(1, "33.333"), share(2, "33.333"), share(3, "33.334")]) == []


def test_one_thousandth_over_100_is_a_conflict():
    (conflict,) = find_conflicts([share(1, "50.001"), share(2, 50)])

    assert conflict.total_pct == Decimal("100.001")


def test_no_shares_and_a_single_share_never_conflict():
    assert find_conflicts([]) == []
    assert find_conflicts([share(1, 100)]) == []


def test_a_custom_limit():
    assert summary(find_conflicts([share(1, 30, ["FR"]), share(2, 30, ["FR"])], Decimal(50))) == [
        ((1, 2), Decimal(60), ["FR"], ["*"], None, None)
    ]


def test_results_are_sorted_by_share_ids_and_reported_once_per_set():
    shares = [
        share(7, 100, ["DE"]),
        share(3, 100, ["FR"]),
        share(9, 10, ["FR"]),
        share(1, 10, ["DE"], start=D(2025, 1, 1)),
    ]

    found = find_conflicts(shares)

    assert [c.share_ids for c in found] == [(1, 7), (3, 9)]
    assert found[0].start == D(2025, 1, 1)
    assert found[1].start is None
