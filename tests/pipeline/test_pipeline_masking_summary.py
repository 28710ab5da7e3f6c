"""How the study summarises masking: which readout, and in which order the sets are ranked."""

from __future__ import annotations

import pandas as pd
import pytest

from radiogenomics.config import load_config
from radiogenomics.errors import InputError
from radiogenomics.pipeline.demo import demo_config_path
from radiogenomics.pipeline.interpret_stage import rank_masking


def _rows(rows):
    cols = ["task", "class", "mode", "collection", "set", "size", "auc", "ap", "p_ap"]
    return pd.DataFrame(rows, columns=cols)


def test_sets_rank_by_null_p_before_raw_ap():
    """A large set that holds a few of the programme's genes can reach a higher raw AP than the
    programme itself; against random sets of its own size it is unremarkable."""
    df = _rows(
        [
            ["edema", "1", "out_of_fold", "g", "DECOY", 118, 0.81, 0.69, 0.39],
            ["edema", "1", "out_of_fold", "g", "EMT", 60, 0.83, 0.68, 0.07],
            ["edema", "1", "out_of_fold", "g", "OTHER", 50, 0.70, 0.50, 0.07],
            ["ncet", "1", "out_of_fold", "g", "NEURAL", 50, 0.90, 0.83, 0.001],
            ["ncet", "1", "out_of_fold", "g", "BIG", 400, 0.91, 0.85, 0.001],
        ]
    )
    ranked = rank_masking(df)
    assert list(ranked["set"]) == ["EMT", "OTHER", "DECOY", "BIG", "NEURAL"]  # ties: by AP


def test_without_a_null_the_order_is_ap_then_auc():
    df = _rows(
        [
            ["edema", "1", "retrained", "single_genes", "G1", 1, 0.70, 0.60, None],
            ["edema", "1", "retrained", "single_genes", "G2", 1, 0.75, 0.62, None],
            ["edema", "1", "retrained", "single_genes", "G3", 1, 0.80, 0.60, None],
        ]
    )
    assert list(rank_masking(df)["set"]) == ["G2", "G3", "G1"]


def test_out_of_fold_readout_needs_out_of_fold_masking():
    with pytest.raises(InputError, match="readout 'out_of_fold' needs out_of_fold = true"):
        load_config(demo_config_path(), {"masking.out_of_fold": False})
    cfg = load_config(
        demo_config_path(), {"masking.out_of_fold": False, "masking.readout": "retrained"}
    )
    assert cfg.masking.readout == "retrained"
