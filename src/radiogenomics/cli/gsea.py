"""``radiogenomics gsea``: preranked GSEA of a ranking file (gene + score; more score columns are
more rankings) against one or more gene-set collections; writes the result table and figures."""

from __future__ import annotations

from pathlib import Path

import typer

from radiogenomics.cli import app
from radiogenomics.utils.text import count


def read_rankings(path: Path, column: str | None = None):
    """A genes x rankings frame from CSV/TSV/Parquet: first column genes, numeric score columns.

    A text file may start with ``#`` comment lines and may lack a header row (GSEA's .rnk: a
    first line of a gene and numbers); its score columns are then ``score`` (or ``score1``...).
    Genes with a missing score are dropped per file (all rankings must score the same genes).
    """
    import pandas as pd

    from radiogenomics.data._common import check_file, read_delimited, table_head
    from radiogenomics.errors import InputError

    p = check_file(path, "ranking")
    if p.suffix.lower() == ".parquet":
        try:
            df = pd.read_parquet(p)
        except (ValueError, OSError) as err:
            raise InputError(f"cannot read the table: {err}", file=p) from None
    else:
        sep, first, skip = table_head(p)  # past any '#' comments of a .rnk
        headerless = _headerless(first, sep)
        df = read_delimited(
            p, "ranking", sep=sep, skiprows=skip, header=None if headerless else "infer"
        )
        if headerless:
            n = df.shape[1] - 1
            df.columns = ["gene"] + (
                ["score"] if n == 1 else [f"score{i}" for i in range(1, n + 1)]
            )
    if len(df) == 0:
        raise InputError(
            f"no data rows (a header of {count(df.shape[1], 'column')} and no genes)",
            file=p,
            expected="a header row and one row per gene: gene, score(s)",
        )
    if df.shape[1] < 2:
        raise InputError(
            count(df.shape[1], "column"), file=p, expected="a gene column and a score column"
        )
    df = df.set_index(df.columns[0])
    df.index = df.index.astype(str)
    if column is not None:
        if column not in df.columns:
            raise InputError(
                f"no column {column!r} (columns: {', '.join(map(str, df.columns[:8]))})",
                file=p,
                field="--column",
                expected="a score column of the file",
            )
        df = df[[column]]
    numeric = df.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in df.columns if numeric[c].isna().all()]
    if bad:
        raise InputError(
            f"column(s) {', '.join(map(str, bad))} hold no numbers",
            file=p,
            expected="scores in every column after the genes"
            + ("" if column is not None else " (or pick the score column with --column)"),
        )
    for c in df.columns:  # an empty cell is a gene without a score; text is a broken file
        text = numeric[c].isna() & df[c].notna() & (df[c].astype(str).str.strip() != "")
        if text.any():
            gene = text.index[text.argmax()]
            raise InputError(
                f"{int(text.sum())} non-numeric scores (first: gene {gene!r}, {df[c][gene]!r})",
                file=p,
                field=str(c),
                expected="a number per gene (leave the cell empty for a gene without one)",
            )
    import numpy as np

    infinite = [c for c in numeric.columns if np.isinf(numeric[c]).any()]
    if infinite:
        c = infinite[0]
        genes = list(numeric.index[np.isinf(numeric[c])][:5])
        raise InputError(
            f"infinite scores in column {c!r} (genes {genes})",
            file=p,
            field=str(c),
            expected="finite scores (e.g. clip or drop those genes)",
        )
    repeated = numeric.index[numeric.index.duplicated()].unique()
    if len(repeated):
        raise InputError(
            f"{count(len(repeated), 'gene')} on more than one row (e.g. {list(repeated[:5])})",
            file=p,
            field=str(df.index.name or "gene column"),
            expected="one row per gene (aggregate repeated genes first)",
        )
    before = len(numeric)
    numeric = numeric.dropna(how="any")
    if len(numeric) < before:
        typer.secho(
            f"warning: {count(before - len(numeric), 'gene')} without a score dropped ({p.name})",
            err=True,
            fg=typer.colors.YELLOW,
        )
    if len(numeric) < 2:
        raise InputError(
            f"{count(len(numeric), 'gene')} with a score in every column",
            file=p,
            expected="at least 2 scored genes (pick one score column with --column)",
        )
    for c in numeric.columns:  # ranking by name alone: the ES, NES and p would be artefacts
        if numeric[c].nunique() == 1:
            raise InputError(
                f"all {len(numeric)} scores in column {str(c)!r} are equal "
                f"({numeric[c].iloc[0]:g}); a constant ranking orders the genes by name only",
                file=p,
                field=str(c),
                expected="scores that differ between genes",
            )
    return numeric


def _headerless(header: str, sep: str) -> bool:
    """Whether a ranking file's first line is data, a gene and numbers only (GSEA's .rnk has
    no header row)."""
    import math

    def number(text: str) -> bool:
        try:
            return not math.isnan(float(text))
        except ValueError:
            return False

    fields = header.split(sep)
    return len(fields) >= 2 and all(number(f) for f in fields[1:])


def _examples(ids, n: int = 3) -> str:
    ids = sorted(map(str, ids))
    return ", ".join(ids[:n]) + (", ..." if len(ids) > n else "")


def _nothing_tested(ranking: Path, genes, path: Path, sets, min_size: int, max_size: int) -> str:
    """Why no set of the collection at ``path`` was tested: the genes it shares with the
    ranking (none: ids of another kind), the largest set among them, examples of each file's ids."""
    ranked = set(map(str, genes))
    members = set(map(str, sets.genes)) if hasattr(sets, "genes") else set()
    if not members:
        members = {str(g) for v in sets.values() for g in v}
    shared = ranked & members
    if shared:
        largest = max(len(ranked.intersection(map(str, v))) for v in sets.values())
        why = (
            f"the files share {count(len(shared), 'gene')} and the largest set has {largest} of them"
            if largest < min_size
            else f"every set has fewer than {min_size} or more than {max_size} of them"
        )
    else:
        why = "the files share no gene"
        folded = {g.upper() for g in ranked} & {g.upper() for g in members}
        if folded:
            why += f" ({len(folded)} match when upper and lower case are not told apart)"
    return (
        f"no set of {path} ({len(sets)} sets, {len(members)} genes) has {min_size}..{max_size}"
        f" genes among the {len(ranked)} genes ranked in {ranking}: {why}"
        f" (ids in {ranking.name}: {_examples(ranked)}; in {path.name}: {_examples(members)})"
    )


def _named_collections(collections: list) -> dict:
    """Each file's collection under its own name (a repeated name gets a number)."""
    out = {}
    for gs in collections:
        name, k = gs.collection, 2
        while name in out:
            name, k = f"{gs.collection}_{k}", k + 1
        out[name] = gs
    return out


def _safe(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return keep[:80] or "set"


@app.command("gsea")
def gsea_command(
    ranking: Path = typer.Option(..., "--ranking", help="CSV/TSV/Parquet: gene, score(s)"),
    gene_sets: list[Path] = typer.Option(
        ..., "--gene-sets", help="GMT or gene-set CSV (repeat for several collections)"
    ),
    out: Path = typer.Option(..., "--out", help="folder for the table and figures"),
    column: str = typer.Option(None, "--column", help="score column to use (default: all)"),
    nperm: int = typer.Option(10000, "--nperm", min=1, help="permutations"),
    min_size: int = typer.Option(15, "--min-size", min=1, help="smallest set (after restriction)"),
    max_size: int = typer.Option(500, "--max-size", min=1, help="largest set (after restriction)"),
    weight: float = typer.Option(1.0, "--weight", min=0, help="exponent of |score| in the ES"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    small_p: bool = typer.Option(
        True, "--small-p/--no-small-p", help="multilevel p-values below 1/(nperm+1)"
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    top: int = typer.Option(5, "--top", min=0, help="enrichment plots for this many top sets"),
    quiet: bool = typer.Option(
        False, "--quiet", help="no progress or summary; warnings and errors are still printed"
    ),
) -> None:
    """Preranked GSEA of one or more gene rankings (fgsea semantics).

    Writes gsea.parquet/.csv, plots of the top sets and, for several rankings, an NES heatmap."""
    import warnings

    import pandas as pd

    from radiogenomics.data.gene_sets import read_gene_sets
    from radiogenomics.enrichment import gsea_many, plot_enrichment, plot_nes_heatmap
    from radiogenomics.enrichment.gsea import NoSetTestedWarning
    from radiogenomics.errors import InputError
    from radiogenomics.utils.device import check_device
    from radiogenomics.utils.io import writable_folder, write_json, write_table

    check_device(device, field="--device")  # before any reading or computing
    if min_size > max_size:
        raise InputError(
            f"--min-size {min_size} is above --max-size {max_size}",
            field="--min-size/--max-size",
            expected="--min-size <= --max-size",
        )
    rankings = read_rankings(ranking, column)
    collections = _named_collections([read_gene_sets(p) for p in gene_sets])
    writable_folder(out, field="--out")  # before the permutations, not after them
    files = dict(zip(collections, gene_sets, strict=True))
    parts, results, messages, empty = [], {}, {}, {}
    for name, sets in collections.items():  # BH within each collection, as the pipeline does
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = gsea_many(
                rankings,
                sets,
                nperm=nperm,
                min_size=min_size,
                max_size=max_size,
                weight=weight,
                seed=seed,
                small_p="multilevel" if small_p else None,
                device=None if device == "auto" else device,
                progress=not quiet,
            )
        results[name] = result
        for w in caught:
            if issubclass(w.category, NoSetTestedWarning):  # said below, naming both files
                empty[name] = _nothing_tested(
                    ranking, rankings.index, files[name], sets, min_size, max_size
                )
            else:
                messages.setdefault(str(w.message), []).append(name)
        parts.append(result.table.assign(collection=name))
    res = pd.concat(parts, ignore_index=True)
    if not len(res):
        raise InputError(
            "nothing was tested: " + "; ".join(empty.values()),
            file=", ".join(str(files[n]) for n in empty),
            field="--gene-sets",
            expected="gene ids of the same kind in the ranking and the gene sets (e.g. symbols,"
            " in the same case), or --min-size/--max-size that fit the sets",
        )
    for text in empty.values():  # each message once; a collection's own ones say which
        typer.secho(f"warning: {text}", err=True, fg=typer.colors.YELLOW)
    for text, names in messages.items():
        where = "" if len(names) == len(collections) else f"{', '.join(names)}: "
        typer.secho(f"warning: {where}{text}", err=True, fg=typer.colors.YELLOW)
    res.insert(1, "collection", res.pop("collection"))
    tested, first = list(results.values()), next(iter(results.values()))
    table = res.assign(leading_edge=[" ".join(le) for le in res["leading_edge"]])
    write_table(table, out / "gsea")
    write_json(
        out / "gsea_summary.json",
        {
            "ranking_file": str(ranking),
            "gene_sets": [str(p) for p in gene_sets],
            "rankings": list(rankings.columns.astype(str)),
            "genes": int(len(rankings)),
            # sets of all collections (a set in two collections counts twice: two tests)
            "sets_tested": int(sum(len(r.table) // max(1, len(r.rankings)) for r in tested)),
            "sets_dropped_by_size": int(sum(r.n_sets_dropped for r in tested)),
            "tests": int(len(res)),  # rankings x sets tested
            "tied_scores": {k: int(v) for k, v in first.n_tied.items()},
            "collections": {
                name: {
                    "file": str(files[name]),
                    "sets": len(collections[name]),
                    "sets_tested": int(len(r.table) // max(1, len(r.rankings))),
                    "sets_dropped_by_size": int(r.n_sets_dropped),
                }
                for name, r in results.items()
            },
            "nperm": nperm,
            "seed": seed,
            "significant_padj_0.05": int((res["padj"] < 0.05).sum()),
        },
    )
    figures = out / "figures"
    for name in rankings.columns:
        sub = res[res["ranking"] == str(name)].assign(strength=lambda t: -t["nes"].abs())
        # p-values tie at the permutation floor: the stronger enrichment is plotted first
        sub = sub.sort_values(["padj", "pval", "strength"], kind="stable")
        for row in sub.head(top).itertuples():
            genes = collections[row.collection][row.set]
            prefix = f"{_safe(row.collection)}_" if len(collections) > 1 else ""
            stem = figures / f"enrichment_{_safe(str(name))}_{prefix}{_safe(row.set)}"
            plot_enrichment(rankings[name], genes, title=row.set, weight=weight, stem=stem)
    if rankings.shape[1] > 1 and len(res):
        plot_nes_heatmap(res, figures / "nes_heatmap")
    if not quiet:
        sig = res[res["padj"] < 0.05]
        n_sets = len(res.drop_duplicates(["collection", "set"]))
        dropped = sum(r.n_sets_dropped for r in tested)
        size_note = (
            f" ({dropped} of {count(dropped + n_sets, 'set')} left out: fewer than {min_size} "
            f"or more than {max_size} of the ranked genes)"
            if dropped
            else ""
        )
        typer.echo(
            f"{count(n_sets, 'set')} x {count(rankings.shape[1], 'ranking')}{size_note}: "
            f"{len(sig)} with padj < 0.05; results in {out}"
        )
