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
