"""The HTML report: self-contained, says which stages were off, renders in a real browser."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from radiogenomics.config import load_config, to_toml  # noqa: E402
from radiogenomics.report import build_report, methods_text  # noqa: E402
from radiogenomics.report.browser import check_page, find_chromium  # noqa: E402
from radiogenomics.utils.figures import save_figure  # noqa: E402
from radiogenomics.utils.io import write_json, write_table  # noqa: E402


def _fake_run(tmp_path):
    """A run folder as the pipeline leaves it: manifests, tables, figures, config."""
    run = tmp_path / "runs" / "fake"
    cfg = load_config(
        data={
            "name": "fake",
            "seed": 7,
            "data": {"expression": "e.tsv"},
            "bootstrap": {"enabled": False, "repetitions": 5},
        },
        check_files=False,
    )
    run.mkdir(parents=True)
    (run / "config.toml").write_text(to_toml(cfg.effective()))
    write_json(run / "config.json", cfg.effective())
    write_json(
        run / "load" / "manifest.json",
        {
            "status": "done",
            "seconds": 1.5,
            "notes": ["task 'focal' left out: one class"],
            "versions": {"python": "3.x", "numpy": "9.9"},
        },
    )
    write_table(
        pd.DataFrame({"item": ["patients", "genes"], "value": ["120", "500"]}),
        run / "load" / "tables" / "cohort_summary",
    )
    write_json(run / "classifiers" / "manifest.json", {"status": "done", "seconds": 3.0})
    write_table(
        pd.DataFrame({"task": ["edema", "ncet"], "auc_mean": [0.81234, 0.7], "config": ["a", "b"]}),
        run / "classifiers" / "tables" / "chosen",
    )
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    save_figure(fig, run / "classifiers" / "figures" / "roc_curves")
    write_json(run / "bootstrap" / "manifest.json", {"status": "disabled"})
    write_json(
        run / "survival" / "manifest.json",
        {"status": "not-run", "reason": "no clinical data in the config"},
    )
    return run, cfg


def test_report_is_self_contained_and_says_what_did_not_run(tmp_path):
    run, cfg = _fake_run(tmp_path)
    page = build_report(run).read_text()
    assert "<title>Radiogenomics study: fake</title>" in page
    # every figure embedded, nothing fetched from anywhere
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")
    png = (run / "classifiers" / "figures" / "roc_curves.png").read_bytes()
    assert base64.b64decode(srcs[0].split(",", 1)[1]) == png
    assert not re.search(r'src="(https?:)?//', page) and "<link" not in page
    assert not re.search(r"import[^;]*from\s*['\"]https?:", page)
    # the table library embedded once, no figure library without figures to draw
    assert page.count("injectModule(") == 2  # its definition and its one call
    assert 'id="plotly-src"' not in page
    # content: tables are interactive, their numbers travel as data
    assert "0.8123" in page and "edema" in page and "task &#39;focal&#39; left out" in page
    assert page.index('id="findings"') < page.index('id="cohort"')
    assert "bootstrap stage was disabled in the config" in page
    assert "survival stage did not run: no clinical data in the config" in page
    assert "seed = 7" in page and "numpy" in page and "9.9" in page


def test_methods_paragraph_follows_the_config(tmp_path):
    _, cfg = _fake_run(tmp_path)
    eff = cfg.effective()
    done = {s: {"status": "done"} for s in ("classifiers", "bootstrap", "enrichment")}
    text = " ".join(methods_text(eff, done))
    assert "stratified 10-fold" in text and "5 bootstrap repetitions" in text
    assert "10000 permutations" in text and "seed was 7" in text
    eff["classifiers"]["folds"] = 4
    assert "stratified 4-fold" in " ".join(methods_text(eff, done))
    assert "bootstrap" not in " ".join(methods_text(eff, {}))


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    run, _ = _fake_run(tmp_path)
    result = check_page(build_report(run), chromium)
    assert result.title == "Radiogenomics study: fake"
    assert result.errors == []
    assert len(result.images) == 1 and result.broken_images == []
    # the probe itself works: a broken image and a console error are caught
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><head><title>t</title></head><body>"
        '<img alt="x" src="data:image/png;base64,AAAA">'
        "<script>console.error('boom')</script></body></html>"
    )
    result = check_page(bad, chromium)
    assert len(result.broken_images) == 1 and any("boom" in e for e in result.errors)
