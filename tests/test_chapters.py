"""Every chapter listed in _toc.yml runs from top to bottom under nbval.

Each chapter runs in its own ``python -m pytest --nbval-lax`` subprocess (with
MEMLAB_PROGRESS=text), so an exception or a failed ``assert`` in any cell fails
this test; outputs are not compared. A chapter must also stay within its time
budget (MEMLAB_CHAPTER_BUDGET_S, default 180 s; the chapters aim at 120 s).
"""

import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import nbformat
import pytest

from book_support import CHAPTER_BUDGET_S, ROOT, chapters, run_env

pytestmark = pytest.mark.slow

CHAPTERS = chapters()
CELL_TIMEOUT_S = 600


def run_nbval(notebook, junit_xml):
    """Run one notebook under nbval; return (exit code, output, counts, seconds)."""
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
        "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
        f"--junitxml={junit_xml}", str(notebook),
    ]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=run_env(), capture_output=True, text=True)
    seconds = time.monotonic() - started
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if junit_xml.exists():
        for suite in ET.parse(junit_xml).getroot().iter("testsuite"):
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    return proc.returncode, proc.stdout + proc.stderr, counts, seconds


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs(notebook, tmp_path):
    code_cells = sum(c.cell_type == "code"
                     for c in nbformat.read(str(notebook), as_version=4).cells)
    rc, output, counts, seconds = run_nbval(notebook, tmp_path / "junit.xml")
    tail = "\n".join(output.splitlines()[-60:])
    assert rc == 0, f"{notebook.name} failed under nbval (exit {rc}):\n{tail}"
    ran = counts["tests"] - counts["skipped"]
    assert ran >= 1 and counts["tests"] == code_cells, (
        f"{notebook.name}: nbval ran {ran} of {code_cells} code cells ({counts}):\n{tail}"
    )
    assert seconds <= CHAPTER_BUDGET_S, (
        f"{notebook.name} took {seconds:.0f} s under nbval, "
        f"over its budget of {CHAPTER_BUDGET_S:.0f} s"
    )


def test_nbval_run_catches_a_failing_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("assert x == 2, 'wrong'")]
    path = tmp_path / "failing.ipynb"
    nbformat.write(nb, str(path))
    rc, output, counts, _ = run_nbval(path, tmp_path / "junit.xml")
    assert rc == 1 and counts["failures"] + counts["errors"] == 1, output
