"""DDEX values <-> registry words: durations, use types, territories, roles (pure)."""

from __future__ import annotations

import pytest

from interchange import vocabulary as v
from registry.territories import ISO_3166_ALPHA2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT3M30S", 210.0),
        ("PT1H2M3.5S", 3723.5),
        ("P0DT4M", 240.0),
        ("PT0S", 0.0),
        ("PT45.125S", 45.125),
        ("PT", None),
        ("P1Y", None),
        ("P1M", None),
        ("3:30", None),
        ("PT3M30", None),
    ],
)
def test_iso_8601_durations_are_read_in_seconds(text, seconds):
    assert v.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(210.0, "PT3M30S"), (210.5, "PT3M30.5S"), (0, "PT0S"), (3723.25, "PT1H2M3.25S"), (60, "PT1M")],
)
def test_durations_are_written_to_the_millisecond_and_read_back(seconds, text):
    assert v.format_duration(seconds) == text
    assert v.parse_duration(text) == seconds


def test_a_duration_is_rounded_to_the_millisecond():
    assert v.format_duration(12.3456) == "PT12.346S"


@pytest.mark.parametrize(
    ("usage", "use_type"),
    [
        ("stream", ("Stream", "")),
        ("on_demand_stream", ("OnDemandStream", "")),
        ("permanent_download", ("PermanentDownload", "")),
        ("use_for_generative_ai", ("UseForGenerativeAI", "")),
        ("dub_for_tv", ("DubForTV", "")),
        ("sync", ("UserDefined", "sync")),
        ("use", ("UserDefined", "use")),
    ],
)
def test_usage_types_map_to_use_types_and_back(usage, use_type):
    assert v.usage_to_use_type(usage) == use_type
    assert v.use_type_to_usage(*use_type) == usage


def test_long_include_lists_become_worldwide_minus_the_rest():
    everything_but_two = sorted(ISO_3166_ALPHA2 - {"CU", "KP"})

    assert v.compact_territories(everything_but_two) == (["WORLD"], ["CU", "KP"])
    assert v.compact_territories(["FR", "DE", "FR"]) == (["DE", "FR"], [])
    assert v.compact_territories(["WORLD", "FR"]) == (["WORLD"], [])
    assert v.expand_territories(["WORLD"], ["CU", "KP"]) == everything_but_two
    assert v.expand_territories(["FR", "DE"], ["DE"]) == ["FR"]


def test_every_registry_role_is_written_as_a_ddex_role_that_reads_back_to_it():
    for role, (ddex_role, _element) in v.ROLE_EXPORT.items():
        if role == "featured_artist":
            continue  # a Performer with HasMadeFeaturedContribution
        assert v.ROLE_IMPORT[ddex_role] == (role,), role
    assert v.ROLE_IMPORT["ComposerLyricist"] == ("composer", "lyricist")


def test_ai_values_map_both_ways():
    assert v.CONTAINS_AI_TO_DISCLOSURE == {"None": "none", "Partly": "partly", "All": "all"}
    assert v.AI_CONTRIBUTION_TO_INVOLVEMENT == {
        "None": "human",
        "Partly": "ai_assisted",
        "All": "ai_generated",
    }
