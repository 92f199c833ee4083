"""scripts/build_pdf.py without a browser: the pages it prints, the link it adds, its style sheet.

The PDF itself is printed and read in tests/test_pdf.py (slow: it needs the built book and
Chromium).
"""

import re

import pytest

from book_support import ROOT, sync_badges

# isort: split
# scripts/build_pdf.py, on the path from book_support
import build_pdf

PLACEHOLDER = ('<p>Read it here.<span class="memlab-pdf" hidden>\nThe whole book is also one '
               '<a class="memlab-pdf-link">PDF</a>.</span></p>')


def site(tmp_path, entries):
    html = tmp_path / "html"
    for entry in entries:
        page = html / f"{entry}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<html><body>{entry}</body></html>", encoding="utf-8")
    return html


def test_the_pdf_leaves_out_the_api_reference(tmp_path):
    entries = sync_badges.toc_entries(ROOT)
    assert "book/api" in entries
    html = site(tmp_path, entries)
    pages = build_pdf.pages_in_order(html)
    assert [p.relative_to(html).with_suffix("").as_posix() for p in pages] == [
        e for e in entries if e != "book/api"]
    assert len(build_pdf.pages_in_order(html, leave_out=())) == len(entries)


def test_pages_in_order_needs_a_built_site(tmp_path):
    entries = sync_badges.toc_entries(ROOT)
    html = site(tmp_path, [e for e in entries if e != "book/intro"])
    with pytest.raises(FileNotFoundError, match="book/intro.html"):
        build_pdf.pages_in_order(html)


@pytest.mark.parametrize("where, href", [("book/intro.html", "../memlab.pdf"),
                                         ("index.html", "memlab.pdf"),
                                         ("a/b/page.html", "../../memlab.pdf")])
def test_show_pdf_link(tmp_path, where, href):
    page = tmp_path / where
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<html><body>{PLACEHOLDER}</body></html>", encoding="utf-8")
    assert build_pdf.show_pdf_link(page, tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "hidden" not in text
    assert f'<a class="memlab-pdf-link" href="{href}">PDF</a>' in text
    assert build_pdf.show_pdf_link(page, tmp_path) is False  # shown already
    assert page.read_text(encoding="utf-8") == text


def test_show_pdf_link_leaves_other_pages_alone(tmp_path):
    page = tmp_path / "book" / "setup.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><body><p>No PDF here.</p></body></html>", encoding="utf-8")
    assert build_pdf.show_pdf_link(page, tmp_path) is False
    assert page.read_text(encoding="utf-8") == "<html><body><p>No PDF here.</p></body></html>"


def test_show_pdf_link_refuses_a_sentence_without_its_link(tmp_path):
    page = tmp_path / "intro.html"
    page.write_text(PLACEHOLDER.replace('<a class="memlab-pdf-link">', "<a>"), encoding="utf-8")
    with pytest.raises(ValueError, match="no <a class"):
        build_pdf.show_pdf_link(page, tmp_path)


def test_the_introduction_holds_the_hidden_sentence():
    """book/intro.md as the site build passes it on: hidden, and its link without a target."""
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert intro.count(build_pdf.PDF_SENTENCE) == 1 and intro.count(build_pdf.PDF_LINK) == 1
    start = intro.index(build_pdf.PDF_SENTENCE)
    assert intro.index(build_pdf.PDF_LINK) < intro.index("</span>", start)
    assert "memlab.pdf" not in intro


def test_print_style_sheet_wraps_code():
    css = build_pdf.PRINT_CSS.read_text(encoding="utf-8")
    assert build_pdf.PRINT_CSS.parent == ROOT / "book" / "_static"
    body = re.search(r"@media print\s*\{(.*)\}\s*$", css, re.S)
    assert body, "the rules must be inside @media print: the screen keeps its scrolling code"
    rules = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
    wrap = re.search(r"([^{}]*)\{([^}]*white-space:\s*pre-wrap[^}]*)\}", rules)
    assert wrap, "no rule wraps code lines in print"
    selectors = {s.strip() for s in wrap.group(1).split(",")}
    assert {"div.cell_input pre", "div.cell_output pre", "div.highlight pre"} <= selectors
    assert re.search(r"overflow-wrap:\s*anywhere", wrap.group(2))
    assert re.search(r"\.memlab-pdf\s*\{\s*display:\s*none", rules)
