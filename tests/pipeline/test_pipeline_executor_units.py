"""Masking and GSEA work units through the executor give the serial code's numbers exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.enrichment import radiogenomic_traits
from radiogenomics.enrichment.gsea import TiedScoresWarning
from radiogenomics.enrichment.traits import wide_traits
from radiogenomics.execution.local import LocalExecutor
from radiogenomics.pipeline.enrichment_stage import _tied_scores_line, _trait_chunk


def _cohort(n_genes: int = 400, n_patients: int = 23, seed: int = 3):
    rng = np.random.default_rng(seed)
    genes = [f"g{i}" for i in range(n_genes)]
    sal = pd.DataFrame(rng.normal(size=(n_genes, n_patients)), index=genes)
    sal.columns = [f"p{j}" for j in range(n_patients)]
    sets = {f"s{k}": genes[k * 20 : k * 20 + 20] for k in range(8)}
    sal.iloc[:20, ::2] += 2.0  # planted: set s0 at the top for every other patient
    return sal, sets


def test_trait_chunks_equal_whole_matrix():
    sal, sets = _cohort()
    sal.iloc[100:103, [3, 17]] = 0.25  # tied scores in two patients, in different chunks
    settings = {"alpha": 0.05, "nperm": 300, "min_size": 5, "max_size": 100, "small_p": None}
    with pytest.warns(TiedScoresWarning, match="tied scores in 2 ranking"):
        result = radiogenomic_traits(sal, sets, model_name="m", min_patients=0, seed=11, **settings)
    whole_traits, whole_long = result.traits, result.table
    shared = {
        "saliency": {"k": sal},
        "collections": {"c": sets},
        "threads": 1,
        "settings": {**settings, "ranking": "saliency"},
    }
    units = [("k", "m", 11, a, min(23, a + 5)) for a in range(0, 23, 5)]
    parts = LocalExecutor(workers=1, quiet=True).map(_trait_chunk, units, shared=shared)
    long = pd.concat([p for p, _, _ in parts], ignore_index=True)
    # ties come back as counts, not as one warning per chunk; summed, they are the whole's
    assert not any("tied" in m for _, messages, _ in parts for m in messages)
    n_tied = {p: n for _, _, chunk in parts for p, n in chunk.items()}
    assert n_tied == result.gsea.n_tied
    assert {p for p, n in n_tied.items() if n} == {sal.columns[3], sal.columns[17]}
    line = _tied_scores_line(n_tied, len(sal))
    assert line.startswith(f"tied scores in 2 of 23 patients' rankings (most: '{sal.columns[3]}'")
    assert f"with 2 of {len(sal)} genes" in line
    assert _tied_scores_line({p: 0 for p in n_tied}, len(sal)) is None
    assert set(long["ranking"]) == {"saliency"} and set(long["collection"]) == {"c"}
    long = long.drop(columns=["ranking", "collection"])
    pd.testing.assert_frame_equal(long, whole_long)
    traits = wide_traits(long, list(sal.columns))
    pd.testing.assert_frame_equal(traits, whole_traits)
    # the planted set is found in the planted patients only
    assert traits["m + s0"].iloc[::2].sum() >= 10
    assert traits["m + s0"].iloc[1::2].sum() <= 1


@pytest.mark.slow
def test_masking_and_traits_stages_same_tables_in_a_process_pool(tmp_path):
    """The stages' units in-process and in a pool of 2 processes: identical tables (the driver
    ranking's extra CV repeats are pool units too)."""
    from test_pipeline_e2e import tiny_study

    from radiogenomics.config import load_config
    from radiogenomics.pipeline.runner import Pipeline

    study = tiny_study(tmp_path)
    study["masking"]["out_of_fold"] = True
    cfg = load_config(data=study)
    Pipeline(cfg).run(until="radiogenomic_traits")
    tables = [
        "masking/tables/masking",
        "drivers/tables/drivers",
        "radiogenomic_traits/tables/patient_gsea",
    ]
    serial = {t: pd.read_parquet(cfg.run_dir / f"{t}.parquet") for t in tables}
    assert {"retrained", "out_of_fold"} <= set(serial[tables[0]]["mode"])
    study["executor"]["workers"] = 2
    pooled = load_config(data=study)
    for stage in ("masking", "drivers", "radiogenomic_traits"):
        Pipeline(pooled).run(stage=stage, force=True)
    for t in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(cfg.run_dir / f"{t}.parquet"), serial[t])
