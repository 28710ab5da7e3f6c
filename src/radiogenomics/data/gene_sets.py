"""Gene-set collections: a read-only mapping of set name -> genes, with size/coverage filters.

Read from GMT (``NAME<TAB>DESCRIPTION<TAB>GENE...``), column-per-set CSV (one set per column,
``na`` filler ignored, like the Puchalski 2018 table) or long two-column CSV (gene, set; e.g. the
BRETIGEA ``markers,cell`` layout).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd

from radiogenomics.data._common import (
    PathLike,
    check_file,
    open_text,
    read_delimited,
    refuse_binary,
    shown,
)
from radiogenomics.errors import InputError

_FILLER = {"", "na", "n/a", "nan", "none", "null"}
_GENE_COLS = ("gene", "genes", "symbol", "gene_symbol", "markers", "marker")
_SET_COLS = ("set", "gene_set", "geneset", "term", "cell", "cell_type", "pathway", "name")


class GeneSets(Mapping[str, tuple[str, ...]]):
    """A named collection of gene sets; behaves as ``Mapping[str, tuple[str, ...]]``.

    Genes keep their file order within a set (duplicates removed); sets keep file order.
    """

    def __init__(
        self,
        sets: Mapping[str, Iterable[str]],
        collection: str = "gene_sets",
        descriptions: Mapping[str, str] | None = None,
    ):
        self._sets: dict[str, tuple[str, ...]] = {
            str(k): tuple(dict.fromkeys(str(g) for g in v)) for k, v in sets.items()
        }
        self.collection = collection
        self.descriptions: dict[str, str] = {k: (descriptions or {}).get(k, "") for k in self._sets}

    # Mapping protocol
    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._sets[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __repr__(self) -> str:
        return f"GeneSets({self.collection!r}, {len(self)} sets, {len(self.genes)} genes)"

    def __or__(self, other: Mapping[str, Iterable[str]]) -> GeneSets:
        return GeneSets.concat([self, other])

    @property
    def genes(self) -> frozenset[str]:
        """Every gene in any set."""
        return frozenset(g for v in self._sets.values() for g in v)

    def sizes(self) -> pd.Series:
        return pd.Series({k: len(v) for k, v in self._sets.items()}, name="size", dtype="int64")

    def coverage(self, universe: Iterable[str]) -> pd.DataFrame:
        """Per set: its size, how many of its genes are in ``universe`` and that fraction."""
        uni = set(map(str, universe))
        rows = []
        for name, genes in self._sets.items():
            present = sum(g in uni for g in genes)
            rows.append(
                {
                    "set": name,
                    "size": len(genes),
                    "present": present,
                    "coverage": present / len(genes) if genes else 0.0,
                }
            )
        df = pd.DataFrame(rows, columns=["set", "size", "present", "coverage"])
        return df.set_index("set")

    def filter(
        self,
        universe: Iterable[str] | None = None,
        min_size: int = 1,
        max_size: int | None = None,
        min_coverage: float = 0.0,
        restrict: bool = True,
    ) -> GeneSets:
        """Sets whose size lies in [min_size, max_size] and whose coverage of ``universe`` is at
        least ``min_coverage``. With a universe and ``restrict`` the genes are restricted to it
        first and the size is counted after restriction (fgsea's semantics)."""
        if max_size is not None and max_size < min_size:  # would keep no set, silently
            raise InputError(
                f"min_size {min_size} > max_size {max_size}",
                field="max_size",
                expected="max_size >= min_size",
            )
        uni = None if universe is None else set(map(str, universe))
        out: dict[str, tuple[str, ...]] = {}
        for name, genes in self._sets.items():
            kept = genes
            if uni is not None:
                kept = tuple(g for g in genes if g in uni)
                if genes and len(kept) / len(genes) < min_coverage:
                    continue
                if restrict:
                    genes = kept
            n = len(genes)
            if n < min_size or (max_size is not None and n > max_size) or n == 0:
                continue
            out[name] = genes
        return GeneSets(out, self.collection, self.descriptions)

    def containing(self, genes: Iterable[str]) -> GeneSets:
        """Sets holding at least one of ``genes`` (e.g. GBM driver genes)."""
        query = set(map(str, genes))
        out = {k: v for k, v in self._sets.items() if query.intersection(v)}
        return GeneSets(out, f"{self.collection}[containing]", self.descriptions)

    def select(self, names: Iterable[str]) -> GeneSets:
        names = list(names)
        missing = [n for n in names if n not in self._sets]
        if missing:
            raise InputError(
                f"unknown gene sets {shown(missing)}",
                field=self.collection,
                expected="names of sets in the collection",
            )
        return GeneSets({n: self._sets[n] for n in names}, self.collection, self.descriptions)

    @staticmethod
    def concat(
        collections: Iterable[Mapping[str, Iterable[str]]], collection: str | None = None
    ) -> GeneSets:
        """One collection holding the sets of all; a name used twice with different genes is an
        error (identical duplicates are kept once)."""
        sets: dict[str, tuple[str, ...]] = {}
        descr: dict[str, str] = {}
        names = []
        for c in collections:
            gs = c if isinstance(c, GeneSets) else GeneSets(c)
            names.append(gs.collection)
            for k, v in gs.items():
                if k in sets and set(sets[k]) != set(v):
                    raise InputError(
                        f"gene set {k!r} appears in two collections with different genes",
                        field=gs.collection,
                        expected="unique set names (rename one collection's sets)",
                    )
                sets.setdefault(k, v)
                descr.setdefault(k, gs.descriptions.get(k, ""))
        return GeneSets(sets, collection or "+".join(names), descr)

    def to_gmt(self, path: PathLike) -> Path:
        """Write the collection as GMT."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            for k, v in self._sets.items():
                fh.write("\t".join([k, self.descriptions.get(k, "") or "na", *v]) + "\n")
        return p

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (set, gene)."""
        rows = [(k, g) for k, v in self._sets.items() for g in v]
        return pd.DataFrame(rows, columns=["set", "gene"])


def union(*collections: Mapping[str, Iterable[str]], collection: str | None = None) -> GeneSets:
    """Shorthand for :meth:`GeneSets.concat`."""
    return GeneSets.concat(collections, collection)


def read_gene_sets(path: PathLike, name: str | None = None, layout: str = "auto") -> GeneSets:
    """Read a gene-set collection (GMT, column-per-set CSV or long gene,set CSV).

    ``name`` is the collection name (default: the file name without extensions). ``layout``:
    ``auto``, ``gmt``, ``columns`` or ``long``.
    """
    p = check_file(path, "gene-set")
    name = name or p.name.split(".gmt")[0].split(".csv")[0].split(".tsv")[0].split(".txt")[0]
    if layout == "auto":
        layout = "gmt" if ".gmt" in [s.lower() for s in p.suffixes] else "table"
    if layout == "gmt":
        return _read_gmt(p, name)
    if layout not in ("table", "columns", "long"):
        raise InputError(
            f"unknown layout {layout!r}", field="layout", expected="auto / gmt / columns / long"
        )
    df = read_delimited(p, "gene-set", dtype=str, keep_default_na=False)
    lower = [str(c).strip().lower() for c in df.columns]
    if layout == "long" or (
        layout == "table"
        and df.shape[1] == 2
        and (any(c in _GENE_COLS for c in lower) and any(c in _SET_COLS for c in lower))
    ):
        return _long(df, lower, p, name)
    return _columns(df, p, name)


def _read_gmt(p: Path, name: str) -> GeneSets:
    refuse_binary(p, expected="a GMT text file: NAME<TAB>DESCRIPTION<TAB>GENE... per line")
    sets: dict[str, list[str]] = {}
    descr: dict[str, str] = {}
    with open_text(p) as fh:
        for line_no, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                raise InputError(
                    f"line {line_no} has {len(parts)} tab-separated fields",
                    file=p,
                    field=f"line {line_no}",
                    expected="NAME<TAB>DESCRIPTION<TAB>GENE... (GMT)",
                )
            set_name = parts[0].strip()
            if not set_name:
                raise InputError(
                    f"line {line_no} has no set name",
                    file=p,
                    field=f"line {line_no}",
                    expected="NAME<TAB>DESCRIPTION<TAB>GENE... (GMT), NAME not empty",
                )
            genes = [g.strip() for g in parts[2:] if g.strip().lower() not in _FILLER]
            if set_name in sets:
                raise InputError(
                    f"gene set {set_name!r} defined twice (line {line_no})",
                    file=p,
                    field=f"line {line_no}",
                    expected="unique set names",
                )
            sets[set_name] = genes
            descr[set_name] = parts[1].strip()
    if not sets:
        raise InputError("no gene sets in the file", file=p, expected="GMT lines")
    return GeneSets(sets, name, descr)


def _columns(df: pd.DataFrame, p: Path, name: str) -> GeneSets:
    sets = {}
    for col in df.columns:
        genes = [g.strip() for g in df[col].astype(str) if g.strip().lower() not in _FILLER]
        if genes:
            sets[str(col).strip()] = genes
    if not sets:
        raise InputError("no genes in any column", file=p, expected="one gene set per column")
    return GeneSets(sets, name)


def _long(df: pd.DataFrame, lower: list[str], p: Path, name: str) -> GeneSets:
    gi = next((i for i, c in enumerate(lower) if c in _GENE_COLS), 0)
    si = next((i for i, c in enumerate(lower) if c in _SET_COLS and i != gi), 1 - gi)
    sets: dict[str, list[str]] = {}
    for gene, set_name in zip(df.iloc[:, gi], df.iloc[:, si], strict=True):
        gene, set_name = str(gene).strip(), str(set_name).strip()
        if gene.lower() in _FILLER or set_name.lower() in _FILLER:
            continue
        sets.setdefault(set_name, []).append(gene)
    if not sets:
        raise InputError("no (gene, set) rows", file=p, expected="two columns: gene, set")
    return GeneSets(sets, name)
