"""The instructors' tools on top of nbgrader: memlab's exercise layout and per-exercise tables.

nbgrader writes the student versions, runs the notebooks and holds the scores; this module adds
checks of the layout of the chapters' exercises and written questions, and tables with one
column per exercise. It needs the ``instructor`` extra (``pip install 'memlab[instructor]'``).

An exercise is a code cell holding a function whose body lies between nbgrader's
``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines (the cell tagged hide-input), followed by a
code cell that checks it, ``checks.shift(my_shift)``. A written question is a read-only markdown
cell headed ``### Question N.k: ...`` followed by a markdown answer cell that nbgrader grades by
hand (grade id ``<question's grade id>-answer``), whose whole source is the model answer in a
dropdown admonition.

Command line::

    python -m memlab.assign SRC OUT            # write student versions of SRC's notebooks to OUT
    python -m memlab.assign check SRC          # verify the exercise layout of SRC's notebooks
    python -m memlab.assign grade SUBMISSIONS  # run submitted notebooks, print a pass/fail table
    python -m memlab.assign gradebook [COURSE] # per-exercise scores from an nbgrader gradebook
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

try:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbgrader import preprocessors, utils
    from nbgrader.api import Gradebook
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.nbgraderformat.common import SchemaMismatchError, ValidationError
except ImportError as error:  # the package alone: no instructor extra
    raise ImportError(f"memlab.assign needs nbgrader ({error}): "
                      f"pip install 'memlab[instructor]'") from error

from .shipped import FOLDER_ENV

BEGIN = preprocessors.ClearSolutions.begin_solution_delimeter.default_value  # "BEGIN SOLUTION"
END = preprocessors.ClearSolutions.end_solution_delimeter.default_value
INVALID = (ValidationError, SchemaMismatchError)  # what nbgrader's metadata validator raises
HIDE_TAG = "hide-input"
CHECK_SUFFIX = "-check"    # nbgrader grade id of a check cell: "<chapter>-<name>-check"
ANSWER_SUFFIX = "-answer"  # grade id of a written answer: "<chapter>-q-<slug>-answer"
QUESTION_HEADING = re.compile(r"^###\s+Question\s+\d+\.\d+:", re.MULTILINE)
DROPDOWN = re.compile(r"^```\{admonition\}[^\n]*\n:class: dropdown[ \t]*$", re.MULTILINE)
CHECK_CALL = re.compile(r"\bchecks\.([A-Za-z_]\w*)\s*\(")
DEF_LINE = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


# --------------------------------------------------------------------------- the layout

def has_solution(cell) -> bool:
    """Whether a cell is an exercise cell: a code cell with a solution delimiter."""
    return cell.cell_type == "code" and (BEGIN in cell.source or END in cell.source)


@dataclass
class Exercise:
    """One exercise of a notebook: the cell with the solution and the cell checking it."""

    cell: int                  #: index of the exercise cell
    function: str | None       #: the function it defines, if any
    check_cell: int | None     #: index of the next code cell
    checks: list = field(default_factory=list)  #: names called as checks.<name>(...) there

    @property
    def name(self) -> str:
        """The exercise's name: its check, else its function, else its cell."""
        return self.checks[0] if self.checks else self.function or f"cell{self.cell}"


def find_exercises(nb) -> list[Exercise]:
    """The exercises of a notebook, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if has_solution(cell):
            match = DEF_LINE.search(cell.source)
            after = next((j for j in range(index + 1, len(nb.cells))
                          if nb.cells[j].cell_type == "code"), None)
            names = CHECK_CALL.findall(nb.cells[after].source) if after is not None else []
            found.append(Exercise(index, match.group(1) if match else None, after, names))
    return found


def is_written_answer(cell) -> bool:
    """Whether a cell is a written answer: a markdown cell that nbgrader grades by hand."""
    return cell.cell_type == "markdown" and bool(utils.is_solution(cell) and utils.is_grade(cell))


@dataclass
class Question:
    """A written question of a notebook: the question cell and the answer cell after it."""

    cell: int                #: index of the question cell (the cell before the answer)
    answer_cell: int         #: index of the answer cell
    grade_id: str            #: the answer's nbgrader grade id, "<chapter>-q-<slug>-answer"
    points: float | None     #: the answer's points

    @property
    def name(self) -> str:
        """The question's name: its answer's grade id without "-answer"."""
        return exercise_of(self.grade_id)


def find_questions(nb) -> list[Question]:
    """The written questions of a notebook, in order."""
    return [Question(index - 1, index, str(cell.metadata["nbgrader"].get("grade_id", "")),
                     cell.metadata["nbgrader"].get("points"))
            for index, cell in enumerate(nb.cells) if is_written_answer(cell)]


def find_check_cells(nb) -> list[tuple[int, list]]:
    """(cell index, check names) of every code cell that calls checks.<name>(...)."""
    return [(index, CHECK_CALL.findall(cell.source)) for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]


def chapter_id(path: str | Path) -> str:
    """'01' for notebooks/01_tiny_ntm_lab.ipynb: the leading number, else the file's stem."""
    stem = Path(path).stem
    match = re.match(r"^(\d+)", stem)
    return match.group(1) if match else re.sub(r"[^A-Za-z0-9_-]", "_", stem)


def _unpaired_markers(source: str) -> bool:
    """Whether the solution delimiters fail to alternate BEGIN, END (nbgrader keeps a lone END)."""
    begins = [BEGIN in line for line in source.splitlines() if BEGIN in line or END in line]
    return begins != [True, False] * (len(begins) // 2)


def question_problems(nb) -> list[str]:
    """What is wrong with the written questions of a notebook, one line each.

    An answer cell needs points, a grade id ending in "-answer", its model answer in a dropdown,
    and right before it a read-only "### Question" cell of the same grade id without "-answer".
    """
    problems = []
    for question in find_questions(nb):
        where, answer = f"cell {question.answer_cell}", nb.cells[question.answer_cell]
        if not question.grade_id.endswith(ANSWER_SUFFIX):
            problems.append(f"{where}: the answer's grade id {question.grade_id!r} does not end in "
                            f"{ANSWER_SUFFIX!r}")
        if question.points == 0:
            problems.append(f"{where}: a written answer worth 0 points")
        if answer.metadata["nbgrader"].get("locked"):
            problems.append(f"{where}: the answer cell is locked, so no one can write in it")
        if not DROPDOWN.search(answer.source):
            problems.append(f"{where}: the model answer is not in a dropdown admonition")
        before = nb.cells[question.cell] if question.cell >= 0 else None
        meta = before.metadata.get("nbgrader", {}) if before is not None else {}
        if before is None or before.cell_type != "markdown" or \
                not QUESTION_HEADING.search(before.source):
            problems.append(f"{where}: the cell before a written answer must be its "
                            f"'### Question N.k:' text")
        elif not meta.get("locked") or meta.get("grade") or meta.get("solution"):
            problems.append(f"cell {question.cell}: the question cell must be read-only for "
                            f"nbgrader (locked, not graded, not a solution)")
        elif meta.get("grade_id") != question.name:
            problems.append(f"cell {question.cell}: the question's grade id is "
                            f"{meta.get('grade_id')!r}, its answer's is {question.grade_id!r}")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and QUESTION_HEADING.search(cell.source) and not (
                index + 1 < len(nb.cells) and is_written_answer(nb.cells[index + 1])):
            problems.append(f"cell {index}: a '### Question' cell must be followed by its written "
                            f"answer")
    return problems


def nbgrader_problems(nb) -> list[str]:
    """What nbgrader's metadata validator finds wrong: each cell's first problem, then the ids."""
    validator, problems = MetadataValidator(), []
    for index, cell in enumerate(nb.cells):
        try:
            validator.validate_cell(cell)
        except INVALID as error:
            problems.append(f"cell {index}: nbgrader: {str(error).splitlines()[0]}")
    if not problems:
        try:
            validator.validate_nb(nb)  # unique grade ids
        except ValidationError as error:
            problems.append(f"nbgrader: {str(error).splitlines()[0]}")
    return problems


def layout_problems(nb, known_checks: Sequence[str] | None = None) -> list[str]:
    """What is wrong with the exercises of a notebook, one line each (empty when all is well).

    An exercise cell needs paired solution delimiters, the hide-input tag and a next code cell
    calling a known checks.<name>(...) with its function; then `question_problems` and
    nbgrader's metadata validator.
    """
    if known_checks is None:
        from . import checks
        known_checks = checks.__all__
    problems = []
    for exercise in find_exercises(nb):
        cell, where = nb.cells[exercise.cell], f"cell {exercise.cell}"
        if _unpaired_markers(cell.source):
            problems.append(f"{where}: the {BEGIN!r} and {END!r} lines do not pair up")
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
    return problems + question_problems(nb) + nbgrader_problems(nb)


# --------------------------------------------------------------------------- student versions

def student_notebook(nb):
    """A new student version of a notebook, by the preprocessors of generate_assignment.

    Solutions become ``raise NotImplementedError()``, written answers "YOUR ANSWER HERE", outputs
    are cleared and exercise cells lose their hide-input tag. A ValueError on unpaired delimiters
    or invalid nbgrader metadata.
    """
    nb = copy.deepcopy(nb)
    for exercise in find_exercises(nb):
        if _unpaired_markers(nb.cells[exercise.cell].source):
            raise ValueError(f"cell {exercise.cell}: the {BEGIN!r} and {END!r} lines do not "
                             f"pair up")
        meta = nb.cells[exercise.cell].metadata
        meta["tags"] = [tag for tag in meta.get("tags", []) if tag != HIDE_TAG]
        if not meta["tags"]:
            del meta["tags"]
    resources: dict = {}
    for step in (preprocessors.LockCells(), preprocessors.ClearSolutions(enforce_metadata=False),
                 preprocessors.ClearOutput(), preprocessors.ClearHiddenTests(),
                 preprocessors.ClearMarkScheme(), preprocessors.ComputeChecksums(),
                 preprocessors.CheckCellMetadata()):
        try:
            nb, resources = step.preprocess(nb, resources)
        except (RuntimeError, *INVALID) as error:
            raise ValueError(f"nbgrader's {type(step).__name__}: {error}") from None
    return nb


def _notebooks(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))


def make_student_versions(src: str | Path, out: str | Path) -> list[Path]:
    """Write the student version of each notebook of ``src`` to ``out``; return the paths.

    ``src`` is a folder or one notebook; ``out`` must not be the folder of the sources.
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
    for path in notebooks:
        try:
            student = student_notebook(nbformat.read(str(path), as_version=4))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        nbformat.write(student, str(out / path.name))
    return [out / path.name for path in notebooks]


# --------------------------------------------------------------------------- grading

@dataclass
class Result:
    """The outcome of one exercise of one submitted notebook."""

    student: str
    notebook: str
    exercise: str     #: "<chapter>-<check>", like the nbgrader grade id
    passed: bool
    message: str = ""


def _error_of(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), output.get("evalue", "")
            return f"{name}: {value.splitlines()[0]}" if value.strip() else name
    return None


def require_folder(path: str | Path, what: str) -> Path:
    """``path`` as a Path when it is an existing folder, else a ValueError that names it."""
    path = Path(path)
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        where = "" if path.is_absolute() else f" (read as {path.resolve()}, from {Path.cwd()})"
        raise ValueError(f"{what} {path} {state}{where}")
    return path


def require_kernel(kernel_name: str) -> None:
    """A ValueError, listing the installed kernels, when Jupyter has no kernel ``kernel_name``."""
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        known = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise ValueError(f"no Jupyter kernel named {kernel_name!r} (installed: {known})") from None


def kernel_env() -> dict[str, str]:
    """This process's environment with MEMLAB_CHECKPOINTS made absolute (it must be a folder)."""
    env = dict(os.environ)
    value = env.get(FOLDER_ENV, "").strip()
    if value:
        env[FOLDER_ENV] = str(require_folder(Path(value).expanduser(), FOLDER_ENV).resolve())
    return env


def run_notebook(path: str | Path, cwd: str | Path | None = None, timeout: int = 600,
                 kernel_name: str = "python3", env: dict[str, str] | None = None):
    """Run a notebook with nbgrader's Execute, going on after errors; returns (notebook, failure).

    failure is None, or why the run stopped early (a dead kernel); a cell past ``timeout``
    seconds gets a CellTimeoutError. ``env`` defaults to `kernel_env`.
    """
    if not Path(path).is_file():
        raise ValueError(f"no notebook {path} ({Path(path).resolve()})")
    if cwd is not None:
        require_folder(cwd, "cwd")
    nb = nbformat.read(str(path), as_version=4)
    client = preprocessors.Execute(timeout=timeout, kernel_name=kernel_name,
                                   resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    client.nb = nb  # run by nbclient's execute(), which passes env to the kernel
    try:
        client.execute(env=kernel_env() if env is None else env)
    except Exception as error:  # noqa: BLE001 - a dead kernel: report, do not crash
        return nb, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return nb, None


def grade_notebook(path: str | Path, student: str, cwd: str | Path | None = None,
                   timeout: int = 600, kernel_name: str = "python3",
                   env: dict[str, str] | None = None) -> list[Result]:
    """Run one submitted notebook; one Result per check cell (passed: it ran without error).

    The exercise of a check cell is named "<chapter>-<first check it calls>".
    """
    nb, failure = run_notebook(path, cwd=cwd, timeout=timeout, kernel_name=kernel_name, env=env)
    results = []
    for index, names in find_check_cells(nb):
        error = _error_of(nb.cells[index])
        if error is None and nb.cells[index].get("execution_count") is None:
            error = failure or "the check cell did not run"
        results.append(Result(student, Path(path).stem, f"{chapter_id(path)}-{names[0]}",
                              error is None, error or ""))
    return results


def _submissions(root: Path) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: root/STUDENT/**/*.ipynb, or root/*.ipynb (student = file stem)."""
    pairs = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" not in path.parts:
            relative = path.relative_to(root)
            pairs.append((relative.parts[0] if len(relative.parts) > 1 else path.stem, path))
    return pairs


def grade(submissions: str | Path, cwd: str | Path | None = None, timeout: int = 600,
          kernel_name: str = "python3") -> list[Result]:
    """Grade every notebook under ``submissions``: ``STUDENT/**/*.ipynb``, or ``*.ipynb`` one each.

    A missing folder or kernel is a ValueError raised before any notebook runs.
    """
    root = require_folder(submissions, "submissions")
    if cwd is not None:
        require_folder(cwd, "cwd")
    require_kernel(kernel_name)
    env = kernel_env()
    return [result for student, path in _submissions(root)
            for result in grade_notebook(path, student, cwd=cwd, timeout=timeout,
                                         kernel_name=kernel_name, env=env)]


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
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
                     for row in [header] + rows)


def check_csv_target(path: str | Path, header: Sequence[str]) -> Path:
    """``path`` when a CSV file with ``header`` may be written there, else a ValueError.

    An existing file is replaced only when it begins with the same header (never nbgrader's).
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


def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
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
    """The grade id without "-check" or "-answer": '02-update_link' for '02-update_link-check'."""
    for suffix in (CHECK_SUFFIX, ANSWER_SUFFIX):
        if grade_id.endswith(suffix):
            return grade_id[: -len(suffix)]
    return grade_id


def _autograded_errors(path: Path) -> tuple[dict, dict]:
    """({grade id: cell index}, {grade id: first error line}) of an autograded notebook."""
    if not path.is_file():
        return {}, {}
    order, messages = {}, {}
    for index, cell in enumerate(nbformat.read(str(path), as_version=4).cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            order[grade_id] = index
            error = _error_of(cell)
            if error:
                messages[grade_id] = error
    return order, messages


def gradebook_scores(course: str | Path = ".", db_url: str | None = None) -> list[Score]:
    """Every graded cell's score in the gradebook of an nbgrader course, after autograde.

    The gradebook is ``db_url``, else the course folder's ``gradebook.db``; the scores are
    nbgrader's, each message the first error line in the autograded notebook. Read only.
    """
    course = require_folder(course, "the course folder")
    if db_url is None:
        db = course / "gradebook.db"
        if not db.is_file():
            raise ValueError(f"no gradebook {db} ({db.resolve()}): run nbgrader autograde in "
                             f"the course folder first, or name the database with --db")
        db_url = f"sqlite:///{db.resolve()}"
    scores = []
    with Gradebook(db_url, course_id="") as gradebook:  # "": nbgrader's default, adds no course
        for assignment in gradebook.assignments:
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in submission.notebooks:
                    path = (course / "autograded" / submission.student.id / assignment.name
                            / f"{notebook.name}.ipynb")
                    order, messages = _autograded_errors(path)
                    for grade in sorted(notebook.grades,
                                        key=lambda g: (order.get(g.name, len(order)), g.name)):
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
PROG = "python -m memlab.assign"


def _parser(command: str) -> argparse.ArgumentParser:
    if command == "student":
        parser = argparse.ArgumentParser(prog=PROG, description=(
            "Write student versions of the notebooks in SRC to OUT with nbgrader's release "
            "preprocessors: solutions become raise NotImplementedError(), outputs are cleared. "
            "(Other commands: check, grade, gradebook.)"))
        parser.add_argument("src", help="a folder of notebooks (or one notebook)")
        parser.add_argument("out", help="the folder to write the student versions to")
    elif command == "check":
        parser = argparse.ArgumentParser(prog=f"{PROG} check", description=(
            "Verify the exercise layout of the notebooks in SRC (delimiters, hide-input tag, "
            "check cell, written questions and their nbgrader metadata); exit 1 on any problem."))
        parser.add_argument("src", help="a folder of notebooks (or one notebook)")
    elif command == "gradebook":
        parser = argparse.ArgumentParser(prog=f"{PROG} gradebook", description=(
            "Print the score of every exercise of every student from the gradebook of an nbgrader "
            "course (after nbgrader autograde); nbgrader export gives only each assignment's "
            "total."))
        parser.add_argument("course", nargs="?", default=".",
                            help="the nbgrader course folder (default: the current folder)")
        parser.add_argument("--db", help="the gradebook's database URL (default: "
                                         "sqlite:///COURSE/gradebook.db)")
    else:
        parser = argparse.ArgumentParser(prog=f"{PROG} grade", description=(
            "Run every submitted notebook (SUBMISSIONS/STUDENT/ with the student's notebooks at "
            "any depth, or SUBMISSIONS/*.ipynb with one notebook per student) and print which "
            "exercise checks pass. Stops with exit status 2, before any notebook runs, when a "
            "folder is missing or the kernel unknown."))
        parser.add_argument("submissions", help="the folder of submitted notebooks")
        parser.add_argument("--cwd", help="run the notebooks from this existing folder "
                                          "(default: each notebook's own folder)")
        parser.add_argument("--timeout", type=int, default=600,
                            help="seconds per cell (default 600)")
        parser.add_argument("--kernel", default="python3",
                            help="the Jupyter kernel (default python3)")
    if command in ("grade", "gradebook"):
        header, example = (GRADE_HEADER, "memlab_grades.csv") if command == "grade" else \
            (SCORE_HEADER, "nbgrader_exercises.csv")
        parser.add_argument("--csv", metavar="FILE", help=(
            f"also write {','.join(header)} rows to FILE (e.g. {example}; an existing file of "
            f"other data, such as nbgrader export's grades.csv, is refused)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m memlab.assign``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "student"
    parser = _parser(command)
    args = parser.parse_args(argv)
    if command == "check":
        bad = 0
        for path in _notebooks(Path(args.src)):
            nb = nbformat.read(str(path), as_version=4)
            for problem in layout_problems(nb):
                print(f"{path}: {problem}")
                bad += 1
            print(f"{path}: {len(find_exercises(nb))} exercise(s), "
                  f"{len(find_questions(nb))} written question(s)")
        return 1 if bad else 0
    try:
        if command == "student":
            for path in make_student_versions(args.src, args.out):
                print(path)
            return 0
        header = GRADE_HEADER if command == "grade" else SCORE_HEADER
        if args.csv:  # a CSV path that will be refused is refused before anything runs
            check_csv_target(args.csv, header)
        if command == "grade":
            if args.cwd is not None:
                require_folder(args.cwd, "--cwd")
            results = grade(args.submissions, cwd=args.cwd, timeout=args.timeout,
                            kernel_name=args.kernel)
            table = format_grades(results)
            rows = [[r.student, r.notebook, r.exercise, int(r.passed), r.message]
                    for r in results]
        else:
            scores = gradebook_scores(args.course, db_url=args.db)
            table = format_scores(scores)
            rows = [[s.assignment, s.student, s.notebook, s.exercise, _number(s.score),
                     _number(s.max_score), s.message] for s in scores]
    except ValueError as error:
        parser.error(str(error))
    if not rows:
        print(f"no exercise found in the notebooks under {args.submissions}" if command == "grade"
              else f"no graded submission in the gradebook of {args.course}")
        return 1
    print(table)
    if args.csv:
        write_csv(args.csv, header, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
