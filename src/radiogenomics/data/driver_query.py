"""The paper's driver query: gene sets that hold a GBM candidate driver gene or whose name or
description names a keyword from prior radiogenomic work, with the query that matched each set
(Table 2's "query" column), averaged groups of sets (Table 2, footnote c) and a Table 2-like
summary of the top sets per trait.

Two kinds of query term:

- a *gene*: the set contains the symbol (MSigDB's gene search);
- a *keyword*: the set's name or description (GMT column 2, web addresses ignored) contains it
  as whole words, case and ``_``/space insensitive (``ECM`` matches ``NABA_ECM_REGULATORS``,
  ``cell membrane`` matches ``GO_CELL_MEMBRANE``).

A gene term that no set contains (``PI3K``, a gene family rather than an HGNC symbol) is matched
as a keyword instead, and the result says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.data._common import shown
from radiogenomics.data.gene_sets import GeneSets
from radiogenomics.errors import InputError

# The GBM candidate driver genes the paper queried MSigDB with (Smedley et al. 2020, section
# 2.6 and its supplement): the genes Parsons et al. 2008 (Science 321:1807, an integrated genomic
# analysis of GBM) and McLendon et al. 2008 (TCGA, Nature 455:1061, core pathways) characterised
# as contributors to GBM tumorigenesis. 22 terms; PI3K is the kinase family (queried by name).
PARSONS_2008 = (
    "TP53",
    "PI3K",
    "RB1",
    "EGFR",
    "PTEN",
    "CDKN2A",
    "NF1",
    "CDK4",
    "IDH1",
    "PIK3CA",
    "PIK3R1",
)
MCLENDON_2008 = (
    "EGFR",
    "CDK4",
    "PDGFRA",
    "MDM2",
    "MET",
    "CDK6",
    "MYCN",
    "CCND2",
    "PIK3CA",
    "AKT3",
    "CDKN2A",
    "CDKN2B",
    "CDKN2C",
    "RB1",
    "PARK2",
    "NF1",
    "ERBB2",
)
GBM_DRIVER_GENES: tuple[str, ...] = tuple(dict.fromkeys(PARSONS_2008 + MCLENDON_2008))

# Terms of the prior GBM radiogenomic studies the paper compared with (Table 2, footnote b):
# imaging trait -> keywords (processes) and genes reported for it.
RADIOGENOMIC_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "Diehn 2008 (enhancing)": ("hypoxia", "ECM", "angiogenesis"),
    "Diehn 2008 (infiltrative)": ("immune",),
    "Gevaert 2014 (necrosis)": ("cell membrane",),
}
RADIOGENOMIC_GENES: Mapping[str, tuple[str, ...]] = {
    "Gevaert 2014 (necrosis)": ("GAP43", "IL4"),
    "Jamshidi 2014 (enhancing)": ("C1orf172", "CAMSAP2", "KCNK3", "LTBP1"),
    "Jamshidi 2014 (necrosis)": ("ITGA5", "RUNX3"),
    "Gutman 2013 (enhancing)": ("EGFR",),
    "Gutman 2013 (necrosis)": ("CDKN2A",),
    "Colen 2014 (invasion)": ("MYC", "NFKBIA"),
    "Zinn 2011 (invasion, up)": ("POSTN", "CXCL12", "COL1A1", "COL6A3", "GRB10"),
    "Zinn 2011 (invasion, down)": ("AQP4", "KIF1A", "MPPED2", "CTNNA2", "PKP4", "KIF5C"),
}

# MSigDB GMT descriptions are often the set's web address: no text to search ("org", "cards").
_URL = re.compile(r"\b(?:https?|ftp)://\S+")
MATCH_COLUMNS = ["collection", "set", "term", "kind"]
TABLE_COLUMNS = ["collection", "set", "size", "query", "n_terms"]


@dataclass
class DriverQuery:
    """The sets a query found. ``matches``: one row per (collection, set, term, kind);
    ``table``: one row per matched set with ``query`` (its terms joined by ``;``, in query
    order) and ``n_terms``; ``sets``: the matched sets as one collection (for masking);
    ``unmatched``: terms that matched no set; ``as_keyword``: gene terms no set contains, matched
    as keywords instead."""

    matches: pd.DataFrame
    table: pd.DataFrame
    sets: GeneSets
    unmatched: list[str] = field(default_factory=list)
    as_keyword: list[str] = field(default_factory=list)

    def sets_for(self, term: str) -> list[str]:
        """The sets one term matched (e.g. for an averaged "related to TP53" group)."""
        return list(dict.fromkeys(self.matches.loc[self.matches["term"] == term, "set"]))


def _collections(
    gene_sets: GeneSets | Mapping[str, Mapping[str, Iterable[str]]] | Iterable[GeneSets],
) -> dict[str, GeneSets]:
    if isinstance(gene_sets, GeneSets):
        return {gene_sets.collection: gene_sets}
    if isinstance(gene_sets, Mapping):
        out = {}
        for name, sets in gene_sets.items():
            if not isinstance(sets, Mapping):
                raise InputError(
                    f"collection {name!r} is a {type(sets).__name__}",
                    field="gene_sets",
                    expected="GeneSets (or a mapping of set name -> genes) per collection",
                )
            out[str(name)] = sets if isinstance(sets, GeneSets) else GeneSets(sets, str(name))
        return out
    return {gs.collection: gs for gs in gene_sets}


def _words(text: str) -> str:
    """Lower case, ``_`` and punctuation as spaces, padded so whole words match with spaces."""
    return " " + " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split()) + " "


def query_gene_sets(
    gene_sets: GeneSets | Mapping[str, Mapping[str, Iterable[str]]] | Iterable[GeneSets],
    genes: Sequence[str] = GBM_DRIVER_GENES,
    keywords: Sequence[str] = (),
) -> DriverQuery:
    """Every set of the collections that contains one of ``genes`` or whose name or description
    contains one of ``keywords`` (whole words), with the terms that matched it.

    ``gene_sets``: one collection, a mapping collection name -> sets, or several GeneSets (their
    ``collection`` names label the rows). Sets keep collection and file order.
    """
    cols = _collections(gene_sets)
    genes = [str(g).strip() for g in genes if str(g).strip()]
    keywords = [str(k).strip() for k in keywords if str(k).strip()]
    if not genes and not keywords:
        raise InputError("an empty query", expected="at least one gene or keyword")
    everything = frozenset().union(*(gs.genes for gs in cols.values())) if cols else frozenset()
    as_keyword = [g for g in genes if g not in everything]
    gene_terms = [g for g in genes if g in everything]
    word_terms = list(dict.fromkeys([*keywords, *as_keyword]))
    patterns = {k: _words(k) for k in word_terms}
    bad = [k for k, p in patterns.items() if not p.strip()]
    if bad:
        raise InputError(
            f"keyword(s) {shown(repr(k) for k in bad)} have no letters or digits",
            field="keywords",
            expected="words such as 'ECM' or 'cell membrane'",
        )
    rows = []
    for collection, gs in cols.items():
        for name, members in gs.items():
            member_set = set(members)
            for g in gene_terms:
                if g in member_set:
                    rows.append((collection, name, g, "gene"))
            text = _words(f"{name} {_URL.sub(' ', gs.descriptions.get(name, ''))}")
            for k, pat in patterns.items():
                if pat in text:
                    rows.append((collection, name, k, "keyword"))
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    order = {t: i for i, t in enumerate([*gene_terms, *word_terms])}
    table_rows = []
    picked: dict[str, tuple[str, ...]] = {}
    descr: dict[str, str] = {}
    for (collection, name), grp in matches.groupby(["collection", "set"], sort=False):
        terms = sorted(dict.fromkeys(grp["term"]), key=order.__getitem__)
        size = len(cols[collection][name])
        table_rows.append((collection, name, size, ";".join(terms), len(terms)))
        if name in picked and set(picked[name]) != set(cols[collection][name]):
            raise InputError(
                f"gene set {name!r} is in {collection} and another collection with other genes",
                field="gene_sets",
                expected="unique set names across the queried collections",
            )
        picked.setdefault(name, cols[collection][name])
        descr.setdefault(name, cols[collection].descriptions.get(name, ""))
    found = set(matches["term"])
    return DriverQuery(
        matches=matches,
        table=pd.DataFrame(table_rows, columns=TABLE_COLUMNS),
        sets=GeneSets(picked, "driver_query", descr),
        unmatched=[t for t in [*gene_terms, *word_terms] if t not in found],
        as_keyword=as_keyword,
    )


def annotate_queries(table: pd.DataFrame, query: DriverQuery) -> pd.DataFrame:
    """A copy of a masking table with a ``query`` column: the terms that matched each row's set,
    empty for sets the query did not find. Rows match on (collection, set), else on the set
    name alone (so rows masked under a separate collection of the query's sets, e.g.
    ``driver_query``, are annotated too)."""
    if "set" not in table.columns:
        raise InputError("the table has no column 'set'", field="set", expected="a masking table")
    out = table.copy()
    q = query.table
    by_set = q.groupby("set", sort=False)["query"].agg(lambda v: ";".join(dict.fromkeys(v)))
    by_set = by_set.to_dict()
    if "collection" in out.columns:
        key = dict(zip(zip(q["collection"], q["set"], strict=True), q["query"], strict=True))
        out["query"] = [
            key.get((c, s), by_set.get(s, ""))
            for c, s in zip(out["collection"], out["set"], strict=True)
        ]
    else:
        out["query"] = [by_set.get(s, "") for s in out["set"]]
    return out


def average_groups(
    table: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    values: Sequence[str] = ("auc", "ap"),
    by: Sequence[str] = ("task", "class"),
) -> pd.DataFrame:
    """The mean of ``values`` over the sets of each named group, per ``by`` (the columns of
    ``by`` that the table has): the paper's averaged rows (Table 2, footnote c: e.g. "Related to
    ECM proteins", the mean AUC and AP of several ECM sets). Columns: ``by``..., ``group``,
    ``n_sets`` (sets of the group found in the table), ``sets``, then the means."""
    values = list(values)
    by = [c for c in by if c in table.columns]
    missing = [c for c in ["set", *values] if c not in table.columns]
    if missing:
        raise InputError(
            f"the table has no column(s) {', '.join(missing)}",
            field=", ".join(missing),
            expected="a masking table with set and " + ", ".join(values),
        )
    empty = [g for g, sets in groups.items() if not list(sets)]
    if empty:
        raise InputError(f"group(s) {shown(empty)} list no set", field="groups")
    rows = []
    parts = table.groupby(by, sort=False) if by else [((), table)]
    for key, part in parts:
        key = key if isinstance(key, tuple) else (key,)
        for name, sets in groups.items():
            hit = part[part["set"].isin(list(sets))]
            row = dict(zip(by, key, strict=True))
            row.update(group=name, n_sets=int(hit["set"].nunique()))
            row["sets"] = ";".join(dict.fromkeys(hit["set"]))
            for v in values:
                row[v] = float(hit[v].mean()) if len(hit) else np.nan
            rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "group", "n_sets", "sets", *values])


def driver_summary(
    table: pd.DataFrame,
    top: int = 5,
    by: Sequence[str] = ("task", "class"),
    q: str | None = "q_ap",
) -> pd.DataFrame:
    """A Table 2-like summary of a masking table (with a ``query`` column from
    :func:`annotate_queries`, optional): per ``by`` group (each trait), the union of its ``top``
    sets by AUC and its ``top`` sets by AP, with collection, query, coverage, AUC, AP and the
    q-value column ``q`` where present, ordered by AUC. ``top_by`` says which ranking picked
    each row (``auc``, ``ap`` or ``auc;ap``)."""
    if top < 1:
        raise InputError(f"top={top}", field="top", expected="1 or more")
    missing = [c for c in ("set", "auc", "ap") if c not in table.columns]
    if missing:
        raise InputError(
            f"the table has no column(s) {', '.join(missing)}",
            field=", ".join(missing),
            expected="a masking table (set, auc, ap, ...)",
        )
    by = [c for c in by if c in table.columns]
    keep = [
        c
        for c in [*by, "collection", "set", "query", "coverage_pct", "auc", "ap", q]
        if c is not None and c in table.columns
    ]
    out = []
    parts = table.groupby(by, sort=False) if by else [((), table)]
    for _, part in parts:
        top_auc = part.sort_values("auc", ascending=False, kind="stable").head(top).index
        top_ap = part.sort_values("ap", ascending=False, kind="stable").head(top).index
        chosen = list(dict.fromkeys([*top_auc, *top_ap]))
        rows = part.loc[chosen, keep].copy()
        rows["top_by"] = [
            ";".join(m for m, idx in (("auc", top_auc), ("ap", top_ap)) if i in idx) for i in chosen
        ]
        out.append(rows.sort_values("auc", ascending=False, kind="stable"))
    if not out:
        return pd.DataFrame(columns=[*keep, "top_by"])
    return pd.concat(out, ignore_index=True)
