"""Student versions, exercise layout, nbgrader metadata and grading (memlab.assign).

A synthetic notebook with two exercises is turned into a student version and run
cell by cell; then the real chapters listed in _toc.yml are checked (their full
student runs are marked slow).
"""
from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from unittest.mock import ANY

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from book_support import ROOT, chapters
from memlab import assign, checks

# the checks each chapter uses (the exercise contract)
CONTRACT = {
    "01": {"shift", "sharpen"},
    "02": {"content_weights", "update_usage", "allocation_weights", "update_link"},
    "03": {"oneplus", "parse_interface"},
    "04": {"write_weighting", "read_weighting"},
    "05": {"copy_batch", "bit_errors"},
    "06": {"bits_per_sequence", "masked_bce"},
    "07": {"read_mode_usage", "link_chain"},
    "08": {"triple_channels", "read_sources"},
    "09": {"masked_content_weights", "sharpen_links"},
    "10": {"dot_product_weights", "delta_rule_update"},
}

ONEPLUS = '''import torch.nn.functional as F


def my_oneplus(x):
    """1 + log(1 + e^x). x: any shape -> same shape."""
    ### BEGIN SOLUTION
    return 1 + F.softplus(x)
    ### END SOLUTION'''

USAGE = '''def my_update_usage(usage, write_weights, retention):
    """usage, write_weights, retention: [B, N] -> [B, N]."""
    if usage.dim() != 2:
        raise ValueError("usage must be [B, N]")
    ### BEGIN SOLUTION
    kept = usage + write_weights - usage * write_weights
    return kept * retention
    ### END SOLUTION'''

WRONG_USAGE = '''def my_update_usage(usage, write_weights, retention):
    return usage + write_weights - usage * write_weights'''

LATER = '''import torch
from memlab import addressing as A
assert A.oneplus(torch.zeros(1)).item() > 1
print("later cells run")'''


def exercise_cell(source, tags=("hide-input",)):
    cell = new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    cell.outputs = [new_output("stream", name="stdout", text="old output\n")]
    cell.execution_count = 7
    return cell


def synthetic_notebook():
    plain = new_code_cell("value = 3\nvalue")
    plain.outputs = [new_output("execute_result", {"text/plain": "3"}, execution_count=4)]
    plain.execution_count = 4
    plain.metadata["tags"] = ["hide-input"]  # not an exercise: keeps its tag
    nb = new_notebook(cells=[
        new_markdown_cell("# A chapter\n\nSome text."),
        new_code_cell("import torch\nfrom memlab import checks"),
        new_markdown_cell("### Exercise 1.1: oneplus\n\nWrite `my_oneplus`."),
        exercise_cell(ONEPLUS),
        new_code_cell("checks.oneplus(my_oneplus)"),
        plain,
        new_markdown_cell("### Exercise 1.2: usage\n\nWrite `my_update_usage`."),
        exercise_cell(USAGE, tags=("hide-input", "keep-me")),
        new_code_cell("checks.update_usage(my_update_usage)"),
        new_code_cell(LATER),
        new_markdown_cell("## Wrap-up"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


EXERCISE_CELLS, CHECK_CELLS = (3, 7), (4, 8)


def errors(nb):
    """{cell index: exception name} for every code cell whose run raised."""
    found = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found[index] = output["ename"]
    return found


def printed(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """The synthetic notebook, its student version (written by make_student_versions), paths."""
    folder = tmp_path_factory.mktemp("assign")
    src, out = folder / "src", folder / "student"
    src.mkdir()
    nbformat.write(synthetic_notebook(), str(src / "01_synthetic.ipynb"))
    written = assign.make_student_versions(src, out)
    assert written == [out / "01_synthetic.ipynb"]
    return src / "01_synthetic.ipynb", written[0]


@pytest.fixture(scope="module")
def executed(notebooks):
    """(solution, student) notebooks, executed cell by cell with errors allowed."""
    solution, failure = assign.run_notebook(notebooks[0], timeout=300)
    assert failure is None
    student, failure = assign.run_notebook(notebooks[1], timeout=300)
    assert failure is None
    return solution, student


# --------------------------------------------------------------------------- the package

def run_python(code):
    """code run by a fresh interpreter in the repository root (this checkout's memlab)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_import_memlab_loads_no_instructor_tool():
    result = run_python("import memlab, sys; assert 'nbgrader' not in sys.modules and "
                        "'nbformat' not in sys.modules and 'memlab.assign' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_without_the_instructor_extra_the_error_says_what_to_install():
    result = run_python("import sys; sys.modules['nbgrader'] = None  # as if not installed\n"
                        "import memlab.assign")
    assert result.returncode == 1
    assert "pip install 'memlab[instructor]'" in result.stderr.strip().splitlines()[-1]


# --------------------------------------------------------------------------- delimiters

def test_solution_region_becomes_nbgraders_stub_at_marker_indentation():
    nb = new_notebook(cells=[exercise_cell(ONEPLUS), exercise_cell(USAGE)])
    oneplus, usage = (cell.source for cell in assign.student_notebook(nb).cells)
    assert oneplus.endswith('    """1 + log(1 + e^x). x: any shape -> same shape."""\n'
                            '    # YOUR CODE HERE\n    raise NotImplementedError()')
    assert 'raise ValueError("usage must be [B, N]")' in usage
    assert "kept" not in usage and "SOLUTION" not in usage


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",  # nbgrader would keep x = 1 in the student version
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
    "### END SOLUTION\nx = 1\n### BEGIN SOLUTION",
])
def test_unpaired_delimiters_are_errors(source):
    nb = synthetic_notebook()
    nb.cells[3].source = source
    assert "lines do not pair up" in " ".join(assign.layout_problems(nb))
    with pytest.raises(ValueError, match="cell 3: .* do not pair up"):
        assign.student_notebook(nb)


# --------------------------------------------------------------------------- student versions

def test_student_version_of_the_synthetic_notebook(notebooks):
    source = nbformat.read(str(notebooks[0]), as_version=4)
    student = nbformat.read(str(notebooks[1]), as_version=4)
    assert len(student.cells) == len(source.cells)
    for index, (before, after) in enumerate(zip(source.cells, student.cells)):
        assert after.cell_type == before.cell_type
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
        if index in EXERCISE_CELLS:
            assert "BEGIN SOLUTION" not in after.source and "END SOLUTION" not in after.source
            assert re.search(r"^    # YOUR CODE HERE\n    raise NotImplementedError\(\)$",
                             after.source, re.MULTILINE)
            assert "hide-input" not in after.metadata.get("tags", [])
        else:
            assert after.source == before.source, f"cell {index} changed"
            assert after.metadata == before.metadata
    assert student.cells[7].metadata["tags"] == ["keep-me"]
    assert "tags" not in student.cells[3].metadata
    assert student.cells[5].metadata["tags"] == ["hide-input"]
    assert nbformat.validate(student) is None


def test_student_version_fails_only_at_the_exercises(executed):
    _, student = executed
    assert errors(student) == {4: "NotImplementedError", 8: "NotImplementedError"}
    assert "later cells run" in printed(student.cells[9])


def test_solution_version_runs_clean(executed):
    solution, _ = executed
    assert errors(solution) == {}
    assert printed(solution.cells[4]).strip() == "oneplus: all 5 checks passed"
    assert printed(solution.cells[8]).strip().startswith("update_usage: all ")


def test_make_student_versions_refuses_to_overwrite_the_sources(notebooks):
    with pytest.raises(ValueError, match="overwrite"):
        assign.make_student_versions(notebooks[0].parent, notebooks[0].parent)
    with pytest.raises(ValueError, match="does not exist"):
        assign.make_student_versions(notebooks[0].parent / "nothing", notebooks[0].parent / "x")


def test_command_line(notebooks, tmp_path, capsys):
    assert assign.main([str(notebooks[0].parent), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "01_synthetic.ipynb").exists()
    assert assign.main(["check", str(notebooks[0].parent)]) == 0
    assert "2 exercise(s)" in capsys.readouterr().out

    broken = synthetic_notebook()
    broken.cells[3].metadata["tags"] = []
    broken.cells[8].source = "print(my_update_usage)"
    nbformat.write(broken, str(tmp_path / "02_broken.ipynb"))
    assert assign.main(["check", str(tmp_path / "02_broken.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "not tagged 'hide-input'" in out and "does not call checks" in out


def test_find_exercises(notebooks):
    nb = nbformat.read(str(notebooks[0]), as_version=4)
    found = assign.find_exercises(nb)
    assert [(e.cell, e.function, e.check_cell, e.checks) for e in found] == [
        (3, "my_oneplus", 4, ["oneplus"]), (7, "my_update_usage", 8, ["update_usage"])]
    assert [e.name for e in found] == ["oneplus", "update_usage"]
    assert assign.layout_problems(nb) == []
    assert assign.chapter_id("notebooks/03_dnc_controller.ipynb") == "03"


# --------------------------------------------------------------------------- grading

def test_grade_table(notebooks, tmp_path, capsys):
    # carol's answer to the first exercise is right, to the second wrong (no markers left)
    wrong = assign.student_notebook(synthetic_notebook())
    wrong.cells[3].source = ("import torch\n\ndef my_oneplus(x):\n"
                             "    return 1 + torch.log1p(torch.exp(-x.abs())) + x.clamp_min(0)")
    wrong.cells[7].source = WRONG_USAGE
    submissions = tmp_path / "submitted"
    (submissions / "carol").mkdir(parents=True)
    nbformat.write(wrong, str(submissions / "carol" / "01_synthetic.ipynb"))

    csv_path = tmp_path / "grades.csv"
    assert assign.main(["grade", str(submissions), "--csv", str(csv_path), "--timeout", "300"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["student", "01-oneplus", "01-update_usage", "score"]
    assert table[1].split() == ["carol", "pass", "FAIL", "1/2"]
    rows = list(csv.reader(csv_path.open()))
    assert rows[0] == ["student", "notebook", "exercise", "passed", "message"]
    assert rows[-1][:4] == ["carol", "01_synthetic", "01-update_usage", "0"]
    assert rows[-1][4].startswith("AssertionError: update_usage: usage ignores retention")


def test_grading_a_student_version_and_a_solution(executed, notebooks, monkeypatch):
    runs = {"bob": executed[1], "alice": executed[0]}
    monkeypatch.setattr(assign, "run_notebook", lambda path, **kw: (runs[path.parent.name], None))
    results = assign.grade_notebook(notebooks[1].parent / "bob" / "01_synthetic.ipynb", "bob")
    results += assign.grade_notebook(notebooks[1].parent / "alice" / "01_synthetic.ipynb", "alice")
    assert [(r.student, r.exercise, r.passed) for r in results] == [
        ("bob", "01-oneplus", False), ("bob", "01-update_usage", False),
        ("alice", "01-oneplus", True), ("alice", "01-update_usage", True)]
    assert results[0].message == "NotImplementedError"


def never_run(*args, **kwargs):
    raise AssertionError("a notebook ran although the command should have stopped first")


def submitted_folder(tmp_path, notebooks):
    """submitted/carol/01_synthetic.ipynb: the synthetic student version."""
    folder = tmp_path / "submitted" / "carol"
    folder.mkdir(parents=True)
    (folder / "01_synthetic.ipynb").write_bytes(notebooks[1].read_bytes())
    return tmp_path / "submitted"


def exit_error(argv, capsys):
    """(exit code, error text) of a command line that must stop with an argparse error."""
    with pytest.raises(SystemExit) as stopped:
        assign.main(argv)
    return stopped.value.code, capsys.readouterr().err


def test_grade_with_a_missing_cwd_is_an_error_naming_the_path(notebooks, tmp_path, monkeypatch,
                                                              capsys):
    submitted = submitted_folder(tmp_path, notebooks)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the repository root: notebooks/ is not here
    monkeypatch.setattr(assign, "run_notebook", never_run)
    code, err = exit_error(["grade", str(submitted), "--cwd", "notebooks"], capsys)
    assert code == 2
    assert "--cwd notebooks does not exist" in err and str(elsewhere / "notebooks") in err
    (elsewhere / "notebooks").write_text("a file, not a folder")
    code, err = exit_error(["grade", str(submitted), "--cwd", "notebooks"], capsys)
    assert code == 2 and "--cwd notebooks is not a folder" in err


def test_grade_with_missing_submissions_is_an_error_naming_the_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(assign, "run_notebook", never_run)
    code, err = exit_error(["grade", "submitted"], capsys)
    assert code == 2
    assert "submissions submitted does not exist" in err and str(tmp_path / "submitted") in err


def test_grading_functions_refuse_missing_paths(notebooks, tmp_path):
    submitted = submitted_folder(tmp_path, notebooks)
    missing = tmp_path / "no-such-folder"
    with pytest.raises(ValueError, match=f"cwd {re.escape(str(missing))} does not exist"):
        assign.grade(submitted, cwd=missing)
    with pytest.raises(ValueError, match=f"cwd {re.escape(str(missing))} does not exist"):
        assign.run_notebook(submitted / "carol" / "01_synthetic.ipynb", cwd=missing)
    lost = submitted / "carol" / "02_lost.ipynb"
    with pytest.raises(ValueError, match=f"no notebook {re.escape(str(lost))}"):
        assign.grade_notebook(lost, "carol")
    with pytest.raises(ValueError, match="no Jupyter kernel named 'no-such-kernel'"):
        assign.grade(submitted, kernel_name="no-such-kernel")


def test_grade_checks_the_checkpoint_folder(notebooks, tmp_path, monkeypatch, capsys):
    submitted = submitted_folder(tmp_path, notebooks)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(assign, "run_notebook", never_run)
    monkeypatch.setenv("MEMLAB_CHECKPOINTS", "no-checkpoints")
    code, err = exit_error(["grade", str(submitted)], capsys)
    assert code == 2 and "MEMLAB_CHECKPOINTS no-checkpoints does not exist" in err

    (tmp_path / "checkpoints").mkdir()
    monkeypatch.setenv("MEMLAB_CHECKPOINTS", "checkpoints")
    envs = []
    monkeypatch.setattr(assign, "run_notebook", lambda path, env, **kw: (
        envs.append(env), (nbformat.read(str(path), as_version=4), None))[1])
    assert assign.main(["grade", str(submitted)]) == 0
    # made absolute for the kernels, which run in other folders; this process's is untouched
    assert [env["MEMLAB_CHECKPOINTS"] for env in envs] == [str(tmp_path / "checkpoints")]
    assert os.environ["MEMLAB_CHECKPOINTS"] == "checkpoints"


NBGRADER_EXPORT = ("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
                   "late_submission_penalty,score,max_score\nch02,,,alice,,,,3.0,0.0,3.0,4.0\n")


def test_csv_files_do_not_overwrite_nbgrader_export(notebooks, tmp_path, monkeypatch, capsys):
    submitted = submitted_folder(tmp_path, notebooks)
    exported = tmp_path / "grades.csv"
    exported.write_text(NBGRADER_EXPORT)
    monkeypatch.setattr(assign, "run_notebook", never_run)
    code, err = exit_error(["grade", str(submitted), "--csv", str(exported)], capsys)
    assert code == 2 and "exists and holds other data" in err
    code, err = exit_error(["gradebook", str(tmp_path), "--csv", str(exported)], capsys)
    assert code == 2 and "exists and holds other data" in err
    assert exported.read_text() == NBGRADER_EXPORT
    ours = assign.write_csv(tmp_path / "memlab_grades.csv", assign.GRADE_HEADER, [["a"] * 5])
    assign.write_csv(ours, assign.GRADE_HEADER, [["b"] * 5])  # its own file may be replaced
    assert ours.read_text().splitlines()[1] == "b,b,b,b,b"


def test_gradebook_without_a_gradebook_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = exit_error(["gradebook"], capsys)
    assert code == 2 and f"no gradebook gradebook.db ({tmp_path / 'gradebook.db'})" in err
    code, err = exit_error(["gradebook", "course"], capsys)
    assert code == 2 and "the course folder course does not exist" in err
    assert not (tmp_path / "gradebook.db").exists()


def test_format_scores():
    scores = [assign.Score("ch02", "alice", "02_dnc_memory", "02-update_usage", 1, 1),
              assign.Score("ch02", "alice", "02_dnc_memory", "02-update_link", 0, 1, "Assertion"),
              assign.Score("ch02", "bob", "02_dnc_memory", "02-update_usage", 0.5, 1)]
    lines = assign.format_scores(scores).splitlines()
    assert lines[0].split() == ["student", "02-update_usage", "02-update_link", "score"]
    assert lines[1].split() == ["alice", "1", "0", "1/2"]
    assert lines[2].split() == ["bob", "0.5", "-", "0.5/2"]
    assert assign.exercise_of("02-update_link-check") == "02-update_link"
    assert assign.exercise_of("02-update_link") == "02-update_link"


def test_format_grades_marks_missing_exercises():
    results = [assign.Result("ann", "01_a", "01-shift", True),
               assign.Result("bob", "01_a", "01-shift", False, "AssertionError"),
               assign.Result("bob", "02_b", "02-update_link", True)]
    lines = assign.format_grades(results).splitlines()
    assert lines[1].split() == ["ann", "pass", "-", "1/2"]
    assert lines[2].split() == ["bob", "FAIL", "pass", "1/2"]


# --------------------------------------------------------------------------- nbgrader metadata

def load_nbgrader_meta():
    spec = importlib.util.spec_from_file_location("nbgrader_meta",
                                                  ROOT / "scripts" / "nbgrader_meta.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ALLOWED_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points",
                "checksum", "cell_type"}


def test_nbgrader_metadata(tmp_path, capsys):
    meta = load_nbgrader_meta()
    nb = synthetic_notebook()
    nb.cells[5].metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                        "grade_id": "old", "schema_version": 3}
    path = tmp_path / "04_synthetic.ipynb"
    nbformat.write(nb, str(path))

    assert meta.main(["--check", str(tmp_path)]) == 1
    assert meta.main([str(tmp_path)]) == 0
    written = path.read_bytes()
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[3].metadata.nbgrader == {"solution": True, "grade": False, "locked": False,
                                             "grade_id": "04-oneplus", "schema_version": 3}
    assert nb.cells[4].metadata.nbgrader == {"solution": False, "grade": True, "locked": True,
                                             "points": 1, "grade_id": "04-oneplus-check",
                                             "schema_version": 3}
    assert nb.cells[7].metadata.nbgrader["grade_id"] == "04-update_usage"
    assert nb.cells[8].metadata.nbgrader["grade_id"] == "04-update_usage-check"
    assert "nbgrader" not in nb.cells[5].metadata  # stale metadata removed
    graded = [c.metadata.nbgrader for c in nb.cells if "nbgrader" in c.metadata]
    assert len(graded) == 4
    for data in graded:  # nbgrader's schema v3
        assert set(data) <= ALLOWED_KEYS and re.fullmatch(r"[a-zA-Z0-9_\-]+", data["grade_id"])
        assert ("points" in data) == data["grade"]
    assert len({d["grade_id"] for d in graded}) == 4

    capsys.readouterr()
    assert meta.main([str(path)]) == 0 and capsys.readouterr().out == ""  # idempotent
    assert path.read_bytes() == written
    assert meta.main(["--check", str(path)]) == 0

    student = assign.student_notebook(nb)
    assert student.cells[3].metadata.nbgrader["solution"] is True  # carried to student versions


# --------------------------------------------------------------------------- written questions

QUESTION = "### Question 1.1: Why a sum\n\n*Derivation.* Show that the weights sum to at most 1."
ANSWER = "```{admonition} Answer\n:class: dropdown\nThe products telescope.\n```"


def with_question(nb=None):
    """The synthetic notebook with a written question (question and answer cells) at its end."""
    nb = synthetic_notebook() if nb is None else nb
    question, answer = new_markdown_cell(QUESTION), new_markdown_cell(ANSWER)
    question.metadata["nbgrader"] = {"grade": False, "locked": True, "solution": False,
                                     "grade_id": "01-q-why-a-sum", "schema_version": 3}
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 1,
                                   "grade_id": "01-q-why-a-sum-answer", "schema_version": 3}
    nb.cells += [question, answer]
    return nb


def layout_after(change):
    """The layout problems of the notebook with a written question, after ``change(nb)``."""
    nb = with_question()
    change(nb)
    return " | ".join(assign.layout_problems(nb))


def test_written_questions_are_found_and_checked():
    nb = with_question()
    found = assign.find_questions(nb)
    assert [(q.cell, q.answer_cell, q.grade_id, q.points, q.name) for q in found] == [
        (11, 12, "01-q-why-a-sum-answer", 1, "01-q-why-a-sum")]
    assert [e.cell for e in assign.find_exercises(nb)] == list(EXERCISE_CELLS)  # not code exercises
    assert assign.layout_problems(nb) == []
    assert assign.exercise_of("01-q-why-a-sum-answer") == "01-q-why-a-sum"

    answer = lambda nb: nb.cells[12].metadata.nbgrader  # noqa: E731
    question = lambda nb: nb.cells[11].metadata.nbgrader  # noqa: E731
    assert "cell 12: nbgrader: nbgrader cell '01-q-why-a-sum-answer' does not have points" in \
        layout_after(lambda nb: answer(nb).pop("points"))
    assert "worth 0 points" in layout_after(lambda nb: answer(nb).update(points=0))
    assert "does not end in '-answer'" in layout_after(
        lambda nb: answer(nb).update(grade_id="01-q-x"))
    assert "answer cell is locked" in layout_after(lambda nb: answer(nb).update(locked=True))
    assert "not in a dropdown admonition" in layout_after(
        lambda nb: setattr(nb.cells[12], "source", "The products telescope."))
    moved = layout_after(lambda nb: nb.cells.insert(12, new_markdown_cell("A remark.")))
    assert "must be its '### Question N.k:' text" in moved
    assert "cell 11: a '### Question' cell must be followed by its written answer" in moved
    assert "must be read-only" in layout_after(lambda nb: question(nb).update(locked=False))
    assert "the question's grade id is '01-q-other'" in layout_after(
        lambda nb: question(nb).update(grade_id="01-q-other"))
    assert "grade cell '01-q-why-a-sum' is not marked as a solution cell" in layout_after(
        lambda nb: question(nb).update(grade=True, points=1))
    assert "nbgrader: Duplicate grade id: 01-q-why-a-sum" in layout_after(
        lambda nb: nb.cells[0].metadata.update(nbgrader=dict(question(nb))))
    assert "cell 12: nbgrader: '01 q why-answer' does not match" in layout_after(
        lambda nb: answer(nb).update(grade_id="01 q why-answer"))


def test_student_version_clears_written_answers():
    nb = with_question()
    student = assign.student_notebook(nb)
    assert student.cells[12].source == "YOUR ANSWER HERE"
    assert student.cells[11].source == QUESTION and nb.cells[12].source == ANSWER
    assert student.cells[12].metadata.nbgrader == dict(  # with what nbgrader's release adds
        nb.cells[12].metadata.nbgrader, checksum=ANY, cell_type="markdown")
    assert student.cells[11].metadata.editable is False  # nbgrader's lock of a read-only cell


def test_nbgrader_metadata_keeps_written_answers():
    meta = load_nbgrader_meta()
    nb = with_question()
    meta.update(nb, "01")
    assert nb.cells[11].metadata.nbgrader == {"solution": False, "grade": False, "locked": True,
                                              "grade_id": "01-q-why-a-sum", "schema_version": 3}
    assert nb.cells[12].metadata.nbgrader == {"solution": True, "grade": True, "locked": False,
                                              "points": 1, "grade_id": "01-q-why-a-sum-answer",
                                              "schema_version": 3}
    assert meta.update(nb, "01") == []  # idempotent
    nb.cells[12].metadata.nbgrader["points"] = 2  # an instructor's weighting is kept
    del nb.cells[11].metadata.nbgrader["schema_version"]
    assert meta.update(nb, "01") == ["cell 11: nbgrader 01-q-why-a-sum"]
    assert nb.cells[12].metadata.nbgrader["points"] == 2


# --------------------------------------------------------------------------- the real chapters

CHAPTERS = chapters()
WITH_EXERCISES = [p for p in CHAPTERS
                  if assign.find_exercises(nbformat.read(str(p), as_version=4))]


def test_contract_covers_every_check():
    assert set().union(*CONTRACT.values()) == set(checks.__all__)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_exercise_layout(path):
    nb = nbformat.read(str(path), as_version=4)
    exercises = assign.find_exercises(nb)
    if not exercises:
        pytest.skip(f"{path.name} has no exercise yet")
    assert assign.layout_problems(nb) == []
    for exercise in exercises:
        previous = nb.cells[exercise.cell - 1]
        assert previous.cell_type == "markdown" and re.search(r"^###\s+Exercise", previous.source,
                                                              re.MULTILINE), \
            f"cell {exercise.cell}: the cell before an exercise must be its '### Exercise' text"
    used = {name for e in exercises for name in e.checks}
    expected = CONTRACT.get(assign.chapter_id(path))
    if expected is not None:
        assert used == expected, (
            f"{path.name} uses checks {sorted(used)}, the contract says {sorted(expected)}")
    student = assign.student_notebook(nb)
    for exercise in exercises:
        source = student.cells[exercise.cell].source
        assert "SOLUTION" not in source and "raise NotImplementedError" in source


def test_student_versions_of_the_chapters(tmp_path):
    if not WITH_EXERCISES:
        pytest.skip("no chapter has exercises yet")
    written = assign.make_student_versions(ROOT / "notebooks", tmp_path)
    assert {p.name for p in written} >= {p.name for p in WITH_EXERCISES}


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_chapter_student_version_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MEMLAB_PROGRESS", "text")
    exercises = assign.find_exercises(nbformat.read(str(path), as_version=4))
    written = assign.make_student_versions(path, tmp_path)
    nb, failure = assign.run_notebook(written[0], cwd=path.parent, timeout=600)
    assert failure is None, failure
    allowed = {i for e in exercises for i in (e.cell, e.check_cell)}
    found = errors(nb)
    unexpected = {i: name for i, name in found.items()
                  if i not in allowed or name != "NotImplementedError"}
    assert not unexpected, (
        f"{path.name}: the student version fails outside its exercises (cell: error): {unexpected}")
    checked = {e.check_cell for e in exercises}
    assert set(found) == checked, (
        f"{path.name}: every check cell must stop at NotImplementedError; errors in cells "
        f"{sorted(found)}, check cells {sorted(checked)}")
