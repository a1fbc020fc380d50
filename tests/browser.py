"""The progress site in a real browser: headless Chromium from the distribution's packages, driven by Selenium
through the distribution's chromedriver, with axe-core (bundled by axe-selenium-python) for accessibility.

``check_page`` returns every problem of one page as a sentence, so a test asserts ``== []`` and its failure
lists them all: console errors, requests that are not file:// or data:, charts without data, alerts,
and violations of the axe rules the site must pass.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
AXE_RULES = ("html-has-lang", "color-contrast", "label", "image-alt", "document-title")
# Every dialog the page opens is recorded instead of shown: a payload that runs leaves its trace here.
RECORD_DIALOGS = ("window.__dialogs = [];" + "".join(
    f"window.{name} = function (m) {{ window.__dialogs.push('{name}: ' + String(m)); }};"
    for name in ("alert", "confirm", "prompt")))
CHARTS = """return Array.from(document.querySelectorAll('.chart, .spark')).map(e => ({
    id: e.id,
    traces: (e.data || []).length,
    points: (e.data || []).reduce((n, t) => n + (t.y || t.z || []).filter(v => v !== null).length, 0),
    drawn: e.querySelectorAll('.scatterlayer .trace, .boxlayer .trace, .choroplethlayer .trace').length}))"""


def needs_chromium():
    """Skip, saying what to install, where the distribution's Chromium or its driver is absent."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("headless Chromium is not installed: apt-get install chromium chromium-driver fonts-noto-cjk "
                    "(.ci/run installs them where apt-get exists)")


@contextmanager
def chromium(width: int = 1100, height: int = 900):
    """One headless Chromium for several pages; it makes no traffic of its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage", "--disable-gpu", "--lang=ja", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_DIALOGS})
        yield driver
    finally:
        driver.quit()


def check_page(driver, page: Path, charts_expected: bool = False) -> list[str]:
    """Open ``page`` from file:// and list what is wrong with it."""
    from axe_selenium_python import Axe
    from selenium.common.exceptions import UnexpectedAlertPresentException

    problems = []
    for log in ("browser", "performance"):  # drain them: only this page's entries from here on
        driver.get_log(log)
    try:
        driver.get(page.as_uri())
        loaded = driver.execute_script("return [location.protocol, document.readyState, document.title]")
    except UnexpectedAlertPresentException as e:  # a dialog the recorder did not catch
        return [f"an alert opened: {e.alert_text}"]
    if loaded[:2] != ["file:", "complete"]:
        problems.append(f"did not load from file://: {loaded}")
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"console error: {entry['message']}")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("file:", "data:")):
                problems.append(f"request outside the site: {url}")
    for dialog in driver.execute_script("return window.__dialogs || []"):
        problems.append(f"a dialog opened: {dialog}")
    charts = driver.execute_script(CHARTS)
    if charts_expected and not charts:
        problems.append("no chart on the page")
    for chart in charts:
        if not (chart["traces"] and chart["points"] and chart["drawn"]):
            problems.append(f"chart #{chart['id']} carries no data: {chart}")
    axe = Axe(driver)
    axe.inject()
    results = axe.run(options=json.dumps({"runOnly": {"type": "rule", "values": list(AXE_RULES)},
                                          "resultTypes": ["violations"]}))
    for violation in results["violations"]:
        targets = [t for node in violation["nodes"] for t in node["target"]][:5]
        problems.append(f"axe {violation['id']}: {violation['help']} {targets}")
    return problems
