"""The benchmark scripts' command lines: --help documents every option, a wrong option value is
a usage error naming the option (exit 2, no traceback), and nothing heavy runs before that."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))  # as `python benchmarks/bench_*.py` has it: their shared _cli


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"bench_{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def usage_error(name: str, argv: list[str], capsys) -> str:
    """The stderr of a refused command line (exit status 2, as argparse gives)."""
    with pytest.raises(SystemExit) as info:
        load(name).main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def undocumented(help_text: str) -> list[str]:
    """Options of an argparse --help listing that have no help string."""
    section = help_text.split("options:", 1)[1]
    entries = re.split(r"\n(?=  -)", section.strip("\n"))
    missing = []
    for entry in entries:
        lines = entry.splitlines()
        first = lines[0].strip()
        described = re.search(r"\S\s{2,}\S", first) or len(lines) > 1
        if not described:
            missing.append(first)
    return missing


def help_text(name: str, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        load(name).main(["--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def test_survival_help_and_bounds(capsys):
    text = help_text("survival", capsys)
    assert undocumented(text) == []
    assert "lifelines / ours" in text  # what the ratio means
    err = usage_error("survival", ["--candidates", "2"], capsys)
    assert "--candidates" in err and ">= 3" in err  # was a KeyError on 'trait2'
    err = usage_error("survival", ["--patients", "0"], capsys)
    assert "--patients" in err


def test_saliency_help_and_bounds(capsys):
    assert undocumented(help_text("saliency", capsys)) == []
    for option in ("--patients", "--hidden", "--sample-patients", "--ig-patients", "--ig-steps"):
        err = usage_error("saliency", [option, "0"], capsys)
        assert f"argument {option}" in err  # tracebacks (InputError, ValueError) before


def test_masking_help_bounds_and_paths(capsys, tmp_path):
    assert undocumented(help_text("masking", capsys)) == []
    err = usage_error("masking", ["--gmt", str(tmp_path / "missing.gmt")], capsys)
    assert "--gmt" in err and "missing.gmt" in err  # the gene-set section was silently skipped
    for option in ("--repeat", "--sample-genes", "--genes", "--budget-mb"):
        assert f"argument {option}" in usage_error("masking", [option, "0"], capsys)


def test_masking_fewer_interpolated_than_exact_genes(capsys, tmp_path):
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(
        "".join(f"S{k}\tna\t" + "\t".join(f"g{k}_{i}" for i in range(30)) + "\n" for k in range(3))
    )
    argv = ["--genes", "40", "--hidden", "8", "--patients", "10", "--repeat", "1"]
    argv += ["--train-steps", "0", "--gmt", str(gmt), "--only", "interpolated"]
    load("masking").main([*argv, "--sample-genes", "20", "--sample-interp", "5"])  # ValueError
    assert "agreement on the 5 genes" in capsys.readouterr().out


def test_gsea_help_and_bounds(capsys):
    text = help_text("gsea", capsys)
    assert undocumented(text) == [] and "peer's time / ours" in text
    err = usage_error("gsea", ["--cases", "5"], capsys)
    assert "--cases" in err  # ran no case and exited 0
    for option in ("--threads", "--nperm", "--rankings", "--fgsea-subset"):
        assert f"argument {option}" in usage_error("gsea", [option, "0"], capsys)
    assert "--device" in usage_error("gsea", ["--device", "tpu"], capsys)


@pytest.mark.parametrize("name", ["masking", "gsea"])
def test_help_prints_no_empty_defaults(name, capsys):
    assert "(default: None)" not in help_text(name, capsys)


def test_bootstrap_quick_keeps_the_sizes_given(capsys):
    bench = load("bootstrap")
    args = bench.parse_args(["--quick", "--patients", "120", "--folds", "3"])
    assert (args.patients, args.folds, args.genes) == (120, 3, 1000)  # --quick overrode them
    assert bench.parse_args([]).patients == 500
    assert undocumented(help_text("bootstrap", capsys)) == []
    assert "argument --folds" in usage_error("bootstrap", ["--folds", "1"], capsys)


def test_training_help_bounds_and_memory_child_options(capsys):
    text = help_text("training", capsys)
    assert undocumented(text) == [] and "fold-epochs per second" in text
    for option, value in (("--folds", "1"), ("--scale", "0"), ("--threads", "0")):
        assert f"argument {option}" in usage_error("training", [option, value], capsys)
    assert "--device" in usage_error("training", ["--device", "gpu"], capsys)
    assert "--paper-optimizer" in usage_error("training", ["--paper-optimizer", "lbfgs"], capsys)
    # the memory run (a child process) gets the options main() was given, not this process's
    argv = ["--skip-speed", "--scale", "0.01", "--folds", "2", "--paper-patients", "20"]
    load("training").main(argv)
    out = capsys.readouterr().out
    assert "memory run failed" not in out and "peak resident memory" in out


def test_executor_quick_keeps_the_sizes_given(capsys):
    bench = load("executor")
    args = bench.parse_args(["--quick", "--reps", "1", "--genes", "300"])
    assert (args.reps, args.genes, args.patients) == (1, 300, 200)  # --quick overrode them
    assert bench.parse_args([]).reps == 4
    assert undocumented(help_text("executor", capsys)) == []
    for option in ("--workers", "--rounds", "--reps"):
        assert f"argument {option}" in usage_error("executor", [option, "0"], capsys)


def test_recovery_wrong_names_and_folders(capsys, tmp_path):
    err = usage_error("recovery", ["--quick", "--only", "no_such_trait"], capsys)
    assert "--only" in err and "oxphos_step" in err  # a traceback after loading the data
    err = usage_error("recovery", ["--data", str(tmp_path)], capsys)
    assert "--data" in err and "tcga_gbm" in err  # 'nothing to benchmark' and exit 0
    err = usage_error("recovery", ["--summarise", str(tmp_path)], capsys)
    assert "--summarise" in err and "recovery_rows.csv" in err  # FileNotFoundError
    assert "--summarise" in usage_error("recovery", ["--summarise"], capsys)  # ran everything
    assert undocumented(help_text("recovery", capsys)) == []


def run_all():
    spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_all_options_help_and_failures(capsys, tmp_path, monkeypatch):
    module = run_all()
    assert module.main(["--quick"]) == 2  # was 'no benchmark matches' the option
    assert "pass options to a script directly" in capsys.readouterr().err
    assert module.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "install_r_peers.sh" in text and "gseapy" in text and "survival" in text
    (tmp_path / "bench_fine.py").write_text("print('fine')\n")
    (tmp_path / "bench_broken.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(module, "HERE", tmp_path)
    assert module.main([]) == 1
    assert "failed: bench_broken" in capsys.readouterr().err  # the exit status alone before


@pytest.mark.realdata
def test_gsea_without_fgsea_says_how_to_install_it(shared_data, capsys, monkeypatch):
    bench = load("gsea")
    monkeypatch.setattr(bench, "have_fgsea", lambda: False)
    bench.main(["--quick", "--cases", "2", "--nperm", "100"])
    out = capsys.readouterr().out
    assert "fgsea absent" in out and "ours (+ multilevel)" in out  # our side still runs
    assert out.rstrip().splitlines()[-1].count("../shared/peers/install_r_peers.sh") == 1


def test_survival_counts_failed_fits_instead_of_printing_nan(capsys):
    # 20 patients, 16 candidates: a few models visited are separated (our fit gives NaN)
    load("survival").main(["--patients", "20", "--candidates", "16"])
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "largest" in ln)
    assert "nan" not in line and "without a finite log-likelihood" in line
