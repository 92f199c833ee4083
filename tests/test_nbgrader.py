"""The instructor guide's nbgrader route, followed on chapter 9 offline.

The chapter's written questions (answer cells that nbgrader grades by hand) are left as released
by both students, so nbgrader scores them 0 until an instructor grades them; they add their points
to the maximum and their columns to the gradebook's table.

The test lays out the guide's folders (``teaching/memlab``, a link to this repository, beside
``teaching/memlab-course``), writes the guide's ``nbgrader_config.py`` and runs the guide's
commands with the chapter changed from 2 to 9, which loads shipped checkpoints. Two made-up
students submit: alice the release as it is, bob one exercise solved and the other wrong.

Nothing may be downloaded: memlab is imported from a copy of the package outside the
repository (so it finds no ``checkpoints/`` of a clone), its cache is an empty folder and its
download address refuses connections. The checkpoints must come from the folder the guide's
config names through ``MEMLAB_CHECKPOINTS``. The guide's plain ``memlab.assign grade`` route
runs on the same submissions and must agree, without writing over nbgrader's ``grades.csv``.
"""
from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from book_support import ROOT, run_env
from memlab import assign

pytestmark = pytest.mark.slow
pytest.importorskip("nbgrader")

GUIDE = ROOT / "book" / "instructor_guide.md"
CHAPTER = "09_dnc_improvements"
WRONG_SHARPEN = ("def my_sharpen_links(weights, sharpness):\n"
                 "    return torch.softmax(sharpness.unsqueeze(-1) * weights, dim=-1)")
WRONG_MESSAGE = "sharpen_links: a softmax of s * d is not d^s normalised"
STEP_TIMEOUT_S = 900


def guide_blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def guide_block(language: str, needle: str) -> str:
    found = [b for b in guide_blocks(language) if needle in b]
    assert len(found) == 1, (
        f"the instructor guide has {len(found)} {language} blocks with {needle!r}")
    return found[0]


def for_chapter_9(commands: str) -> str:
    assert "ch02" in commands and "02_dnc_memory" in commands
    return commands.replace("02_dnc_memory", CHAPTER).replace("ch02", "ch09")


def run_bash(script: str, cwd: Path, env: dict, timings: dict, name: str) -> str:
    started = time.monotonic()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    timings[name] = time.monotonic() - started
    assert proc.returncode == 0, f"{name} failed (exit {proc.returncode}):\n{script}\n" \
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout


def graded_exercises() -> list[tuple[str, float]]:
    """(exercise, points) of every cell nbgrader scores in the chapter, in the order of the cells.

    These are the check cells of the exercises and the answers of the written questions.
    """
    nb = nbformat.read(str(ROOT / "notebooks" / f"{CHAPTER}.ipynb"), as_version=4)
    graded = [c.metadata["nbgrader"] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")]
    return [(assign.exercise_of(meta["grade_id"]), float(meta["points"])) for meta in graded]


def errors(path: Path) -> dict:
    """{grade id or cell index: first line of the error} of an executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    found = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                key = cell.metadata.get("nbgrader", {}).get("grade_id", index)
                found[key] = f"{output['ename']}: {output['evalue']}".splitlines()[0]
    return found


def printed(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")


def submit(release: Path, course: Path) -> None:
    """alice hands in the release unchanged; bob solves the look-up and gets the links wrong."""
    source = nbformat.read(str(course / "source" / "ch09" / f"{CHAPTER}.ipynb"), as_version=4)
    ids = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(source.cells)}
    solved = re.sub(r"\n\s*### (BEGIN|END) SOLUTION", "",
                    source.cells[ids["09-masked_content_weights"]].source)
    for student in ("alice", "bob"):
        nb = nbformat.read(str(release), as_version=4)
        if student == "bob":
            nb.cells[ids["09-masked_content_weights"]].source = solved
            nb.cells[ids["09-sharpen_links"]].source = WRONG_SHARPEN
        folder = course / "submitted" / student / "ch09"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / release.name))


def test_the_guide_grades_a_checkpoint_chapter_offline(tmp_path):
    timings = {}
    teaching = tmp_path / "teaching"
    teaching.mkdir()
    (teaching / "memlab").symlink_to(ROOT, target_is_directory=True)
    course = teaching / "memlab-course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(guide_block("python", "c = get_config()"))

    installed = tmp_path / "installed"  # memlab as a plain install would have it: no clone around
    shutil.copytree(ROOT / "memlab", installed / "memlab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "cache").mkdir()
    env = run_env()
    env.pop("MEMLAB_CHECKPOINTS", None)  # the guide's config must set it
    env.update({
        "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        "PYTHONPATH": str(installed),
        "MEMLAB_CACHE": str(tmp_path / "cache"),
        "MEMLAB_PRETRAINED_URL": "http://127.0.0.1:9/",  # the discard port: refused at once
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),  # no nbgrader config of the user's
        "OMP_NUM_THREADS": "1",
    })
    probe = "from memlab import shipped; print(shipped.__file__, shipped.checkout_folder())"
    where = run_bash(f"python -c '{probe}'", teaching, env, timings, "probe")
    assert where.split() == [str(installed / "memlab" / "shipped.py"), "None"]

    commands = for_chapter_9(guide_block("bash", "nbgrader generate_assignment"))
    lines = commands.splitlines()
    assert lines[0] == "cd memlab-course"
    split = next(i for i, line in enumerate(lines) if line.startswith("nbgrader autograde"))
    run_bash("\n".join(lines[:split]), teaching, env, timings, "generate_assignment")
    release = course / "release" / "ch09" / f"{CHAPTER}.ipynb"
    assert "raise NotImplementedError()" in release.read_text()
    submit(release, course)
    table = run_bash("\n".join([lines[0]] + lines[split:]), teaching, env, timings,
                     "autograde, feedback, export, gradebook")

    # every chapter cell ran, the checkpoints came from the clone: only the check cells failed
    for student, expected in {
        "alice": {"09-masked_content_weights-check": "NotImplementedError: ",
                  "09-sharpen_links-check": "NotImplementedError: "},
        "bob": {"09-sharpen_links-check": f"AssertionError: {WRONG_MESSAGE}"},
    }.items():
        autograded = course / "autograded" / student / "ch09" / f"{CHAPTER}.ipynb"
        found = errors(autograded)
        assert set(found) == set(expected), f"{student}: errors in {found}"
        for key, start in expected.items():
            assert found[key].startswith(start), found[key]
        assert "downloading" not in printed(autograded)
    assert list((tmp_path / "cache").iterdir()) == []

    with open(course / "grades.csv", newline="") as handle:
        totals = {row["student_id"]: (float(row["raw_score"]), float(row["max_score"]))
                  for row in csv.DictReader(handle)}
    exercises = graded_exercises()
    names = [name for name, _ in exercises]
    most = sum(points for _, points in exercises)
    assert {"09-masked_content_weights", "09-sharpen_links"} < set(names)
    assert totals == {"alice": (0.0, most), "bob": (1.0, most)}

    feedback = (course / "feedback" / "bob" / "ch09" / f"{CHAPTER}.html").read_text()
    assert WRONG_MESSAGE in html.unescape(re.sub(r"<[^>]+>", "", feedback))

    solved = {("bob", "09-masked_content_weights")}  # the one exercise that scores a point
    score = {(s, e): "1" if (s, e) in solved else "0" for s in ("alice", "bob") for e in names}
    total = f"{most:g}"
    assert [line.split() for line in table.splitlines()] == [
        ["student", *names, "score"],
        ["alice", *(score["alice", e] for e in names), f"0/{total}"],
        ["bob", *(score["bob", e] for e in names), f"1/{total}"]]
    with open(course / "nbgrader_exercises.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["assignment", "student", "notebook", "exercise", "score", "max_score",
                       "message"]
    points = dict(exercises)
    assert [r[:6] for r in rows[1:]] == [
        ["ch09", s, CHAPTER, e, score[s, e], f"{points[e]:g}"]
        for s in ("alice", "bob") for e in names]
    message = {(r[1], r[3]): r[6] for r in rows[1:]}
    assert message["alice", "09-masked_content_weights"] == "NotImplementedError"
    assert message["alice", "09-sharpen_links"] == "NotImplementedError"
    assert message["bob", "09-masked_content_weights"] == ""
    assert message["bob", "09-sharpen_links"].startswith(f"AssertionError: {WRONG_MESSAGE}")
    written = [e for e in names if e not in ("09-masked_content_weights", "09-sharpen_links")]
    assert written and all(message[s, e] == "" for s in ("alice", "bob") for e in written)

    # the guide's plain route on the same submissions, in the same folder
    exported = (course / "grades.csv").read_bytes()
    plain = guide_block("bash", "memlab.assign grade submitted")
    table = run_bash(plain, course, env, timings, "memlab.assign grade")
    assert [line.split() for line in table.splitlines()] == [
        ["student", "09-masked_content_weights", "09-sharpen_links", "score"],
        ["alice", "FAIL", "FAIL", "0/2"],
        ["bob", "pass", "FAIL", "1/2"]]
    with open(course / "memlab_grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[-1][:4] == ["bob", CHAPTER, "09-sharpen_links", "0"]
    assert rows[-1][4].startswith(f"AssertionError: {WRONG_MESSAGE}")
    assert (course / "grades.csv").read_bytes() == exported

    print("seconds:", ", ".join(f"{name} {seconds:.0f}" for name, seconds in timings.items()))
