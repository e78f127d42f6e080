"""The simulator's phone page renders WhatsApp formatting as elements, never as HTML."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import free_port

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture(scope="module")
def page_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulator"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "SIM_PORT": str(port)})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "_sim/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("text,html", [
    ("here *Monday to Friday, 9:00–18:00* and *Sat*.",
     "here <b>Monday to Friday, 9:00–18:00</b> and <b>Sat</b>."),
    ("snake_case_name, 2*3*4, _really_ ~old~", "snake_case_name, 2*3*4, <i>really</i> <s>old</s>"),
    ("```a *b*``` <img src=x onerror=alert(1)>", "<code>a *b*</code> &lt;img src=x onerror=alert(1)&gt;"),
    ("a * b * c", "a * b * c"),
])
def test_whatsapp_formatting_is_rendered_safely(page_url, text, html):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_url)
            assert page.evaluate("(s) => formatted('', s).innerHTML", text) == html
        finally:
            browser.close()


def test_the_page_offers_no_clock_skip():
    """Issue 11: "Skip 24 hours" moved only the simulator's clock (the desk still showed the
    window open, and later transcripts came out of order), so the page has no such button;
    the tests that need Meta's window to pass keep POST /_sim/clock."""
    from simulator.page import PAGE

    assert 'id="skip"' not in PAGE and "Skip 24" not in PAGE and "/_sim/clock" not in PAGE
