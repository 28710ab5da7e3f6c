"""Open a report in headless Chromium and report console errors and images that did not render.

A copy of the page gets a small inline script that records ``console.error``, uncaught errors
and every image's ``naturalWidth`` into the DOM after the load event; ``--dump-dom`` prints the
DOM, which is parsed here. No DevTools protocol, no network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_PROBE = """<script>
(function () {
  var errors = [];
  var orig = console.error;
  console.error = function () {
    errors.push(Array.prototype.slice.call(arguments).join(' '));
    return orig.apply(console, arguments);
  };
  window.addEventListener('error', function (e) {
    errors.push('uncaught: ' + (e.message || (e.target && (e.target.src || e.target.href)) || 'error'));
  }, true);
  window.addEventListener('load', function () {
    var imgs = Array.prototype.map.call(document.images, function (im) {
      return {alt: im.alt, complete: im.complete, width: im.naturalWidth, height: im.naturalHeight};
    });
    var out = document.createElement('pre');
    out.id = '__report_check__';
    out.textContent = JSON.stringify({errors: errors, images: imgs, title: document.title});
    document.body.appendChild(out);
  });
})();
</script>"""

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium-family browser, or None."""
    env = os.environ.get("RADIOGENOMICS_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageCheck:
    title: str
    errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    stderr: str = ""

    @property
    def broken_images(self) -> list[dict]:
        return [im for im in self.images if not im["complete"] or im["width"] <= 0]


def check_page(
    html_path: str | os.PathLike, chromium: str | None = None, timeout: float = 90.0
) -> PageCheck:
    """Load ``html_path`` (a copy with the probe script) in headless Chromium; parse the result."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium browser found (apt-get install chromium)")
    src = Path(html_path).read_text(encoding="utf-8")
    probed = src.replace("<head>", "<head>\n" + _PROBE, 1)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(probed, encoding="utf-8")
        profile = Path(tmp) / "profile"
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    m = re.search(r'<pre id="__report_check__">(.*?)</pre>', res.stdout, re.S)
    if m is None:
        raise RuntimeError(
            f"the page did not finish loading in chromium (exit {res.returncode}): "
            f"{res.stderr[-2000:]}"
        )
    import html

    data = json.loads(html.unescape(m.group(1)))
    return PageCheck(
        title=data["title"], errors=data["errors"], images=data["images"], stderr=res.stderr
    )


# ------------------------------------------------------------------ driving the page (selenium)
def find_chromedriver() -> str | None:
    """Path of chromedriver (Debian: ``apt-get install chromium-driver``), or None."""
    env = os.environ.get("RADIOGENOMICS_CHROMEDRIVER")
    if env and Path(env).is_file():
        return env
    return shutil.which("chromedriver")


@dataclass
class PageRun:
    """What driving the page in a real browser showed."""

    load_ms: float  # navigation start to the end of the load event
    tables_ms: float  # navigation start to every interactive table drawn
    tables: int
    sorted_ok: bool
    filtered_ok: bool
    link: str
    link_ok: bool
    figure_drawn: bool
    hover_text: str
    draw_all_ms: float
    figures: int
    errors: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # resources loaded other than blob:/data:


def _driver(chromium: str, chromedriver: str, width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


def _wait(driver, script: str, timeout: float) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script(script):
            return True
        time.sleep(0.05)
    return False


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


# every interactive table (ids "findings-..." and "table-...") turned into a DataTable
_ALL_TABLES_DRAWN = """
var t = document.querySelectorAll('table[id^="findings-"], table[id^="table-"]');
return t.length > 0 && Array.prototype.every.call(t, function (x) {
  return x.classList.contains('dataTable'); });
"""

# pixel position (inside the plot div) of the middle point of the first trace
_POINT_PIXEL = """
var gd = arguments[0], t = gd._fullData[0], L = gd._fullLayout, i = Math.floor(t.x.length / 2);
var xa = L[t.xaxis.replace('x', 'xaxis')], ya = L[t.yaxis.replace('y', 'yaxis')];
return [L._size.l + xa.d2p(t.x[i]), L._size.t + ya.d2p(t.y[i])];
"""

_COLUMN_TEXT = """
var rows = document.querySelectorAll(arguments[0] + ' tbody tr'), col = arguments[1];
return Array.prototype.map.call(rows, function (r) {
  var c = r.querySelectorAll('td')[col]; return c ? c.textContent : null; });
"""


def _click_until_sorted(driver, button, sel: str, col: int, reverse: bool, timeout: float = 5):
    """Click a sort button; the column's numbers once they are in order (None if never)."""
    import time

    button.click()
    end = time.monotonic() + timeout
    while True:
        values = [float(v) for v in driver.execute_script(_COLUMN_TEXT, sel, col)]
        if values == sorted(values, reverse=reverse):
            return values
        if time.monotonic() > end:
            return None
        time.sleep(0.1)


def exercise_page(
    html_path: str | os.PathLike,
    table_id: str = "findings-performance",
    link_table_id: str = "findings-drivers",
    chromium: str | None = None,
    chromedriver: str | None = None,
    timeout: float = 60.0,
) -> PageRun:
    """Open the page from ``file://`` in headless Chromium and use it as a reader would.

    Sorts ``table_id`` by its first numeric column (clicking the header), filters it by the
    text of its first row (typing in its search box), follows the first link of
    ``link_table_id``, hovers the figure it leads to, then draws every figure. Console errors
    are collected throughout. Raises when the browser or its driver is missing.
    """
    import time

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    chromium = chromium or find_chromium()
    chromedriver = chromedriver or find_chromedriver()
    if chromium is None or chromedriver is None:
        raise FileNotFoundError(
            "chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        )
    driver = _driver(chromium, chromedriver)
    try:
        driver.get(Path(html_path).resolve().as_uri())
        _wait(driver, "return document.readyState === 'complete'", timeout)
        nav = driver.execute_script("return performance.getEntriesByType('navigation')[0].toJSON()")
        driver.execute_script("return document.querySelectorAll('table[id]').length")
        _wait(driver, _ALL_TABLES_DRAWN, timeout)
        tables_ms = driver.execute_script("return performance.now()")
        tables = driver.execute_script("return document.querySelectorAll('table.dataTable').length")
        sel = f"#{table_id}"
        # sort: the first column whose cells are all numbers
        heads = driver.find_elements(By.CSS_SELECTOR, f"{sel} thead th")
        sorted_ok = False
        for i, th in enumerate(heads):
            values = driver.execute_script(_COLUMN_TEXT, sel, i)
            try:
                numbers = [float(v) for v in values]
            except (TypeError, ValueError):
                continue
            if len(set(numbers)) < 2:  # sorting would not show
                continue
            # the sort button (itables keeps header text selectable: sorting is on the icon)
            icons = th.find_elements(By.CSS_SELECTOR, ".dt-column-order")
            button = icons[0] if icons else th
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
            asc = _click_until_sorted(driver, button, sel, i, reverse=False)
            desc = _click_until_sorted(driver, button, sel, i, reverse=True)
            sorted_ok = asc is not None and desc is not None and asc != desc
            break
        # filter: the first row's first cell typed into the table's search box
        first = driver.execute_script(_COLUMN_TEXT, sel, 0)
        filtered_ok = False
        if first:
            box = driver.execute_script(
                "var t = document.querySelector(arguments[0]);"
                "var w = t.closest('.dt-container') || t.parentElement;"
                "return w.querySelector('input[type=search]');",
                sel,
            )
            box.clear()
            box.send_keys(first[0])
            time.sleep(0.3)
            shown = driver.execute_script(_COLUMN_TEXT, sel, 0)
            filtered_ok = bool(shown) and all(first[0] in (v or "") for v in shown)
            filtered_ok = filtered_ok and len(shown) <= len(first)
            box.clear()
            box.send_keys(" ")
        # follow the first findings link
        links = driver.find_elements(By.CSS_SELECTOR, f"#{link_table_id} tbody a[href^='#']")
        link, link_ok, drawn, hover = "", False, False, ""
        if links:
            link = links[0].get_attribute("href").split("#", 1)[1]
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[0])
            links[0].click()
            target = driver.find_element(By.ID, link)
            link_ok = driver.execute_script(
                "var r = arguments[0].getBoundingClientRect();"
                "return location.hash === '#' + arguments[0].id && r.top < window.innerHeight"
                " && r.bottom > 0;",
                target,
            )
            drawn = _wait(
                driver,
                f"return !!document.querySelector('#{link} .js-plotly-plot .main-svg')",
                timeout,
            )
            if drawn:
                plot = driver.find_element(By.CSS_SELECTOR, f"#{link} .js-plotly-plot")
                # the mouse onto the middle point of the first trace, as a reader would
                x, y = driver.execute_script(_POINT_PIXEL, plot)
                size = plot.size
                ActionChains(driver).move_to_element_with_offset(
                    plot, int(x - size["width"] / 2), int(y - size["height"] / 2)
                ).perform()
                _wait(driver, f"return !!document.querySelector('#{link} .hoverlayer text')", 5)
                hover = driver.execute_script(
                    f"var h = document.querySelector('#{link} .hoverlayer');"
                    "return h ? h.textContent : ''"
                )
        t0 = driver.execute_script("return performance.now()")
        driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "if (!window.radiogenomicsDrawAll) { done(); return; }"
            "window.radiogenomicsDrawAll().then(function () { done(); },"
            " function (e) { console.error('figures: ' + e); done(); });"
        )
        figures = driver.execute_script(
            "return document.querySelectorAll('div.figure .js-plotly-plot').length"
        )
        draw_ms = driver.execute_script("return performance.now()") - t0
        return PageRun(
            load_ms=float(nav["loadEventEnd"]),
            tables_ms=float(tables_ms),
            tables=int(tables),
            sorted_ok=bool(sorted_ok),
            filtered_ok=bool(filtered_ok),
            link=link,
            link_ok=bool(link_ok),
            figure_drawn=bool(drawn),
            hover_text=hover,
            draw_all_ms=float(draw_ms),
            figures=int(figures),
            errors=_console_errors(driver),
            fetched=driver.execute_script(
                "return performance.getEntriesByType('resource').map(function (e) {"
                " return e.name; }).filter(function (n) { return !/^(blob|data):/.test(n); });"
            ),
        )
    finally:
        driver.quit()
