"""Notebooks are committed without outputs or execution counts."""

import json
from pathlib import Path

import nbformat
import pytest

from book_support import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def dirty_cells(path: Path) -> list[str]:
    """One line per code cell that has outputs or an execution count."""
    nb = nbformat.read(str(path), as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {index}: has {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index}: execution_count is {cell.execution_count}")
    if "widgets" in nb.metadata:
        found.append("metadata: saved widget state")
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_clean(path):
    problems = dirty_cells(path)
    assert not problems, (
        f"{path.name} was saved with outputs; clear them "
        f"(jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}):\n"
        + "\n".join(problems)
    )


def test_checker_finds_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                           execution_count=3)]
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), cell]
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, str(path))
    assert dirty_cells(path) == ["cell 1: has 1 output(s)", "cell 1: execution_count is 3"]

    cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, str(path))
    assert dirty_cells(path) == []
    assert json.loads(path.read_text())["cells"][1]["outputs"] == []
