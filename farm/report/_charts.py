"""Report figures drawn with matplotlib (Agg) and returned as inline SVG.

Colours follow the Okabe-Ito palette, and every series also gets its own marker and line style
(bars get hatches), so the figures stay readable in greyscale print and for colour-blind readers.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from farm.errors import FarmError
from farm.metrics import POOLED

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Okabe-Ito colours without black, which is kept for text and the zero line.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
LINE_STYLES = ["-", "--", "-.", ":"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo"]


@dataclass(frozen=True)
class Chart:
    """One rendered figure."""

    name: str
    title: str
    svg: str


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:
        raise FarmError(
            "HTML reports need matplotlib, which is not installed. "
            "Install it with: pip install 'farm-eval[report]'"
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(text: str) -> str:
    # matplotlib reads `$...$` as math and hides legend labels that start with `_`.
    escaped = text.replace("$", r"\$")
    return "\u200b" + escaped if escaped.startswith("_") else escaped


def _styles() -> Iterator[dict[str, Any]]:
    for index in itertools.count():
        yield {
            "color": PALETTE[index % len(PALETTE)],
            "marker": MARKERS[index % len(MARKERS)],
            "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
        }


def _to_svg(figure: Figure, name: str) -> str:
    plt = _pyplot()
    buffer = io.StringIO()
    # A per-figure salt keeps the generated element ids unique within one HTML page.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"farm-{name}"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)


def _save_files(figure: Figure, name: str, figures_dir: Path | None) -> None:
    if figures_dir is None:
        return
    figures_dir.mkdir(parents=True, exist_ok=True)
    for extension in ("svg", "pdf", "png"):
        figure.savefig(figures_dir / f"{name}.{extension}", bbox_inches="tight", dpi=200)


def _panels(count: int, rows: int = 1) -> tuple[Figure, Any]:
    plt = _pyplot()
    figure, axes = plt.subplots(
        rows, count, figsize=(max(4.0, 3.4 * count), 3.0 * rows + 0.6), squeeze=False,
        sharey="row",
    )
    return figure, axes


def _finish(figure: Figure, name: str, title: str, figures_dir: Path | None) -> Chart:
    plt = _pyplot()
    handles, labels = [], []
    for axis in figure.axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    # Long model names can defeat tight_layout; savefig's tight bounding box still fits them.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        if handles:
            figure.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)),
                          frameon=False, bbox_to_anchor=(0.5, -0.02))
            figure.tight_layout(rect=(0, 0.08 + 0.03 * math.ceil(len(labels) / 4), 1, 1))
        else:
            figure.tight_layout()
    _save_files(figure, name, figures_dir)
    svg = _to_svg(figure, name)
    plt.close(figure)
    return Chart(name=name, title=title, svg=svg)


def _subsets(metrics: pd.DataFrame) -> list[str]:
    subsets = [s for s in dict.fromkeys(metrics["subset"]) if s != POOLED]
    if len(subsets) > 1 and (metrics["subset"] == POOLED).any():
        subsets.append(POOLED)
    return subsets


def turn_curves(
    metrics: pd.DataFrame, max_turn: int, figures_dir: Path | None = None
) -> Chart:
    """Plot MR@k and ACC@k against k, one panel per subset and one line per model.

    `metrics` must be pooled over strategies (strategy `POOLED`).
    """
    subsets = _subsets(metrics)
    figure, axes = _panels(len(subsets), rows=2)
    models = list(dict.fromkeys(metrics["model"]))
    for column, subset in enumerate(subsets):
        for model, style in zip(models, _styles(), strict=False):
            rows = metrics[(metrics["model"] == model) & (metrics["subset"] == subset)]
            if rows.empty:
                continue
            row = rows.iloc[0]
            for axis_row, (prefix, start) in enumerate((("mr", 1), ("acc", 0))):
                turns = list(range(start, max_turn + 1))
                values = [row[f"{prefix}@{k}"] * 100 for k in turns]
                lows = [row[f"{prefix}@{k}_low"] * 100 for k in turns]
                highs = [row[f"{prefix}@{k}_high"] * 100 for k in turns]
                errors = [
                    [max(0.0, v - lo) for v, lo in zip(values, lows, strict=True)],
                    [max(0.0, hi - v) for v, hi in zip(values, highs, strict=True)],
                ]
                axes[axis_row][column].errorbar(
                    turns, values, yerr=errors, capsize=2, linewidth=1.4, markersize=5,
                    label=_label(model), **style,
                )
        axes[0][column].set_title(_label("all subsets" if subset == POOLED else subset))
        for axis_row, ylabel in enumerate(("MR@k (%)", "ACC@k (%)")):
            axis = axes[axis_row][column]
            axis.set_xticks(range(0 if axis_row else 1, max_turn + 1))
            axis.set_ylim(-3, 103)
            axis.grid(alpha=0.3)
            axis.set_xlabel("turn k")
            if column == 0:
                axis.set_ylabel(ylabel)
    return _finish(figure, "turn_curves", "Misinformed rate and accuracy by turn", figures_dir)


def strategy_bars(
    metrics: pd.DataFrame, max_turn: int, figures_dir: Path | None = None
) -> Chart:
    """Plot MR@K per strategy (bars with Wilson intervals), grouped by model, per subset."""
    subsets = _subsets(metrics)
    figure, axes = _panels(len(subsets))
    models = list(dict.fromkeys(metrics["model"]))
    strategies = list(dict.fromkeys(metrics["strategy"]))
    width = 0.8 / max(1, len(strategies))
    column_name = f"mr@{max_turn}"
    for column, subset in enumerate(subsets):
        axis = axes[0][column]
        for index, strategy in enumerate(strategies):
            values, lower, upper = [], [], []
            for model in models:
                rows = metrics[
                    (metrics["model"] == model)
                    & (metrics["subset"] == subset)
                    & (metrics["strategy"] == strategy)
                ]
                value = rows.iloc[0][column_name] * 100 if len(rows) else math.nan
                values.append(value)
                lower.append(max(0.0, value - rows.iloc[0][f"{column_name}_low"] * 100)
                             if len(rows) else 0.0)
                upper.append(max(0.0, rows.iloc[0][f"{column_name}_high"] * 100 - value)
                             if len(rows) else 0.0)
            positions = [m - 0.4 + width * (index + 0.5) for m in range(len(models))]
            axis.bar(
                positions, values, width, yerr=[lower, upper], capsize=2,
                color=PALETTE[index % len(PALETTE)], hatch=HATCHES[index % len(HATCHES)],
                edgecolor="black", linewidth=0.5, label=_label(strategy),
            )
        axis.set_xticks(range(len(models)), [_label(m) for m in models], rotation=20,
                        ha="right")
        axis.set_ylim(0, 103)
        axis.grid(axis="y", alpha=0.3)
        axis.set_title(_label("all subsets" if subset == POOLED else subset))
        if column == 0:
            axis.set_ylabel(f"MR@{max_turn} (%)")
    return _finish(figure, "strategies", f"MR@{max_turn} by strategy", figures_dir)


def paired_forest(paired: pd.DataFrame, figures_dir: Path | None = None) -> Chart | None:
    """Plot each strategy's flip difference against repetition with its interval."""
    rows = paired[paired["subset"] == POOLED] if (paired["subset"] == POOLED).any() else paired
    rows = rows.dropna(subset=["difference"])
    if rows.empty:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 0.9 + 0.35 * len(rows)))
    labels = [
        _label(f"{r.model} | {r.subset} | {r.strategy}") for r in rows.itertuples(index=False)
    ]
    positions = list(range(len(rows)))[::-1]
    values = rows["difference"].to_numpy() * 100
    errors = [
        (rows["difference"] - rows["difference_low"]).clip(lower=0).to_numpy() * 100,
        (rows["difference_high"] - rows["difference"]).clip(lower=0).to_numpy() * 100,
    ]
    axis.errorbar(values, positions, xerr=errors, fmt="o", color=PALETTE[0], capsize=3)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_yticks(positions, labels)
    axis.set_xlabel("flip rate difference vs repetition (percentage points)")
    axis.grid(axis="x", alpha=0.3)
    return _finish(figure, "paired_strategies", "Strategies against repetition", figures_dir)


def probe_failure_rates(
    metrics: pd.DataFrame, max_turn: int, figures_dir: Path | None = None
) -> Chart:
    """Plot abstain and unparsed rates per turn, one line per model.

    `metrics` must be pooled over subsets and strategies.
    """
    figure, axes = _panels(2)
    models = list(dict.fromkeys(metrics["model"]))
    turns = list(range(max_turn + 1))
    for model, style in zip(models, _styles(), strict=False):
        row = metrics[metrics["model"] == model].iloc[0]
        for column, prefix in enumerate(("abstain", "unparsed")):
            values = [row[f"{prefix}@{k}"] * 100 for k in turns]
            axes[0][column].plot(turns, values, label=_label(model), **style)
    for column, title in enumerate(("abstain rate", "unparsed or ambiguous rate")):
        axis = axes[0][column]
        axis.set_title(title)
        axis.set_xticks(turns)
        axis.set_xlabel("turn k (0 = initial check)")
        axis.grid(alpha=0.3)
        axis.set_ylim(bottom=0)
    axes[0][0].set_ylabel("% of probes at turn k")
    return _finish(figure, "probe_failures", "Abstain and unparsed rates by turn", figures_dir)
