#!/usr/bin/env python3
"""Print the built book to one PDF, ``_build/pdf/memlab.pdf``, with headless Chromium.

``make pdf`` runs this after ``make book``. The site in ``_build/html`` is served
on 127.0.0.1; every page named in ``_toc.yml`` is opened, in reading order, in
Debian's headless Chromium (the one the browser tests use, driven by Selenium),
printed to A4 once MathJax has typeset its maths and its images and fonts have
loaded, and the pages are joined with pypdf, one bookmark per page. No TeX and no
browser download are involved.

Each page is printed with the book's print style sheet, ``book/_static/memlab-print.css``, which
wraps code lines wider than the column instead of cutting them off. The API reference
(``book/api``) is left out: it is reference material, searchable on the site, and would take a
third of the PDF's pages.

The PDF is then copied to ``_build/html/memlab.pdf``, and the introduction's sentence about it,
which the site build leaves hidden and without a link (so that a site built without a PDF has no
broken link), is shown with its link to the copy.

Usage::

    python scripts/build_pdf.py                      # _build/html -> _build/pdf/memlab.pdf
    python scripts/build_pdf.py --html DIR --out FILE

Needs ``chromium`` and ``chromium-driver`` (apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import sync_badges  # noqa: E402  (the reading order of _toc.yml)

HTML_DIR = ROOT / "_build" / "html"
PDF_PATH = ROOT / "_build" / "pdf" / "memlab.pdf"
SITE_COPY = "memlab.pdf"  # the PDF's name at the root of the site
PRINT_CSS = ROOT / "book" / "_static" / "memlab-print.css"
# Pages of the site that the PDF leaves out: the API reference, searchable on the site.
SITE_ONLY = ("book/api",)
# The introduction's sentence about the PDF, as the site build writes it (book/intro.md): hidden,
# its link without a target. show_pdf_link makes it visible and points the link at the PDF.
PDF_SENTENCE = '<span class="memlab-pdf" hidden>'
PDF_LINK = '<a class="memlab-pdf-link">'

# Adds the print style sheet to the page (the site's own pages do not load it).
ADD_STYLE = """
const style = document.createElement('style');
style.id = 'memlab-print-css';
style.textContent = arguments[0];
document.head.appendChild(style);
"""

# Resolves to a status once MathJax has typeset the page (or at once if the page loads no MathJax).
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const fonts = () => (document.fonts ? document.fonts.ready : Promise.resolve());
if (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
  done(document.querySelector('.math') ? 'maths on the page but MathJax did not load' : 'no maths');
} else {
  window.MathJax.startup.promise.then(fonts).then(
    () => done('typeset'), (e) => done('MathJax failed: ' + e));
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port); yield the base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(width: int = 1280, height: int = 1000):
    """A headless Debian Chromium driven by Selenium, with a throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(binary).is_file() and Path(driver_path).is_file()):
        raise RuntimeError("Chromium is not installed (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="memlab-pdf-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--window-size={width},{height}", f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until_ready(driver, timeout: float = 60.0) -> str:
    """Wait for the page, its images and MathJax; return MathJax's status."""
    deadline = time.monotonic() + timeout
    while driver.execute_script(
        "return document.readyState !== 'complete'"
        " || !Array.from(document.images).every(i => i.complete)"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{driver.current_url}: the page did not finish loading in "
                               f"{timeout:.0f} s")
        time.sleep(0.1)
    status = driver.execute_async_script(WAIT_FOR_MATHJAX)
    if status not in ("typeset", "no maths"):
        raise RuntimeError(f"{driver.current_url}: {status}")
    return status


def print_page(driver) -> bytes:
    """The current page as an A4 PDF, with its backgrounds."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # cm
    options.margin_top = options.margin_bottom = 1.5
    options.margin_left = options.margin_right = 1.5
    options.background = True
    return base64.b64decode(driver.print_page(options))


def pages_in_order(html_dir: Path, book_root: Path = ROOT,
                   leave_out: tuple[str, ...] = SITE_ONLY) -> list[Path]:
    """The HTML page of every ``_toc.yml`` entry but those in ``leave_out``, in reading order."""
    pages = [html_dir / f"{entry}.html" for entry in sync_badges.toc_entries(book_root)
             if entry not in leave_out]
    missing = [str(p) for p in pages if not p.is_file()]
    if missing:
        raise FileNotFoundError("build the book first (make book); no page " + ", ".join(missing))
    return pages


def show_pdf_link(page: Path, html_dir: Path) -> bool:
    """Show the hidden sentence about the PDF on ``page`` and link it to the site's copy.

    Returns whether the page changed: False for a page without the sentence, or one where it is
    shown already.
    """
    text = page.read_text(encoding="utf-8")
    if PDF_SENTENCE not in text:
        return False
    if text.count(PDF_LINK) != text.count(PDF_SENTENCE):
        raise ValueError(f"{page}: the hidden sentence about the PDF has no {PDF_LINK}")
    href = Path(os.path.relpath(html_dir / SITE_COPY, page.parent)).as_posix()
    text = text.replace(PDF_SENTENCE, '<span class="memlab-pdf">')
    text = text.replace(PDF_LINK, f'<a class="memlab-pdf-link" href="{href}">')
    page.write_text(text, encoding="utf-8")
    return True


def build_pdf(html_dir: Path = HTML_DIR, out: Path = PDF_PATH, site_copy: bool = True) -> Path:
    """Print every page of the book in ``html_dir`` and join them into ``out``; return ``out``."""
    from pypdf import PdfReader, PdfWriter

    html_dir, out = Path(html_dir), Path(out)
    pages = pages_in_order(html_dir)
    print_css = PRINT_CSS.read_text(encoding="utf-8")
    writer = PdfWriter()
    started = time.monotonic()
    with serve(html_dir) as base, chromium() as driver:
        for page in pages:
            driver.get(f"{base}/{page.relative_to(html_dir).as_posix()}")
            wait_until_ready(driver)
            driver.execute_script(ADD_STYLE, print_css)
            title = driver.title.split(" \u2014 ")[0].strip() or page.stem
            reader = PdfReader(io.BytesIO(print_page(driver)))
            first = len(writer.pages)
            for pdf_page in reader.pages:
                writer.add_page(pdf_page)
            writer.add_outline_item(title=title, page_number=first)
            print(f"{page.relative_to(html_dir)}: {len(reader.pages)} page(s)", flush=True)
    writer.add_metadata({"/Title": "memlab: "
                                   "Neural Turing Machines and Differentiable Neural Computers"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:
        writer.write(handle)
    if site_copy:
        shutil.copy2(out, html_dir / SITE_COPY)
        for page in pages_in_order(html_dir, leave_out=()):
            if show_pdf_link(page, html_dir):
                print(f"{page.relative_to(html_dir)}: links {SITE_COPY}")
    size = out.stat().st_size / 2**20
    print(f"{out}: {len(writer.pages)} pages, {size:.1f} MiB, {time.monotonic() - started:.0f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=HTML_DIR,
                        help="the built site (default _build/html)")
    parser.add_argument("--out", type=Path, default=PDF_PATH,
                        help="the PDF to write (default _build/pdf/memlab.pdf)")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        print(f"{args.html}: no built site; run `make book` first", file=sys.stderr)
        return 1
    build_pdf(args.html, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
