"""The course plan (book/course.md) agrees with the chapters, the instructor guide and memlab.

Its nbgrader commands are run in tests/test_nbgrader.py.
"""

import contextlib
import importlib
import io
import re

import nbformat
import pytest

from book_support import ROOT, chapters, sync_badges

COURSE = ROOT / "book" / "course.md"
GUIDE = ROOT / "book" / "instructor_guide.md"
CHAPTERS = chapters()
SESSION_MINUTES = 120  # "nine sessions of about two hours"


def syllabus() -> list[list[str]]:
    """The cells of each row of the syllabus table."""
    text = COURSE.read_text(encoding="utf-8").split("## Syllabus", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| Week | Session | Chapter |"), rows[0]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def chapter_rows() -> list[list[str]]:
    return [row for row in syllabus() if row[2].startswith("{doc}")]


def numbers(notebook, kind: str) -> list[str]:
    """'1.1', '1.2', ... of the chapter's '### Exercise N.k' or '### Question N.k' headings."""
    nb = nbformat.read(str(notebook), as_version=4)
    return [m for cell in nb.cells if cell.cell_type == "markdown"
            for m in re.findall(rf"^### {kind} (\d+\.\d+)\b", cell.source, re.M)]


def guide_times() -> dict[int, tuple[int, int]]:
    """{chapter: (reading, exercises) in minutes} from the guide's "Time on a CPU" table."""
    found = re.findall(r"^\| (\d+)\. [^|]+\| about (\d+) min \| (\d+) min \|",
                       GUIDE.read_text(encoding="utf-8"), re.M)
    return {int(n): (int(reading), int(exercises)) for n, reading, exercises in found}


def test_the_course_page_is_in_the_book():
    entries = sync_badges.toc_entries(ROOT)
    assert entries.index("book/course") == entries.index("book/instructor_guide") + 1
    for page in ("intro.md", "instructor_guide.md"):
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        assert "{doc}`course plan <course>`" in text, f"book/{page} does not link the course plan"


def test_every_chapter_once_in_order():
    listed = [re.fullmatch(r"\{doc\}`\.\./(notebooks/\w+)`", row[2]).group(1)
              for row in chapter_rows()]
    assert listed == [f"notebooks/{p.stem}" for p in CHAPTERS]


def test_sessions_run_in_order():
    rows = syllabus()
    weeks = [int(row[0]) for row in rows]
    sessions = [int(row[1]) for row in rows]
    assert weeks == sorted(weeks) and set(weeks) == {1, 2, 3}
    assert sorted(set(sessions)) == list(range(1, max(sessions) + 1)) == list(range(1, 10))
    assert sessions == sorted(sessions)
    assert rows[-1][2] == "Project presentations"
    for session in set(sessions):
        assert len({w for w, s in zip(weeks, sessions) if s == session}) == 1, session


@pytest.mark.parametrize("index", range(len(CHAPTERS)), ids=[p.stem for p in CHAPTERS])
def test_exercises_questions_and_times(index):
    notebook, row = CHAPTERS[index], chapter_rows()[index]
    exercises = [n.strip() for n in row[3].split(",")]
    questions = [n.strip() for n in row[4].split(",")]
    assert exercises == numbers(notebook, "Exercise"), notebook.name
    assert questions == numbers(notebook, "Question"), notebook.name
    reading, practice = map(int, re.fullmatch(r"(\d+) \+ (\d+) min", row[5]).groups())
    assert guide_times()[index + 1] == (reading, practice), (
        f"{notebook.name}: the course plan and the instructor guide give different times")


def test_sessions_fit_in_two_hours():
    minutes: dict[str, int] = {}
    for row in chapter_rows():
        reading, practice = map(int, re.findall(r"\d+", row[5]))
        minutes[row[1]] = minutes.get(row[1], 0) + reading + practice
    assert max(minutes.values()) <= SESSION_MINUTES, minutes


def test_what_the_projects_name_exists():
    text = COURSE.read_text(encoding="utf-8")
    commands = (ROOT / "checkpoints" / "COMMANDS.md").read_text(encoding="utf-8")
    runs = re.findall(r"`(\w+_seed\d)`\s+in\s+`checkpoints/COMMANDS\.md`", text)
    assert sorted(runs) == ["dnc_copy10_seed1", "key_value_two_way_dnc_m_seed1"], runs
    for name in runs:
        assert f"--out checkpoints/{name}.pt" in commands, name
    registry = importlib.import_module("memlab.shipped").registry()
    for name in re.findall(r'memlab\.pretrained\("(\w+)"\)', text):
        assert name in registry or f"{name}.pt" in registry, name
    from memlab.__main__ import build_parser

    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
        build_parser().parse_args(["train", "--help"])
    options = set(re.findall(r"--[a-z][a-z-]+", out.getvalue()))
    for flag in set(re.findall(r"--[a-z][a-z-]+", text.split("## Projects", 1)[1])):
        assert flag in options, f"python -m memlab train has no {flag}"
    for dotted in set(re.findall(r"`(memlab(?:\.\w+)+)`", text)):
        module, name = dotted.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), name), dotted
    from memlab.models import DNCTrace

    assert "read_masks" in DNCTrace._fields
    generalisation = (ROOT / "benchmarks" / "generalisation.py").read_text(encoding="utf-8")
    assert "MODELS: dict" in generalisation and "\ndef build(" in generalisation


def test_three_seeds_a_side_cannot_reach_p_005():
    """Project B's claim: the smallest two-sided Mann-Whitney p of 3 runs against 3 is 0.1."""
    from scipy.stats import mannwhitneyu

    assert "cannot fall below p = 0.1" in COURSE.read_text(encoding="utf-8")
    p = mannwhitneyu([1, 2, 3], [4, 5, 6], alternative="two-sided", method="exact").pvalue
    assert p == pytest.approx(0.1)
