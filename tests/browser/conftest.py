"""The browser tier: each command's HTML page opened from disk in headless Chromium (Selenium).

Chromium and chromedriver are the distribution's packages (``make browser`` installs them);
``MBCOST_CHROMIUM`` and ``MBCOST_CHROMEDRIVER`` point elsewhere. Without them the tier skips,
except in CI (``CI=true``), where it fails: CI must never pass a tier it did not run.

Every page is opened through :meth:`Browser.open`, which checks what each page must do: it
becomes ready (page.js sets ``body[data-ready]``), writes nothing to the console at warning
level or above, and makes no request but for the page's own file (Chromium's performance log,
and the page's own resource timing)."""
from __future__ import annotations

import os
import shutil

import pytest

from browsing import WINDOW, Browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", f"--window-size={WINDOW[0]},{WINDOW[1]}"]


def _missing(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tier cannot run in CI: {why} (make browser installs it)", pytrace=False)
    pytest.skip(f"no browser: {why} (make browser installs it)")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    binary = os.environ.get("MBCOST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = os.environ.get("MBCOST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not binary or not driver_path or not (os.access(binary, os.X_OK) and os.access(driver_path, os.X_OK)):
        _missing(f"chromium ({binary or 'not on PATH'}) or chromedriver ({driver_path or 'not on PATH'}) cannot run")
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no telemetry, no downloads
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    # the viewport itself WINDOW (the window's frame takes some of --window-size), at 1 px per CSS px
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
    try:
        yield Browser(driver)
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def mbcost_run():
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from mbcost.cli import app

    runner = CliRunner()

    def run(*args):
        r = runner.invoke(app, [str(a) for a in args])
        return r.exit_code, r.stdout, r.stderr

    return run
