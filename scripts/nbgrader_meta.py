"""Write (or verify) the nbgrader cell metadata of the chapters' exercises.

    python scripts/nbgrader_meta.py [PATH ...]          # default: notebooks/
    python scripts/nbgrader_meta.py --check [PATH ...]  # exit 1 if a notebook needs an update

Each exercise cell (a code cell with ``### BEGIN SOLUTION`` / ``### END SOLUTION``)
becomes an nbgrader solution cell, and the code cell right after it, which calls
``checks.<name>(...)``, an autograded, locked test cell worth one point:

    exercise: {"solution": true,  "grade": false, "locked": false,
               "grade_id": "<chapter>-<name>", "schema_version": 3}
    check:    {"solution": false, "grade": true,  "locked": true, "points": 1,
               "grade_id": "<chapter>-<name>-check", "schema_version": 3}

<chapter> is the notebook's number (01, 02, ...), <name> the check's name. A written
question (see memlab.assign) keeps its grade id and points; its cells get the rest:

    question: {"solution": false, "grade": false, "locked": true,
               "grade_id": "<chapter>-q-<slug>", "schema_version": 3}
    answer:   {"solution": true,  "grade": true,  "locked": false, "points": <its points>,
               "grade_id": "<chapter>-q-<slug>-answer", "schema_version": 3}

Solution or grade metadata left on cells that are no longer exercises or answers is
removed. Running it twice changes nothing the second time.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memlab.assign import (  # noqa: E402
    CHECK_SUFFIX,
    chapter_id,
    exercise_of,
    find_exercises,
    find_questions,
)

SCHEMA_VERSION = 3


def wanted_metadata(nb, chapter: str) -> dict[int, dict]:
    """{cell index: nbgrader metadata} for the exercise, check, question and answer cells."""
    wanted = {}
    for exercise in find_exercises(nb):
        grade_id = f"{chapter}-{exercise.name}"
        wanted[exercise.cell] = {"solution": True, "grade": False, "locked": False,
                                 "grade_id": grade_id, "schema_version": SCHEMA_VERSION}
        if exercise.check_cell is not None and exercise.checks:
            wanted[exercise.check_cell] = {"solution": False, "grade": True, "locked": True,
                                           "points": 1, "grade_id": grade_id + CHECK_SUFFIX,
                                           "schema_version": SCHEMA_VERSION}
    for question in find_questions(nb):
        points = question.points if question.points is not None else 1
        wanted[question.answer_cell] = {"solution": True, "grade": True, "locked": False,
                                        "points": points, "grade_id": question.grade_id,
                                        "schema_version": SCHEMA_VERSION}
        if question.cell >= 0 and nb.cells[question.cell].cell_type == "markdown":
            wanted[question.cell] = {"solution": False, "grade": False, "locked": True,
                                     "grade_id": exercise_of(question.grade_id),
                                     "schema_version": SCHEMA_VERSION}
    return wanted


def update(nb, chapter: str) -> list[str]:
    """Set the metadata in ``nb`` (in place); returns one line per cell changed."""
    changes = []
    wanted = wanted_metadata(nb, chapter)
    for index, cell in enumerate(nb.cells):
        current = cell.metadata.get("nbgrader")
        if index in wanted:
            if current != wanted[index]:
                cell.metadata["nbgrader"] = wanted[index]
                changes.append(f"cell {index}: nbgrader {wanted[index]['grade_id']}")
        elif current is not None and (current.get("solution") or current.get("grade")):
            del cell.metadata["nbgrader"]
            changes.append(f"cell {index}: stale nbgrader metadata removed")
    ids = [meta["grade_id"] for meta in wanted.values()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate grade ids {duplicates}: two exercises use the same check")
    return changes


def notebooks(paths: list[str]) -> list[Path]:
    found = []
    for name in paths:
        path = Path(name)
        found += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "notebooks")],
                        help="notebooks or folders of notebooks (default: notebooks/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook's metadata is not up to date")
    args = parser.parse_args(argv)
    stale = 0
    for path in notebooks(args.paths):
        nb = nbformat.read(str(path), as_version=4)
        try:
            changes = update(nb, chapter_id(path))
        except ValueError as error:
            print(f"{path}: {error}")
            return 1
        if not changes:
            continue
        stale += 1
        if args.check:
            print(f"{path}: nbgrader metadata not up to date ({len(changes)} cell(s)); "
                  f"run python scripts/nbgrader_meta.py")
        else:
            nbformat.write(nb, str(path))
            print(f"{path}: " + "; ".join(changes))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
