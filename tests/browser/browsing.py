"""What the browser tier drives: a Chromium page opened and held to what every page must do
(see conftest.py), and the page's embedded JSON as a program reads it."""
from __future__ import annotations

import json
import struct
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WINDOW = (1400, 1000)  # the viewport, CSS px


class Browser:
    def __init__(self, driver):
        self.driver = driver

    def __getattr__(self, name):
        return getattr(self.driver, name)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def open(self, path: Path, timeout: float = 60) -> None:
        """Open ``path`` and check it loaded cleanly: ready, a silent console, no request."""
        d = self.driver
        d.get("about:blank")
        d.get_log("performance"), d.get_log("browser")  # drain what came before this page
        url = path.resolve().as_uri()
        d.get(url)
        end = time.monotonic() + timeout
        while self.js("return document.body && document.body.dataset.ready") != "true":
            assert time.monotonic() < end, f"{path.name} never became ready"
            time.sleep(0.05)
        self.check_quiet(url)

    def check_quiet(self, url: str) -> None:
        noisy = [e for e in self.driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert noisy == [], noisy
        requests = self.requests()
        assert set(requests) <= {url}, requests
        assert self.js("return performance.getEntriesByType('resource').map(e => e.name)") == []

    def requests(self) -> list[str]:
        out = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                out.append(message["params"]["request"]["url"])
        return out

    def screenshot(self, path: Path) -> tuple[int, int]:
        """A PNG of the window; its size in pixels, read from its header."""
        assert self.driver.save_screenshot(str(path))
        head = path.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        return struct.unpack(">II", head[16:24])


def embedded(path: Path, block: str = "data"):
    """A page's embedded JSON block, read from the file as a program would."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f'<script type="application/json" id="{block}">') + len(f'<script type="application/json" id="{block}">')
    return json.loads(text[start:text.index("</script>", start)])
