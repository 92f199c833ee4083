"""The chapters' headings and the parts of the table of contents, checked in the sources.

The book numbers chapters and sections itself (``numbered: true`` in _toc.yml),
so a heading with a number of its own would read "1.2.1. 2.1 Content
addressing" on the site; a title naming a number ("DNC part 1") would contradict
the chapter's number.
"""

import re
import string

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
# The book renames so that a symbol means one thing, and book/notation.md lists every symbol. The
# checks below read the math of every chapter's markdown, of the strings that code cells print or
# plot, and of the intro: they look for the old letters and for the letters that once meant two
# things in the book itself (the shift range k beside the key k, H for hidden units and for heads,
# the logits under three names, two masks m, E for bit errors and for the matrix of ones, S for
# the shifts and for the link sharpening), for the conventions of the page (entries in square
# brackets, capitals never bold, the Greek vectors in bold), and for any symbol the page does not
# list. A sentence that names a paper ("the NTM paper writes K[u, v]") may quote the paper's
# letter; a displayed equation never is such a sentence.

MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
CODE_STRING = re.compile(r"""([rfRF]{0,2})("[^"\n]*\$[^"\n]*"|'[^'\n]*\$[^'\n]*')""")
GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
         "nu xi pi rho sigma tau upsilon phi varphi chi psi omega ell Gamma Delta Theta Lambda Xi "
         "Pi Sigma Upsilon Phi Psi Omega").split()
GREEK_VECTORS = ("xi", "psi", "chi", "upsilon", "phi", "pi")  # the Greek letters that name vectors
NOTATION_PAGE = ROOT / "book" / "notation.md"


def normalise_math(math, *, fstring=False):
    r"""Math without dollars (and, in an f-string, without brace doubling), its spaces collapsed;
    a bold letter is always \mathbf{x} and a calligraphic one \mathcal{X}.
    """
    math = math.strip("$")
    if fstring:  # a replacement field is a number; doubled braces are braces
        try:
            math = "".join(text + ("0" if field is not None else "")
                           for text, field, _, _ in string.Formatter().parse(math))
        except ValueError:
            math = math.replace("{{", "{").replace("}}", "}")
    for font, to in (("mathbf|boldsymbol", "mathbf"), ("mathcal", "mathcal")):
        math = re.sub(rf"\\(?:{font})\s*\{{\s*([A-Za-z])\s*\}}", rf"\\{to}{{\1}}", math)
        math = re.sub(rf"\\(?:{font})\s+([A-Za-z])", rf"\\{to}{{\1}}", math)
    math = re.sub(r"\\boldsymbol\s*\\([A-Za-z]+)", r"\\boldsymbol{\\\1}", math)
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
    for prefix, literal in CODE_STRING.findall(source):
        for math in MATH.findall(literal):
            yield literal, normalise_math(math, fstring="f" in prefix.lower())


def _closing_brace(text, start):
    """The index after the brace that closes the one at text[start]."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return len(text)


def without_scripts(math):
    r"""Math without its subscripts and superscripts (\Theta_\xi is a \Theta; t and r, i label)."""
    out, index = [], 0
    while index < len(math):
        if math[index] not in "_^":
            out.append(math[index])
            index += 1
            continue
        index += 1
        while index < len(math) and math[index] == " ":
            index += 1
        if index < len(math) and math[index] == "{":
            index = _closing_brace(math, index)
        elif index < len(math) and math[index] == "\\":
            index = re.match(r"\\[A-Za-z]*", math[index:]).end() + index
        else:
            index += 1
    return "".join(out)


SYMBOL = re.compile(
    r"\\(?P<accent>tilde|hat|bar)\s*(?:\{\s*(?P<inner>\\(?:mathbf|boldsymbol)\{\\?[A-Za-z]+\}"
    r"|\\[A-Za-z]+|[A-Za-z])\s*\}|(?P<bare>\\[A-Za-z]+|[A-Za-z]))"
    r"|\\(?P<font>mathbf|boldsymbol|mathcal|mathbb)\{\s*(?P<letter>\\?[A-Za-z]+)\s*\}"
    r"|\\(?P<command>[A-Za-z]+)|(?P<plain>[A-Za-z])")


def symbols(math):
    r"""The symbols of normalised math, by letter: a bold letter and its plain entries are one
    symbol (\mathbf{y}_t and y are "y"); an accent, a calligraphic or a blackboard letter is a
    symbol of its own ("\tilde{w}", "\mathcal{L}", "\mathbb{E}"). Indices in subscripts and
    superscripts, words in \text{} and named functions (\log, \operatorname{softmax}) are not
    symbols.
    """
    math = re.sub(r"\\(?:begin|end)\s*\{[^{}]*\}", " ", math)
    math = re.sub(r"\\(?:text|mathrm|operatorname)\s*\{[^{}]*\}", " ", math)
    found = []
    for match in SYMBOL.finditer(without_scripts(math)):
        if match["accent"]:
            inner = symbols(match["inner"] or match["bare"])
            found += [rf"\{match['accent']}{{{name}}}" for name in inner]
        elif match["font"] in ("mathcal", "mathbb"):
            found.append(rf"\{match['font']}{{{match['letter']}}}")
        elif match["font"]:
            letter = match["letter"]
            found.append(letter if not letter.startswith("\\") or letter[1:] in GREEK else "")
        elif match["command"]:
            found.append("\\" + match["command"] if match["command"] in GREEK else "")
        else:
            found.append(match["plain"])
    return {name for name in found if name}


# Each check: a pattern in normalised math, and what the book writes instead. The letters the
# papers use for other things (the old letters), then the letters that meant two things in the
# book, then the conventions of the notation page.
OLD_LETTERS = [
    (r"(?<![A-Za-z\\])K[\[(]", "cosine similarity is \\mathcal{D} throughout, not K"),
    (r"(?<![A-Za-z\\{])f\^|\\hat\s*f\^", "f^i is the forward weighting; the free gate is "
                                         "g^{\\mathrm{free},i}"),
    (r"(?<![A-Za-z\\])W(_|\[|\^l)", "W is the word size; a weight matrix is a \\Theta"),
    (r"\\mathbf\{b\}_", "b^i_t is the backward weighting; a bias is a \\theta"),
]
LENGTH_L = re.compile(
    r"\dL(?![a-zA-Z])|(?<![\\{a-zA-Z])L[-+]\d|(?<![\\{a-zA-Z])L_\{?\\max|(?<![\\{a-zA-Z])L=\d")
ONE_MEANING = [
    (r"(?<![A-Za-z\\{])\d+k(?![A-Za-z])|-k\\dots|\\dots\+k",
     "k is the key; an NTM head has S allowed shifts (S = 2 * shift_range + 1)"),
    (r"\dH(?![A-Za-z])|(?<![A-Za-z\\{])H(?:\(|[+=]|\\cdot|\\times)|(?:[(+]|\\times )H(?![A-Za-z])",
     "H counts the heads of a group; the controller's hidden units are U"),
    (r"\\hat\s*\{?\s*(?:\\mathbf\{y\}|y(?![A-Za-z]))",
     "the logits are \\mathbf{y}_t (a hat marks a raw interface entry)"),
    (r"\\sigma\((?:\\mathbf\{z\}|z(?![A-Za-z]))", "z is the target; the logits are \\mathbf{y}_t"),
    (r"(?<![A-Za-z\\{])m_\{?[bt]", "the task mask is \\mu_t; \\mathbf{m} is the look-up mask"),
    (r"(?<![A-Za-z\\{])E=(?:-|\\sum)", "E is the matrix of ones; the bit errors are \\mathcal{E}"),
    (r"(?<![A-Za-z\\{])S\(", "S is the number of shifts; the link sharpening is "
                             "\\operatorname{sharpen}(\\mathbf{w}, \\gamma)"),
    (r"\\hat\s*\{?\s*s(?![A-Za-z])|\^\{?(?:\\,)?s\}?(?![A-Za-z])",
     "\\mathbf{s}_t is the shift weighting; the link sharpness is \\gamma (raw \\hat\\gamma)"),
    (r"(?<![A-Za-z\\{])c_\{?b", "the cost in bits is C; \\mathbf{c} is a content weighting"),
    (r"(?<![A-Za-z\\{])b_\{[a-z],",
     "\\mathbf{b}^i_t is the backward weighting; a model's answered bits are \\mathbf{o}_t"),
    (r"(?<![A-Za-z\\{])O(?!\()", "O(\\cdot) is an order of growth; the output channels are Y"),
    (r"\\mathcal\{D\}\([^)]*\\mathbf\{[uv]\}", "\\mathbf{u}_t is the usage and \\mathbf{v}_t the "
                                                "write vector: \\mathcal{D}(\\mathbf{k}, M[i])"),
    (r"\\mathbf\{s\}\^\{?\\mathrm\{cell", "the LSTM's cell state is \\boldsymbol{\\ell}_t"),
    (r"\\varepsilon", "\\epsilon is memlab's epsilon, a small constant"),
    (r"(?<![A-Za-z\\{])p(?![A-Za-z_\[])", "\\mathbf{p}_t is the precedence"),
    (r"(?<![A-Za-z\\{])x(?![A-Za-z_\[])", "\\mathbf{x}_t is the input"),
]
CONVENTIONS = [
    (r"(?:\\mathbf\{[a-zA-Z]\}|\\tilde\{[^{}]*\}|\\tilde [A-Za-z]|(?<![A-Za-z\\{_^])[a-zM])"
     r"(?:\^\{[^{}]*\}|\^\w)?(?:_\{[^{}]*\}|_\w)?\((?:[ijk0-9+\- ]|\\delta)+\)",
     "an entry is indexed with square brackets: \\mathbf{w}_t[i], M_t[i]"),
    (r"(?<![A-Za-z\\{])[a-z]_\{[a-z],[a-z]", "an entry is indexed with square brackets: "
                                              "\\mathbf{y}_t[k]"),
    (r"\\mathbf\{[A-Z]\}", "a capital is a matrix or a size, never bold: M_t, L_t"),
]


def notation_problems(text, *, ntm=False, code=False):
    """What in a chapter's text (or a code cell's labels) breaks the notation of the book."""
    found = []
    pairs = list(code_math(text) if code else book_math(text))
    checks = OLD_LETTERS + ONE_MEANING + CONVENTIONS
    for context, math in pairs:
        where = f"${math}$ in {context.strip()[:70]!r}"
        if ntm and r"\mathbf{a}" in math:
            found.append(f"{where}: the NTM's write (add) vector is v_t; "
                         "a_t is the DNC's allocation")
        found += [f"{where}: {why}" for pattern, why in checks if re.search(pattern, math)]
        if re.search(r"\\(sigma|tanh)\(", math) and r"\mathbf{f}" in math:
            found.append(f"{where}: the LSTM forget gate is g^forget, not f")
        if LENGTH_L.search(math):
            found.append(f"{where}: L_t is the link matrix; a sequence length is n")
        bare = re.search(rf"(?<!\\boldsymbol\{{)\\({'|'.join(GREEK_VECTORS)})(?![A-Za-z])",
                         without_scripts(math))
        if bare and not code:  # matplotlib's labels keep their letters plain
            found.append(f"{where}: \\{bare[1]} is a vector, bold: \\boldsymbol{{\\{bare[1]}}}")
    if not code:
        for sentence in sentences(text):
            if LENGTH_WORDS.search(sentence) and not quotes_a_paper(sentence):
                found.append(f"{sentence.strip()[:70]!r}: L_t is the link matrix; "
                             "a sequence length is n")
    return found


LENGTH_WORDS = re.compile(r"\b(?:length|all)\s+\$L\$"
                          r"|\$L\$\s+(?:random|vectors|tokens|items|writes|steps|bits)")


def cosine_symbols(text):
    r"""The symbols a text gives the cosine similarity ("cosine similarity $\mathcal{D}$")."""
    return {normalise_math(m) for sentence in sentences(text) if not quotes_a_paper(sentence)
            for m in re.findall(r"cosine(?:\s+similarity)?\s+(\$[^$]+\$)", sentence)}


def chapter_sources(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    markdown = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return markdown, code


def table_rows(text):
    """The first cell of every row of the notation table, but the header and the group rows."""
    cells = [line.strip("|").split(" | ")[0].strip() for line in text.splitlines()
             if line.startswith("| ") and not line.startswith(("| Symbol", "| **"))]
    return [cell for cell in cells if "$" in cell]


def row_head(cell):
    r"""The symbol that a row of the table defines, if its first cell starts with one: its first
    math, up to "=", "(", "," or "[", without time or index subscripts and bold
    ("\mathbf{w}^w_t" is "w^w", "S(\mathbf{d}, s)_i" is "S", "\Theta_\xi" stays).
    """
    if not cell.startswith("$"):
        return None
    head = re.split(r"=|\(|,|\[", normalise_math(MATH.search(cell).group(0)))[0].strip()
    head = re.sub(r"_(\{[tijk0-9+\- ]*\}|[tijk0-9])", "", head)
    head = re.sub(r"\\(?:mathbf|boldsymbol)\{(\\?[A-Za-z]+)\}", r"\1", head)
    return head.replace(" ", "")


def listed_symbols(text):
    """The symbols of the notation table's first column."""
    return set().union(*(symbols(normalise_math(m)) for cell in table_rows(text)
                         for m in MATH.findall(cell)))


def unlisted_symbols(text, listed, *, code=False):
    """(symbol, math) for each symbol of a text's math that the notation table does not list."""
    pairs = code_math(text) if code else book_math(text)
    return sorted({(name, math) for _, math in pairs for name in symbols(math) - listed})


def bold_only_letters(text):
    """The lower-case Latin letters that the notation table lists in bold only: vectors."""
    math = [normalise_math(m) for cell in table_rows(text) for m in MATH.findall(cell)]
    bold = {letter for m in math for letter in re.findall(r"\\mathbf\{([a-z])\}", m)}
    plain = {name for m in math for name in symbols(re.sub(r"\\mathbf\{[a-z]\}", " ", m))}
    return bold - plain


def plain_vectors(text, bold_only):
    """(letter, math) for each vector of a text's math written in plain type ($w_t$, $k_t$)."""
    found = set()
    for _, math in book_math(text):
        math = re.sub(r"\\(?:text|mathrm|operatorname)\s*\{[^{}]*\}", " ", math)
        letters = re.findall(r"(?<![A-Za-z\\{_^])([a-z])(?=[_^])", math)
        found |= {(letter, math) for letter in letters if letter in bold_only}
        if re.search(r"(?<![A-Za-z\\{_^])k_\{?t", math):  # k is an index, never at a time step
            found.add(("k", math))
    return sorted(found)


# e is the one letter with two readings, which the page states: e^x and the erase vector.
TWO_READINGS = {"e"}


def test_notation_page_gives_each_symbol_one_row():
    cells = table_rows(NOTATION_PAGE.read_text(encoding="utf-8"))
    heads = [head for head in map(row_head, cells) if head]
    twice = {head for head in heads if heads.count(head) > 1} - TWO_READINGS
    assert not twice, f"book/notation.md defines these symbols in more than one row: {twice}"


def test_notation_page_follows_its_conventions():
    cells = "\n\n".join(table_rows(NOTATION_PAGE.read_text(encoding="utf-8")))
    found = notation_problems(cells)
    assert not found, "book/notation.md, first column:\n" + "\n".join(found)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_uses_the_books_notation(notebook):
    markdown, code = chapter_sources(notebook)
    ntm = notebook.name.startswith("01_")
    found = notation_problems(markdown, ntm=ntm)
    for source in code:
        found += notation_problems(source, ntm=ntm, code=True)
    assert not found, f"{notebook.name}: see book/notation.md\n" + "\n".join(found)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_uses_only_listed_symbols(notebook):
    listed = listed_symbols(NOTATION_PAGE.read_text(encoding="utf-8"))
    markdown, code = chapter_sources(notebook)
    found = unlisted_symbols(markdown, listed)
    for source in code:
        found += unlisted_symbols(source, listed, code=True)
    assert not found, (f"{notebook.name} uses symbols that book/notation.md does not list:\n"
                       + "\n".join(f"{name} in ${math}$" for name, math in found))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_writes_vectors_in_bold(notebook):
    bold_only = bold_only_letters(NOTATION_PAGE.read_text(encoding="utf-8"))
    found = plain_vectors(chapter_sources(notebook)[0], bold_only)
    assert not found, (f"{notebook.name}: a vector is bold (book/notation.md):\n"
                       + "\n".join(f"{letter} in ${math}$" for letter, math in found))


@pytest.mark.parametrize("page", ["intro.md", "instructor_guide.md", "course.md"])
def test_book_pages_use_the_books_notation(page):
    notation = NOTATION_PAGE.read_text(encoding="utf-8")
    text = (ROOT / "book" / page).read_text(encoding="utf-8")
    found = notation_problems(text)
    found += [f"{name} in ${math}$: not on the notation page"
              for name, math in unlisted_symbols(text, listed_symbols(notation))]
    found += [f"{letter} in ${math}$: a vector is bold"
              for letter, math in plain_vectors(text, bold_only_letters(notation))]
    assert not found, f"book/{page}: see book/notation.md\n" + "\n".join(found)


def test_cosine_similarity_has_one_symbol():
    texts = [chapter_sources(p)[0] for p in CHAPTERS]
    texts.append((ROOT / "book" / "intro.md").read_text(encoding="utf-8"))
    symbols_found = set().union(*(cosine_symbols(text) for text in texts))
    assert symbols_found == {r"\mathcal{D}"}, symbols_found


def test_notation_page_is_one_table():
    text = NOTATION_PAGE.read_text(encoding="utf-8")
    headers = [line for line in text.splitlines() if re.match(r"\|\s*Symbol\s*\|", line)]
    assert len(headers) == 1, headers
    columns = [c.strip() for c in headers[0].strip("|").split("|")]
    expected = ["Symbol", "NTM paper", "DNC paper", "memlab name", "Shape", "Chapter"]
    assert columns == expected, columns
    for symbol in (r"\mathbf{v}_t", r"\mathcal{D}(\mathbf{k}, M[i])", r"g^{\mathrm{free},i}_t",
                   r"\mathbf{f}^i_t", r"L_t", r"\Theta_y", r"$U$", r"\mu_t", r"\mathbf{z}_t",
                   r"\mathcal{E}", r"\boldsymbol{\ell}_t", r"\operatorname{sharpen}"):
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
        r"$$\mathbf{w}^{r,i}_t = \boldsymbol{\pi}^i_t[1]\, \mathbf{b}^i_t"
        r" + \boldsymbol{\pi}^i_t[3]\, \mathbf{f}^i_t$$",
        r"the link matrix $L$; then $L_t[i,j]$, $L_{t-1}$, $L_t^\top \mathbf{w}$ "
        r"and $L\mathbf{w}$.",
        r"The interface has $WR + 3W + 5R + 3$ entries, $\mathbf{k} \in \mathbb{R}^W$, $W = 16$.",
        r"the loss $\mathcal{L}$ of a copy of length $n$, $8n$ bits, steps $n+1, \dots, 2n$.",
        r"$$\boldsymbol\psi_t = \prod_i (1 - g^{\mathrm{free},i}_t \mathbf{w}^{r,i}_{t-1})$$",
    ]
    for text in good:
        assert not notation_problems(text), (text, notation_problems(text))
    assert not notation_problems('ax.set(title=r"forward $f_t = L w^r_{t-1}$")', code=True)
    assert cosine_symbols(r"by cosine similarity $K$ and") == {"K"}
    assert notation_problems("The NTM paper writes it so:\n\n$$\nK[\\mathbf u, \\mathbf v]\n$$\n")


# Each clash the book once had, as a chapter, the intro or the notation page wrote it, and what
# the check says about it.
CLASHES = {
    "the shift range k beside the key": ("S allowed shifts", [
        r"moving by $-k \dots +k$ slots", r"one read head costs $W + 2k + 4$ numbers"]),
    "H for hidden units": ("hidden units are U", [
        r"$H = 64$ hidden units", r"the LSTM has $4H(X + 1) + 4H(RW + H)$"]),
    "the logits under three names": ("the logits are", [
        r"logits $\hat{\mathbf{y}}_t$, one per target bit", r"the probability $\sigma(z_{t,k})$",
        r"$$C = -\sum_t y_{t,k} \log_2 \sigma(\hat y_{t,k})$$"]),
    "the target y": ("square brackets", [r"$$E = \sum_t [b_{t,k} \neq y_{t,k}]$$"]),
    "two masks m": ("the task mask is \\mu_t", [
        r"the mask $m_t$ is 1", r"$$\mathcal{L} = \sum_b \sum_t m_{b,t}$$"]),
    "E for bit errors": ("the bit errors are", [
        r"$$E = \sum_t \mu_t \sum_k [\mathbf{o}_t[k] \neq \mathbf{z}_t[k]]$$"]),
    "S for the shifts and the sharpening": ("link sharpening is", [
        r"$$S(\mathbf{d}, s)_i = d_i^{\,s} / \sum_j d_j^{\,s}$$"]),
    "s for the shift and the sharpness": ("link sharpness is", [
        r"a sharpness $s = \operatorname{oneplus}(\hat s)$", r"$d_i^s / \sum_j d_j^s$"]),
    "O for the output channels": ("output channels are Y", [r"one logit per bit $k = 1..O$"]),
    "b for answered bits": ("answered bits", [r"$b_{t,k} = [\mathbf{y}_t[k] > 0]$"]),
    "c_b for the cost": ("the cost in bits is C", [r"the cost $c_b$ of each sequence"]),
    "indexing with parentheses": ("square brackets", [
        r"reads $\mathbf{r}_t = \sum_i w_t(i)\, M_t(i)$",
        r"$$\tilde w_t(i) = \sum_j w^g_t(j)\, s_t(i - j)$$"]),
    "a bold memory": ("never bold", [r"a memory matrix $\mathbf M_t$ of $N$ rows"]),
    "Greek vectors in plain type": ("is a vector, bold", [
        r"the interface vector $\xi_t = \Theta_\xi \mathbf{h}_t$", r"retention $\psi_t$",
        r"the input $\chi_t$", r"the part $\upsilon_t = \Theta_\upsilon \mathbf{h}_t$",
        r"the free list $\phi_t$", r"the read mode $\pi^i_t[2]$"]),
    "u and v as any two vectors": ("the usage", [r"$\mathcal{D}(\mathbf{u}, \mathbf{v}) = \cos$"]),
    "s for the LSTM's cell": ("cell state", [r"the cell $\mathbf{s}^{\mathrm{cell}}_t$"]),
    "p as a probability": ("precedence", [r"a p-value $p = 1/8$", r"it costs $-\log_2 p$ bits"]),
    "x as any number": ("is the input", [r"$\operatorname{oneplus}(x) = 1 + \log(1 + e^x)$"]),
    "two epsilons": ("memlab's epsilon", [r"a fraction $\varepsilon$ of its peak"]),
}


@pytest.mark.parametrize("clash", CLASHES, ids=list(CLASHES))
def test_notation_check_catches_each_clash(clash):
    says, texts = CLASHES[clash]
    for text in texts:
        found = notation_problems(text)
        assert any(says in problem for problem in found), (text, found)


def test_notation_check_passes_the_books_letters():
    good = [
        r"$\boldsymbol{\xi}_t = \Theta_\xi \mathbf{h}_t$ and $\boldsymbol\psi_t$,"
        r" with $\Theta_\upsilon$",
        r"$$\mathcal{E} = \sum_t \mu_t \sum_k \big[\, \mathbf{o}_t[k] \neq \mathbf{z}_t[k] \,\big],"
        r" \qquad \mathbf{o}_t[k] = \big[\, \mathbf{y}_t[k] > 0 \,\big]$$",
        r"$S$ allowed shifts, offsets $-\lfloor S/2 \rfloor, \dots, \lfloor S/2 \rfloor$;"
        r" step $n + 1 + k$",
        r"the LSTM has $4U(X + 1) + 4U(RW + U)$ and costs $O(N^2)$ per step",
        r"$$\operatorname{sharpen}(\mathbf{w}, \gamma)[i] = \mathbf{w}[i]^\gamma"
        r" / \sum_j \mathbf{w}[j]^\gamma$$",
        r"$$M_t = M_{t-1} \circ (E - \mathbf{w}^w_t \mathbf{e}_t^\top) + \mathbf{w}^w_t"
        r" \mathbf{v}_t^\top$$",
        r"$$\tilde{\mathbf w}_t[i] = \sum_j \mathbf w^g_t[j]\, \mathbf s_t[i - j]$$ and"
        r" $\mathcal{D}(\mathbf{k}, M[i])$, $e^{20}$, $\sigma(\mathbf{y}_t[k])$",
        r"$$\mathrm{BCE}(y, z) = -\,z \ln \sigma(y) - (1 - z) \ln\bigl(1 - \sigma(y)\bigr)$$",
    ]
    for text in good:
        assert not notation_problems(text), (text, notation_problems(text))


def test_symbol_list_check_catches_unlisted_symbols():
    listed = listed_symbols(NOTATION_PAGE.read_text(encoding="utf-8"))
    assert {"y", r"\xi", r"\mathcal{D}", r"\tilde{w}", r"\hat{\beta}", "U", r"\mu"} <= listed
    found = unlisted_symbols(r"a new letter $\zeta_t$ and $Q$, and the raw sharpness $\hat s$.",
                             listed)
    assert {name for name, _ in found} == {r"\zeta", "Q", r"\hat{s}"}, found
    assert not unlisted_symbols(r"$\mathbf{y}_t[k]$, $\mathcal{L}$ and $L_t[i, j]$", listed)
    table = ("| $S$, shifts | | | | | 1 |\n| $S(\\mathbf{d}, s)_i$, sharpening | | | | | 9 |\n"
             "| $\\mathbf{s}_t$, shift weighting | | | | | 1 |\n| $s$, sharpness | | | | | 9 |\n")
    heads = [row_head(cell) for cell in table_rows(table)]
    assert heads == ["S", "S", "s", "s"], heads
    bold_only = bold_only_letters(NOTATION_PAGE.read_text(encoding="utf-8"))
    assert {"w", "r", "x", "s", "a"} <= bold_only, bold_only
    assert not {"g", "y", "e", "k"} & bold_only, bold_only
    old_intro = r"reads $r_t = \sum_i w_t(i)\, M_t(i)$, a key $k_t$ and the input $x_t$"
    assert {letter for letter, _ in plain_vectors(old_intro, bold_only)} == {"r", "w", "k", "x"}
    assert not plain_vectors(r"a gate $g_t$, a logit $y$, $\mathbf{w}^w_t[i]$, $e^{20}$, $d_k$",
                             bold_only)
