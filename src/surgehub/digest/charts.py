"""Digest charts as small PNGs for inline (CID) embedding: utilisation trend per locality, GM source mix.

matplotlib is imported inside the functions and drawn on an Agg canvas directly (no pyplot, no global
state), so importing this module is cheap and safe in a scheduler. Every chart comes with alt text
that says what the picture shows in words, so nothing is lost when images are blocked or unseen.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from surgehub.digest.model import SOURCES
from surgehub.mail.compose import InlineImage

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date
    from fractions import Fraction

    from matplotlib.figure import Figure

    from surgehub.digest.model import Digest, LocalityLine, Totals
    from surgehub.digest.plan import PlanLine

TREND_CID = "utilisation-trend"
SOURCE_MIX_CID = "source-mix"
PLAN_CID = "plan-delivery"

#: NHS identity colours; text on them meets WCAG AA, and segments also differ by hatch pattern.
LINE = "#005eb8"
INK = "#212b32"
GRID = "#d8dde0"
AMBER_LINE = "#8a5a00"
RED_LINE = "#d5281b"
SOURCE_STYLE: tuple[tuple[str, str, str], ...] = (
    ("#005eb8", "", "#ffffff"),  # GP practice: NHS blue, white text
    ("#41b6e6", "//", "#212b32"),  # NHS 111: light blue, dark text
    ("#ffb81c", "xx", "#212b32"),  # ED/UTC streaming: warm yellow
    ("#425563", "..", "#ffffff"),  # other: dark grey (white text 7.6:1)
)

#: Drawn for a phone: 3.6 in at 200 dpi is 720 px, shown at 360–480 px wide, so 7 pt text stays legible.
WIDTH_IN = 3.6
DPI = 200
DISPLAY_WIDTH_PX = 480


def _percent(value: Fraction | None) -> str:
    return "no figure" if value is None else f"{float(value) * 100:.0f}%"


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"optimize": True})
    return _quantise(buffer.getvalue())


def _quantise(png: bytes) -> bytes:
    """A 64-colour palette PNG: a third of the size, no visible change for flat chart colours."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    smaller = out.getvalue()
    return smaller if len(smaller) < len(png) else png


def utilisation_trend(lines: Sequence[LocalityLine], amber_from: float, red_from: float) -> InlineImage:
    """Ten small line charts (two columns) of daily utilisation with the Amber and Red thresholds."""
    from matplotlib.figure import Figure

    rows = (len(lines) + 1) // 2
    figure = Figure(figsize=(WIDTH_IN, 0.95 * rows + 0.5), layout="constrained")
    axes = figure.subplots(rows, 2, sharex=True, sharey=True, squeeze=False)
    days: list[date] = [d for d, _ in lines[0].trend] if lines else []
    for index, line in enumerate(lines):
        ax = axes[index // 2][index % 2]
        xs = [i for i, (_, v) in enumerate(line.trend) if v is not None]
        ys = [float(v) * 100 for _, v in line.trend if v is not None]
        ax.axhline(amber_from * 100, color=AMBER_LINE, linewidth=0.9, linestyle="--")
        ax.axhline(red_from * 100, color=RED_LINE, linewidth=0.9, linestyle=":")
        ax.plot(xs, ys, color=LINE, linewidth=1.6, marker="o", markersize=2.5)
        if ys:
            ax.annotate(
                f"{ys[-1]:.0f}%", (xs[-1], ys[-1]), textcoords="offset points", xytext=(3, 3),
                fontsize=6.5, color=INK,
            )  # fmt: skip
        ax.set_title(line.name, fontsize=7, color=INK, loc="left", pad=2)
        ax.set_ylim(50, 105)
        ax.set_yticks([60, 85, 98])
        ax.tick_params(labelsize=6, colors=INK, length=2)
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for index in range(len(lines), rows * 2):
        axes[index // 2][index % 2].set_visible(False)
    if days:
        ticks = list(range(len(days) - 1, -1, -max(1, len(days) // 2)))[::-1]
        for ax in axes[-1]:
            ax.set_xticks(ticks, [days[i].strftime("%d %b") for i in ticks])
            ax.tick_params(axis="x", labelsize=5.5)
    figure.suptitle(
        f"Utilisation %, by day. Dashed: Amber {amber_from:.0%}; dotted: Red {red_from:.0%}",
        fontsize=7, color=INK,
    )  # fmt: skip
    return InlineImage(TREND_CID, _png(figure), trend_alt(lines, amber_from, red_from))


def trend_alt(lines: Sequence[LocalityLine], amber_from: float, red_from: float) -> str:
    """Alt text: the period and each locality's latest utilisation with its direction."""
    days = [d for d, _ in lines[0].trend] if lines else []
    span = f"{days[0]:%d %b} to {days[-1]:%d %b}" if days else "no days"
    parts = []
    for line in lines:
        values = [v for _, v in line.trend if v is not None]
        if not values:
            parts.append(f"{line.name} no figures")
            continue
        latest = values[-1]
        direction = ""
        if len(values) > 1:
            step = float(latest - values[0])
            direction = " rising" if step > 0.02 else " falling" if step < -0.02 else " steady"
        parts.append(f"{line.name} {_percent(latest)}{direction}")
    return (
        f"Line charts of daily utilisation per locality, {span} (Amber from {amber_from:.0%}, "
        f"Red from {red_from:.0%}). Latest: " + "; ".join(parts) + "."
    )


def source_mix(gm_days: Sequence[tuple[date, Totals]], gm_period: Totals) -> InlineImage:
    """Stacked bars of where GM bookings came from: one bar per day and one for the whole period."""
    from matplotlib.figure import Figure

    bars = [(f"{day:%a %d %b}", totals) for day, totals in gm_days]
    bars.append(("Whole period", gm_period))
    figure = Figure(figsize=(WIDTH_IN, 0.3 * len(bars) + 0.9), layout="constrained")
    ax = figure.subplots()
    labels = [label for label, _ in bars]
    left = [0.0] * len(bars)
    for (column, words), (colour, hatch, text_colour) in zip(SOURCES, SOURCE_STYLE, strict=True):
        shares = [float(t.source_share(column) or 0) * 100 for _, t in bars]
        ax.barh(
            labels,
            shares,
            left=left,
            color=colour,
            hatch=hatch,
            edgecolor="#ffffff",
            linewidth=0.6,
            label=words,
        )
        for i, share in enumerate(shares):
            if share >= 9:
                ax.text(
                    left[i] + share / 2, i, f"{share:.0f}%", ha="center", va="center", fontsize=6,
                    color=text_colour, fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": colour, "edgecolor": "none"},
                )  # fmt: skip
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of appointments booked (%)", fontsize=6.5, color=INK)
    ax.tick_params(labelsize=6.5, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=6.5, frameon=False)
    return InlineImage(SOURCE_MIX_CID, _png(figure), source_mix_alt(gm_days, gm_period))


def source_mix_alt(gm_days: Sequence[tuple[date, Totals]], gm_period: Totals) -> str:
    """Alt text: the period and GM's whole-period share of bookings from each source."""
    if not gm_period["appts_booked"]:
        return "Bar chart of where GM surge-hub bookings came from: no bookings in this period."
    shares = ", ".join(f"{words} {_percent(gm_period.source_share(column))}" for column, words in SOURCES)
    span = f"{gm_days[0][0]:%d %b} to {gm_days[-1][0]:%d %b}" if gm_days else "this period"
    return (
        f"Stacked bar chart of where GM surge-hub bookings came from, by day, {span}. "
        f"Whole period ({gm_period['appts_booked']:,} booked): {shares}."
    )


def plan_delivery(lines: Sequence[LocalityLine], gm: PlanLine) -> InlineImage:
    """One horizontal bar per locality (and GM, last) of the season's sessions delivered as a share of
    those commissioned, each labelled with its figure, a diamond at the projection to the season's end,
    and a line at 100%: one glance, read top to bottom, on a phone."""
    from matplotlib.figure import Figure

    rows = [(line.name, line.plan) for line in lines] + [("Greater Manchester", gm)]
    figure = Figure(figsize=(WIDTH_IN, 0.24 * len(rows) + 0.75), layout="constrained")
    ax = figure.subplots()
    labels = [name for name, _ in rows]
    values = [_share(plan.season.sessions_ratio) for _, plan in rows]
    projected = [_share(plan.projected_sessions_ratio) for _, plan in rows]
    ax.barh(labels, [v or 0 for v in values], color=LINE, height=0.6)
    ax.barh([labels[-1]], [values[-1] or 0], color=INK, height=0.6)  # GM in ink: the total, set apart
    for i, value in enumerate(values):  # the figure inside its bar (white on blue or ink: AA), else after it
        if value is None:
            ax.text(1.5, i, "no figure", va="center", fontsize=6.5, color=INK)
        elif value >= 25:
            ax.text(value - 1.5, i, f"{value:.0f}%", va="center", ha="right", fontsize=6.5, color="#ffffff",
                    fontweight="bold")  # fmt: skip
        else:
            ax.text(value + 1.5, i, f"{value:.0f}%", va="center", fontsize=6.5, color=INK)
    ax.axvline(100, color=INK, linewidth=0.9, linestyle="--", label="100% of plan")
    marks = [(i, p) for i, p in enumerate(projected) if p is not None]
    if marks:
        ax.scatter([p for _, p in marks], [i for i, _ in marks], marker="D", s=16, color="#ffffff",
                   edgecolors=INK, linewidths=1.1, zorder=3, label="projected to season end")  # fmt: skip
    top = max([105.0, *(v for v in values if v is not None), *(p for _, p in marks)]) + 5
    ax.invert_yaxis()
    ax.set_xlim(0, top)
    ax.set_xlabel("% of commissioned sessions delivered, season to date", fontsize=6.5, color=INK)
    ax.tick_params(labelsize=6.5, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.legend(loc="outside upper center", ncol=2, fontsize=6, frameon=False)
    return InlineImage(PLAN_CID, _png(figure), plan_alt(rows))


def _share(value: Fraction | None) -> float | None:
    return None if value is None else float(value) * 100


def plan_alt(rows: Sequence[tuple[str, PlanLine]]) -> str:
    """Alt text: each locality's season-to-date delivery against plan and its projection."""
    parts = [
        f"{name} {_percent(plan.season.sessions_ratio)}"
        + (
            ""
            if plan.projected_sessions_ratio is None
            else f", projected {_percent(plan.projected_sessions_ratio)}"
        )
        for name, plan in rows
    ]
    return (
        "Bar chart of the sessions delivered as a share of those commissioned, season to date, with the "
        "projection to the season's end: " + "; ".join(parts) + "."
    )


def digest_charts(digest: Digest) -> tuple[InlineImage, ...]:
    """The digest's charts: delivery against the commissioned plan, utilisation trend, and the GM
    source mix when anything was booked."""
    rule = digest.utilisation_rule
    images = [utilisation_trend(digest.localities, float(rule.amber_from), float(rule.red_from))]
    images.append(plan_delivery(digest.localities, digest.gm_plan))
    if digest.gm_days:
        images.append(source_mix(digest.gm_days, digest.gm_period))
    return tuple(images)
