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
    "Beyond the DNC": ["08", "09"],  # chapter 9 may not exist yet
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
    assert not numbered, f"{notebook.name}: the book numbers sections itself; drop the numbers of {numbered}"


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
