"""The whole book as one PDF (``make pdf``: scripts/build_pdf.py), opened with pypdf.

The PDF is printed from the strictly built site (the ``built_book`` fixture) by
headless Chromium; needs Debian's ``chromium`` and ``chromium-driver`` (skipped
without them, except under CI=true). It holds every page of the table of contents
but the API reference, which stays on the site.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from book_support import (
    EXECUTED_DIR,
    HTML_DIR,
    ROOT,
    chapter_title,
    chapters,
    in_ci,
    parse_html,
    sync_badges,
)

# isort: split
# scripts/build_pdf.py, on the path from book_support
import build_pdf

pytestmark = pytest.mark.slow

CHAPTERS = chapters()
# Code cells that the pages do not print: removed, or folded behind a toggle (solutions).
NOT_PRINTED = {"remove-cell", "remove-input", "hide-cell", "hide-input"}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pdf(built_book):
    if not (Path(shutil.which("chromium") or "/usr/bin/chromium").is_file()
            and Path(shutil.which("chromedriver") or "/usr/bin/chromedriver").is_file()):
        reason = "Chromium is not installed (apt-get install chromium chromium-driver)"
        if in_ci():
            pytest.fail(reason + "; CI must print the PDF", pytrace=False)
        pytest.skip(reason)
    from pypdf import PdfReader

    path = build_pdf.build_pdf(HTML_DIR, build_pdf.PDF_PATH)
    reader = PdfReader(str(path))
    texts = [page.extract_text() or "" for page in reader.pages]
    print(f"{path}: {len(reader.pages)} pages, {path.stat().st_size / 2**20:.1f} MiB")
    return path, reader, texts


def test_pdf_is_written_and_linked(pdf):
    path, reader, _ = pdf
    assert path == ROOT / "_build" / "pdf" / "memlab.pdf"
    site_copy = HTML_DIR / "memlab.pdf"
    assert site_copy.read_bytes() == path.read_bytes()
    links = [url for tag, _, url in parse_html(HTML_DIR / "book" / "intro.html").links
             if tag == "a"]
    assert "../memlab.pdf" in links, "the introduction does not link to the PDF"
    assert len(reader.pages) > 10 * len(CHAPTERS) // 2


def test_every_page_in_reading_order(pdf):
    _, reader, texts = pdf
    outline = [item.title for item in reader.outline]
    entries = [e for e in sync_badges.toc_entries(ROOT) if e not in build_pdf.SITE_ONLY]
    assert len(outline) == len(entries), outline
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), starts
    everything = squeeze(" ".join(texts))
    for number, notebook in enumerate(CHAPTERS, start=1):
        title = chapter_title(notebook)
        assert f"{number}. {title}" in outline, (title, outline)
        assert squeeze(title) in everything, f"chapter title {title!r} not in the PDF's text"


def test_the_api_reference_is_on_the_site_only(pdf):
    _, reader, texts = pdf
    assert build_pdf.SITE_ONLY == ("book/api",)
    api = (HTML_DIR / "book" / "api.html").read_text(encoding="utf-8")
    assert api.count("Bases:") > 10  # the classes of the API page, each with its bases
    outline = [item.title for item in reader.outline]
    assert "API reference" not in outline, outline
    everything = " ".join(texts)
    assert "Bases:" not in everything, "the API reference is in the PDF"
    assert "The whole book is also one PDF" not in squeeze(everything), (
        "the PDF prints the site's sentence about the PDF")


def test_code_lines_are_whole(pdf):
    """Every line of the chapters' printed code cells is in the PDF's text, whole.

    A line wider than the column must wrap, not be cut off at the column's edge. A wrapped line
    is split over lines of text, so whitespace is removed before comparing. The text is read in
    the order of the page (pypdf's layout mode): in the order of the PDF's drawing, the part of a
    code cell carried over to the next page may come after text printed below it.
    """
    _, reader, _ = pdf
    everything = no_space("".join(page.extract_text(extraction_mode="layout")
                                  for page in reader.pages))
    cut, lines = [], 0
    for notebook in CHAPTERS:
        nb = nbformat.read(str(notebook), as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or NOT_PRINTED & set(cell.metadata.get("tags", [])):
                continue
            for line in cell.source.splitlines():
                if not line.strip():
                    continue
                lines += 1
                if no_space(line) not in everything:
                    cut.append(f"{notebook.name} cell {index}: {line}")
    assert lines > 50 * len(CHAPTERS), lines
    assert not cut, f"{len(cut)} of {lines} code lines are not whole in the PDF:\n" + "\n".join(
        cut[:30])


def test_figures_are_in_the_pdf(pdf):
    _, reader, _ = pdf
    figures = 0
    for notebook in CHAPTERS:
        nb = nbformat.read(str(EXECUTED_DIR / notebook.relative_to(ROOT)), as_version=4)
        figures += sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                       for o in c.outputs)
    images = sum(len(page.images) for page in reader.pages)
    assert figures > 0
    assert images >= figures, f"{figures} figures in the chapters but {images} images in the PDF"


def test_maths_is_typeset_in_the_pdf(pdf):
    _, _, texts = pdf
    everything = " ".join(texts)
    # the delimiters of maths MathJax did not typeset (the code cells' matplotlib labels hold TeX
    # such as $\\beta$ on purpose, so TeX commands alone do not tell)
    for raw in ("\\(", "\\[", "$$", "\\frac"):
        assert raw not in everything, f"raw TeX {raw!r} in the PDF"
    # Typeset symbols of the introduction's formulas: M in R^{N x W}, the key strength beta, a sum.
    for symbol in ("\u2208", "\u03b2", "\u2211"):
        assert symbol in everything, f"{symbol!r} (typeset maths) not in the PDF's text"
