"""The shape of the memlab package: a light import, lazy submodules, modules of a readable size,
and the exercise checks the chapters call.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "memlab"
LAZY = ("analysis", "assign", "checks", "viz")
CHECK_CALL = re.compile(r"\bchecks\.(\w+)\(")


def run_python(code: str) -> subprocess.CompletedProcess:
    """code run by a fresh interpreter in the repository root (this checkout's memlab)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_import_memlab_is_light():
    result = run_python(
        "import sys, memlab\n"
        f"assert memlab.__file__.startswith({str(PACKAGE)!r}), memlab.__file__\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'matplotlib', 'networkx', 'nbformat', "
        "'nbclient'}\n"
        "heavy |= {m for m in sys.modules if m in ('memlab.checks', 'memlab.viz', 'memlab.assign', "
        "'memlab.analysis')}\n"
        "assert not heavy, sorted(heavy)\n"
        "model = memlab.DNC(input_size=3, output_size=2, hidden_size=4, memory_size=3,"
        " word_size=2)\n"
        "assert 'matplotlib' not in sys.modules\n"
        "print('light')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "light"


def test_lazy_submodules_load_on_first_use():
    result = run_python(
        "import sys, memlab\n"
        "from memlab import checks\n"
        "assert checks is memlab.checks is sys.modules['memlab.checks']\n"
        "assert 'matplotlib' not in sys.modules  # the checks need no pictures\n"
        "assert memlab.viz is sys.modules['memlab.viz'] and 'matplotlib' in sys.modules\n"
        "import memlab.analysis, memlab.assign\n"
        "assert memlab.analysis.link_chain and memlab.assign.layout_problems\n"
        "assert set(memlab.__all__) <= set(dir(memlab))\n"
        "try:\n"
        "    memlab.no_such_module\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_module' in str(error)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print('lazy')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"


def test_lazy_names_are_submodules():
    import memlab

    for name in LAZY:
        assert (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()
        assert importlib.import_module(f"memlab.{name}") is getattr(memlab, name)


def top_level_imports(path: Path) -> set:
    """The modules a file imports at module level (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_only_viz_imports_matplotlib_at_module_level():
    importers = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                       if any(m.split(".")[0] == "matplotlib" for m in top_level_imports(p)))
    assert importers == ["memlab/viz.py"]


def test_no_module_is_over_a_quarter_of_the_package():
    lines = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    total = sum(lines.values())
    too_long = {path: n for path, n in lines.items() if n > total / 4}
    assert not too_long, f"over a quarter of the package's {total} lines: {too_long}"


def notebook_checks() -> dict:
    """{notebook path: names called as checks.<name>(...) in its code cells}."""
    found = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found[path] = sorted(set(CHECK_CALL.findall(code)))
    return found


def test_every_check_a_notebook_calls_exists():
    from memlab import checks

    calls = notebook_checks()
    assert any(calls.values()), "no notebook calls a check"
    missing = {p.name: [n for n in names if not callable(getattr(checks, n, None))]
               for p, names in calls.items()}
    assert not any(missing.values()), (
        f"checks the notebooks call but memlab.checks lacks: {missing}")
    assert set().union(*calls.values()) <= set(checks.__all__)


def test_each_check_lives_in_its_chapters_module():
    """checks.<name> called in notebooks/NN_*.ipynb is defined in memlab/checks/chNN_*.py."""
    from memlab import checks

    for path, names in notebook_checks().items():
        number = path.name.split("_")[0]
        for name in names:
            module = getattr(checks, name).__module__
            assert module.startswith(f"memlab.checks.ch{number}_"), (path.name, name, module)


def test_mistake_catalogues_are_records_with_unique_names():
    from memlab.checks import harness

    catalogues = {}
    for path in sorted((PACKAGE / "checks").glob("ch*.py")):
        module = importlib.import_module(f"memlab.checks.{path.stem}")
        for attr, value in vars(module).items():
            if attr.endswith("_MISTAKES"):
                catalogues[f"{path.stem}.{attr}"] = value
    assert len(catalogues) >= 10
    for where, mistakes in catalogues.items():
        assert mistakes and all(isinstance(m, harness.Mistake) for m in mistakes), where
        names = [m.name for m in mistakes]
        assert len(names) == len(set(names)), f"{where}: repeated names {names}"
        assert all(m.message and callable(m.function) for m in mistakes), where


@pytest.mark.parametrize("name", ["shift", "update_usage", "masked_bce"])
def test_reexported_checks_are_the_chapter_functions(name):
    from memlab import checks

    function = getattr(checks, name)
    module = importlib.import_module(function.__module__)
    assert getattr(module, name) is function and name in module.__all__


def test_metrics_live_in_their_own_module():
    from memlab import metrics, tasks

    for name in metrics.__all__:
        function = getattr(metrics, name)
        assert function.__module__ == "memlab.metrics"
        assert not hasattr(tasks, name)  # one home: memlab.metrics
    defined_in_tasks = [name for name, value in vars(tasks).items()
                        if callable(value) and getattr(value, "__module__", "") == "memlab.tasks"]
    assert not set(defined_in_tasks) & set(metrics.__all__)
