"""The synthetic cohort a run writes into its folder, when a run is killed while writing it."""

from __future__ import annotations

import logging

import pytest

from radiogenomics.config import load_config
from radiogenomics.pipeline import stages
from radiogenomics.runfolder import RunFolder


def _cfg(tmp_path, n_patients):
    return load_config(
        data={
            "name": "demo",
            "out": str(tmp_path / "runs"),
            "quiet": True,
            "synthetic": {"enabled": True, "n_patients": n_patients, "n_genes": 300},
            "data": {"expression": "expression.tsv.gz", "vasari": "vasari.csv"},
        }
    )


def test_a_cohort_rewrite_killed_midway_is_not_taken_for_the_earlier_cohort(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, 60)
    folder = RunFolder(cfg.run_dir)
    log = logging.getLogger("test")
    stages.prepare_synthetic(cfg, folder, log)
    cohort = folder.root / "cohort"
    first = {p.name: p.read_bytes() for p in cohort.iterdir() if p.is_file()}

    from radiogenomics.data import synthetic

    real = synthetic.generate_cohort

    def killed(out_dir, **kw):  # another cohort half written when the run dies
        real(tmp_path / "other", **kw)
        (cohort / "vasari.csv").write_bytes((tmp_path / "other/vasari.csv").read_bytes())
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic, "generate_cohort", killed)
    with pytest.raises(KeyboardInterrupt):
        stages.prepare_synthetic(_cfg(tmp_path, 80), folder, log)
    monkeypatch.setattr(synthetic, "generate_cohort", real)
    stages.prepare_synthetic(_cfg(tmp_path, 60), folder, log)  # the first config again
    assert {p.name: p.read_bytes() for p in cohort.iterdir() if p.is_file()} == first
