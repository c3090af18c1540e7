"""The review page's pictures (pure): the match timeline and the fakeprint plot."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from review import svg

NS = {"s": "http://www.w3.org/2000/svg"}
PLOT_W = svg.WIDTH - svg.LEFT - svg.RIGHT


def seg(match_id: int = 1, recording_id: int = 10, **fields: object) -> svg.Segment:
    data: dict[str, object] = {
        "title": "Glass Harbour",
        "query_start_s": 15.0,
        "query_end_s": 30.0,
        "reference_start_s": 60.0,
        "reference_end_s": 75.0,
        "reference_duration_s": 120.0,
        "score": 0.91,
    }
    data.update(fields)
    return svg.Segment(match_id=match_id, recording_id=recording_id, **data)  # type: ignore[arg-type]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 -- our own output


def test_each_match_is_a_segment_placed_on_the_submission_scale_with_its_data() -> None:
    root = parse(svg.match_timeline(60.0, [seg()]))

    (segment,) = root.findall(".//s:rect[@class='segment']", NS)
    assert segment.attrib["data-match"] == "1"
    assert segment.attrib["data-recording"] == "10"
    assert segment.attrib["data-query-start-s"] == "15.00"
    assert segment.attrib["data-query-end-s"] == "30.00"
    assert segment.attrib["data-reference-start-s"] == "60.00"
    assert segment.attrib["data-reference-end-s"] == "75.00"
    assert segment.attrib["data-score"] == "0.9100"
    # 15-30 s of 60 s: the second quarter of the bar.
    assert float(segment.attrib["x"]) == pytest.approx(svg.LEFT + PLOT_W * 0.25, abs=0.1)
    assert float(segment.attrib["width"]) == pytest.approx(PLOT_W * 0.25, abs=0.1)
    assert root.attrib["data-segments"] == "1"
    assert root.attrib["data-duration-s"] == "60.00"


def test_the_reference_lane_shows_where_the_segment_comes_from_in_its_reference() -> None:
    root = parse(svg.match_timeline(60.0, [seg()]))

    (ref,) = root.findall(".//s:rect[@class='reference-segment']", NS)
    # 60-75 s of a 120 s reference: from the middle, an eighth of its length.
    assert float(ref.attrib["x"]) == pytest.approx(svg.LEFT + PLOT_W * 0.5, abs=0.1)
    assert float(ref.attrib["width"]) == pytest.approx(PLOT_W / 8, abs=0.1)
    (band,) = root.findall(".//s:polygon[@class='band']", NS)
    xs = [float(p.split(",")[0]) for p in band.attrib["points"].split()]
    assert xs == pytest.approx(
        [
            svg.LEFT + PLOT_W * 0.25,
            svg.LEFT + PLOT_W * 0.5,
            svg.LEFT + PLOT_W * 0.625,
            svg.LEFT + PLOT_W * 0.5,
        ],
        abs=0.1,
    )
    lane_text = "".join(root.find(".//s:g[@class='lane']", NS).itertext())  # type: ignore[union-attr]
    assert "Glass Harbour" in lane_text
    assert "0:15\u20130:30 here \u2190 1:00\u20131:15 of the reference" in lane_text


def test_a_reference_of_unknown_length_is_drawn_up_to_the_end_of_the_match() -> None:
    root = parse(svg.match_timeline(60.0, [seg(reference_duration_s=None)]))

    (ref,) = root.findall(".//s:rect[@class='reference-segment']", NS)
    assert float(ref.attrib["x"]) + float(ref.attrib["width"]) == pytest.approx(
        svg.LEFT + PLOT_W, abs=0.1
    )


def test_one_colour_per_recording_and_lanes_in_submission_order() -> None:
    segments = [
        seg(3, 11, query_start_s=40.0, query_end_s=50.0),
        seg(1, 10, query_start_s=0.0, query_end_s=10.0),
        seg(2, 10, query_start_s=20.0, query_end_s=30.0),
    ]
    root = parse(svg.match_timeline(60.0, segments))

    rects = root.findall(".//s:rect[@class='segment']", NS)
    assert [r.attrib["data-match"] for r in rects] == ["1", "2", "3"]
    assert rects[0].attrib["fill"] == rects[1].attrib["fill"] == svg.PALETTE[0]
    assert rects[2].attrib["fill"] == svg.PALETTE[1]
    assert [g.attrib["data-match"] for g in root.findall(".//s:g[@class='lane']", NS)] == [
        "1",
        "2",
        "3",
    ]


def test_text_is_escaped() -> None:
    markup = svg.match_timeline(60.0, [seg(title='<script>alert("x")</script> & Co')])

    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup and "&amp; Co" in markup
    parse(markup)  # still well-formed


def test_no_match_is_an_empty_bar_and_a_missing_duration_still_draws() -> None:
    root = parse(svg.match_timeline(None, []))

    assert root.findall(".//s:rect[@class='segment']", NS) == []
    assert root.attrib["data-segments"] == "0"


def test_a_match_past_the_known_duration_stretches_the_scale() -> None:
    root = parse(svg.match_timeline(20.0, [seg(query_start_s=10.0, query_end_s=40.0)]))

    assert root.attrib["data-duration-s"] == "40.00"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (75, "1:15"), (3725, "1:02:05")]
)
def test_clock(seconds: float, text: str) -> None:
    assert svg.clock(seconds) == text


@pytest.mark.parametrize(("duration", "step"), [(8, 1), (60, 10), (200, 30), (3600, 600)])
def test_ticks_are_round_and_few(duration: float, step: float) -> None:
    assert svg.tick_step(duration) == step


# ---------------------------------------------------------------- fakeprint


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"fakeprint": []},
        {"fakeprint": [0.1]},
        {"fakeprint": ["a", "b"]},
        {"fakeprint": [0.1, math.nan, 0.3]},
        {"fakeprint": [True, False]},
        "not a dict",
    ],
)
def test_no_fakeprint_when_the_evidence_carries_none_or_garbage(data: object) -> None:
    assert svg.fakeprint_from(data) is None


def test_fakeprint_over_a_band_is_spaced_evenly() -> None:
    fp = svg.fakeprint_from({"fakeprint": [1, 2, 3], "band_hz": [4000, 8000], "peaks_hz": [6000]})

    assert fp == svg.Fakeprint(
        (1.0, 2.0, 3.0), (4000.0, 6000.0, 8000.0), (6000.0,), band_hz=(4000.0, 8000.0)
    )


def test_fakeprint_with_its_own_frequencies() -> None:
    fp = svg.fakeprint_from({"fakeprint": [1, 2], "frequencies_hz": [100, 300]})

    assert fp is not None and fp.frequencies_hz == (100.0, 300.0) and fp.in_hz


def test_fakeprint_without_frequencies_is_drawn_over_bins_without_peaks() -> None:
    fp = svg.fakeprint_from({"fakeprint": [1, 2, 3], "peaks_hz": [11025]})

    assert fp == svg.Fakeprint((1.0, 2.0, 3.0), (0.0, 1.0, 2.0), (), in_hz=False)
    assert "bin 2" in svg.fakeprint_plot(fp)


def test_the_detectors_peaks_are_stems_over_the_band_with_the_comb_marked() -> None:
    # What fingerprinting.spectral reports: the band, the peaks and their heights, a comb.
    fp = svg.fakeprint_from(
        {
            "probability": 0.93,
            "band_hz": [4000.0, 20000.0],
            "peaks_hz": [16000.0, 8000.0, 12000.0],
            "peaks_db": [9.0, 6.0, 3.0],
            "comb": {"spacing_hz": 4000.0, "rate_hz": 48000, "divisor": 12, "teeth": 4},
        }
    )
    assert fp is not None
    assert (fp.band_hz, fp.comb_hz, fp.peaks_db) == ((4000.0, 20000.0), 4000.0, (9.0, 6.0, 3.0))

    root = parse(svg.fakeprint_plot(fp))
    stems = root.findall(".//s:line[@class='peak stem']", NS)
    assert [(p.attrib["data-hz"], p.attrib["data-db"]) for p in stems] == [
        ("16000.0", "9.0"),
        ("8000.0", "6.0"),
        ("12000.0", "3.0"),
    ]
    # Over the band 4-20 kHz, 16 kHz is three quarters along; the tallest stem is the longest.
    x = float(stems[0].attrib["x1"])
    assert x == pytest.approx(40 + (520 - 40 - 14) * 0.75, abs=0.1)
    lengths = [float(p.attrib["y1"]) - float(p.attrib["y2"]) for p in stems]
    assert lengths[0] > lengths[1] > lengths[2] > 0
    # Comb teeth at 4, 8, 12, 16 and 20 kHz.
    assert len(root.findall(".//s:line[@class='comb']", NS)) == 5
    assert root.find(".//s:polyline", NS) is None


def test_heights_that_do_not_match_the_peaks_are_ignored() -> None:
    fp = svg.fakeprint_from(
        {"peaks_hz": [8000.0, 9000.0], "peaks_db": [3.0], "comb": {"spacing_hz": -1}}
    )

    assert fp is not None and fp.peaks_db == () and fp.comb_hz is None


def test_peaks_alone_are_plotted() -> None:
    fp = svg.fakeprint_from({"peaks_hz": [11025.0]})
    assert fp is not None

    root = parse(svg.fakeprint_plot(fp))
    assert root.find(".//s:polyline", NS) is None
    assert [p.attrib["data-hz"] for p in root.findall(".//s:line[@class='peak']", NS)] == [
        "11025.0"
    ]


def test_fakeprint_plot_has_one_point_per_value_and_a_line_per_peak() -> None:
    fp = svg.fakeprint_from(
        {"fakeprint": [0.0, 0.5, 1.0, 0.5], "band_hz": [0, 3000], "peaks_hz": [1000, 2000]}
    )
    assert fp is not None

    root = parse(svg.fakeprint_plot(fp))
    points = root.find(".//s:polyline", NS).attrib["points"].split()  # type: ignore[union-attr]
    assert len(points) == 4
    # Highest value at the top of the plot, lowest at the bottom.
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[2] == min(ys) and ys[0] == max(ys)
    assert [p.attrib["data-hz"] for p in root.findall(".//s:line[@class='peak']", NS)] == [
        "1000.0",
        "2000.0",
    ]
    assert re.search(r">1\.0k<", svg.fakeprint_plot(fp))


def test_the_comb_on_a_decoders_grid_is_drawn_when_it_beat_the_others() -> None:
    base = {
        "peaks_hz": [8000.0, 9000.0],
        "band_hz": [4000.0, 20000.0],
        "comb": {"spacing_hz": 43.3},  # the free search's best: a note's partials
    }
    grid = {"spacing_hz": 75.0, "rate_hz": 24000, "divisor": 320, "rough_spacing_hz": 56.2}
    won = svg.fakeprint_from({**base, "grid_comb": {**grid, "score": 23.7, "rough_score": 4.4}})
    lost = svg.fakeprint_from({**base, "grid_comb": {**grid, "score": 3.2, "rough_score": 3.9}})
    odd = svg.fakeprint_from({**base, "grid_comb": {**grid, "score": "23", "rough_score": 4.4}})
    assert won is not None and won.comb_hz == 75.0
    assert lost is not None and lost.comb_hz == 43.3
    assert odd is not None and odd.comb_hz == 43.3
