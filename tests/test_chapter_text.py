"""The chapters' headings and the parts of the table of contents, checked in the sources.

The book numbers chapters and sections itself (``numbered: true`` in _toc.yml),
so a heading with a number of its own would read "1.2.1. 2.1 Content
addressing" on the site; a title naming a number ("DNC part 1") would contradict
the chapter's number.
"""

import re

import nbformat
import pytest
import yaml

from book_support import ROOT, chapter_title, chapters

CHAPTERS = chapters()
HAND_NUMBER = re.compile(r"^(#{1,6})\s+\d+(\.\d+)*\.?\s")
PARTS = {
    "The Neural Turing Machine": ["01"],
    "The Differentiable Neural Computer": ["02", "03", "04", "05", "06", "07"],
    "Beyond the DNC": ["08", "09", "10"],
}


def markdown_headings(path):
    nb = nbformat.read(str(path), as_version=4)
    return [
        line
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("#")
    ]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_headings_carry_no_numbers(notebook):
    numbered = [line for line in markdown_headings(notebook) if HAND_NUMBER.match(line)]
    assert not numbered, (
        f"{notebook.name}: the book numbers sections itself; drop the numbers of {numbered}")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_title_names_no_number(notebook):
    title = chapter_title(notebook)
    assert not re.search(r"\b(part|chapter)\s+\d", title, re.I), f"{notebook.name}: title {title!r}"


def test_heading_check_catches_numbers():
    assert HAND_NUMBER.match("### 2.1 Content addressing")
    assert HAND_NUMBER.match("## 1. The idea")
    assert not HAND_NUMBER.match("### Exercise 1.1: Circular shift")
    assert not HAND_NUMBER.match("## Content addressing")


def test_toc_parts():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["Getting started", *PARTS, "Reference"], captions
    for part in toc["parts"]:
        files = [c["file"] for c in part["chapters"]]
        if part["caption"] in PARTS:
            assert part.get("numbered") is True, part["caption"]
            numbers = [re.match(r"notebooks/(\d\d)_", f).group(1) for f in files]
            assert numbers and set(numbers) <= set(PARTS[part["caption"]]), (part["caption"], files)
        else:
            assert not any(f.startswith("notebooks/") for f in files), (part["caption"], files)


READING = re.compile(r"Time: about (\d+) minutes of reading")


def header_minutes(notebook):
    """The reading time a chapter's first cells state, in minutes."""
    nb = nbformat.read(str(notebook), as_version=4)
    found = [int(m.group(1)) for cell in nb.cells[:3] if cell.cell_type == "markdown"
             for m in [READING.search(cell.source)] if m]
    assert len(found) == 1, f"{notebook.name}: no 'Time: about N minutes of reading' line"
    return found[0]


def test_reading_times_agree_across_the_book():
    headers = {p.stem: header_minutes(p) for p in CHAPTERS}
    intro = (ROOT / "book" / "intro.md").read_text()
    in_map = {stem: int(m) for stem, m in re.findall(
        r"\{doc\}`\.\./notebooks/(\w+)` \|[^|]*\| ≈ (\d+) min \|", intro)}
    assert in_map == headers, "the intro's map and the chapters' headers give other reading times"
    total = re.search(r"In all, about (\d+) minutes of reading", intro)
    assert total and int(total.group(1)) == sum(headers.values())
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    row = r"^\| (\d+)\. [^|]+\| about (\d+) min \|"
    in_guide = {int(n): int(m) for n, m in re.findall(row, guide, re.MULTILINE)}
    assert in_guide == {int(stem[:2]): minutes for stem, minutes in headers.items()}, \
        "the instructor guide's table and the chapters' headers give other reading times"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_prerequisites_link_the_notation_page(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    head = "\n".join(cell.source for cell in nb.cells[:3] if cell.cell_type == "markdown")
    assert "Prerequisites" in head and "(../book/notation.md)" in head, notebook.name


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_diagram_code_is_folded_on_the_site(notebook):
    """The matplotlib code that draws an architecture diagram is not the lesson: fold it."""
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"FancyBboxPatch\(|def draw_box", cell.source):
            tags = cell.metadata.get("tags", [])
            assert "hide-input" in tags or "hide-cell" in tags, (notebook.name, cell.source[:60])


# --- One notation for the whole book (book/notation.md) -------------------------------------------
#
# The papers give some letters two meanings: the NTM's add vector a_t is the DNC's allocation
# weighting, f is a free gate and a forward weighting, W the word size and every weight matrix.
# The book renames so that a symbol means one thing. The checks below read the math of every
# chapter's markdown, of the strings that code cells print or plot, and of the intro, and look
# for the old letters. A sentence that names a paper ("the NTM paper writes K[u, v]") may quote
# the paper's letter; a displayed equation never is such a sentence.

MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
CODE_STRING = re.compile(r"""[rfRF]{0,2}("[^"\n]*\$[^"\n]*"|'[^'\n]*\$[^'\n]*')""")


def normalise_math(math):
    r"""Math without dollars or f-string brace doubling, its spaces collapsed; a bold letter is
    always \mathbf{x} and a calligraphic one \mathcal{X}.
    """
    math = math.strip("$").replace("{{", "{").replace("}}", "}")
    for font, to in (("mathbf|boldsymbol", "mathbf"), ("mathcal", "mathcal")):
        math = re.sub(rf"\\(?:{font})\s*\{{\s*([A-Za-z])\s*\}}", rf"\\{to}{{\1}}", math)
        math = re.sub(rf"\\(?:{font})\s+([A-Za-z])", rf"\\{to}{{\1}}", math)
    math = re.sub(r"\s+", " ", math).strip()
    return re.sub(r"\s+(?=[_^\[(=+-])|(?<=[_^\[(=+-])\s+", "", math)


def sentences(text):
    """Units that may quote a paper's letter: table rows, display equations, prose sentences."""
    for k, part in enumerate(re.split(r"(\$\$.+?\$\$)", text, flags=re.S)):
        if k % 2:  # a displayed equation
            yield part
            continue
        for block in re.split(r"\n\s*\n|\n(?=\|)", part):
            yield from re.split(r"(?<=[.?!])\s+(?=[A-Z(])", block)


def quotes_a_paper(sentence):
    return not sentence.lstrip().startswith("$$") and re.search(r"\bpaper", sentence) is not None


def book_math(text):
    """(sentence, normalised math) for the math of a text, but not of sentences quoting a paper."""
    for sentence in sentences(text):
        if not quotes_a_paper(sentence):
            for math in MATH.findall(sentence):
                yield sentence, normalise_math(math)


def code_math(source):
    """(label, normalised math) for the string literals of a code cell that hold math."""
    for literal in CODE_STRING.findall(source):
        for math in MATH.findall(literal):
            yield literal, normalise_math(math)


LENGTH_L = re.compile(
    r"\dL(?![a-zA-Z])|(?<![\\{a-zA-Z])L[-+]\d|(?<![\\{a-zA-Z])L_\{?\\max|(?<![\\{a-zA-Z])L=\d")

LENGTH_WORDS = re.compile(r"\b(?:length|all)\s+\$L\$"
                          r"|\$L\$\s+(?:random|vectors|tokens|items|writes|steps|bits)")


def notation_problems(text, *, ntm=False, code=False):
    """What in a chapter's text (or a code cell's labels) uses a letter the book has renamed."""
    found = []
    pairs = list(code_math(text) if code else book_math(text))
    for context, math in pairs:
        where = f"${math}$ in {context.strip()[:70]!r}"
        if ntm and r"\mathbf{a}" in math:
            found.append(f"{where}: the NTM's write (add) vector is v_t; "
                         "a_t is the DNC's allocation")
        if re.search(r"(?<![A-Za-z\\])K[\[(]", math):
            found.append(f"{where}: cosine similarity is \\mathcal{{D}} throughout, not K")
        if re.search(r"(?<![A-Za-z\\{])f\^|\\hat\s*f\^", math):
            found.append(f"{where}: f^i is the forward weighting; "
                         f"the free gate is g^{{\\mathrm{{free}},i}}")
        if re.search(r"(?<![A-Za-z\\])W(_|\[|\^l)", math):
            found.append(f"{where}: W is the word size; a weight matrix is a \\Theta")
        if re.search(r"\\mathbf\{b\}_", math):
            found.append(f"{where}: b^i_t is the backward weighting; a bias is a \\theta")
        if re.search(r"\\(sigma|tanh)\(", math) and r"\mathbf{f}" in math:
            found.append(f"{where}: the LSTM forget gate is g^forget, not f")
        if LENGTH_L.search(math):
            found.append(f"{where}: L_t is the link matrix; a sequence length is n")
    if not code:
        for sentence in sentences(text):
            if LENGTH_WORDS.search(sentence) and not quotes_a_paper(sentence):
                found.append(f"{sentence.strip()[:70]!r}: L_t is the link matrix; "
                             "a sequence length is n")
    return found


def cosine_symbols(text):
    r"""The symbols a text gives the cosine similarity ("cosine similarity $\mathcal{D}$")."""
    return {normalise_math(m) for sentence in sentences(text) if not quotes_a_paper(sentence)
            for m in re.findall(r"cosine(?:\s+similarity)?\s+(\$[^$]+\$)", sentence)}


def chapter_sources(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    markdown = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return markdown, code


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_uses_the_books_notation(notebook):
    markdown, code = chapter_sources(notebook)
    ntm = notebook.name.startswith("01_")
    found = notation_problems(markdown, ntm=ntm)
    for source in code:
        found += notation_problems(source, ntm=ntm, code=True)
    assert not found, f"{notebook.name}: see book/notation.md\n" + "\n".join(found)


def test_book_pages_use_the_books_notation():
    for page in ("intro.md", "instructor_guide.md"):
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        found = notation_problems(text)
        assert not found, f"book/{page}: see book/notation.md\n" + "\n".join(found)


def test_cosine_similarity_has_one_symbol():
    texts = [chapter_sources(p)[0] for p in CHAPTERS]
    texts.append((ROOT / "book" / "intro.md").read_text(encoding="utf-8"))
    symbols = set().union(*(cosine_symbols(text) for text in texts))
    assert symbols == {r"\mathcal{D}"}, symbols


def test_notation_page_is_one_table():
    text = (ROOT / "book" / "notation.md").read_text(encoding="utf-8")
    headers = [line for line in text.splitlines() if re.match(r"\|\s*Symbol\s*\|", line)]
    assert len(headers) == 1, headers
    columns = [c.strip() for c in headers[0].strip("|").split("|")]
    expected = ["Symbol", "NTM paper", "DNC paper", "memlab name", "Shape", "Chapter"]
    assert columns == expected, columns
    for symbol in (r"\mathbf{v}_t", r"\mathcal{D}(\mathbf{u}, \mathbf{v})",
                   r"g^{\mathrm{free},i}_t",
                   r"\mathbf{f}^i_t", r"L_t", r"\Theta_y"):
        assert symbol in text, symbol


def test_notation_check_catches_the_old_letters():
    bad = {
        r"then the add vector $\mathbf a_t$ is added.": {"ntm": True},
        r"$$w^c_t(i) \propto \exp(\beta_t K[\mathbf k_t, \mathbf M_t(i)])$$": {},
        r"$$\psi_t = \prod_i (1 - f^i_t \mathbf{w}^{r,i}_{t-1})$$": {},
        r"Each read head has a free gate $f^i_t$.": {},
        r"the output $\mathbf{y}_t = W_y[\mathbf{h}_t; \mathbf{r}_t]$.": {},
        r"$$\mathbf{f}_t = \sigma(\Theta_f[\chi_t; \mathbf{h}_{t-1}] + \boldsymbol\theta_f)$$": {},
        r"$$\mathbf{i}_t = \sigma(\Theta_i[\chi_t; \mathbf{h}_{t-1}] + \mathbf{b}_i)$$": {},
        r"A copy of length $L$ has $8L$ bits.": {},
        r"the output at steps $L+1 .. 2L$.": {},
        r"A batch has $T = 2L_{\max} + 1$ steps.": {},
        r"The model reads $L$ tokens.": {},
    }
    for text, options in bad.items():
        assert notation_problems(text, **options), text
    assert notation_problems('ax.set(title=r"free gate $f^1$")', code=True)
    good = [
        r"then the write vector $\mathbf v_t$ is added (the NTM paper's add vector $\mathbf a_t$).",
        r"The NTM paper writes the cosine similarity $K[\mathbf u, \mathbf v]$.",
        r"$$\mathbf{w}^{r,i}_t = \pi^i_t[1]\, \mathbf{b}^i_t + \pi^i_t[3]\, \mathbf{f}^i_t$$",
        r"the link matrix $L$; then $L_t[i,j]$, $L_{t-1}$, $L_t^\top \mathbf{w}$ "
        r"and $L\mathbf{w}$.",
        r"The interface has $WR + 3W + 5R + 3$ entries, $\mathbf{k} \in \mathbb{R}^W$, $W = 16$.",
        r"the loss $\mathcal{L}$ of a copy of length $n$, $8n$ bits, steps $n+1, \dots, 2n$.",
        r"$$\psi_t = \prod_i (1 - g^{\mathrm{free},i}_t \mathbf{w}^{r,i}_{t-1})$$",
    ]
    for text in good:
        assert not notation_problems(text), (text, notation_problems(text))
    assert not notation_problems('ax.set(title=r"forward $f_t = L w^r_{t-1}$")', code=True)
    assert cosine_symbols(r"by cosine similarity $K$ and") == {"K"}
    assert notation_problems("The NTM paper writes it so:\n\n$$\nK[\\mathbf u, \\mathbf v]\n$$\n")
