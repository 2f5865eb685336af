"""Headless Chromium for the report test: load a page, let its videos load, read their durations."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

_PROBE = """<script>
window.addEventListener('load', () => {
  const vids = [...document.querySelectorAll('video')];
  const report = () => {
    if (document.getElementById('vidkp-probe')) return;
    const out = document.createElement('pre');
    out.id = 'vidkp-probe';
    out.textContent = JSON.stringify(vids.map(v => ({src: v.currentSrc, duration: v.duration,
                                                     error: v.error && v.error.code})));
    document.body.appendChild(out);
  };
  Promise.all(vids.map(v => new Promise(done => {
    if (v.readyState >= 1) return done();
    v.addEventListener('loadedmetadata', done, {once: true});
    v.addEventListener('error', done, {once: true});
  }))).then(report);
  setTimeout(report, 15000);
});
</script>"""


def chromium() -> str:
    """The chromium binary (Debian's `chromium` package: `make browser`), or skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("headless Chromium not installed (`make browser`: apt-get install chromium)")
    return path


def video_durations(page: Path) -> list[dict]:
    """Load `page` (a copy with a probe script beside it) in headless Chromium and return, per
    <video>, its src, duration (NaN/None when it cannot play) and media error code."""
    probe = page.with_name("_probe_" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    try:
        res = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio",
                              "--virtual-time-budget=30000", "--dump-dom", probe.resolve().as_uri()],
                             capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    m = re.search(r'<pre id="vidkp-probe">(.*?)</pre>', res.stdout, re.S)
    assert m, f"no probe result in the page (chromium exit {res.returncode}): {res.stderr[-1000:]}"
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
