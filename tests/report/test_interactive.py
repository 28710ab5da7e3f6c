"""Tables and figure blocks: escaped text, rounded numbers, one copy of each library."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from radiogenomics.report.interactive import (
    MAX_TABLE_ROWS,
    assets_html,
    compact,
    display_frame,
    figure_html,
    table_html,
)


def test_text_from_tables_is_escaped_and_only_our_links_are_html():
    df = pd.DataFrame(
        {"set": ["<script>alert(1)</script>", "A&B"], "evidence": ["#gsea-a", ""], "x": [1.5, 2.0]}
    )
    shown = display_frame(df, links=("evidence",))
    assert shown["set"].tolist() == ["&lt;script&gt;alert(1)&lt;/script&gt;", "A&amp;B"]
    assert shown["evidence"].tolist() == ['<a href="#gsea-a">view</a>', ""]
    page = table_html(df, "t-x", links=("evidence",))
    assert "<script>alert(1)" not in page


def test_numbers_are_rounded_to_significant_digits_and_nan_becomes_null():
    assert compact({"a": np.array([0.123456789, np.nan, 12345.678]), "b": np.int64(3)}) == {
        "a": [0.1235, None, 12350.0],
        "b": 3,
    }


def test_long_tables_are_cut_and_say_so():
    df = pd.DataFrame({"i": range(MAX_TABLE_ROWS + 5)})
    page = table_html(df, "t-long")
    assert f"The first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 5} rows" in page
    assert f"[{MAX_TABLE_ROWS - 1}]" in page and f"[{MAX_TABLE_ROWS}]" not in page


def test_figure_spec_cannot_close_its_script_element():
    spec = {"data": [{"type": "scatter", "x": [1], "y": [2], "name": "</script><b>"}], "layout": {}}
    block = figure_html("f-1", "t", spec)
    payload = re.search(r'class="figure-spec">(.*?)</script>', block, re.S).group(1)
    assert json.loads(payload)["data"][0]["name"] == "</script><b>"


def test_each_library_is_embedded_once_and_from_the_wheels():
    import base64

    from plotly.offline import get_plotlyjs

    page = assets_html(with_figures=True)
    assert page.count('id="plotly-src"') == 1
    packed = re.search(r'id="plotly-src"[^>]*>([^<]+)</script>', page).group(1)
    import gzip

    assert gzip.decompress(base64.b64decode(packed)).decode() == get_plotlyjs()
    import itables.options as opt

    bundle = base64.b64encode(opt.dt_bundle.read_bytes()).decode()
    assert page.count(bundle) == 1  # DataTables as the itables wheel ships it, inline
    assert not re.search(r"<script[^>]+src=|<link|from\s*['\"]https?:", page)
    assert 'id="plotly-src"' not in assets_html(with_figures=False)


def test_counts_and_ranks_read_back_as_floats_show_as_integers():
    df = pd.DataFrame(
        {
            "resamples": [2.0, np.nan],
            "naive peer rank": [15.0, 3.0],
            "n_reps": [40.0, 40.0],
            "patients (complete cases)": [125.0, 125.0],
            "mean rank": [1.5, 2.0],  # not whole: stays a float
            "AUC": [1.0, 0.5],
            "q": [1.0, 1.0],  # whole, but not a count
        }
    )
    shown = display_frame(df)
    assert shown["resamples"].tolist() == ["2", ""]
    assert shown["naive peer rank"].tolist() == ["15", "3"]
    assert shown["n_reps"].tolist() == ["40", "40"]
    assert shown["patients (complete cases)"].tolist() == ["125", "125"]
    assert shown["mean rank"].tolist() == ["1.5", "2.0"]
    assert shown["AUC"].tolist() == ["1.0", "0.5"] and shown["q"].tolist() == ["1.0", "1.0"]
    page = table_html(df, "t-counts")
    assert '[[\\"2\\", \\"15\\"' in page and "15.0" not in page
