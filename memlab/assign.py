"""Course assignments from the chapters: student versions, layout checks and grading.

An exercise in a chapter is a code cell holding a function whose body lies
between two marker lines, followed by a code cell that checks it::

    def my_shift(weights, shift):          # the exercise cell (tagged hide-input)
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

    checks.shift(my_shift)                 # the check cell right after it

A written question, graded by hand, is a read-only markdown cell headed
``### Question N.k: ...`` followed by a markdown answer cell that nbgrader
grades by hand (``solution`` and ``grade`` true, ``points`` set, grade id
``<question's grade id>-answer``), whose whole source is the model answer in a
dropdown admonition: folded on the web page, cleared in a student version.

Command line::

    python -m memlab.assign SRC OUT            # write student versions of SRC's notebooks to OUT
    python -m memlab.assign check SRC          # verify the exercise layout of SRC's notebooks
    python -m memlab.assign grade SUBMISSIONS  # run submitted notebooks, print a pass/fail table
    python -m memlab.assign gradebook [COURSE] # per-exercise scores from an nbgrader gradebook

In a student version every solution region (markers included) becomes
``raise NotImplementedError`` at the marker's indentation (or, outside a
function, ``# YOUR CODE HERE`` and ``raise NotImplementedError()``), the
exercise cells lose their ``hide-input`` tag, every written answer becomes
``YOUR ANSWER HERE`` (as in nbgrader's release), and every output is cleared.
"""
from __future__ import annotations

import argparse
import copy
import csv
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HIDE_TAG = "hide-input"
CHECK_SUFFIX = "-check"   # nbgrader grade id of a check cell: "<chapter>-<name>-check"
ANSWER_SUFFIX = "-answer"  # grade id of a written answer: "<chapter>-q-<slug>-answer"
TEXT_STUB = "YOUR ANSWER HERE"  # what nbgrader's release leaves of a written answer
QUESTION_HEADING = re.compile(r"^###\s+Question\s+\d+\.\d+:", re.MULTILINE)
DROPDOWN = re.compile(r"^```\{admonition\}[^\n]*\n:class: dropdown[ \t]*$", re.MULTILINE)
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # the grade ids nbgrader accepts
CHECK_CALL = re.compile(r"\bchecks\.([A-Za-z_]\w*)\s*\(")
DEF_LINE = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)

PathLike = Union[str, Path]


# --------------------------------------------------------------------------- finding exercises

def _is_marker(line: str, marker: str) -> bool:
    return line.strip().startswith(marker)


def has_solution(cell) -> bool:
    """Whether a cell is an exercise cell: a code cell with a solution marker."""
    return cell.cell_type == "code" and any(
        _is_marker(line, BEGIN) or _is_marker(line, END) for line in cell.source.splitlines())


@dataclass
class Exercise:
    """One exercise of a notebook: the cell with the solution and the cell checking it."""

    cell: int                     # index of the exercise cell
    function: str | None       # the function it defines, if any
    check_cell: int | None     # index of the next code cell
    checks: list = field(default_factory=list)  # names called as checks.<name>(...) there

    @property
    def name(self) -> str:
        """The exercise's name: its check, else its function, else its cell."""
        if self.checks:
            return self.checks[0]
        return self.function or f"cell{self.cell}"


def find_exercises(nb) -> list[Exercise]:
    """The exercises of a notebook, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if not has_solution(cell):
            continue
        match = DEF_LINE.search(cell.source)
        check_cell = next((j for j in range(index + 1, len(nb.cells))
                           if nb.cells[j].cell_type == "code"), None)
        names = CHECK_CALL.findall(nb.cells[check_cell].source) if check_cell is not None else []
        found.append(Exercise(index, match.group(1) if match else None, check_cell, names))
    return found


def is_written_answer(cell) -> bool:
    """Whether a cell is a written answer: a markdown cell that nbgrader grades by hand."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


@dataclass
class Question:
    """A written question of a notebook: the question cell and the answer cell after it."""

    cell: int                # index of the question cell (the cell before the answer)
    answer_cell: int         # index of the answer cell
    grade_id: str            # the answer's nbgrader grade id, "<chapter>-q-<slug>-answer"
    points: float | None     # the answer's points

    @property
    def name(self) -> str:
        """The question's name: its answer's grade id without "-answer"."""
        return exercise_of(self.grade_id)


def find_questions(nb) -> list[Question]:
    """The written questions of a notebook, in order."""
    return [Question(index - 1, index, str(cell.metadata["nbgrader"].get("grade_id", "")),
                     cell.metadata["nbgrader"].get("points"))
            for index, cell in enumerate(nb.cells) if is_written_answer(cell)]


def question_problems(nb) -> list[str]:
    """What is wrong with the written questions of a notebook (and with any nbgrader grade id).

    Each answer cell must have points, a grade id ending in "-answer", its model answer in a
    dropdown admonition, and right before it a read-only "### Question" cell whose grade id is
    the answer's without "-answer"; each "### Question" cell must have its answer after it.
    nbgrader's own rules are checked too: a markdown cell it grades is also a solution cell, and
    grade ids are unique and made of letters, digits, - and _.
    """
    problems = []
    for question in find_questions(nb):
        where = f"cell {question.answer_cell}"
        answer = nb.cells[question.answer_cell]
        if not question.grade_id.endswith(ANSWER_SUFFIX):
            problems.append(f"{where}: the answer's grade id {question.grade_id!r} does not end in "
                            f"{ANSWER_SUFFIX!r}")
        points = question.points
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            problems.append(f"{where}: a written answer needs points > 0, not {points!r}")
        if answer.metadata["nbgrader"].get("locked"):
            problems.append(f"{where}: the answer cell is locked, so no one can write in it")
        if not DROPDOWN.search(answer.source):
            problems.append(f"{where}: the model answer is not in a dropdown admonition")
        before = nb.cells[question.cell] if question.cell >= 0 else None
        meta = before.metadata.get("nbgrader", {}) if before is not None else {}
        heading = before is not None and before.cell_type == "markdown" and \
            QUESTION_HEADING.search(before.source)
        if not heading:
            problems.append(f"{where}: the cell before a written answer must be its "
                            f"'### Question N.k:' text")
        elif not meta.get("locked") or meta.get("grade") or meta.get("solution"):
            problems.append(f"cell {question.cell}: the question cell must be read-only for "
                            f"nbgrader (locked, not graded, not a solution)")
        elif meta.get("grade_id") != question.name:
            problems.append(f"cell {question.cell}: the question's grade id is "
                            f"{meta.get('grade_id')!r}, its answer's is {question.grade_id!r}")
    ids = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and QUESTION_HEADING.search(cell.source) and not (
                index + 1 < len(nb.cells) and is_written_answer(nb.cells[index + 1])):
            problems.append(f"cell {index}: a '### Question' cell must be followed by its written "
                            f"answer")
        if cell.cell_type == "markdown" and bool(meta.get("grade")) != bool(meta.get("solution")):
            problems.append(f"cell {index}: a markdown cell that nbgrader grades must also be a "
                            f"solution cell, and the reverse")
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            grade_id = meta.get("grade_id")
            if not isinstance(grade_id, str) or not GRADE_ID.match(grade_id):
                problems.append(f"cell {index}: nbgrader grade id {grade_id!r} is not letters, "
                                f"digits, - and _")
            ids.append(grade_id)
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate nbgrader grade ids: {', '.join(duplicates)}")
    return problems


def find_check_cells(nb) -> list[tuple[int, list]]:
    """(cell index, check names) for every code cell that calls checks.<name>(...).

    This finds the exercises of a student's notebook, whose markers are gone.
    """
    return [(index, CHECK_CALL.findall(cell.source)) for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]


def chapter_id(path: PathLike) -> str:
    """'01' for notebooks/01_tiny_ntm_lab.ipynb: the leading number, else the file's stem."""
    stem = Path(path).stem
    match = re.match(r"^(\d+)", stem)
    return match.group(1) if match else re.sub(r"[^A-Za-z0-9_-]", "_", stem)


def layout_problems(nb, known_checks: Sequence[str] | None = None) -> list[str]:
    """What is wrong with the exercises of a notebook, one line each (empty when all is well).

    Each exercise cell must hold balanced marker lines, carry the hide-input tag and
    be followed by a code cell that calls checks.<name>(...), with a known name; the
    written questions must pass `question_problems`.
    """
    if known_checks is None:
        from . import checks
        known_checks = checks.__all__
    problems = []
    for exercise in find_exercises(nb):
        cell = nb.cells[exercise.cell]
        where = f"cell {exercise.cell}"
        try:
            strip_solutions(cell.source)
        except ValueError as error:
            problems.append(f"{where}: {error}")
        if HIDE_TAG not in cell.metadata.get("tags", []):
            problems.append(f"{where}: the exercise cell is not tagged {HIDE_TAG!r}")
        if exercise.check_cell is None:
            problems.append(f"{where}: no code cell after the exercise to run its check")
        elif not exercise.checks:
            problems.append(f"{where}: the next code cell (cell {exercise.check_cell}) does not "
                            f"call checks.<name>(...)")
        else:
            unknown = [n for n in exercise.checks if n not in known_checks]
            if unknown:
                problems.append(f"cell {exercise.check_cell}: unknown check(s) "
                                f"{', '.join('checks.' + n for n in unknown)}")
            if exercise.function and exercise.function not in nb.cells[exercise.check_cell].source:
                problems.append(f"cell {exercise.check_cell}: the check does not receive "
                                f"{exercise.function}, the function of cell {exercise.cell}")
    return problems + question_problems(nb)


# --------------------------------------------------------------------------- student versions

def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _inside_function(lines: Sequence[str], index: int, indent: str) -> bool:
    """Whether line ``index`` (indented by ``indent``) lies in the body of a def."""
    level = len(indent)
    for line in reversed(lines[:index]):
        stripped = line.strip()
        if level == 0:
            return False
        if not stripped or stripped.startswith("#"):
            continue
        if len(_indent(line)) < level:
            if re.match(r"(async\s+)?def\s", stripped):
                return True
            level = len(_indent(line))
    return False


def strip_solutions(source: str) -> str:
    """The source with each solution region (markers included) replaced by a stub.

    Inside a function the stub is ``raise NotImplementedError`` at the marker's
    indentation; elsewhere it is ``# YOUR CODE HERE`` then ``raise NotImplementedError()``.
    Raises ValueError on a marker without its partner or nested regions.
    """
    lines = source.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if _is_marker(line, END):
            raise ValueError(f"line {i + 1}: {END!r} without a {BEGIN!r} before it")
        if not _is_marker(line, BEGIN):
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not _is_marker(lines[j], END):
            if _is_marker(lines[j], BEGIN):
                raise ValueError(f"line {j + 1}: a second {BEGIN!r} before the {END!r} "
                                 f"of line {i + 1}")
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: {BEGIN!r} without an {END!r} after it")
        indent = _indent(line)
        if _inside_function(lines, i, indent):
            out.append(indent + "raise NotImplementedError")
        else:
            out += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
        i = j + 1
    return "\n".join(out)


def student_notebook(nb):
    """A student version of a notebook (a new notebook; ``nb`` is left as it is)."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        if is_written_answer(cell):
            cell.source = TEXT_STUB
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if has_solution(cell):
            try:
                cell.source = strip_solutions(cell.source)
            except ValueError as error:
                raise ValueError(f"cell {index}: {error}") from None
            tags = [t for t in cell.metadata.get("tags", []) if t != HIDE_TAG]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
    nb.metadata.pop("widgets", None)
    return nb


def _notebooks(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))


def make_student_versions(src: PathLike, out: PathLike) -> list[Path]:
    """Write the student version of every notebook of ``src`` (a folder or one notebook) to ``out``.

    Returns the paths written. ``out`` must not be the folder of the sources.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise ValueError(f"src must be a notebook or a folder of notebooks, {src} does not exist")
    notebooks = _notebooks(src)
    if not notebooks:
        raise ValueError(f"src holds no notebook (*.ipynb): {src}")
    if out.resolve() == (src if src.is_dir() else src.parent).resolve():
        raise ValueError(f"out must differ from the folder of the sources ({out}): the student "
                         f"versions would overwrite the solutions")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        try:
            student = student_notebook(nb)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        target = out / path.name
        nbformat.write(student, str(target))
        written.append(target)
    return written


# --------------------------------------------------------------------------- grading

@dataclass
class Result:
    """The outcome of one exercise of one submitted notebook."""

    student: str
    notebook: str
    exercise: str     # "<chapter>-<check>", like the nbgrader grade_id
    passed: bool
    message: str = ""


def _error_of(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), output.get("evalue", "")
            return f"{name}: {value.splitlines()[0]}" if value.strip() else name
    return None


def require_folder(path: PathLike, what: str) -> Path:
    """``path`` as a Path when it is an existing folder, else a ValueError that names it.

    A relative path is read from the current folder, which the message also names.
    """
    path = Path(path)
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        where = "" if path.is_absolute() else f" (read as {path.resolve()}, from {Path.cwd()})"
        raise ValueError(f"{what} {path} {state}{where}")
    return path


def require_kernel(kernel_name: str) -> None:
    """A ValueError, listing the installed kernels, when Jupyter has no kernel ``kernel_name``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        known = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise ValueError(f"no Jupyter kernel named {kernel_name!r} (installed: {known})") from None


def run_notebook(path: PathLike, cwd: PathLike | None = None, timeout: int = 600,
                 kernel_name: str = "python3"):
    """Execute a notebook cell by cell, going on after errors; returns (notebook, failure).

    failure is None, or a line saying why the run stopped early (a cell timeout or a
    dead kernel); the cells that ran keep their outputs. A missing notebook or ``cwd``
    folder is a ValueError that names the path.
    """
    from nbclient import NotebookClient

    if not Path(path).is_file():
        raise ValueError(f"no notebook {path} ({Path(path).resolve()})")
    if cwd is not None:
        require_folder(cwd, "cwd")
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    try:
        client.execute()
    except Exception as error:  # noqa: BLE001 - timeouts, dead kernels: report, do not crash
        return nb, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return nb, None


def grade_notebook(path: PathLike, student: str, cwd: PathLike | None = None,
                   timeout: int = 600, kernel_name: str = "python3") -> list[Result]:
    """Run one submitted notebook; one Result per check cell (passed: it ran without error).

    The exercise of a check cell is named "<chapter>-<first check it calls>".
    """
    nb, failure = run_notebook(path, cwd=cwd, timeout=timeout, kernel_name=kernel_name)
    chapter = chapter_id(path)
    results = []
    for index, names in find_check_cells(nb):
        cell = nb.cells[index]
        error = _error_of(cell)
        if error is None and cell.get("execution_count") is None:
            error = failure or "the check cell did not run"
        results.append(Result(student, Path(path).stem, f"{chapter}-{names[0]}", error is None,
                              error or ""))
    return results


def _submissions(root: Path) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: root/STUDENT/**/*.ipynb, or root/*.ipynb (student = file stem)."""
    pairs = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        relative = path.relative_to(root)
        pairs.append((relative.parts[0] if len(relative.parts) > 1 else path.stem, path))
    return pairs


def grade(submissions: PathLike, cwd: PathLike | None = None, timeout: int = 600,
          kernel_name: str = "python3") -> list[Result]:
    """Grade every notebook under ``submissions`` (see _submissions for the layout).

    A missing ``submissions`` or ``cwd`` folder, or an unknown kernel, is a ValueError
    raised before any notebook runs.
    """
    root = require_folder(submissions, "submissions")
    if cwd is not None:
        require_folder(cwd, "cwd")
    require_kernel(kernel_name)
    results = []
    for student, path in _submissions(root):
        results += grade_notebook(path, student, cwd=cwd, timeout=timeout, kernel_name=kernel_name)
    return results


def format_grades(results: Sequence[Result]) -> str:
    """A plain-text table: one row per student, one column per exercise, and the score."""
    students = list(dict.fromkeys(r.student for r in results))
    exercises = list(dict.fromkeys(r.exercise for r in results))
    cell = {(r.student, r.exercise): ("pass" if r.passed else "FAIL") for r in results}
    rows = []
    for student in students:
        marks = [cell.get((student, e), "-") for e in exercises]
        rows.append([student] + marks + [f"{marks.count('pass')}/{len(exercises)}"])
    return _table(["student"] + exercises + ["score"], rows)


def _table(header: list, rows: list) -> str:
    widths = [max(len(str(row[k])) for row in [header] + rows) for k in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
             for row in [header] + rows]
    return "\n".join(lines)


def check_csv_target(path: PathLike, header: Sequence[str]) -> Path:
    """``path`` when a CSV file with ``header`` may be written there, else a ValueError.

    An existing file may be replaced only when it begins with the same header, so that the
    grades another tool wrote there (nbgrader export's grades.csv) are never overwritten.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"the CSV file {path} is a folder")
    if path.exists():
        with open(path, newline="") as handle:
            first = next(csv.reader(handle), [])
        if first != list(header):
            raise ValueError(f"{path} exists and holds other data (its first row is "
                             f"{','.join(first)!r}); name another CSV file or remove it")
    if not path.parent.is_dir():
        raise ValueError(f"the folder of the CSV file {path} does not exist")
    return path


def write_csv(path: PathLike, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """Write ``rows`` under ``header`` to the CSV file ``path`` (see check_csv_target)."""
    path = check_csv_target(path, header)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------- nbgrader's gradebook

GRADE_HEADER = ["student", "notebook", "exercise", "passed", "message"]
SCORE_HEADER = ["assignment", "student", "notebook", "exercise", "score", "max_score", "message"]


@dataclass
class Score:
    """The score of one graded cell of one notebook in an nbgrader gradebook."""

    assignment: str  #: nbgrader's name of the assignment, e.g. "ch02"
    student: str  #: the student's id in the gradebook
    notebook: str  #: the notebook's name, without ".ipynb"
    exercise: str  #: "<chapter>-<check>": the cell's grade id without "-check" (or "-answer")
    score: float  #: nbgrader's score: the manual grade if any, else the autograder's
    max_score: float  #: the cell's points
    message: str = ""  #: first line of the error in the autograded notebook, if any


def exercise_of(grade_id: str) -> str:
    """The exercise of a grade id: the grade id without "-check" or "-answer".

    '02-update_link' for the check cell's '02-update_link-check', '02-q-allocation-sum' for
    the written answer's '02-q-allocation-sum-answer'.
    """
    for suffix in (CHECK_SUFFIX, ANSWER_SUFFIX):
        if grade_id.endswith(suffix):
            return grade_id[: -len(suffix)]
    return grade_id


def _autograded_errors(path: Path) -> tuple[dict, dict]:
    """({grade id: cell index}, {grade id: first error line}) of an autograded notebook."""
    if not path.is_file():
        return {}, {}
    nb = nbformat.read(str(path), as_version=4)
    order, messages = {}, {}
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            order[grade_id] = index
            error = _error_of(cell)
            if error:
                messages[grade_id] = error
    return order, messages


def gradebook_scores(course: PathLike = ".", db_url: str | None = None) -> list[Score]:
    """Every graded cell's score in the gradebook of an nbgrader course, after autograde.

    ``course`` is the course folder (the one with ``nbgrader_config.py``); the gradebook is
    ``db_url``, else its ``gradebook.db``. The scores are nbgrader's (a manual grade replaces
    the autograder's, extra credit is added). Each message is the first line of the error
    that the cell printed in ``autograded/<student>/<assignment>/<notebook>.ipynb``.
    Needs nbgrader; opens the gradebook read-only in effect (nothing is added to it).
    """
    course = require_folder(course, "the course folder")
    if db_url is None:
        db = course / "gradebook.db"
        if not db.is_file():
            raise ValueError(f"no gradebook {db} ({db.resolve()}): run nbgrader autograde in "
                             f"the course folder first, or name the database with --db")
        db_url = f"sqlite:///{db.resolve()}"
    try:
        from nbgrader.api import Gradebook
    except ImportError:
        raise ValueError("reading the gradebook needs nbgrader (pip install nbgrader)") from None
    scores = []
    with Gradebook(db_url, course_id="") as gradebook:  # "": nbgrader's default, adds no course
        for assignment in gradebook.assignments:
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in submission.notebooks:
                    path = (course / "autograded" / submission.student.id / assignment.name
                            / f"{notebook.name}.ipynb")
                    order, messages = _autograded_errors(path)
                    grades = sorted(notebook.grades,
                                    key=lambda g: (order.get(g.name, len(order)), g.name))
                    for grade in grades:
                        scores.append(Score(assignment.name, submission.student.id,
                                            notebook.name, exercise_of(grade.name),
                                            float(grade.score), float(grade.max_score),
                                            messages.get(grade.name, "")))
    return scores


def _number(value: float) -> str:
    return f"{value:g}"


def format_scores(scores: Sequence[Score]) -> str:
    """A plain-text table: one row per student, one column per exercise, and the total."""
    students = list(dict.fromkeys(s.student for s in scores))
    exercises = list(dict.fromkeys(s.exercise for s in scores))
    most = {s.exercise: s.max_score for s in scores}
    cell = {(s.student, s.exercise): s.score for s in scores}
    rows = []
    for student in students:
        marks = [cell.get((student, e)) for e in exercises]
        total = sum(m for m in marks if m is not None)
        rows.append([student] + ["-" if m is None else _number(m) for m in marks]
                    + [f"{_number(total)}/{_number(sum(most[e] for e in exercises))}"])
    return _table(["student"] + exercises + ["score"], rows)


# --------------------------------------------------------------------------- command line

COMMANDS = ("student", "check", "grade", "gradebook")


def _checkpoints_env() -> None:
    """Make a relative MEMLAB_CHECKPOINTS absolute, so that the kernels read the same folder.

    The kernels run in other folders. A ValueError when it names no folder.
    """
    from .shipped import FOLDER_ENV

    value = os.environ.get(FOLDER_ENV, "").strip()
    if value:
        folder = require_folder(Path(value).expanduser(), FOLDER_ENV)
        os.environ[FOLDER_ENV] = str(folder.resolve())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m memlab.assign``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else "student"
    if argv and argv[0] == command:
        argv = argv[1:]
    prog = "python -m memlab.assign"
    if command == "student":
        parser = argparse.ArgumentParser(prog=prog, description=(
            "Write student versions of the notebooks in SRC to OUT: solution regions become "
            "raise NotImplementedError, outputs are cleared. (Other commands: check, grade, "
            "gradebook.)"))
        parser.add_argument("src", help="a folder of notebooks (or one notebook)")
        parser.add_argument("out", help="the folder to write the student versions to")
        args = parser.parse_args(argv)
        try:
            written = make_student_versions(args.src, args.out)
        except ValueError as error:
            parser.error(str(error))
        for path in written:
            print(path)
        return 0
    if command == "check":
        parser = argparse.ArgumentParser(prog=f"{prog} check", description=(
            "Verify the exercise layout of the notebooks in SRC (markers, hide-input tag, "
            "check cell, written questions and their nbgrader metadata); exit 1 on any problem."))
        parser.add_argument("src", help="a folder of notebooks (or one notebook)")
        args = parser.parse_args(argv)
        bad = 0
        for path in _notebooks(Path(args.src)):
            nb = nbformat.read(str(path), as_version=4)
            for problem in layout_problems(nb):
                print(f"{path}: {problem}")
                bad += 1
            print(f"{path}: {len(find_exercises(nb))} exercise(s), "
                  f"{len(find_questions(nb))} written question(s)")
        return 1 if bad else 0
    if command == "gradebook":
        parser = argparse.ArgumentParser(prog=f"{prog} gradebook", description=(
            "Print the score of every exercise of every student from the gradebook of an nbgrader "
            "course (after nbgrader autograde); nbgrader export gives only each assignment's "
            "total."))
        parser.add_argument("course", nargs="?", default=".",
                            help="the nbgrader course folder (default: the current folder)")
        parser.add_argument("--db", help="the gradebook's database URL (default: "
                                         "sqlite:///COURSE/gradebook.db)")
        parser.add_argument("--csv", metavar="FILE", help=(
            f"also write {','.join(SCORE_HEADER)} rows to FILE (e.g. nbgrader_exercises.csv; "
            f"an existing file of other data, such as nbgrader export's grades.csv, is refused)"))
        args = parser.parse_args(argv)
        try:
            if args.csv:
                check_csv_target(args.csv, SCORE_HEADER)
            scores = gradebook_scores(args.course, db_url=args.db)
            if not scores:
                print(f"no graded submission in the gradebook of {args.course}")
                return 1
            print(format_scores(scores))
            if args.csv:
                write_csv(args.csv, SCORE_HEADER,
                          [[s.assignment, s.student, s.notebook, s.exercise, _number(s.score),
                            _number(s.max_score), s.message] for s in scores])
        except ValueError as error:
            parser.error(str(error))
        return 0
    parser = argparse.ArgumentParser(prog=f"{prog} grade", description=(
        "Run every submitted notebook (SUBMISSIONS/STUDENT/ with the student's notebooks at any "
        "depth, or SUBMISSIONS/*.ipynb with one notebook per student) and print which exercise "
        "checks pass. Stops with exit status 2, before any notebook runs, when a folder is "
        "missing or the kernel unknown."))
    parser.add_argument("submissions", help="the folder of submitted notebooks")
    parser.add_argument("--cwd", help="run the notebooks from this existing folder (default: each "
                                      "notebook's own folder)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--kernel", default="python3", help="the Jupyter kernel (default python3)")
    parser.add_argument("--csv", metavar="FILE", help=(
        f"also write {','.join(GRADE_HEADER)} rows to FILE (e.g. memlab_grades.csv; an "
        f"existing file of other data, such as nbgrader export's grades.csv, is refused)"))
    args = parser.parse_args(argv)
    try:
        if args.csv:  # a CSV path that will be refused is refused before the notebooks run
            check_csv_target(args.csv, GRADE_HEADER)
        if args.cwd is not None:
            require_folder(args.cwd, "--cwd")
        _checkpoints_env()
        results = grade(args.submissions, cwd=args.cwd, timeout=args.timeout,
                        kernel_name=args.kernel)
    except ValueError as error:
        parser.error(str(error))
    if not results:
        print(f"no exercise found in the notebooks under {args.submissions}")
        return 1
    print(format_grades(results))
    if args.csv:
        write_csv(args.csv, GRADE_HEADER,
                  [[r.student, r.notebook, r.exercise, int(r.passed), r.message] for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(main())
