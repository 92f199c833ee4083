#!/usr/bin/env python3
"""Run every chapter of the book with the Python it is started with.

``make colab-check`` runs this inside Colab's public runtime container (see
``.github/workflows/colab.yml``), after ``pip install -e .``: each notebook named
in ``_toc.yml`` is executed top to bottom in its folder with the container's own
packages (Colab's torch, numpy, matplotlib ...), so that a Colab upgrade that
breaks a chapter is caught. Cells tagged ``raises-exception`` may raise; any
other exception fails the chapter.

Usage::

    python scripts/colab_check.py                      # every chapter
    python scripts/colab_check.py notebooks/01_x.ipynb # some chapters
    python scripts/colab_check.py --timeout 900        # seconds per cell

Exits 1 when a chapter fails, after running all of them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import sync_badges  # noqa: E402  (the chapter list of _toc.yml)


def run_chapter(path: Path, timeout: int) -> str | None:
    """Execute one notebook in its folder; return None, or what went wrong."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        client.execute()
    except CellExecutionError as error:
        return str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to run (default: all in _toc.yml)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {args.timeout}")

    os.environ["MEMLAB_PROGRESS"] = "text"  # plain text progress lines, inherited by the kernels
    notebooks = [p.resolve() for p in args.notebooks] or sync_badges.toc_notebooks(ROOT)
    missing = sync_badges.missing_toc_entries(ROOT)
    failures = [f"{entry}: listed in _toc.yml but not found on disk" for entry in missing]
    print(f"Python {sys.version.split()[0]}; running {len(notebooks)} chapter(s)", flush=True)
    for path in notebooks:
        started = time.monotonic()
        problem = run_chapter(path, args.timeout)
        seconds = time.monotonic() - started
        name = path.relative_to(ROOT).as_posix() if ROOT in path.parents else str(path)
        print(f"{'FAIL' if problem else 'ok  '} {name} ({seconds:.0f} s)"
              f"{': ' + problem if problem else ''}", flush=True)
        if problem:
            failures.append(f"{name}: {problem}")
    if failures:
        print(f"{len(failures)} chapter(s) failed:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print(f"all {len(notebooks)} chapter(s) ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
