"""Hover figures of the report as plotly specs (``{"data": [...], "layout": {...}}``).

Each function takes the run folder's tables and returns a spec (or None when there is nothing
to draw); :func:`radiogenomics.report.interactive.figure_html` turns it into a page block.
The static PNG/SVG figures the stages wrote stay in the run folder for papers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_BASE = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "font": {"size": 12},
    "hovermode": "closest",
    "template": None,
    "plot_bgcolor": "#fff",
}


def _layout(**kw) -> dict:
    out = dict(_BASE)
    out.update(kw)
    if "title" in out:  # left, clear of the tool bar on the right
        out["title"] = {"x": 0.01, "xanchor": "left", "font": {"size": 14}, **out["title"]}
    out["margin"] = {**out["margin"], "t": 50}
    return out


def _axis(title: str, **kw) -> dict:
    return {"title": {"text": title}, "gridcolor": "#eee", "zeroline": False, **kw}


# ------------------------------------------------------------------------------------- ROC
def roc_points(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FPR, TPR and thresholds of a ROC curve (ties handled as one step, like scikit-learn)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y_true, score, drop_intermediate=True)
    return fpr, tpr, thr


def roc_spec(oof: pd.DataFrame, task: str, classes: list[str]) -> dict | None:
    """Out-of-fold ROC curves of one task: the positive class, or each class one-vs-rest."""
    from sklearn.metrics import roc_auc_score

    g = oof[oof["task"] == task]
    traces = []
    for cls in classes:
        gg = g[g["class"].astype(str) == cls]
        y = (gg["label"].astype(str) == cls).to_numpy(int)
        if len(np.unique(y)) < 2:
            continue
        p = gg["proba"].to_numpy(float)
        fpr, tpr, thr = roc_points(y, p)
        auc = roc_auc_score(y, p)
        name = cls if len(classes) > 1 else task
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": fpr,
                "y": tpr,
                "customdata": np.where(np.isfinite(thr), thr, np.nan),
                "name": f"{name} (AUC {auc:.3f})",
                # straight segments: tied scores move diagonally (what the AUC integrates)
                "line": {"width": 2},
                "hovertemplate": "FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata:.3f}"
                "<extra>%{fullData.name}</extra>",
            }
        )
    if not traces:
        return None
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 1],
            "y": [0, 1],
            "line": {"dash": "dash", "color": "#aaa", "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )
    return {
        "data": traces,
        "layout": _layout(
            title={"text": f"{task}: out-of-fold ROC"},
            xaxis=_axis("false positive rate", range=[0, 1]),
            yaxis=_axis("true positive rate", range=[0, 1.02]),
            legend={"x": 0.98, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
            height=340,
            width=None,
        ),
    }


# ------------------------------------------------------------------------------- bootstrap
PAPER_MARGIN = 0.10  # the AUC by which the paper found the networks ahead of the baselines


def bootstrap_spec(differences: pd.DataFrame) -> dict | None:
    """Network minus baseline AUC per repetition: a box with every repetition's point, a
    dashed line at no difference and a dotted one at the paper's margin (+0.10), as the
    figure for papers draws them."""
    if differences is None or differences.empty:
        return None
    traces = []
    for model, g in differences.groupby("model", sort=False):
        traces.append(
            {
                "type": "box",
                "x": g["trait"].astype(str),
                "y": g["difference"].to_numpy(float),
                "customdata": g["rep"].to_numpy() if "rep" in g.columns else None,
                "name": f"network − {model}",
                "boxpoints": "all",
                "jitter": 0.4,
                "pointpos": 0,
                "marker": {"size": 4, "opacity": 0.6},
                "hovertemplate": "%{x}<br>difference %{y:.3f}<br>repetition %{customdata}"
                "<extra>%{fullData.name}</extra>",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            title={"text": "Bootstrap AUC difference (network minus baseline)"},
            boxmode="group",
            xaxis=_axis("trait"),
            yaxis=_axis("AUC difference", zeroline=False),
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": y,
                    "y1": y,
                    "line": {"color": "#888", "width": 1, "dash": dash},
                }
                for y, dash in ((0.0, "dash"), (PAPER_MARGIN, "dot"))
            ],
            height=420,
        ),
    }


# --------------------------------------------------------------------------------- masking
def masking_heatmap_spec(sets: pd.DataFrame, metric: str, top: int) -> dict | None:
    """Sets x tasks (and classes): ``metric`` (auc or ap) of the masked network, top sets."""
    if sets is None or sets.empty or metric not in sets.columns:
        return None
    df = sets.assign(
        column=np.where(
            sets["task"] == sets["class"],
            sets["task"],
            sets["task"] + ": " + sets["class"].astype(str),
        )
    )
    best = df.sort_values(metric, ascending=False).groupby("column", sort=False).head(top)
    keep = list(dict.fromkeys(best["set"]))
    mat = df[df["set"].isin(keep)].pivot_table(index="set", columns="column", values=metric)
    if mat.empty:
        return None
    mat = mat.loc[mat.max(axis=1).sort_values(ascending=True).index]  # best at the top
    qcol = f"q_{metric}"
    text = None
    if qcol in df.columns:
        q = df[df["set"].isin(keep)].pivot_table(index="set", columns="column", values=qcol)
        q = q.reindex(index=mat.index, columns=mat.columns)
        text = q.to_numpy(float)
    trace = {
        "type": "heatmap",
        "z": mat.to_numpy(float),
        "x": [str(c) for c in mat.columns],
        "y": [str(i) for i in mat.index],
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": metric.upper()}},
        "hovertemplate": "%{y}<br>%{x}<br>"
        + metric.upper()
        + " %{z:.3f}"
        + ("<br>q %{customdata:.3g}" if text is not None else "")
        + "<extra></extra>",
    }
    if text is not None:
        trace["customdata"] = text
    return {
        "data": [trace],
        "layout": _layout(
            title={"text": f"Gene-set masking {metric.upper()} (top {top} sets per column)"},
            height=max(320, 120 + 16 * mat.shape[0]),
            margin={"l": 200, "r": 20, "t": 40, "b": 90},
            xaxis={"tickangle": -30, "automargin": True},
            yaxis={"automargin": True},  # set names longer than the margin are not cut
        ),
    }


# ------------------------------------------------------------------------------------ GSEA
def running_sum(ranking: pd.Series, genes: set[str], weight: float = 1.0) -> pd.DataFrame:
    """The weighted GSEA running sum of ``genes`` along ``ranking`` (sorted high to low).

    Hits step up by ``|r|^weight`` over the hits' total, misses down by ``1 / (N - hits)``
    (Subramanian et al. 2005). Returns position, gene, score, running sum and hit per gene.
    """
    r = ranking.dropna().sort_values(ascending=False, kind="stable")
    hit = r.index.isin(list(genes))
    n, nh = len(r), int(hit.sum())
    if nh == 0 or nh == n:
        raise ValueError(f"a running sum needs hits and misses; {nh} of {n} genes are in the set")
    w = np.abs(r.to_numpy(float)) ** weight
    total = w[hit].sum()
    up = w / total if total > 0 else np.full(n, 1.0 / nh)  # all-zero scores: equal steps
    step = np.where(hit, up, -1.0 / (n - nh))
    rs = np.cumsum(step)
    return pd.DataFrame(
        {
            "position": np.arange(1, n + 1),
            "gene": r.index,
            "score": r.to_numpy(),
            "sum": rs,
            "hit": hit,
        }
    )


def enrichment_score(curve: pd.DataFrame) -> float:
    """The running sum's largest deviation from zero (the ES)."""
    s = curve["sum"].to_numpy()
    return float(s[np.argmax(np.abs(s))])


def gsea_spec(curve: pd.DataFrame, title: str, ranking_name: str) -> dict:
    """The enrichment plot: running sum (drawn through its turning points) and the hits."""
    s = curve["sum"].to_numpy()
    hit = curve["hit"].to_numpy(bool)
    # the sum is linear between hits: keep the points before and at each hit, the ends, the ES
    keep = hit | np.roll(hit, -1)
    keep[[0, -1]] = True
    keep[int(np.argmax(np.abs(s)))] = True
    c = curve[keep]
    hits = curve[hit]
    es = enrichment_score(curve)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": c["position"].to_numpy(),
                "y": c["sum"].to_numpy(),
                "name": "running sum",
                "line": {"color": "#2a7ab0", "width": 2},
                "hovertemplate": "rank %{x}<br>running sum %{y:.3f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": hits["position"].to_numpy(),
                "y": np.full(len(hits), float(min(s.min(), 0)) - 0.05),
                "customdata": np.column_stack([hits["gene"].astype(str), hits["score"]]).tolist(),
                "name": "genes of the set",
                "marker": {"symbol": "line-ns-open", "size": 14, "color": "#333"},
                "hovertemplate": "%{customdata[0]}<br>rank %{x}<br>"
                + ranking_name
                + " %{customdata[1]:.4g}<extra></extra>",
            },
        ],
        "layout": _layout(
            title={"text": f"{title} (ES {es:.3f})"},
            xaxis=_axis(f"genes ranked by {ranking_name}", range=[0, len(curve) + 1]),
            yaxis=_axis("running enrichment score", zeroline=True, zerolinecolor="#888"),
            showlegend=False,
            height=300,
        ),
    }


# -------------------------------------------------------------------------------- survival
def km_spec(
    curves: pd.DataFrame,
    variable: str,
    outcome: str,
    p: float | None,
    groups: tuple[str, str] | None = None,
) -> dict | None:
    """Kaplan-Meier curves of one binary variable (one line per group), hover: at risk.
    ``groups``: the names of groups 0 and 1 (a trait's classes, absent/present)."""
    c = curves[curves["variable"] == variable]
    if c.empty or "group" not in c.columns:
        return None
    traces = []
    for group, g in c.groupby("group", sort=True):
        g = g.sort_values("time")
        x = np.concatenate([[0.0], g["time"].to_numpy(float)])
        y = np.concatenate([[1.0], g["survival"].to_numpy(float)])
        at_risk = np.concatenate([[g["n_risk"].iloc[0]], g["n_risk"].to_numpy()])
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": y,
                "customdata": at_risk,
                "name": _group_name(variable, group, groups),
                "line": {"shape": "hv", "width": 2},
                "hovertemplate": "day %{x:.0f}<br>survival %{y:.3f}<br>at risk %{customdata}"
                "<extra>%{fullData.name}</extra>",
            }
        )
    ptext = f" (log-rank p = {p:.3g})" if p is not None and np.isfinite(p) else ""
    return {
        "data": traces,
        "layout": _layout(
            title={"text": f"{outcome.upper()}: {variable}{ptext}"},
            xaxis=_axis("days"),
            yaxis=_axis("survival probability", range=[0, 1.02]),
            legend={"x": 0.98, "xanchor": "right", "y": 0.98},
            height=320,
        ),
    }


def _group_name(variable: str, group: object, groups: tuple[str, str] | None) -> str:
    try:
        g = int(float(group))
    except (TypeError, ValueError):
        g = -1
    if groups is not None and g in (0, 1):
        return f"{variable}: {groups[g]}"
    return f"{variable} = {group}"


def forest_spec(model: pd.DataFrame, outcome: str) -> dict | None:
    """Hazard ratios with 95% intervals of the final multivariable model (log axis)."""
    if model is None or model.empty:
        return None
    from radiogenomics.survival.plots import hazard_ratio_axis

    m = model.iloc[::-1]
    hr = m["hr"].to_numpy(float)
    left, right, ticks = hazard_ratio_axis(m["lo"].to_numpy(float), m["hi"].to_numpy(float))
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "x": hr,
                "y": [str(v) for v in m.index],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": m["hi"].to_numpy(float) - hr,
                    "arrayminus": hr - m["lo"].to_numpy(float),
                },
                "customdata": np.column_stack([m["lo"], m["hi"], m["p"]]),
                "marker": {"size": 9, "color": "#23395b", "symbol": "square"},
                "hovertemplate": "%{y}<br>HR %{x:.2f} (%{customdata[0]:.2f}-"
                "%{customdata[1]:.2f})<br>p %{customdata[2]:.3g}<extra></extra>",
            }
        ],
        "layout": _layout(
            title={"text": f"{outcome.upper()}: final multivariable Cox model"},
            xaxis=_axis(
                "hazard ratio (95% CI)",
                type="log",
                range=[np.log10(left), np.log10(right)],
                tickvals=ticks,
                ticktext=[f"{v:g}" for v in ticks],
            ),
            yaxis={"automargin": True},
            shapes=[
                {
                    "type": "line",
                    "x0": 1,
                    "x1": 1,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"dash": "dash", "color": "#888"},
                }
            ],
            margin={"l": 200, "r": 20, "t": 40, "b": 50},
            height=max(260, 90 + 32 * len(m)),
        ),
    }
