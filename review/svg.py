"""Pictures for the review page, drawn as inline SVG on the server (pure: no Django, no JS).

``match_timeline`` draws the submission as a bar with each matched segment coloured,
and under it one lane per match: the reference recording, where the segment comes
from in it, and a band joining the two. ``fakeprint_plot`` draws a spectral
"fakeprint" (the averaged log spectrum above its lower hull) with its peaks marked.
Every text is escaped; the SVG is safe to insert into a page as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

DASH = "\u2013"  # an en dash, for time ranges
TIMES = "\u00d7"

# Okabe & Ito's colour-blind-safe palette, without its yellow (unreadable on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D")

WIDTH = 960
LEFT = 96  # room for the lane names
RIGHT = 24
AXIS_Y = 30
BAR_H = 22
LANE_TOP = 96
LANE_H = 66
REF_BAR_H = 14


@dataclass(frozen=True)
class Segment:
    """One match: where it is in the submission, and where it comes from in its reference."""

    match_id: int
    recording_id: int
    title: str
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    reference_duration_s: float | None = None
    score: float = 0.0
    isrc: str = ""
    owner: str = ""
    speed_factor: float = 1.0


def clock(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), as people read durations of audio."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tick_step(duration_s: float, max_ticks: int = 10) -> float:
    """A round step (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10... min) giving at most ``max_ticks``."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration_s / step <= max_ticks:
            return float(step)
    return 3600.0 * math.ceil(duration_s / 3600 / max_ticks)


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _axis(x0: float, width: float, duration_s: float, y: float) -> list[str]:
    parts = []
    step = tick_step(duration_s)
    t = 0.0
    while t <= duration_s + 1e-6:
        x = x0 + width * t / duration_s
        parts.append(
            f'<line class="tick" x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y + 4)}"/>'
            f'<text class="tick-label" x="{_f(x)}" y="{_f(y + 15)}" text-anchor="middle">'
            f"{clock(t)}</text>"
        )
        t += step
    return parts


def recording_colours(segments: Sequence[Segment]) -> dict[int, str]:
    """One colour per reference recording, in the order the segments appear."""
    colours: dict[int, str] = {}
    for seg in sorted(segments, key=lambda s: (s.query_start_s, s.match_id)):
        colours.setdefault(seg.recording_id, _colour(len(colours)))
    return colours


def match_timeline(duration_s: float | None, segments: Sequence[Segment]) -> str:
    """The submission with its matched segments, and for each where it sits in its reference."""
    longest_end = max((s.query_end_s for s in segments), default=0.0)
    duration = max(duration_s or 0.0, longest_end, 1.0)
    ordered = sorted(segments, key=lambda s: (s.query_start_s, s.match_id))
    height = LANE_TOP + LANE_H * len(ordered) + (8 if ordered else 0)
    plot_w = WIDTH - LEFT - RIGHT
    colours = recording_colours(ordered)

    def qx(t: float) -> float:
        return LEFT + plot_w * min(max(t, 0.0), duration) / duration

    title = (
        f"Submission of {clock(duration)} with {len(ordered)} matched segment"
        f"{'' if len(ordered) == 1 else 's'}"
    )
    out = [
        f'<svg class="review-timeline" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="timeline-title" data-duration-s="{duration:.2f}" '
        f'data-segments="{len(ordered)}">',
        f'<title id="timeline-title">{escape(title)}</title>',
    ]
    # Bands first, so bars and labels sit on top of them.
    for index, seg in enumerate(ordered):
        ref_extent = max(seg.reference_duration_s or 0.0, seg.reference_end_s, 1.0)
        lane_y = LANE_TOP + LANE_H * index + 24

        def rx(t: float, extent: float = ref_extent) -> float:
            return LEFT + plot_w * min(max(t, 0.0), extent) / extent

        points = (
            f"{_f(qx(seg.query_start_s))},{AXIS_Y + BAR_H} {_f(qx(seg.query_end_s))},{AXIS_Y + BAR_H} "
            f"{_f(rx(seg.reference_end_s))},{lane_y} {_f(rx(seg.reference_start_s))},{lane_y}"
        )
        out.append(
            f'<polygon class="band" points="{points}" fill="{colours[seg.recording_id]}" '
            f'data-match="{seg.match_id}"/>'
        )

    out.append(
        f'<text class="lane-name" x="{LEFT - 10}" y="{AXIS_Y + 15}" text-anchor="end">'
        f"Submission</text>"
        f'<rect class="track" x="{LEFT}" y="{AXIS_Y}" width="{plot_w}" height="{BAR_H}" rx="3"/>'
    )
    for index, seg in enumerate(ordered):
        colour = colours[seg.recording_id]
        x1, x2 = qx(seg.query_start_s), qx(seg.query_end_s)
        tip = (
            f"{chr(65 + index % 26)}: {seg.title} — {clock(seg.query_start_s)}{DASH}"
            f"{clock(seg.query_end_s)} of the submission, from {clock(seg.reference_start_s)}{DASH}"
            f"{clock(seg.reference_end_s)} of the reference (score {seg.score:.2f})"
        )
        out.append(
            f'<rect class="segment" x="{_f(x1)}" y="{AXIS_Y}" width="{_f(max(x2 - x1, 1.5))}" '
            f'height="{BAR_H}" fill="{colour}" data-match="{seg.match_id}" '
            f'data-recording="{seg.recording_id}" data-query-start-s="{seg.query_start_s:.2f}" '
            f'data-query-end-s="{seg.query_end_s:.2f}" '
            f'data-reference-start-s="{seg.reference_start_s:.2f}" '
            f'data-reference-end-s="{seg.reference_end_s:.2f}" data-score="{seg.score:.4f}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if x2 - x1 >= 14:
            out.append(
                f'<text class="segment-letter" x="{_f((x1 + x2) / 2)}" y="{AXIS_Y + 15}" '
                f'text-anchor="middle">{chr(65 + index % 26)}</text>'
            )
    out.extend(_axis(LEFT, plot_w, duration, AXIS_Y + BAR_H))

    for index, seg in enumerate(ordered):
        colour = colours[seg.recording_id]
        letter = chr(65 + index % 26)
        ref_extent = max(seg.reference_duration_s or 0.0, seg.reference_end_s, 1.0)
        top = LANE_TOP + LANE_H * index
        bar_y = top + 24

        def rx(t: float, extent: float = ref_extent) -> float:
            return LEFT + plot_w * min(max(t, 0.0), extent) / extent

        name = (
            seg.title
            + (f" · {seg.isrc}" if seg.isrc else "")
            + (f" · {seg.owner}" if seg.owner else "")
        )
        facts = (
            f"{clock(seg.query_start_s)}{DASH}{clock(seg.query_end_s)} here ← "
            f"{clock(seg.reference_start_s)}{DASH}{clock(seg.reference_end_s)} of the reference · "
            f"score {seg.score:.2f}"
            + (
                f" · speed {TIMES}{seg.speed_factor:.3f}"
                if abs(seg.speed_factor - 1.0) > 1e-3
                else ""
            )
        )
        out.append(
            f'<g class="lane" data-match="{seg.match_id}" data-recording="{seg.recording_id}">'
            f'<circle cx="{LEFT - 16}" cy="{bar_y + REF_BAR_H / 2}" r="9" fill="{colour}"/>'
            f'<text class="lane-letter" x="{LEFT - 16}" y="{bar_y + REF_BAR_H / 2 + 4}" '
            f'text-anchor="middle">{letter}</text>'
            f'<text class="lane-name" x="{LEFT - 32}" y="{bar_y + 11}" text-anchor="end">'
            f"Ref.</text>"
            f'<text class="lane-title" x="{LEFT}" y="{top + 16}">'
            f'<tspan class="strong">{escape(name)}</tspan>'
            f'<tspan class="quiet" dx="10">{escape(facts)}</tspan></text>'
            f'<rect class="track" x="{LEFT}" y="{bar_y}" width="{plot_w}" '
            f'height="{REF_BAR_H}" rx="3"/>'
            f'<rect class="reference-segment" x="{_f(rx(seg.reference_start_s))}" y="{bar_y}" '
            f'width="{_f(max(rx(seg.reference_end_s) - rx(seg.reference_start_s), 1.5))}" '
            f'height="{REF_BAR_H}" fill="{colour}" data-match="{seg.match_id}" '
            f'data-reference-start-s="{seg.reference_start_s:.2f}" '
            f'data-reference-end-s="{seg.reference_end_s:.2f}"/>'
            f'<text class="tick-label" x="{LEFT + plot_w}" y="{bar_y + REF_BAR_H + 12}" '
            f'text-anchor="end">{clock(ref_extent)}</text>'
            f'<text class="tick-label" x="{LEFT}" y="{bar_y + REF_BAR_H + 12}">0:00</text>'
            f"</g>"
        )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Fakeprint:
    """What a spectral analysis found: the fakeprint over frequency and/or its peaks.

    ``values`` (dB) at ``frequencies_hz`` (bin numbers when ``in_hz`` is False); ``peaks_hz``
    with their heights ``peaks_db`` when known; ``band_hz`` the analysed band; ``comb_hz``
    the spacing of a comb of peaks, when one was found.
    """

    values: tuple[float, ...]
    frequencies_hz: tuple[float, ...]
    peaks_hz: tuple[float, ...]
    in_hz: bool = True
    peaks_db: tuple[float, ...] = ()
    band_hz: tuple[float, float] | None = None
    comb_hz: float | None = None


def _numbers(value: object) -> tuple[float, ...] | None:
    if not isinstance(value, list | tuple):
        return None
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            return None
        if not math.isfinite(item):
            return None
        out.append(float(item))
    return tuple(out)


def _beats(score: object, other: object) -> bool:
    """Both are plain numbers and the first is the larger."""
    numbers = [v for v in (score, other) if isinstance(v, int | float) and not isinstance(v, bool)]
    return len(numbers) == 2 and float(numbers[0]) > float(numbers[1])


def fakeprint_from(data: object) -> Fakeprint | None:
    """Read a spectral evidence's ``data``; None when it carries nothing to draw.

    Understood keys: ``fakeprint`` (values, dB), ``frequencies_hz`` / ``freqs_hz`` /
    ``fakeprint_hz`` (one frequency per value), ``band_hz`` ([low, high]: the analysed
    band, and the values' spacing when they have no frequencies), ``peaks_hz`` and
    ``peaks_db`` (their heights), ``comb`` (``{"spacing_hz"}``) and ``grid_comb``
    (``{"spacing_hz", "score", "rough_score"}``: drawn instead of ``comb`` when its score
    beats the rough one). Anything malformed is left out rather than drawn wrong.
    """
    if not isinstance(data, dict):
        return None
    values = _numbers(data.get("fakeprint")) or ()
    if len(values) < 2:
        values = ()
    peaks = _numbers(data.get("peaks_hz")) or ()
    if not values and not peaks:
        return None
    heights = _numbers(data.get("peaks_db")) or ()
    if len(heights) != len(peaks):
        heights = ()
    band: tuple[float, float] | None = None
    raw_band = _numbers(data.get("band_hz"))
    if raw_band and len(raw_band) == 2 and raw_band[1] > raw_band[0]:
        band = (raw_band[0], raw_band[1])
    comb = data.get("comb")
    grid = data.get("grid_comb")
    if isinstance(grid, dict) and _beats(grid.get("score"), grid.get("rough_score")):
        comb = grid  # the comb on a decoder's grid, when it beat every comb off it
    spacing = comb.get("spacing_hz") if isinstance(comb, dict) else None
    comb_hz = (
        float(spacing)
        if isinstance(spacing, int | float) and not isinstance(spacing, bool) and spacing > 0
        else None
    )
    freqs: tuple[float, ...] = ()
    for key in ("frequencies_hz", "freqs_hz", "fakeprint_hz"):
        candidate = _numbers(data.get(key))
        if values and candidate and len(candidate) == len(values):
            freqs = candidate
            break
    if values and not freqs and band is not None:
        lo, hi = band
        freqs = tuple(lo + (hi - lo) * i / (len(values) - 1) for i in range(len(values)))
    if values and not freqs:
        # Bins only: drawn without a Hz axis, where peaks in Hz have no place.
        return Fakeprint(values, tuple(float(i) for i in range(len(values))), (), in_hz=False)
    return Fakeprint(values, freqs, peaks, True, heights, band, comb_hz)


def fakeprint_plot(fakeprint: Fakeprint) -> str:
    """The fakeprint as a line and/or its peaks as stems (dashed lines when their height is
    unknown), a comb's teeth as ticks along the bottom, over the analysed band."""
    width, height = 520, 160
    left, right, top, bottom = 40, 14, 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = (*fakeprint.frequencies_hz, *fakeprint.peaks_hz)
    if fakeprint.band_hz is not None and fakeprint.in_hz:
        lo, hi = fakeprint.band_hz
        lo, hi = min(lo, *xs), max(hi, *xs)
    elif fakeprint.values:
        lo, hi = min(xs), max(xs)
    else:
        lo, hi = 0.0, max(xs) * 1.1
    if hi <= lo:
        hi = lo + 1.0
    levels = (*fakeprint.values, *fakeprint.peaks_db, 0.0)
    vmin, vmax = min(levels), max(levels)
    span = (vmax - vmin) or 1.0

    def x(f: float) -> float:
        return left + plot_w * (f - lo) / (hi - lo)

    def y(v: float) -> float:
        return top + plot_h - plot_h * (v - vmin) / span

    what = "Spectral fakeprint" if fakeprint.values else "Spectral peaks"
    out = [
        f'<svg class="review-fakeprint" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'data-points="{len(fakeprint.values)}" data-peaks="{len(fakeprint.peaks_hz)}">',
        f"<title>{what}"
        + (f" with {len(fakeprint.peaks_hz)} peak(s)" if fakeprint.peaks_hz else "")
        + "</title>",
        f'<rect class="plot-bg" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>',
    ]
    if fakeprint.comb_hz is not None and (hi - lo) / fakeprint.comb_hz <= 400:
        tooth = math.ceil(lo / fakeprint.comb_hz) * fakeprint.comb_hz
        while tooth <= hi:
            out.append(
                f'<line class="comb" x1="{_f(x(tooth))}" y1="{top + plot_h - 6}" '
                f'x2="{_f(x(tooth))}" y2="{top + plot_h}"/>'
            )
            tooth += fakeprint.comb_hz
    if fakeprint.values:
        points = " ".join(
            f"{_f(x(f))},{_f(y(v))}"
            for f, v in zip(fakeprint.frequencies_hz, fakeprint.values, strict=True)
        )
        out.append(f'<polyline class="fakeprint-line" points="{points}"/>')
    for index, peak in enumerate(fakeprint.peaks_hz):
        px = x(peak)
        tip = f"peak at {peak / 1000:.2f} kHz"
        if fakeprint.peaks_db:
            level = fakeprint.peaks_db[index]
            tip += f", {level:.1f} dB"
            py = y(level)
            out.append(
                f'<line class="peak stem" x1="{_f(px)}" y1="{_f(y(0.0))}" x2="{_f(px)}" '
                f'y2="{_f(py)}" data-hz="{peak:.1f}" data-db="{level:.1f}"><title>{tip}</title></line>'
                f'<circle class="peak-head" cx="{_f(px)}" cy="{_f(py)}" r="2.5"/>'
            )
            label_y = max(py - 5, top + 9)
        else:
            out.append(
                f'<line class="peak" x1="{_f(px)}" y1="{top}" x2="{_f(px)}" y2="{top + plot_h}" '
                f'data-hz="{peak:.1f}"><title>{tip}</title></line>'
            )
            label_y = top + 10
        out.append(
            f'<text class="tick-label peak-label" x="{_f(px + 3)}" y="{_f(label_y)}">'
            f"{peak / 1000:.1f}k</text>"
        )
    if fakeprint.values or fakeprint.peaks_db:
        out.append(
            f'<text class="tick-label" x="{left - 4}" y="{_f(y(vmax) + 4)}" text-anchor="end">'
            f"{vmax:.0f} dB</text>"
            f'<text class="tick-label" x="{left - 4}" y="{_f(y(vmin))}" text-anchor="end">'
            f"{vmin:.0f}</text>"
        )
    for f, anchor in ((lo, "start"), ((lo + hi) / 2, "middle"), (hi, "end")):
        label = f"{f / 1000:.1f} kHz" if fakeprint.in_hz else f"bin {f:.0f}"
        out.append(
            f'<text class="tick-label" x="{_f(x(f))}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
