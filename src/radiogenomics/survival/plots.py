"""Kaplan-Meier grids (one panel per variable, numbers at risk and log-rank p on each, like the
paper's Fig. 9) and a forest plot of a Cox model's hazard ratios."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FormatStrFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from radiogenomics.survival.km import KaplanMeierResult

COLORS = ("#1f77b4", "#d62728")
# what groups 0 and 1 of each covariate are (survival.variables codes them)
COVARIATE_GROUPS = {
    "gender_male": ("female", "male"),
    "race_white": ("not white", "white"),
    "age_over_median": ("age <= median", "age > median"),
}
RADIOGENOMIC_GROUPS = ("absent", "present")


def group_labels(
    covariates: Iterable[str] = (),
    imaging: Mapping[str, tuple[str, str]] | None = None,
    radiogenomic: Iterable[str] = (),
) -> dict[str, tuple[str, str]]:
    """Variable -> the names of its groups 0 and 1 for the Kaplan-Meier legends: the
    covariates' (female/male, ...), each imaging trait's classes (``imaging``: trait ->
    (other class, positive class), e.g. ("<1/3", ">=1/3")) and absent/present for the
    radiogenomic traits."""
    out = {c: COVARIATE_GROUPS[c] for c in covariates if c in COVARIATE_GROUPS}
    out.update({str(t): (str(a), str(b)) for t, (a, b) in (imaging or {}).items()})
    out.update({str(r): RADIOGENOMIC_GROUPS for r in radiogenomic})
    return out


def at_risk(curves: pd.DataFrame, times: Sequence[float]) -> list[int]:
    """Patients still at risk at each of ``times`` (duration >= t), from a group's KM table."""
    removed = (curves["n_event"] + curves["n_censor"]).to_numpy()
    t = curves["time"].to_numpy()
    return [int(removed[t >= x].sum()) for x in times]


def format_p(p: float) -> str:
    if not np.isfinite(p):
        return "log-rank p = n/a"
    return "log-rank p < 0.001" if p < 0.001 else f"log-rank p = {p:.3f}"


def draw_km(
    ax: plt.Axes,
    km: KaplanMeierResult,
    labels: tuple[str, str] = ("0", "1"),
    time_label: str = "days",
) -> None:
    """One Kaplan-Meier panel: a step curve per group with its 95% CI, censoring ticks, the
    log-rank p, and the numbers at risk under the axis."""
    groups = sorted(km.curves["group"].unique())
    xmax = float(km.curves["time"].max()) if len(km.curves) else 1.0
    for g in groups:
        c = km.curves[km.curves["group"] == g]
        color = COLORS[int(g) % 2]
        n = int(km.medians.set_index("group").loc[g, "n"])
        t = np.concatenate([[0.0], c["time"].to_numpy()])
        s = np.concatenate([[1.0], c["survival"].to_numpy()])
        lo = np.concatenate([[1.0], c["ci_low"].to_numpy()])
        hi = np.concatenate([[1.0], c["ci_high"].to_numpy()])
        ax.step(t, s, where="post", color=color, lw=1.4, label=f"{labels[int(g)]} (n={n})")
        ax.fill_between(t, lo, hi, step="post", color=color, alpha=0.15, lw=0)
        cens = c[c["n_censor"] > 0]
        ax.plot(cens["time"], cens["survival"], "|", color=color, ms=6, mew=1)
    ax.set_xlim(0, xmax * 1.02)
    ax.set_ylim(0, 1.05)
    p = km.logrank.p if km.logrank is not None else float("nan")
    ax.set_title(f"{km.variable}\n{format_p(p)}", fontsize=9)
    ax.set_xlabel(time_label, fontsize=8)
    ax.set_ylabel("survival", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="best", frameon=False)
    ticks = [x for x in ax.get_xticks() if 0 <= x <= xmax * 1.02]
    ax.set_xticks(ticks)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(-0.08, -0.19, "at risk", transform=ax.transAxes, fontsize=7, ha="right", va="top")
    for row, g in enumerate(groups):
        c = km.curves[km.curves["group"] == g]
        y = -0.26 - 0.075 * row
        color = COLORS[int(g) % 2]
        ax.text(
            -0.08,
            y,
            labels[int(g)],
            transform=ax.transAxes,
            fontsize=7,
            ha="right",
            va="top",
            color=color,
        )
        for x, n in zip(ticks, at_risk(c, ticks), strict=True):
            ax.text(x, y, str(n), transform=trans, fontsize=7, ha="center", va="top", color=color)


def plot_km_grid(
    results: Sequence[KaplanMeierResult],
    title: str | None = None,
    ncols: int = 3,
    labels: Mapping[str, tuple[str, str]] | None = None,
    time_label: str = "days",
) -> plt.Figure:
    """A grid of Kaplan-Meier panels, one per variable."""
    n = max(1, len(results))
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 4.0 * nrows), squeeze=False)
    for ax, km in zip(axes.flat, results, strict=False):
        draw_km(ax, km, (labels or {}).get(km.variable, ("0", "1")), time_label)
    for ax in list(axes.flat)[len(results) :]:
        ax.axis("off")
    if not results:
        axes.flat[0].text(0.5, 0.5, "no variables", ha="center", va="center")
    fig.subplots_adjust(hspace=0.8, wspace=0.4)
    if title:
        fig.suptitle(title, fontsize=12, y=1.0, va="bottom")
    return fig


def plot_forest(
    table: pd.DataFrame,
    hr: str = "hr_adjusted",
    low: str = "ci_low_adjusted",
    high: str = "ci_high_adjusted",
    p: str = "p_adjusted",
    title: str | None = None,
    empty: str = "no estimated hazard ratio",
) -> plt.Figure:
    """Forest plot: hazard ratio and 95% CI per variable on a log axis, with HR (CI) and p
    written beside each row. Takes the stepwise summary (Table 3) by default; pass the column
    names of another table (e.g. ``cox_univariate``'s hr/ci_low/ci_high/p). ``empty``: what
    the figure says when no row has a hazard ratio."""
    n = int(np.isfinite(table[hr].astype(float)).sum())
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(n, 1) + 1.4))
    draw_forest(ax, table, hr, low, high, p, title, empty)
    return fig


def hazard_ratio_axis(lo: np.ndarray, hi: np.ndarray) -> tuple[float, float, list[float]]:
    """A forest plot's log axis: its limits (the intervals and 1, with a margin) and round
    hazard ratios to label (a log axis labels its minor ticks as bare digits otherwise)."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    lo, hi = lo[np.isfinite(lo) & (lo > 0)], hi[np.isfinite(hi)]  # an open interval: no limit
    left = min(float(lo.min()) if lo.size else 1.0, 1.0) / 1.15
    right = max(float(hi.max()) if hi.size else 1.0, 1.0) * 1.15
    # the richest of three sets of round numbers that puts at most 7 labels on the axis
    tiers = (
        (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 50, 100),
        (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100),
        (0.001, 0.01, 0.1, 1, 10, 100, 1000),
    )
    for nice in tiers:
        ticks = [v for v in nice if left <= v <= right]
        if len(ticks) <= 7:
            break
    return left, right, ticks


def draw_forest(
    ax: plt.Axes,
    table: pd.DataFrame,
    hr: str = "hr_adjusted",
    low: str = "ci_low_adjusted",
    high: str = "ci_high_adjusted",
    p: str = "p_adjusted",
    title: str | None = None,
    empty: str = "no estimated hazard ratio",
) -> plt.Axes:
    """The forest plot of :func:`plot_forest` on ``ax``: one square per estimated variable."""
    rows = table[np.isfinite(table[hr].astype(float))].reset_index(drop=True)
    if len(rows) == 0:
        ax.text(0.5, 0.5, empty, ha="center", va="center", wrap=True)
        ax.axis("off")
        if title:
            ax.set_title(title, fontsize=11)
        return ax
    y = np.arange(len(rows))[::-1]
    h, lo, hi = (rows[c].astype(float).to_numpy() for c in (hr, low, high))
    sig = rows[p].astype(float).to_numpy() < 0.05
    ax.errorbar(h, y, xerr=[h - lo, hi - h], fmt="none", ecolor="0.3", capsize=3, lw=1.2)
    ax.scatter(h, y, marker="s", s=40, c=np.where(sig, "#d62728", "#1f77b4"), zorder=3)
    ax.axvline(1.0, color="0.5", ls="--", lw=1)
    ax.set_xscale("log")
    left, right, ticks = hazard_ratio_axis(lo, hi)
    ax.set_xticks(ticks)
    ax.set_xlim(left, right)
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels(rows["variable"], fontsize=9)
    ax.set_xlabel("hazard ratio (95% CI)")
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, hv, lv, uv, pv in zip(y, h, lo, hi, rows[p].astype(float), strict=True):
        text = f"{hv:.2f} ({lv:.2f}-{uv:.2f})  p={pv:.3g}"
        ax.text(1.02, yi, text, transform=trans, va="center", fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if title:
        ax.set_title(title, fontsize=11)
    return ax
