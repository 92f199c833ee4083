"""Written questions and "Check your understanding" in every chapter of _toc.yml.

A course run from the book needs more than "implement X". Every chapter has:

- at least two written questions (a derivation, a "predict, then run" or a "what breaks if"),
  each a read-only markdown cell headed "### Question N.k: ..." and a markdown answer cell that
  nbgrader grades by hand, whose whole source is the model answer in a dropdown admonition
  (folded on the site; nbgrader's release and `memlab.assign`'s student version replace it
  with "YOUR ANSWER HERE");
- a "## Check your understanding" section at its end, with 3 to 5 short questions ("**1.** ..."),
  each followed by its answer in a dropdown admonition.

Chapters 1 to 9 must have both. A later chapter listed in _toc.yml is skipped, with a message,
until its file says "Check your understanding": from then on it is held to the same rules.
"""
from __future__ import annotations

import copy
import re

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from book_support import chapters
from memlab import assign

CHAPTERS = chapters()
DONE = {f"{n:02d}" for n in range(1, 10)}  # chapters that may not be skipped
CHECK_HEADING = "## Check your understanding"
CHECK_QUESTION = re.compile(r"^\*\*(\d+)\.\*\*\s+\S", re.MULTILINE)
ADMONITION = re.compile(r"^```\{admonition\}(.*)$")
FENCE = re.compile(r"^(`{3,}|~{3,})")
ALLOWED_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points",
                "checksum", "cell_type"}
QUESTIONS_PER_CHAPTER = 2
CHECKS_PER_CHAPTER = (3, 5)


def read(path):
    return nbformat.read(str(path), as_version=4)


def chapter_or_skip(path):
    """The chapter's notebook, or a skip for a chapter past 9 that is still being written."""
    nb = read(path)
    if assign.chapter_id(path) not in DONE and not any(
            "Check your understanding" in c.source for c in nb.cells):
        pytest.skip(f"{path.name} has no '{CHECK_HEADING}' section yet (the chapter is being "
                    f"written); its questions are checked once it has one")
    return nb


def admonitions(source):
    """(title, options, body) of each admonition of a markdown source.

    A ValueError if a fence is left open, a fence opens inside an admonition, or an
    admonition has no title (MyST needs one).
    """
    found, lines, i = [], source.split("\n"), 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        closing = (j for j in range(i + 1, len(lines)) if lines[j].strip() == fence.group(1))
        end = next(closing, None)
        if end is None:
            raise ValueError(f"fence {lines[i]!r} is never closed")
        opening = ADMONITION.match(lines[i])
        if opening:
            if not opening.group(1).strip():
                raise ValueError("an admonition without a title")
            body = lines[i + 1:end]
            options = [line for line in body if line.startswith(":")]
            if any(FENCE.match(line) for line in body):
                raise ValueError(f"a fence inside the admonition {opening.group(1).strip()!r}")
            found.append((opening.group(1).strip(), options, "\n".join(body[len(options):])))
        i = end + 1
    return found


def is_dropdown(options):
    return any(re.fullmatch(r":class:\s*dropdown\s*", line) for line in options)


def check_section_problems(nb, chapter):
    """What is wrong with the 'Check your understanding' section of a chapter."""
    starts = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "markdown" and c.source.lstrip().startswith(CHECK_HEADING)]
    if len(starts) != 1:
        return [f"{len(starts)} cells begin with {CHECK_HEADING!r}, not 1"]
    cells = [nb.cells[starts[0]]]
    for cell in nb.cells[starts[0] + 1:]:
        if cell.cell_type == "markdown" and re.match(r"#{1,2}\s", cell.source):
            break
        cells.append(cell)
    text = "\n\n".join(c.source for c in cells if c.cell_type == "markdown")
    # the section in order: questions ("**1.** ...") and folded answers
    events = sorted([(m.start(), "Q", int(m.group(1))) for m in CHECK_QUESTION.finditer(text)]
                    + [(m.start(), "A", 0) for m in re.finditer(r"^```\{admonition\}", text,
                                                                  re.MULTILINE)])
    problems = []
    try:
        folded = [is_dropdown(options) for _, options, _ in admonitions(text)]
    except ValueError as error:
        return [str(error)]
    if not all(folded):
        problems.append("an answer of 'Check your understanding' is not a dropdown")
    numbers = [n for _, kind, n in events if kind == "Q"]
    low, high = CHECKS_PER_CHAPTER
    if not low <= len(numbers) <= high:
        problems.append(f"{len(numbers)} questions in '{CHECK_HEADING}', not {low} to {high}")
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"questions numbered {numbers}, not 1, 2, 3, ...")
    if [kind for _, kind, _ in events] != ["Q", "A"] * len(numbers):
        problems.append("each question must be followed by exactly one folded answer")
    wrap_up = [i for i, c in enumerate(nb.cells) if "## Wrap-up" in c.source]
    if wrap_up and starts[0] < wrap_up[-1]:
        problems.append(f"'{CHECK_HEADING}' comes before the wrap-up; it ends the chapter")
    return problems


# --------------------------------------------------------------------------- the chapters

@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_written_questions(path):
    nb = chapter_or_skip(path)
    chapter = assign.chapter_id(path)
    questions = assign.find_questions(nb)
    assert len(questions) >= QUESTIONS_PER_CHAPTER, (
        f"{path.name}: {len(questions)} written question(s), "
        f"at least {QUESTIONS_PER_CHAPTER} wanted")
    assert assign.question_problems(nb) == []
    headings = [re.match(r"### Question (\d+)\.(\d+): \S", nb.cells[q.cell].source)
                for q in questions]
    assert all(headings), [nb.cells[q.cell].source.splitlines()[0] for q in questions]
    assert [(int(h.group(1)), int(h.group(2))) for h in headings] == \
        [(int(chapter), k) for k in range(1, len(questions) + 1)], "numbered N.1, N.2, ... in order"
    wrap_up = next((i for i, c in enumerate(nb.cells) if "## Wrap-up" in c.source), len(nb.cells))
    for question in questions:
        text = nb.cells[question.cell].source.split("\n", 1)[1].strip()
        assert len(text) > 80, f"{path.name}: question {question.name} has hardly any text"
        assert question.answer_cell < wrap_up, \
            f"{path.name}: question {question.name} comes after the wrap-up, not after its section"
        (title, options, body), = admonitions(nb.cells[question.answer_cell].source)
        assert title == "Answer" and is_dropdown(options), question.name
        assert len(body.strip()) > 150, f"{path.name}: the answer to {question.name} is too short"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_written_questions_have_nbgrader_metadata(path):
    nb = chapter_or_skip(path)
    chapter = assign.chapter_id(path)
    for question in assign.find_questions(nb):
        asked = nb.cells[question.cell].metadata["nbgrader"]
        answer = nb.cells[question.answer_cell].metadata["nbgrader"]
        assert asked == {"grade": False, "locked": True, "solution": False,
                         "grade_id": question.name, "schema_version": 3}, asked
        assert set(answer) <= ALLOWED_KEYS and answer["schema_version"] == 3
        assert (answer["grade"], answer["solution"], answer["locked"]) == (True, True, False)
        assert answer["points"] > 0 and answer["grade_id"] == question.name + assign.ANSWER_SUFFIX
        assert re.fullmatch(rf"{chapter}-q-[a-z0-9]+(-[a-z0-9]+)*", question.name), question.name


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_nbgrader_accepts_and_clears_the_answers(path):
    nb = chapter_or_skip(path)
    pytest.importorskip("nbgrader")
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.preprocessors import ClearSolutions

    MetadataValidator().validate_nb(copy.deepcopy(nb))  # schema, points, unique grade ids
    released, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    student = assign.student_notebook(nb)
    for question in assign.find_questions(nb):
        assert released.cells[question.answer_cell].source == ClearSolutions().text_stub
        assert student.cells[question.answer_cell].source == ClearSolutions().text_stub
        assert released.cells[question.cell].source == nb.cells[question.cell].source


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_check_your_understanding(path):
    nb = chapter_or_skip(path)
    problems = check_section_problems(nb, assign.chapter_id(path))
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_admonitions_are_well_formed(path):
    """A fence left open or an admonition without a title would break the strict book build."""
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "markdown":
            try:
                found = admonitions(cell.source)
            except ValueError as error:
                pytest.fail(f"{path.name}, cell {index}: {error}")
            for title, options, body in found:
                assert is_dropdown(options) and body.strip(), (path.name, index, title)


# --------------------------------------------------------------------------- the checks themselves

def dropdown(text="The answer, folded."):
    return "```{admonition} Answer\n:class: dropdown\n" + text + "\n```"


def synthetic_chapter(answers=3):
    items = "\n\n".join(f"**{n}.** Question {n}?\n\n{dropdown()}" for n in range(1, answers + 1))
    return new_notebook(cells=[
        new_markdown_cell("# A chapter"),
        new_markdown_cell("## Wrap-up\n\n- done.\n\n## Going further\n\n1. More."),
        new_markdown_cell(f"{CHECK_HEADING}\n\nShort questions.\n\n{items}"),
    ])


def test_check_section_problems_are_found():
    assert check_section_problems(synthetic_chapter(), "01") == []
    assert "2 questions" in " ".join(check_section_problems(synthetic_chapter(2), "01"))
    nb = synthetic_chapter()
    nb.cells[2].source = nb.cells[2].source.replace(dropdown(), "The answer, not folded.", 1)
    assert "exactly one folded answer" in " ".join(check_section_problems(nb, "01"))
    nb = synthetic_chapter()
    nb.cells[2].source = nb.cells[2].source.replace(":class: dropdown", ":class: note", 1)
    assert "not a dropdown" in " ".join(check_section_problems(nb, "01"))
    nb = synthetic_chapter()
    nb.cells[2].source = nb.cells[2].source.replace("**2.**", "**4.**")
    assert "numbered" in " ".join(check_section_problems(nb, "01"))
    nb = synthetic_chapter()
    nb.cells = [nb.cells[0], nb.cells[2], nb.cells[1]]
    assert "before the wrap-up" in " ".join(check_section_problems(nb, "01"))
    assert "not 1" in " ".join(check_section_problems(new_notebook(cells=[]), "01"))


def test_admonition_parser():
    assert admonitions("Text.\n\n" + dropdown("$$\nx\n$$")) == [
        ("Answer", [":class: dropdown"], "$$\nx\n$$")]
    assert admonitions("```bash\npython -m memlab\n```") == []
    for broken in ("```{admonition} Answer\n:class: dropdown\nnever closed",
                   "```{admonition}\n:class: dropdown\nno title\n```"):
        with pytest.raises(ValueError):
            admonitions(broken)
