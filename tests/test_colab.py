"""Every chapter's Colab badge and install cell agree with _config.yml and its real path."""

import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

from book_support import ROOT, chapters, sync_badges

CHAPTERS = chapters()
SCRIPT = ROOT / "scripts" / "sync_badges.py"


def minimal_notebook(title="# A chapter", code="x = 1"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_code_cell(code)]
    return nb


def test_settings_come_from_config(settings):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert settings.repo_url == config["repository"]["url"].rstrip("/")
    assert settings.branch == config["repository"]["branch"]
    assert settings.colab_url == config["launch_buttons"]["colab_url"].rstrip("/")
    assert settings.colab_link("notebooks/x.ipynb") == (
        f"https://colab.research.google.com/github/{settings.org}/{settings.repo}"
        f"/blob/{settings.branch}/notebooks/x.ipynb"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_badge_and_install_cell(path, settings):
    problems = sync_badges.check_notebook(path, settings)
    assert not problems, (
        f"{path.name}: Colab badge or install cell out of date; "
        "run `python scripts/sync_badges.py`:\n"
        + "\n".join(problems)
    )
    nb = nbformat.read(str(path), as_version=4)
    first_markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    assert first_markdown.source.splitlines()[0] == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({settings.colab_url}/github/{settings.org}/{settings.repo}/blob/{settings.branch}/"
        f"notebooks/{path.name})"
    )
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    install = f'%pip install -q "memlab @ git+{settings.repo_url}@{settings.branch}"'
    assert install in first_code.source
    # Hidden on the site (the launch button serves), still run by the build.
    assert {"colab-install", "remove-cell"} <= set(first_code.metadata.get("tags", []))


def test_checker_rejects_a_badge_for_another_path(tmp_path, settings):
    path = tmp_path / "nb.ipynb"
    nbformat.write(sync_badges.sync_notebook(minimal_notebook(), settings, "notebooks/01_a.ipynb"),
                   str(path))
    assert sync_badges.check_notebook(path, settings, "notebooks/01_a.ipynb") == []
    problems = sync_badges.check_notebook(path, settings, "notebooks/02_b.ipynb")
    assert len(problems) == 1 and problems[0].startswith("badge:") and "02_b.ipynb" in problems[0]


def test_checker_rejects_another_branch_or_repository(tmp_path, settings):
    path = tmp_path / "nb.ipynb"
    nbformat.write(sync_badges.sync_notebook(minimal_notebook(), settings, "notebooks/01_a.ipynb"),
                   str(path))
    for other in (
        settings.__class__(**{**settings.__dict__, "branch": "dev"}),
        settings.__class__(**{**settings.__dict__, "repo_url": "https://github.com/someone/fork",
                              "org": "someone", "repo": "fork"}),
    ):
        problems = sync_badges.check_notebook(path, other, "notebooks/01_a.ipynb")
        assert [p.split(":")[0] for p in problems] == ["badge", "install"], problems


def test_checker_rejects_missing_cells(tmp_path, settings):
    path = tmp_path / "nb.ipynb"
    nbformat.write(minimal_notebook(), str(path))
    problems = sync_badges.check_notebook(path, settings, "notebooks/01_a.ipynb")
    assert any(p.startswith("badge:") for p in problems)
    assert any(p.startswith("install:") for p in problems)


def test_sync_fixes_and_is_stable(tmp_path, settings):
    nb = minimal_notebook(
        title=f"{settings.badge_line('notebooks/old.ipynb')}\n\n# A chapter\n\nText.",
        code='import sys\nif "google.colab" in sys.modules:\n    %pip install -q memlab',
    )
    nb.cells.append(nbformat.v4.new_code_cell("y = 2"))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    repo_path = "notebooks/03_c.ipynb"

    assert sync_badges.fix_notebook(path, settings, repo_path) is True
    assert sync_badges.check_notebook(path, settings, repo_path) == []
    text = path.read_text()
    assert sync_badges.fix_notebook(path, settings, repo_path) is False  # idempotent
    assert path.read_text() == text
    assert text.startswith('{\n "cells": [\n  {\n') and text.endswith("}\n")  # Jupyter's layout

    fixed = nbformat.read(str(path), as_version=4)
    kinds = [(c.cell_type, c.source.splitlines()[0]) for c in fixed.cells]
    assert kinds == [
        ("markdown", settings.badge_line(repo_path)),
        ("markdown", "# A chapter"),
        ("code", "import sys"),
        ("code", "y = 2"),
    ]
    assert fixed.cells[0].metadata.tags == ["colab-badge", "remove-cell"]
    assert fixed.cells[2].metadata.tags == ["colab-install", "remove-cell"]
    assert fixed.cells[1].source == "# A chapter\n\nText."


def test_install_cell_is_valid_ipython(settings):
    python = TransformerManager().transform_cell(settings.install_source)
    compile(python, "<install cell>", "exec")
    assert "get_ipython().run_line_magic('pip', 'install -q \"memlab @ git+" in python
    # Outside Colab the cell runs without installing anything.
    namespace = {"get_ipython": lambda: pytest.fail("the install ran outside Colab")}
    exec(python, namespace)


def test_cli_check_reports_and_fixes(tmp_path):
    root = tmp_path / "book"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n"
        "  - file: notebooks/01_a\n  - file: notebooks/02_gone\n"
    )
    (root / "intro.md").write_text("# Intro\n")
    nbformat.write(minimal_notebook(), str(root / "notebooks" / "01_a.ipynb"))

    def run(*args):
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--root", str(root), *args], capture_output=True,
            text=True
        )

    check = run("--check")
    assert check.returncode == 1
    assert "notebooks/01_a.ipynb: badge:" in check.stdout
    assert "notebooks/01_a.ipynb: install:" in check.stdout
    assert "notebooks/02_gone: listed in _toc.yml but not found on disk" in check.stdout

    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: notebooks/01_a\n")
    fix = run()
    assert fix.returncode == 0 and "notebooks/01_a.ipynb: updated" in fix.stdout
    again = run("--check")
    assert again.returncode == 0, again.stdout


def test_checker_wants_the_install_cell_hidden(tmp_path, settings):
    nb = sync_badges.sync_notebook(minimal_notebook(), settings, "notebooks/01_a.ipynb")
    install = next(c for c in nb.cells if c.cell_type == "code")
    install.metadata["tags"] = ["colab-install"]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    problems = sync_badges.check_notebook(path, settings, "notebooks/01_a.ipynb")
    assert problems == ["install: the install cell lacks the tag(s) remove-cell"], problems
    assert sync_badges.fix_notebook(path, settings, "notebooks/01_a.ipynb") is True
    assert sync_badges.check_notebook(path, settings, "notebooks/01_a.ipynb") == []
