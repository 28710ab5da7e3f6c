"""Interactive blocks of the report: sortable tables (itables) and hover figures (plotly).

Both libraries ship their JavaScript inside their Python wheels; the page embeds each bundle
once, so it works from ``file://`` with no network. Plotly's bundle is large (about 5 MB) and
costly to parse, so it is kept gzipped as inert text and unpacked and run only after the page
has loaded, when the first figure comes near the viewport; each figure is drawn when it is about
to be seen. The page's load event, the findings and the tables therefore do not wait for plotly.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

MAX_TABLE_ROWS = 2000  # rows shown per table; the full table stays in the run folder

_LOADER = """<script>
(function () {
  var ready = null;
  function loadPlotly() {  // gunzip the embedded bundle once, then run it
    if (ready) return ready;
    ready = (async function () {
      if (window.Plotly) return;
      var src = document.getElementById('plotly-src');
      var bin = atob(src.textContent.trim()), bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      var s = document.createElement('script');
      s.textContent = await new Response(stream).text();
      document.head.appendChild(s);
      src.remove();
    })();
    return ready;
  }
  function draw(div) {
    if (div.dataset.drawn) return Promise.resolve();
    div.dataset.drawn = '1';
    return loadPlotly().then(function () {
      var spec = JSON.parse(div.querySelector('script.figure-spec').textContent);
      return window.Plotly.newPlot(div.querySelector('.plot'), spec.data, spec.layout,
        {responsive: true, displaylogo: false, displayModeBar: 'hover',
         modeBarButtonsToRemove: ['sendDataToCloud', 'lasso2d', 'select2d']});
    }, function (err) {
      div.querySelector('.plot').textContent = 'The figure library could not be loaded: ' + err;
      throw err;
    });
  }
  window.radiogenomicsDrawAll = function () {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll('div.figure'), draw));
  };
  function start() {
    var figs = document.querySelectorAll('div.figure');
    if (!('IntersectionObserver' in window)) { window.radiogenomicsDrawAll(); return; }
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { io.unobserve(e.target); draw(e.target); }
      });
    }, {rootMargin: '400px 0px'});
    figs.forEach(function (f) { io.observe(f); });
  }
  // after the load event: the page and its tables never wait for the figure library
  if (document.readyState === 'complete') start();
  else window.addEventListener('load', function () { setTimeout(start, 0); });
})();
</script>"""


def assets_html(with_figures: bool = True) -> str:
    """The page's libraries, embedded once: DataTables (via itables) and plotly.js."""
    import itables.options as opt
    from itables.javascript import generate_init_offline_itables_html

    parts = [generate_init_offline_itables_html(opt.dt_bundle)]
    if with_figures:
        parts.append(
            '<script type="text/plain" id="plotly-src" data-encoding="gzip+base64">'
            f"{plotly_bundle()}</script>"
        )
        parts.append(_LOADER)
    return "\n".join(parts)


def plotly_bundle() -> str:
    """plotly.js from the plotly wheel, gzipped and base64-encoded (about 1.9 of its 4.8 MB).

    The page carries it as inert text and gunzips it in the browser (DecompressionStream) when
    the first figure is drawn: a smaller page parses faster. ``mtime=0`` keeps it reproducible.
    """
    from plotly.offline import get_plotlyjs

    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def _round(v: Any, digits: int = 4) -> Any:
    """Numbers to ``digits`` significant digits (keeps the page small); NaN to None."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return None
        return float(f"{f:.{digits}g}")
    return v


def compact(obj: Any, digits: int = 4) -> Any:
    """A JSON-ready copy of ``obj`` with arrays as lists and numbers rounded."""
    if isinstance(obj, dict):
        return {k: compact(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [compact(v, digits) for v in obj]
    if isinstance(obj, np.ndarray):
        return [compact(v, digits) for v in obj.tolist()]
    if isinstance(obj, pd.Series):
        return compact(obj.to_numpy(), digits)
    return _round(obj, digits)


def figure_html(fig_id: str, title: str, spec: dict, caption: str = "") -> str:
    """A figure block: a placeholder div drawn by plotly from ``spec`` (``data``, ``layout``)."""
    payload = json.dumps(compact(spec), separators=(",", ":"), allow_nan=False)
    payload = payload.replace("</", "<\\/")  # never closes the script element early
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    height = int(spec.get("layout", {}).get("height", 380))
    return (
        f'<figure id="{html.escape(fig_id)}"><div class="figure" data-title="{html.escape(title)}">'
        f'<script type="application/json" class="figure-spec">{payload}</script>'
        f'<div class="plot" style="min-height:{height}px"></div></div>'
        f"<figcaption><b>{html.escape(title)}</b></figcaption>{cap}</figure>"
    )


MISSING = ""  # how every table shows a missing value (None, NaN, NA): an empty cell


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, (float, np.floating)) and not math.isfinite(float(v))


def _cell(v: Any) -> Any:
    if isinstance(v, (list, tuple, np.ndarray)):
        items = [str(x) for x in list(v)]
        return ", ".join(items[:8]) + (" ..." if len(items) > 8 else "")
    if isinstance(v, dict):
        return json.dumps(v)
    if _missing(v):
        return MISSING
    return _round(v)


def _number_text(v: Any) -> str:
    """A float cell as text, so a missing one can be empty (itables writes "NaN" for it and
    "None" for a column left all missing): 4 significant digits."""
    return MISSING if _missing(v) else repr(_round(v))


def display_frame(df: pd.DataFrame, links: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy fit for display: numbers rounded, lists joined, ``links`` columns as anchors,
    missing values as :data:`MISSING` in every column."""
    out = whole_numbers(df.reset_index(drop=True))
    for c in out.columns:
        if c in links:
            out[c] = [
                f'<a href="{html.escape(str(v))}">view</a>' if isinstance(v, str) and v else ""
                for v in out[c]
            ]
        elif out[c].dtype == object:
            out[c] = [html.escape(str(x)) if isinstance(x, str) else _cell(x) for x in out[c]]
        elif pd.api.types.is_float_dtype(out[c]):
            out[c] = pd.Series([_number_text(x) for x in out[c]], index=out.index, dtype=object)
        elif _nullable_int(out[c]):  # counts and ranks with gaps: "2", never "2.0"
            text = [MISSING if _missing(x) else str(int(x)) for x in out[c]]
            out[c] = pd.Series(text, index=out.index, dtype=object)
    return out


def _nullable_int(col: pd.Series) -> bool:
    return pd.api.types.is_extension_array_dtype(col) and pd.api.types.is_integer_dtype(col)


COUNT_WORDS = ("rank", "order", "patients", "events", "resamples", "size", "folds", "rep")


def count_column(name: object) -> bool:
    """Whether a column's name says it holds counts or ranks ("n", "n_reps", "naive peer
    rank", "masking_rank", "patients (complete cases)", "events")."""
    words = re.split(r"[^a-z0-9]+", str(name).lower())
    return words[0] == "n" or any(w in COUNT_WORDS for w in words)


def whole_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each float column that holds counts or ranks (:func:`count_column`) as
    integers when every value is a whole number (read back as float, "2.0" would show),
    missing values kept (``Int64``)."""
    out = df.copy()
    for c in out.columns:
        if not (pd.api.types.is_float_dtype(out[c]) and count_column(c)):
            continue
        v = out[c].astype(float)
        finite = v[np.isfinite(v)]
        if len(finite) and (finite == np.round(finite)).all():
            out[c] = v.where(np.isfinite(v)).round().astype("Int64")
    return out


def _numeric_columns(df: pd.DataFrame) -> list[int]:
    """Positions of the number columns :func:`display_frame` turns into text."""
    return [
        i
        for i, c in enumerate(df.columns)
        if pd.api.types.is_float_dtype(df[c]) or _nullable_int(df[c])
    ]


def table_html(
    df: pd.DataFrame,
    table_id: str,
    links: tuple[str, ...] = (),
    page_length: int = 10,
    order: list | None = None,
) -> str:
    """A sortable, searchable, paginated table (DataTables via itables), HTML-escaped text."""
    from itables import to_html_datatable

    shown = whole_numbers(df.head(MAX_TABLE_ROWS))
    extra: dict[str, Any] = {}
    if order is not None:
        extra["order"] = order
    numeric = _numeric_columns(shown)
    if numeric:  # shown as text (empty when missing), still sorted as numbers
        extra["columnDefs"] = [{"targets": numeric, "type": "num"}]
    out = to_html_datatable(
        display_frame(shown, links),
        connected=False,
        table_id=table_id,
        maxBytes=0,  # never downsample: the cap above is the report's own, and said
        allow_html=True,  # text was escaped above; only our links are HTML
        showIndex=False,
        pageLength=page_length,
        lengthMenu=[5, 10, 25, 50, 100],
        # search and paging on every table: itables hides them on short tables when the
        # layout is its default one, which the extra (empty) row tells it this is not
        layout={
            "topStart": "pageLength",
            "topEnd": "search",
            "bottomStart": "info",
            "bottomEnd": "paging",
            "bottom2Start": None,
        },
        classes="display compact",
        display_logo_when_loading=False,
        **extra,
    )
    if len(df) > MAX_TABLE_ROWS:
        out += (
            f'<p class="caption">The first {MAX_TABLE_ROWS} of {len(df)} rows; the whole table '
            "is in the run folder.</p>"
        )
    return out
