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

The course plan's route (book/course.md) is followed on chapter 2: the release goes out through
nbgrader's exchange, two students fetch and submit it, the instructor collects, grades and
releases the feedback, and no line of a solution reaches the exchange or a student's folder.
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


def course_beside_clone(tmp_path):
    """The guide's layout: teaching/memlab (the clone) and teaching/memlab-course with the
    guide's nbgrader_config.py; returns (teaching, course).
    """
    teaching = tmp_path / "teaching"
    teaching.mkdir()
    (teaching / "memlab").symlink_to(ROOT, target_is_directory=True)
    course = teaching / "memlab-course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(guide_block("python", "c = get_config()"))
    return teaching, course


def test_the_guide_grades_a_checkpoint_chapter_offline(tmp_path):
    timings = {}
    teaching, course = course_beside_clone(tmp_path)

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


# The course plan's route: nbgrader's exchange hands out the release and collects the submissions.
COURSE = ROOT / "book" / "course.md"
EXCHANGE = "/usr/local/share/nbgrader/exchange"
SYSTEM_CONFIG = "/etc/jupyter"
BOB_USAGE = ("def my_update_usage(usage, write_weights, retention):\n"
             "    return retention * (usage + write_weights * (1 - usage))")


def course_block(language: str, needle: str) -> str:
    text = COURSE.read_text(encoding="utf-8")
    found = [b for b in re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
             if needle in b]
    assert len(found) == 1, f"the course plan has {len(found)} {language} blocks with {needle!r}"
    return found[0]


def private_lines(source: Path) -> set[str]:
    """The lines of a notebook's solutions that appear nowhere else in it."""
    nb = nbformat.read(str(source), as_version=4)
    solutions, rest = [], []
    for cell in nb.cells:
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            rest.append(cell.source)
        elif cell.cell_type == "markdown":
            solutions.append(cell.source)
        else:
            parts = re.split(r"^\s*### (?:BEGIN|END) SOLUTION\s*$", cell.source, flags=re.M)
            solutions.extend(parts[1::2])
            rest.extend(parts[0::2])
    outside = "\n".join(rest)
    return {line.strip() for block in solutions for line in block.splitlines()
            if line.strip() and line.strip() not in outside}


def readable_text(path: Path) -> str:
    """What a reader of the file sees: a notebook's cells and outputs, a web page's text."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(str(path), as_version=4)
        return "\n".join([c.source for c in nb.cells] + [
            o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
            for c in nb.cells for o in c.get("outputs", [])])
    text = path.read_text(encoding="utf-8", errors="replace")
    return html.unescape(re.sub(r"<[^>]+>", "", text)) if path.suffix == ".html" else text


def test_the_course_plan_keeps_the_solutions_private(tmp_path):
    """The course plan's commands, run as written but for two paths: the exchange and the
    server's configuration folder lie in tmp_path. Every person runs with a Jupyter
    configuration folder of their own; the two students, who on a server would be two users,
    are told apart by the student id in theirs.
    """
    timings = {}
    teaching, course = course_beside_clone(tmp_path)
    exchange, system = tmp_path / "exchange", tmp_path / "etc-jupyter"

    base = run_env()
    base.pop("MEMLAB_CHECKPOINTS", None)
    base.update({
        "PATH": os.path.dirname(sys.executable) + os.pathsep + base.get("PATH", ""),
        "JUPYTER_CONFIG_PATH": str(system),  # read by every user's nbgrader, as /etc/jupyter is
        "OMP_NUM_THREADS": "1",
    })

    def env_of(person: str, config: str = "") -> dict:
        folder = tmp_path / person
        (folder / "config").mkdir(parents=True)
        (folder / "config" / "nbgrader_config.py").write_text(f"c = get_config()\n{config}")
        return dict(base, JUPYTER_CONFIG_DIR=str(folder / "config"),
                    JUPYTER_DATA_DIR=str(folder / "data"))

    server = course_block("bash", "c.Exchange.root")
    assert server.count(EXCHANGE) == 3 and SYSTEM_CONFIG in server
    server = server.replace(EXCHANGE, str(exchange)).replace(SYSTEM_CONFIG, str(system))
    run_bash(server, tmp_path, base, timings, "the server")

    instructor = env_of("instructor")
    run_bash(course_block("bash", "nbgrader release_assignment"), teaching, instructor, timings,
             "generate and release")
    assert course.stat().st_mode & 0o777 == 0o700
    source = course / "source" / "ch02" / "02_dnc_memory.ipynb"
    released = exchange / "memlab" / "outbound" / "ch02" / "02_dnc_memory.ipynb"
    assert "raise NotImplementedError()" in released.read_text()

    student = course_block("bash", "nbgrader submit").splitlines()
    split = next(i for i, line in enumerate(student) if line.startswith("nbgrader submit"))
    homes, envs = {}, {}
    for name in ("alice", "bob"):
        home = homes[name] = tmp_path / name / "home"
        home.mkdir(parents=True)
        env = envs[name] = env_of(name, f'c.CourseDirectory.student_id = "{name}"\n')
        run_bash("\n".join(student[:split]), home, env, timings, f"{name} fetches")
        fetched = home / "ch02" / "02_dnc_memory.ipynb"
        if name == "bob":  # alice hands in the release as it is, bob solves exercise 2.2
            nb = nbformat.read(str(fetched), as_version=4)
            cell = next(c for c in nb.cells
                        if c.metadata.get("nbgrader", {}).get("grade_id") == "02-update_usage")
            cell.source = BOB_USAGE
            nbformat.write(nb, str(fetched))
        run_bash("\n".join(student[split:]), home, env, timings, f"{name} submits")

    run_bash(course_block("bash", "nbgrader collect"), teaching, instructor, timings,
             "collect, autograde, feedback")
    for name in ("alice", "bob"):
        assert (course / "submitted" / name / "ch02" / "02_dnc_memory.ipynb").is_file()
    run_bash("cd memlab-course\nnbgrader export", teaching, instructor, timings, "export")
    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert scores == {"alice": 0.0, "bob": 1.0}

    fetch_feedback = course_block("bash", "nbgrader fetch_feedback")
    for name, home in homes.items():
        run_bash(fetch_feedback, home, envs[name], timings, f"{name} fetches the feedback")
        pages = list((home / "ch02" / "feedback").glob("*/02_dnc_memory.html"))
        assert len(pages) == 1, pages
        feedback = readable_text(pages[0])
        assert "NotImplementedError" in feedback
        assert ("return retention * (usage + write_weights * (1 - usage))" in feedback) == (
            name == "bob")

    # No solution reached the exchange or a student's folder.
    private = private_lines(source)
    assert len(private) > 10, private
    seen = [p for folder in (exchange, *homes.values()) for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in seen) and any(p.suffix == ".html" for p in seen)
    leaks = [f"{p}: {line}" for p in seen for line in private if line in readable_text(p)]
    assert not leaks, "solutions outside the course folder:\n" + "\n".join(leaks[:20])
    text = readable_text(source)  # where the solutions are, the same search finds them
    assert all(line in text for line in private)

    print("seconds:", ", ".join(f"{name} {seconds:.0f}" for name, seconds in timings.items()))
