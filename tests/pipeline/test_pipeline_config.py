"""Study config: TOML validation with errors that name the key and the file, and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from radiogenomics.config import StudyConfig, load_config, to_toml
from radiogenomics.errors import InputError

MINIMAL = """
name = "s1"
seed = 3
[data]
expression = "expr.tsv"
"""


def _write(tmp_path: Path, text: str, touch: tuple[str, ...] = ("expr.tsv",)) -> Path:
    for name in touch:
        (tmp_path / name).write_text("x\n")
    p = tmp_path / "study.toml"
    p.write_text(text)
    return p


def test_minimal_config_resolves_paths_against_its_folder(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    assert cfg.name == "s1" and cfg.seed == 3
    assert cfg.data_files()["data.expression"] == tmp_path / "expr.tsv"
    assert cfg.run_dir == Path("runs") / "s1"
    # defaults of every stage are there and enabled
    assert all(cfg.stage_enabled(s) for s in ("autoencoder", "bootstrap", "survival", "report"))
    assert cfg.bootstrap.repetitions == 100 and cfg.enrichment.nperm == 10000


def test_unknown_key_is_an_error_naming_it_and_the_file(tmp_path):
    p = _write(tmp_path, MINIMAL + "\n[bootstrap]\nrepetitons = 5\n")
    with pytest.raises(InputError) as err:
        load_config(p)
    msg = str(err.value)
    assert "[bootstrap] repetitons: unknown key (did you mean 'repetitions'?)" in msg
    assert str(p) in msg


@pytest.mark.parametrize(
    "extra, line",
    [
        ("[classifers]\nfolds = 5", "[classifers]: unknown key (did you mean 'classifiers'?)"),
        (
            "[classifiers.grid]\nhiden = [[8]]",
            "[classifiers.grid] hiden: unknown key (did you mean",
        ),
        ("[masking]\ncolour = 1", "[masking] colour: unknown key;"),  # nothing close: no guess
    ],
)
def test_an_unknown_key_close_to_an_allowed_one_is_suggested(tmp_path, extra, line):
    p = _write(tmp_path, MINIMAL + "\n" + extra + "\n")
    with pytest.raises(InputError) as err:
        load_config(p)
    assert line in str(err.value) + ";"


def test_an_unknown_key_in_a_gene_set_source_is_suggested(tmp_path):
    p = _write(
        tmp_path,
        MINIMAL + '\n[[data.gene_sets]]\nname = "h"\npath = "h.gmt"\nmin_sise = 3\n',
    )
    with pytest.raises(InputError, match=r"min_sise: unknown key \(did you mean 'min_size'\?\)"):
        load_config(p, check_files=False)


def test_wrong_type_names_the_key_and_the_value(tmp_path):
    p = _write(tmp_path, MINIMAL + "\n[classifiers]\nfolds = 'ten'\n")
    with pytest.raises(InputError, match=r"\[classifiers\] folds = 'ten'.*integer"):
        load_config(p)
    p = _write(tmp_path, MINIMAL + "\n[executor]\nkind = 'slurm'\n")
    with pytest.raises(InputError, match=r"\[executor\] kind = 'slurm'.*'local' or 'ray'"):
        load_config(p)


def test_a_trait_listed_twice_is_refused_naming_it(tmp_path):
    p = _write(tmp_path, MINIMAL + 'traits = ["edema", "enhancing", "edema"]\n')
    with pytest.raises(InputError, match=r"\[data\] traits = .*listed twice: \['edema'\]"):
        load_config(p)


def test_missing_required_key_and_missing_file(tmp_path):
    p = _write(tmp_path, 'name = "x"\n')
    with pytest.raises(InputError, match=r"data: missing \(required\)"):
        load_config(p)
    p = _write(tmp_path, MINIMAL + 'vasari = "nope.csv"\n')
    with pytest.raises(InputError) as err:
        load_config(p)
    msg = str(err.value)
    assert "[data.vasari]" in msg and "nope.csv" in msg and "file not found" in msg
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(InputError, match="a folder, not a file"):
        load_config(tmp_path)
    p = _write(tmp_path, MINIMAL + 'follow_up = ""\n')
    with pytest.raises(InputError, match=r"\[data.follow_up\].*a folder, not a file"):
        load_config(p)


def test_a_byte_order_mark_is_not_a_toml_error(tmp_path):
    p = _write(tmp_path, MINIMAL)
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert load_config(p).name == load_config(_write(tmp_path, MINIMAL)).name


def test_overrides_apply_like_cli_options(tmp_path):
    cfg = load_config(
        _write(tmp_path, MINIMAL),
        {"executor.kind": "ray", "executor.address": "auto", "seed": 9, "quiet": None},
    )
    assert cfg.executor.kind == "ray" and cfg.executor.address == "auto" and cfg.seed == 9
    with pytest.raises(InputError, match=r"\[executor\] workers = 0"):
        load_config(_write(tmp_path, MINIMAL), {"executor.workers": 0})


def test_effective_config_round_trips_through_toml(tmp_path):
    text = MINIMAL + (
        '\n[[data.gene_sets]]\nname = "h"\npath = "h.gmt"\nmin_size = 5\n'
        "\n[classifiers.grid]\nhidden = [[8, 4], [16, 8, 4]]\ndropout = [0.0, 0.5]\n"
    )
    cfg = load_config(_write(tmp_path, text, touch=("expr.tsv", "h.gmt")))
    again = tmp_path / "again.toml"
    again.write_text(to_toml(cfg.effective()))
    cfg2 = load_config(again)
    assert cfg2.effective() == cfg.effective()
    assert cfg2.classifiers.grid.hidden == [(8, 4), (16, 8, 4)]
    assert cfg2.data.gene_sets[0].min_size == 5


def test_name_must_be_a_plain_folder_name(tmp_path):
    with pytest.raises(InputError, match="name = 'a/b'"):
        load_config(data={"name": "a/b", "data": {"expression": "e"}}, check_files=False)
    cfg = load_config(data={"name": "ok", "data": {"expression": "e"}}, check_files=False)
    assert isinstance(cfg, StudyConfig) and cfg.source is None


def test_reading_a_study_file_does_not_load_torch():
    """The config embeds the library's settings types, not the libraries: `check`, `--help`
    and config errors stay quick."""
    import subprocess
    import sys

    code = (
        "import sys, radiogenomics.config, radiogenomics.cli\n"
        "heavy = [m for m in ('torch', 'numba', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-1500:]


def test_a_grid_with_no_trainable_network_is_refused_before_any_stage(tmp_path):
    p = _write(
        tmp_path,
        MINIMAL + "\n[autoencoder]\nenabled = false\n[classifiers.grid]\nae_layers = [1]\n",
    )
    with pytest.raises(
        InputError, match=r"\[classifiers\] grid: no trainable network.*disabled; enable it"
    ):
        load_config(p)
    p = _write(
        tmp_path,
        MINIMAL + "\n[autoencoder]\nhidden = [64, 32]\n[classifiers.grid]\n"
        "ae_layers = [2]\nhidden = [[32, 16], [64, 16]]\n",
    )
    with pytest.raises(InputError, match=r"start with the autoencoder's encoder \[\(64, 32\)\]"):
        load_config(p)
    p.write_text(p.read_text().replace("hidden = [[32, 16], [64, 16]]", "hidden = [[64, 32, 8]]"))
    assert load_config(p).classifiers.grid.ae_layers == [2]


def test_the_device_is_checked_as_the_gsea_command_checks_it(tmp_path):
    import torch

    with pytest.raises(InputError, match=r"device = 'tpu': unknown device 'tpu' \(expected auto"):
        load_config(_write(tmp_path, 'device = "tpu"\n' + MINIMAL))
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available on this machine"):
            load_config(_write(tmp_path, 'device = "cuda"\n' + MINIMAL))


def test_a_misspelt_baseline_hyperparameter_is_refused_when_the_study_is_read(tmp_path):
    """It passed `check` and failed in the baselines stage after the stages before it had run
    (XGBoost would have ignored it)."""
    grid = '\n[baselines]\nmodels = ["logreg_l2"]\ngrids = { logreg_l2 = { Cx = [0.1, 1.0] } }\n'
    with pytest.raises(InputError) as err:
        load_config(_write(tmp_path, MINIMAL + grid))
    text = str(err.value)
    assert "[baselines.grids] logreg_l2: unknown hyperparameters ['Cx']" in text
    assert "parameters of LogisticRegression" in text
    good = grid.replace("Cx", "C")
    assert load_config(_write(tmp_path, MINIMAL + good)).baselines.grids == {
        "logreg_l2": {"C": [0.1, 1.0]}
    }


def test_a_missing_data_file_names_the_study_file_as_typed(tmp_path, monkeypatch):
    """Every other error of a study file names it as the user typed it; a missing data file
    named its absolute path."""
    _write(tmp_path, MINIMAL.replace('expression = "expr.tsv"', 'expression = "nope.tsv"'))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        load_config("study.toml")
    assert str(err.value).startswith("study.toml [data.expression]: ")
    assert str(tmp_path / "nope.tsv") in str(err.value)  # the data file itself: where looked
