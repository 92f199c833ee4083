"""The built site in a real browser: headless Chromium driven by Selenium.

The site in _build/html (built by the ``built_book`` fixture) is served on
127.0.0.1; the index and every chapter page are opened, checked and saved as
screenshots under _build/screenshots/. Needs Debian's ``chromium`` and
``chromium-driver``; without them the tests skip, except under CI=true, where
they fail.

Every page must be whole offline: it may request nothing from a host other
than 127.0.0.1 (checked with Chrome's performance log and the Resource Timing
API), and MathJax, served by the site itself, must have typeset its maths.
"""

import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from book_support import (
    HTML_DIR,
    ROOT,
    SCREENSHOT_DIR,
    chapter_html,
    chapter_title,
    chapters,
    in_ci,
)

# isort: split
# scripts/build_pdf.py, on the path from book_support: waits for MathJax
import build_pdf

pytestmark = pytest.mark.slow

CHAPTERS = chapters()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Every page's title is "<page title> — <book title>" (chapters: "<n>. <title> — ...").
BOOK_TITLE = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    handler = functools.partial(QuietHandler, directory=str(HTML_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        reason = "Chromium is not installed (apt-get install chromium chromium-driver)"
        if in_ci():
            pytest.fail(reason + "; CI must run the browser tests", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="memlab-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--no-first-run", "--window-size=1280,1000", f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def load(driver, url):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what earlier pages logged
    driver.get_log("performance")
    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )


def severe_errors(driver):
    """SEVERE browser log entries, less failed requests to hosts other than this machine."""
    errors = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        source = message.split(" ", 1)[0]
        host = urlsplit(source).hostname if source.startswith(("http://", "https://")) else None
        if host and host not in ("127.0.0.1", "localhost") and (
            "Failed to load resource" in message or "net::ERR_" in message
        ):
            continue
        errors.append(message)
    return errors


def screenshot(driver, name):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height), 6000)))
    path = SCREENSHOT_DIR / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    assert path.stat().st_size > 0
    return path


def broken_images(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#main-content img'))"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"
    )


def requested_urls(driver):
    """Every URL the page asked for: the performance log's network events and Resource Timing."""
    urls = set(driver.execute_script(
        "return performance.getEntriesByType('navigation')"
        ".concat(performance.getEntriesByType('resource'))"
        ".map(e => e.name)"
    ))
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return urls


def off_host_requests(driver):
    """The requested URLs that would leave this machine (anything but 127.0.0.1 on the network)."""
    urls = requested_urls(driver)
    assert any(urlsplit(u).hostname == "127.0.0.1" for u in urls), "no request seen at all"
    # only network schemes can leave the machine: not data:, blob:, about: or the browser's own
    # chrome:// and chrome-untrusted:// pages (its new-tab page asks for those before the first
    # load)
    return sorted(u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss", "ftp")
                  and urlsplit(u).hostname != "127.0.0.1")


def typeset_maths(driver):
    """Wait for MathJax; return (maths elements, typeset elements, raw TeX in the visible text)."""
    status = driver.execute_async_script(build_pdf.WAIT_FOR_MATHJAX)
    assert status in ("typeset", "no maths"), status
    return driver.execute_script(
        r"""
        const main = document.querySelector('#main-content');
        const maths = main.querySelectorAll('.math').length;
        const typeset = main.querySelectorAll('.math mjx-container, mjx-container').length;
        const errors = main.querySelectorAll('mjx-merror').length;
        const copy = main.cloneNode(true);
        copy.querySelectorAll('pre, code, mjx-assistive-mml').forEach(e => e.remove());
        const text = copy.innerText;
        const raw = ['\\(', '\\[', '$$', '\\begin{'].filter(t => text.includes(t));
        const untypeset = Array.from(main.querySelectorAll('.math'))
          .filter(e => !e.querySelector('mjx-container')).length;
        return {maths: maths, typeset: typeset, errors: errors, raw: raw, untypeset: untypeset};
        """
    )


def test_index(site, browser):
    load(browser, f"{site}/index.html")
    assert browser.current_url.endswith("/book/intro.html"), browser.current_url
    title = f"memlab: memory-augmented neural networks \u2014 {BOOK_TITLE}"
    assert browser.title == title, browser.title
    assert browser.find_elements("css selector", "#main-content h1")
    assert broken_images(browser) == []
    assert severe_errors(browser) == []
    assert off_host_requests(browser) == []
    maths = typeset_maths(browser)
    assert maths["maths"] > 0 and maths["untypeset"] == 0 and maths["raw"] == [], maths
    # Every chapter is in the navigation.
    nav = browser.execute_script(
        "return Array.from(document.querySelectorAll('.bd-sidebar-primary a'))"
        ".map(a => a.getAttribute('href'))"
    )
    for notebook in CHAPTERS:
        page = f"notebooks/{notebook.stem}.html"
        assert any(href and href.endswith(page) for href in nav), notebook.name
    screenshot(browser, "index")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_in_browser(site, browser, notebook, settings):
    page = chapter_html(notebook).relative_to(HTML_DIR).as_posix()
    load(browser, f"{site}/{page}")
    title = chapter_title(notebook)
    assert browser.title.endswith(f"{title} \u2014 {BOOK_TITLE}"), browser.title
    assert broken_images(browser) == [], "images that did not load"
    assert severe_errors(browser) == [], "JavaScript errors"
    colab = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href*=\"colab.research.google.com\"]'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert set(colab) == {settings.colab_link(notebook.relative_to(ROOT).as_posix())}, colab
    maths = typeset_maths(browser)
    assert maths["maths"] > 0, f"{notebook.name}: no maths on the page"
    assert maths["untypeset"] == 0 and maths["errors"] == 0, maths
    assert maths["typeset"] >= maths["maths"], maths
    assert maths["raw"] == [], f"raw TeX in the visible text: {maths['raw']}"
    assert off_host_requests(browser) == [], "requests that leave 127.0.0.1"
    screenshot(browser, notebook.stem)
