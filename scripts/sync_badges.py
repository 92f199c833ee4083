#!/usr/bin/env python3
"""Keep every chapter's Colab badge and install cell in line with _config.yml.

The repository URL and branch are set once, under ``repository:`` in
``_config.yml``. From them and each notebook's real path this script derives,
for every notebook listed in ``_toc.yml``:

* the **badge cell**: the first markdown cell, holding exactly the line
  ``[![Open In Colab](<badge.svg>)](<colab>/github/<org>/<repo>/blob/<branch>/<path>)``
  and tagged ``colab-badge`` and ``remove-cell`` (the web book shows its own
  launch button instead, so the cell is left out of the HTML pages);
* the **install cell**: the first code cell, tagged ``colab-install`` and
  ``remove-cell``, which installs memlab from the repository only when it runs
  on Colab (and keeps Colab's own torch, since memlab asks only for
  ``torch>=2.1``); the web book runs it (it does nothing there) but leaves it
  out of the pages, whose launch button serves the same purpose.

Usage::

    python scripts/sync_badges.py           # rewrite the notebooks that differ
    python scripts/sync_badges.py --check   # list what differs, exit 1 if anything does

Notebooks are written the way Jupyter writes them (nbformat, indent 1), and
only when something changed.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_TAGS = ("colab-badge", "remove-cell")
INSTALL_TAG = "colab-install"
INSTALL_TAGS = (INSTALL_TAG, "remove-cell")
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")

# A markdown line that is a Colab badge, whatever it points at.
_BADGE_LINE = re.compile(r"^\s*\[!\[open in colab\]\([^)]*\)\]\([^)]*\)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """What the badge and the install line derive from (``_config.yml``)."""

    repo_url: str  # https://github.com/<org>/<repo>
    org: str
    repo: str
    branch: str
    path_to_book: str  # the book's folder inside the repository, "" for the root
    colab_url: str  # https://colab.research.google.com
    book_root: Path  # the folder holding _config.yml and _toc.yml

    def repo_path(self, notebook: Path) -> str:
        """The notebook's path inside the repository, e.g. ``notebooks/01_x.ipynb``."""
        rel = Path(notebook).resolve().relative_to(self.book_root.resolve()).as_posix()
        prefix = self.path_to_book.strip("/")
        return f"{prefix}/{rel}" if prefix else rel

    def colab_link(self, repo_path: str) -> str:
        """The Colab URL that opens the notebook at ``repo_path`` on the configured branch."""
        return f"{self.colab_url}/github/{self.org}/{self.repo}/blob/{self.branch}/{repo_path}"

    def badge_line(self, repo_path: str) -> str:
        return f"[![Open In Colab]({BADGE_SVG})]({self.colab_link(repo_path)})"

    @property
    def install_line(self) -> str:
        return f'%pip install -q "memlab @ git+{self.repo_url}@{self.branch}"'

    @property
    def install_source(self) -> str:
        return (
            "import sys\n"
            "\n"
            "if \"google.colab\" in sys.modules:"
            "  # Colab only: install memlab, keep Colab's torch\n"
            f"    {self.install_line}"
        )


def load_settings(book_root: Path = ROOT, config: Path | None = None) -> Settings:
    """Read the repository setting and the Colab URL from ``_config.yml``."""
    book_root = Path(book_root)
    config = Path(config) if config else book_root / "_config.yml"
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    repository = data.get("repository") or {}
    url = str(repository.get("url", "")).strip().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    branch = str(repository.get("branch", "")).strip()
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.scheme != "https" or parsed.netloc != "github.com" or len(parts) != 2 or not branch:
        raise ValueError(
            f"{config}: repository.url must be https://github.com/<org>/<repo> and "
            f"repository.branch must be set (found url={url!r}, branch={branch!r})"
        )
    colab_url = str((data.get("launch_buttons") or {}).get("colab_url", "")).strip().rstrip("/")
    if not colab_url.startswith("https://"):
        raise ValueError(f"{config}: launch_buttons.colab_url must be set to the Colab URL")
    return Settings(
        repo_url=url,
        org=parts[0],
        repo=parts[1],
        branch=branch,
        path_to_book=str(repository.get("path_to_book") or "").strip().strip("/"),
        colab_url=colab_url,
        book_root=book_root,
    )


# --------------------------------------------------------------------------- toc


def toc_entries(book_root: Path = ROOT) -> list[str]:
    """Every document named in ``_toc.yml`` (root first), in reading order."""
    toc = yaml.safe_load((Path(book_root) / "_toc.yml").read_text(encoding="utf-8"))
    entries: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node and isinstance(node[key], str):
                    entries.append(node[key])
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return entries


def resolve_entry(entry: str, book_root: Path = ROOT) -> Path | None:
    """The file a toc entry names, or None if it is not on disk."""
    base = Path(book_root) / entry
    if base.suffix in SOURCE_SUFFIXES and base.is_file():
        return base
    for suffix in SOURCE_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def missing_toc_entries(book_root: Path = ROOT) -> list[str]:
    """Entries of ``_toc.yml`` with no file on disk (each one is an error)."""
    return [e for e in toc_entries(book_root) if resolve_entry(e, book_root) is None]


def toc_notebooks(book_root: Path = ROOT) -> list[Path]:
    """The notebooks listed in ``_toc.yml`` that exist, in reading order."""
    found = (resolve_entry(e, book_root) for e in toc_entries(book_root))
    return [p for p in found if p is not None and p.suffix == ".ipynb"]


# --------------------------------------------------------------------- notebooks


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _set_tags(cell, wanted: tuple[str, ...] | list[str]) -> None:
    tags = _tags(cell)
    for tag in wanted:
        if tag not in tags:
            tags.append(tag)
    cell.setdefault("metadata", {})["tags"] = tags


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line
    return ""


def is_badge_cell(cell) -> bool:
    return cell.cell_type == "markdown" and (
        "colab-badge" in _tags(cell) or bool(_BADGE_LINE.match(_first_line(cell.source)))
    )


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and (
        INSTALL_TAG in _tags(cell)
        or ("google.colab" in cell.source and "pip install" in cell.source)
    )


def _new_cell(nb, kind: str, source: str):
    new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = new(source)
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        cell.pop("id", None)
    return cell


def sync_notebook(nb, settings: Settings, repo_path: str):
    """Return a copy of ``nb`` with the badge and install cells as the settings want."""
    nb = copy.deepcopy(nb)
    badge = settings.badge_line(repo_path)

    # Badge: one markdown cell, the first cell of the notebook, holding only the badge.
    badge_cell = None
    cells = []
    for cell in nb.cells:
        if is_badge_cell(cell):
            lines = cell.source.splitlines()
            while lines and not lines[0].strip():
                lines.pop(0)
            body = lines[1:] if lines and _BADGE_LINE.match(lines[0]) else lines
            rest = "\n".join(body).strip("\n")
            if badge_cell is None:
                badge_cell = cell
            if rest.strip():  # keep what followed the badge (the title, usually) in its own cell
                cells.append(_new_cell(nb, "markdown", rest))
            continue
        cells.append(cell)
    if badge_cell is None:
        badge_cell = _new_cell(nb, "markdown", badge)
    badge_cell.source = badge
    _set_tags(badge_cell, BADGE_TAGS)
    cells.insert(0, badge_cell)

    # Install cell: the first code cell.
    install_cell = None
    rest_cells = []
    for cell in cells:
        if is_install_cell(cell):
            install_cell = install_cell or cell
            continue
        rest_cells.append(cell)
    if install_cell is None:
        install_cell = _new_cell(nb, "code", settings.install_source)
    install_cell.source = settings.install_source
    install_cell.outputs = []
    install_cell.execution_count = None
    _set_tags(install_cell, INSTALL_TAGS)
    first_code = next((i for i, c in enumerate(rest_cells) if c.cell_type == "code"),
                      len(rest_cells))
    rest_cells.insert(first_code, install_cell)

    nb.cells = rest_cells
    return nb


def problems(nb, settings: Settings, repo_path: str) -> list[str]:
    """What differs from the settings, one line each (empty when all is well)."""
    found = []
    badge = settings.badge_line(repo_path)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if not markdown:
        found.append("no markdown cell: the first markdown cell must hold the Colab badge")
    else:
        first = markdown[0]
        line = _first_line(first.source)
        if line.strip() != badge:
            found.append(f"badge: first markdown cell starts with {line.strip()!r}, "
                         f"expected {badge!r}")
        elif first.source.strip() != badge:
            found.append("badge: the badge cell must hold only the badge (put the title in the "
                         "next cell)")
        missing = [t for t in BADGE_TAGS if t not in _tags(first)]
        if missing:
            found.append(f"badge: the badge cell lacks the tag(s) {', '.join(missing)}")
        if nb.cells[0] is not first:
            found.append("badge: the badge cell must be the notebook's first cell")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code:
        found.append("install: no code cell; the first code cell must install memlab on Colab")
    else:
        first = code[0]
        if settings.install_line not in first.source:
            got = next((ln.strip() for ln in first.source.splitlines() if "pip install" in ln),
                       None)
            found.append(
                f"install: first code cell has {got!r}, expected {settings.install_line!r}"
                if got
                else f"install: first code cell does not install memlab ({settings.install_line!r})"
            )
        elif first.source != settings.install_source:
            found.append("install: first code cell differs from the standard install cell")
        missing = [t for t in INSTALL_TAGS if t not in _tags(first)]
        if missing:
            found.append(f"install: the install cell lacks the tag(s) {', '.join(missing)}")
        if len([c for c in code if is_install_cell(c)]) > 1:
            found.append("install: more than one install cell")
    if not found and nbformat.writes(sync_notebook(nb, settings, repo_path)) != nbformat.writes(nb):
        found.append("notebook differs from what sync_badges.py writes")
    return found


def check_notebook(path: Path, settings: Settings, repo_path: str | None = None) -> list[str]:
    nb = nbformat.read(str(path), as_version=4)
    return problems(nb, settings, repo_path or settings.repo_path(path))


def fix_notebook(path: Path, settings: Settings, repo_path: str | None = None) -> bool:
    """Rewrite the notebook if needed; return True when it changed."""
    nb = nbformat.read(str(path), as_version=4)
    new = sync_notebook(nb, settings, repo_path or settings.repo_path(path))
    text = nbformat.writes(new)
    text = text if text.endswith("\n") else text + "\n"
    if Path(path).read_text(encoding="utf-8") == text:
        return False
    Path(path).write_text(text, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report differences; exit 1 if any")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="folder with _config.yml and _toc.yml")
    args = parser.parse_args(argv)

    settings = load_settings(args.root)
    status = 0
    for entry in missing_toc_entries(args.root):
        print(f"{entry}: listed in _toc.yml but not found on disk")
        status = 1
    for path in toc_notebooks(args.root):
        name = settings.repo_path(path)
        if args.check:
            for problem in check_notebook(path, settings):
                print(f"{name}: {problem}")
                status = 1
        elif fix_notebook(path, settings):
            print(f"{name}: updated")
    return status


if __name__ == "__main__":
    sys.exit(main())
