"""`make lint` finds nothing: ruff over the Python files, mypy over the package and scripts.

Both tools are pinned in requirements.txt and configured in pyproject.toml; a missing tool
fails here rather than skipping, so that CI's `make test` always runs them.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book_support import ROOT


def tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    path = str(found) if found.is_file() else shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (pip install -r requirements.txt)", pytrace=False)
    return path


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run(tool("ruff"), "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    # the files and the settings come from [tool.mypy] in pyproject.toml
    result = run(tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_settings_catch_an_unused_import_and_an_undocumented_function(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""A module."""\nimport os\n\n\ndef public(x):\n    return x\n')
    result = run(tool("ruff"), "check", "--no-cache", "--output-format", "concise",
                 "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "F401" in result.stdout and "D103" in result.stdout, result.stdout
