"""The check of what a study on the synthetic cohort recovered of its planted links.

For each planted link of ``truth.json``:

* imaging trait <- programme(s): recovered when gene-set masking (the study's readout,
  ``masking.readout``: out-of-fold by default) ranks one of its planted programmes first among
  all gene sets, in the order of the study's top-sets table (empirical p against size-matched
  random sets, then AP); the table also gives the rank of every planted programme, and what
  the GSEA of the masking ranking and the drivers stage's ranking found.
* radiogenomic trait -> survival: recovered when the planted radiogenomic trait (e.g.
  ``edema + SYN_EMT``) was found in enough patients and is significant (univariate Cox p below
  ``survival.alpha``) with a hazard ratio on the planted side, for every outcome analysed.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from radiogenomics.pipeline.interpret_stage import rank_masking
from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.text import count


def recovery_table(run: RunFolder | str | os.PathLike, alpha: float | None = None) -> pd.DataFrame:
    """One row per planted link: link, planted, check, observed, recovered (bool)."""
    folder = run if isinstance(run, RunFolder) else RunFolder(run)
    truth = folder.truth()
    if truth is None:
        return pd.DataFrame(columns=["link", "planted", "check", "observed", "recovered"])
    cfg = folder.config()
    alpha = alpha if alpha is not None else cfg["survival"]["alpha"]
    readout = cfg["masking"]["readout"]
    rows = []
    masking = folder.table_if_done("masking", "masking")
    gsea = folder.table_if_done("enrichment", "gsea")
    drivers = folder.table_if_done("drivers", "drivers")
    for trait, rule in truth["traits"].items():
        planted = list(rule["programmes"])
        row = {
            "link": f"{trait} <- {' x '.join(planted)}",
            "planted": ", ".join(planted),
            "check": f"masking ({readout.replace('_', '-')}): a planted set ranks first",
            "observed": "masking did not run",
            "recovered": False,
        }
        if masking is not None:
            t = masking[
                (masking["task"] == trait)
                & (masking["mode"] == readout)
                & (masking["collection"] != "single_genes")
            ]
            if t.empty:
                row["observed"] = "trait not modelled"
            else:
                t = rank_masking(t)
                ranks = {
                    s: int(np.flatnonzero(t["set"] == s)[0]) + 1
                    for s in planted
                    if (t["set"] == s).any()
                }
                top = t.iloc[0]
                null = f", p {top['p_ap']:.2g}" if pd.notna(top.get("p_ap")) else ""
                row["observed"] = (
                    f"top: {top['set']} (AP {top['ap']:.2f}{null}, AUC {top['auc']:.2f}); "
                    "ranks: " + ", ".join(f"{s} {r}" for s, r in ranks.items())
                )
                row["recovered"] = bool(top["set"] in planted)
        if gsea is not None:
            g = gsea[gsea["task"].astype(str).str.split(":").str[0] == trait]
            if "ranking" in g.columns:  # the masking ranking (the correlation peer sits beside)
                g = g[g["ranking"] != "correlation"]
            if len(g):
                g = g.sort_values(["padj", "nes"], ascending=[True, False], kind="stable")
                first = g.iloc[0]
                hit = "planted" if first["set"] in planted else "not planted"
                row["observed"] += (
                    f"; GSEA of the masking ranking: top {first['set']} "
                    f"(NES {first['nes']:.1f}, padj {first['padj']:.2g}, {hit})"
                )
        if drivers is not None:
            row["observed"] += _driver_observation(drivers[drivers["task"] == trait], planted)
        rows.append(row)
    cox_ok = folder.done("survival")
    for link in truth.get("radiogenomic_links", []):
        name = link["name"]
        want_up = "hazard_ratio>1" in link.get("direction", "hazard_ratio>1")
        row = {
            "link": f"{name} -> survival",
            "planted": f"{name}: {link.get('survival', '')}",
            "check": f"radiogenomic trait present; univariate Cox p < {alpha}, "
            f"HR {'> 1' if want_up else '< 1'}",
            "observed": "survival did not run",
            "recovered": False,
        }
        prev = folder.table_if_done("radiogenomic_traits", "prevalence")
        if prev is not None and not (prev["trait"] == name).any():
            row["observed"] = "radiogenomic trait not found in any patient"
        elif prev is not None and not bool(prev.loc[prev["trait"] == name, "kept"].iloc[0]):
            n = int(prev.loc[prev["trait"] == name, "patients"].iloc[0])
            row["observed"] = f"radiogenomic trait in only {count(n, 'patient')} (dropped)"
        elif cox_ok:
            found = []
            ok = True
            for outcome in cfg["survival"]["outcomes"]:
                uni = folder.table_if_done("survival", f"{outcome}_cox_univariate")
                if uni is None:
                    continue
                var_col = "variable" if "variable" in uni.columns else uni.columns[0]
                r = uni[uni[var_col] == name]
                if r.empty:
                    found.append(f"{outcome.upper()}: not tested")
                    ok = False
                    continue
                r = r.iloc[0]
                hr = float(r.get("hr", r.get("hazard_ratio", np.nan)))
                p = float(r.get("p", r.get("pval", np.nan)))
                found.append(f"{outcome.upper()}: HR {hr:.2f}, p {p:.2g}")
                ok &= bool(p < alpha and ((hr > 1) if want_up else (hr < 1)))
            row["observed"] = "; ".join(found) or "no outcome analysed"
            row["recovered"] = bool(ok and found)
        rows.append(row)
    return pd.DataFrame(rows, columns=["link", "planted", "check", "observed", "recovered"])


def _driver_observation(ranking: pd.DataFrame, planted: list[str]) -> str:
    """The driver ranking's top set, the planted sets' ranks and the calls, as one clause
    (nothing for a trait the study did not model)."""
    if ranking.empty:
        return ""
    t = ranking.sort_values("rank", kind="stable")
    first = t.iloc[0]
    ranks = {s: int(t.loc[t["set"] == s, "rank"].iloc[0]) for s in planted if (t["set"] == s).any()}
    called = t.loc[t["called"].astype(bool), "set"].tolist()
    readout = first["readout"] if "readout" in t.columns else "driver ranking"
    return (
        f"; driver ranking ({readout}): top {first['set']} (q {first['q']:.2g}, "
        f"{'planted' if first['set'] in planted else 'not planted'}); ranks: "
        + ", ".join(f"{s} {r}" for s, r in ranks.items())
        + f"; called: {', '.join(called) or 'none'}"
    )
