"""The strict build of the book and the site it produces.

The ``built_book`` fixture (tests/conftest.py) builds the book once per session
with ``jupyter-book build . -W -n --keep-going --all`` into _build/html, every
chapter executed; a warning, a broken reference or an exception in any cell
fails the build and so every test here.
"""

import html
import re
import shutil
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from book_support import (
    EXECUTED_DIR,
    HTML_DIR,
    ROOT,
    chapter_html,
    chapters,
    parse_html,
    sync_badges,
)

# isort: split
# scripts/build_pdf.py, on the path from book_support
import build_pdf

pytestmark = pytest.mark.slow

CHAPTERS = chapters()
SKIP_SCHEMES = ("mailto:", "javascript:", "data:", "tel:")
PDF_NAME = "memlab.pdf"
# Parts of the table of contents, in order, and the chapters each must hold (by number).
PARTS = [
    ("Getting started", None),
    ("The Neural Turing Machine", range(1, 2)),
    ("The Differentiable Neural Computer", range(2, 8)),
    ("Beyond the DNC", range(8, 100)),
    ("Reference", None),
]
HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S)
SECTION_NUMBER = re.compile(r'<span class="section-number">([^<]*)</span>')
# A heading that still carries a number of its own after Sphinx's: "2.1 Content", "1. The idea".
HAND_NUMBER = re.compile(r"^\s*\d+(\.\d+)*\.?\s")
API_MODULES = re.findall(r"automodule::\s+(\S+)", (ROOT / "book" / "api.md").read_text())


def html_pages():
    """The site's pages (the theme's _static/ also holds Jinja macro files named *.html)."""
    return sorted(p for p in HTML_DIR.rglob("*.html")
                  if "_static" not in p.relative_to(HTML_DIR).parts)


def test_index_and_pages(built_book):
    assert (HTML_DIR / "index.html").is_file()
    for entry in sync_badges.toc_entries(ROOT):
        page = HTML_DIR / f"{entry}.html"
        assert page.is_file(), f"no page for {entry}"
    assert (HTML_DIR / "search.html").is_file()


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_page(built_book, notebook, settings):
    page = chapter_html(notebook)
    assert page.is_file(), f"no page for {notebook.name}"
    html = page.read_text(encoding="utf-8")
    # Launch on Colab, from the repository setting and the notebook's real path.
    expected = settings.colab_link(f"notebooks/{notebook.name}")
    assert expected == (
        f"https://colab.research.google.com/github/{settings.org}/{settings.repo}"
        f"/blob/{settings.branch}/notebooks/{notebook.name}"
    )
    colab_links = set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]*)"', html))
    assert colab_links == {expected}, (
        f"{page.name}: Colab launch links {colab_links}, expected {expected}")
    # Download as .ipynb.
    assert f'href="../_sources/notebooks/{notebook.name}"' in html
    assert (HTML_DIR / "_sources" / "notebooks" / notebook.name).is_file()
    # The badge cell is left out of the page (the launch button replaces it) ...
    assert "colab-badge.svg" not in html
    # ... and so is the Colab install cell (tagged remove-cell; it runs but is not shown).
    assert "google.colab" not in html and "pip install" not in html
    # Progress bars are plain text: no widget JSON in the page.
    assert "application/vnd.jupyter.widget-view+json" not in html
    assert "widget-view" not in html
    assert "TqdmWarning" not in html, f"{page.name}: tqdm printed a warning into the page"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_executed_chapter_has_no_errors_or_widgets(built_book, notebook):
    executed = EXECUTED_DIR / notebook.relative_to(ROOT)
    nb = nbformat.read(str(executed), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                assert "raises-exception" in tags, f"{notebook.name} cell {index}: {output.ename}"
            data = output.get("data", {})
            assert "application/vnd.jupyter.widget-view+json" not in data, (
                f"{notebook.name} cell {index}: widget output (is MEMLAB_PROGRESS=text set?)"
            )


def test_links_and_images_resolve(built_book):
    """Each internal href/src points at a file of the site (and anchor); external URLs are valid."""
    broken = []
    ids_cache = {}

    def ids_of(path):
        if path not in ids_cache:
            ids_cache[path] = parse_html(path).ids
        return ids_cache[path]

    for page in html_pages():
        parsed = parse_html(page)
        ids_cache[page] = parsed.ids
        for tag, attr, url in parsed.links:
            where = f"{page.relative_to(HTML_DIR)} <{tag} {attr}={url!r}>"
            if url.startswith(SKIP_SCHEMES):
                continue
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                if not parts.netloc or re.search(r"\s", url) or "." not in parts.netloc:
                    broken.append(f"{where}: malformed external URL")
                continue
            if parts.scheme:
                broken.append(f"{where}: unexpected scheme")
                continue
            if url.startswith("/"):
                broken.append(f"{where}: absolute path breaks when the site is not at the "
                              "server root")
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{where}: no such file")
            elif HTML_DIR.resolve() not in target.resolve().parents:
                broken.append(f"{where}: points outside the site")
            elif (parts.fragment and target.suffix == ".html"
                  and unquote(parts.fragment) not in ids_of(target)):
                broken.append(f"{where}: no anchor #{parts.fragment}")
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(broken[:50])


def intro_links():
    return [url for tag, _, url in parse_html(HTML_DIR / "book" / "intro.html").links
            if tag == "a"]


def test_intro_links_the_pdf_only_when_there_is_one(built_book):
    """`make book` alone writes no PDF and no link to one; `make pdf` (build_pdf.py) adds both."""
    linked = "../" + PDF_NAME in intro_links()
    assert linked == (HTML_DIR / PDF_NAME).is_file(), (
        f"the introduction {'links' if linked else 'does not link'} {PDF_NAME}, "
        f"and _build/html/{PDF_NAME} {'does not exist' if linked else 'exists'}")


def test_build_pdf_shows_the_link_to_the_pdf(built_book, tmp_path):
    """build_pdf.show_pdf_link, on a copy of the built introduction as the site build wrote it."""
    page = tmp_path / "html" / "book" / "intro.html"
    page.parent.mkdir(parents=True)
    shutil.copy2(HTML_DIR / "book" / "intro.html", page)
    text = page.read_text(encoding="utf-8")
    if build_pdf.PDF_SENTENCE not in text:  # `make pdf` has run on the site: undo its change
        text = text.replace('<span class="memlab-pdf">', build_pdf.PDF_SENTENCE)
        text = re.sub(r'(<a class="memlab-pdf-link") href="[^"]*">', r"\1>", text)
        page.write_text(text, encoding="utf-8")
    built = parse_html(page)
    assert not any(url.endswith(PDF_NAME) for _, _, url in built.links), (
        "the site build must not link the PDF")
    assert text.count(build_pdf.PDF_SENTENCE) == 1 and text.count(build_pdf.PDF_LINK) == 1
    start = text.index(build_pdf.PDF_SENTENCE)
    sentence = page_text(text[start:text.index("</span>", start)])
    assert re.sub(r"\s+", " ", sentence).strip() == (
        "The whole book is also one PDF, for printing or reading offline.")

    assert build_pdf.show_pdf_link(page, tmp_path / "html")
    shown = page.read_text(encoding="utf-8")
    assert build_pdf.PDF_SENTENCE not in shown and '<span class="memlab-pdf">' in shown
    links = [url for tag, _, url in parse_html(page).links if tag == "a"]
    assert links.count("../" + PDF_NAME) == 1
    # nothing else of the page changed
    assert shown.replace(' href="../memlab.pdf"', "").replace(
        '<span class="memlab-pdf">', build_pdf.PDF_SENTENCE) == text
    assert not build_pdf.show_pdf_link(page, tmp_path / "html"), "a second run changes nothing"
    assert page.read_text(encoding="utf-8") == shown


def test_figures_are_published(built_book):
    for notebook in CHAPTERS:
        nb = nbformat.read(str(EXECUTED_DIR / notebook.relative_to(ROOT)), as_version=4)
        figures = sum(
            "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
            for o in c.outputs
        )
        images = [
            url for tag, _, url in parse_html(chapter_html(notebook)).links
            if tag == "img" and "_images/" in url
        ]
        assert len(images) >= figures, (
            f"{notebook.name}: {figures} figure(s) but {len(images)} image(s) in the page")


def test_site_features(built_book, settings):
    html = (HTML_DIR / "book" / "intro.html").read_text(encoding="utf-8")
    assert "search-button" in html and (HTML_DIR / "searchindex.js").is_file()  # search
    assert "theme-switch-button" in html  # light / dark mode
    assert "mathjax" in html.lower() and "math notranslate" in html  # LaTeX via MathJax
    assert "togglebutton.js" in html  # hide-input / dropdown cells
    assert f'href="{settings.repo_url}"' in html  # repository button


def test_bibliography(built_book):
    references = (HTML_DIR / "book" / "references.html").read_text(encoding="utf-8")
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"@\w+\{([^,]+),", bib)
    assert len(keys) >= 10
    assert references.count('role="doc-biblioentry"') == len(keys)
    intro = (HTML_DIR / "book" / "intro.html").read_text(encoding="utf-8")
    cited = set(re.findall(r'href="references\.html#([^"]+)"', intro))
    assert len(cited) == len(keys), "intro.md should cite every reference"


def test_api_reference(built_book):
    api = (HTML_DIR / "book" / "api.html").read_text(encoding="utf-8")
    assert API_MODULES, "book/api.md documents no module"
    for module in API_MODULES:
        assert f'id="module-{module}"' in api, f"{module} is missing from the API page"


def article(text):
    """The page's own content: its <article>, without the theme's print-only header and toc."""
    start = text.find("<article")
    return text[start:text.find("</article>", start)] if start >= 0 else text


def headings(page):
    """(Sphinx's section number or "", the heading's own text) of each h1-h6 of a page's article."""
    found = []
    for _, inner in HEADING.findall(article(page.read_text(encoding="utf-8"))):
        number = SECTION_NUMBER.search(inner)
        text = html.unescape(re.sub(r"<[^>]+>", "", SECTION_NUMBER.sub("", inner)))
        text = text.replace("\u00b6", "").strip()
        found.append(((number.group(1).strip() if number else ""), text))
    return found


def test_headings_are_numbered_once(built_book):
    doubles = []
    for page in html_pages():
        for number, text in headings(page):
            if HAND_NUMBER.match(text):
                doubles.append(f"{page.relative_to(HTML_DIR)}: {number} {text}")
    assert not doubles, (
        "headings with a number of their own besides the book's:\n" + "\n".join(doubles))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_number_and_title_agree(built_book, notebook):
    found = headings(chapter_html(notebook))
    number, title = found[0]
    assert number == f"{CHAPTERS.index(notebook) + 1}.", (notebook.name, number)
    assert not re.search(r"\b(part|chapter)\s+\d", title, re.I), (
        f"{notebook.name}: title {title!r} names a number")
    # Every section of the chapter is numbered under the chapter's number.
    assert all(n.startswith(number) for n, _ in found if n), found


def test_toc_parts_in_sidebar(built_book):
    intro = (HTML_DIR / "book" / "intro.html").read_text(encoding="utf-8")
    caption = r'<p[^>]*class="caption[^"]*"[^>]*>\s*<span[^>]*>([^<]+)</span>'
    captions = [html.unescape(c).strip() for c in re.findall(caption, intro)]
    assert captions == [name for name, _ in PARTS], captions
    start = intro.index('id="pst-primary-sidebar"')
    sidebar = intro[start:intro.index("<main", start)].split('class="caption', 1)[1]
    blocks = re.split(r'<p[^>]*class="caption', sidebar)
    for (name, numbers), block in zip(PARTS, blocks):
        chapters_here = [int(m) for m in re.findall(r'href="\.\./notebooks/(\d\d)_', block)]
        if numbers is None:
            assert not chapters_here, (name, chapters_here)
        else:
            assert chapters_here and all(n in numbers for n in chapters_here), (name, chapters_here)


def test_mathjax_is_served_by_the_site(built_book):
    mathjax = HTML_DIR / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").stat().st_size > 500_000
    fonts = list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) >= 20, fonts
    pages_with_maths = 0
    for page in html_pages():
        text = page.read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in text and "mathjax@" not in text, (
            f"{page.name}: MathJax from a CDN")
        if 'class="math' in text:
            pages_with_maths += 1
            script = r'<script[^>]* src="(\.\./)*_static/mathjax/tex-chtml\.js'
            assert re.search(script, text), page.name
    assert pages_with_maths >= len(CHAPTERS)
    size = sum(p.stat().st_size for p in mathjax.rglob("*") if p.is_file())
    site = sum(p.stat().st_size for p in HTML_DIR.rglob("*") if p.is_file())
    print(f"MathJax {size / 2**20:.1f} MiB of a {site / 2**20:.1f} MiB site")
    assert size < 4 * 2**20, f"MathJax takes {size / 2**20:.1f} MiB; copy only what the pages load"


def page_text(fragment: str) -> str:
    """The text of an HTML fragment, with Sphinx's typographic ellipsis back to three dots."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\u2026", "...")


def api_fields(api: str, name: str) -> dict:
    """The field list of `name`'s entry on the API page, as Sphinx renders a docstring's Args and
    Returns sections: {"Parameters": {argument: its text}, "Returns": text, ...}.
    """
    start = api.find(f'id="{name}"')
    assert start >= 0, f"{name} is not on the API page"
    ends = [i for i in (api.find('<dt class="sig', start + 1), api.find('id="module-', start + 1))
            if i >= 0]
    entry = api[start:min(ends, default=len(api))]
    fields = {}
    field = (r'<dt class="field-\w+">([^<]+)<span class="colon">:</span></dt>\s*'
             r'<dd class="field-\w+">(.*?)</dd>')
    for title, body in re.findall(field, entry, re.S):
        items = re.findall(r"<li><p><strong>(\w+)</strong>(.*?)</p></li>", body, re.S)
        fields[title] = {arg: page_text(text) for arg, text in items} if items else page_text(body)
    return fields


def test_api_reference_shows_the_shapes(built_book):
    """Fields documented with `#:` comments, and the Args and Returns sections of docstrings
    (rendered as Parameters and Returns by napoleon), carry their shapes onto the API page.
    """
    api = (HTML_DIR / "book" / "api.html").read_text(encoding="utf-8")
    for field, shape in [("memlab.models.NTMTrace.write_shift", "[B, T, Hw, S]"),
                         ("memlab.models.DNCTrace.read_weights", "[B, T, R, N]"),
                         ("memlab.tasks.Batch.mask", "[B, T]"),
                         ("memlab.ntm.HeadParams.gate", "[B, H], sigmoid"),
                         ("memlab.dnc.AccessState.link", "[B, N, N]"),
                         ("memlab.graphs.GraphQuery.answers", "whole triples")]:
        start = api.find(f'id="{field}"')
        assert start >= 0, f"{field} is not on the API page"
        entry = api[start:api.find("</dd>", start)]
        assert shape in page_text(entry), (field, shape)
    # (function, argument, a shape in the argument's text, a shape in the Returns section)
    for function, argument, argument_shape, returned_shape in [
        ("memlab.dnc.access_step", "state", "memory [B, N, W]", "read_vectors [B, R, W]"),
        ("memlab.dnc.initial_state", "memory_size", "N, the number of memory slots",
         "link [B, N, N]"),
        ("memlab.metrics.bit_errors", "logits", "[B, T, O]", "[B]"),
        ("memlab.metrics.masked_bce", "mask", "[B, T]", "[] (a scalar)"),
        ("memlab.analysis.read_mode_usage", "read_modes", "[B, T, R, 3]", "[R, 3]"),
        ("memlab.analysis.read_sources", "write_weights", "[T, N]", "[..., R]"),
        ("memlab.graphs.triple_channels", "triple", "(source, edge, destination)",
         "[10 * (2 * node_digits + edge_digits)]"),
    ]:
        fields = api_fields(api, function)
        assert isinstance(fields.get("Parameters"), dict), (function, "no Parameters", fields)
        assert argument_shape in fields["Parameters"].get(argument, ""), (
            function, argument, fields)
        assert returned_shape in fields.get("Returns", ""), (function, "Returns", fields)
