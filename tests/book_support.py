"""Helpers shared by the book's tests: paths, the chapter list and the strict build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import sync_badges  # noqa: E402  (scripts/sync_badges.py: toc and Colab settings)

BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
EXECUTED_DIR = BUILD_DIR / "jupyter_execute"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"
BUILD_LOG = BUILD_DIR / "build.log"

# The whole book build may take this long (each cell is also limited by
# execute.timeout in _config.yml).
BUILD_TIMEOUT_S = int(os.environ.get("MEMLAB_BUILD_TIMEOUT_S", "2700"))
# One chapter run under nbval may take this long (the chapters aim at 120 s).
CHAPTER_BUDGET_S = float(os.environ.get("MEMLAB_CHAPTER_BUDGET_S", "180"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def run_env() -> dict[str, str]:
    """The environment for builds and notebook runs: progress bars as plain text."""
    env = os.environ.copy()
    env["MEMLAB_PROGRESS"] = "text"
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def chapters() -> list[Path]:
    """The notebooks listed in _toc.yml that exist on disk, in reading order."""
    return sync_badges.toc_notebooks(ROOT)


def missing_chapters() -> list[str]:
    return sync_badges.missing_toc_entries(ROOT)


def missing_message(missing: list[str]) -> str:
    return (
        "listed in _toc.yml but not found on disk: "
        + ", ".join(missing)
        + " (add the file or remove it from _toc.yml)"
    )


def chapter_html(notebook: Path) -> Path:
    return HTML_DIR / notebook.relative_to(ROOT).with_suffix(".html")


def chapter_title(notebook: Path) -> str:
    """The first heading of the notebook, as Sphinx prints it in the page title."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "markdown" or "remove-cell" in tags:
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^#\s+(.*\S)\s*$", line)
            if match:
                # Sphinx's smart quotes print an apostrophe as a right single quotation mark
                return re.sub(r"[`*]", "", match.group(1)).replace("'", "\u2019")
    raise AssertionError(f"{notebook.name}: no '# Title' heading in a markdown cell")


def build_book() -> Path:
    """Build the book strictly (warnings are errors, every notebook executed) into _build/."""
    for stale in (HTML_DIR, EXECUTED_DIR, BUILD_DIR / ".doctrees", BUILD_DIR / ".jupyter_cache"):
        shutil.rmtree(stale, ignore_errors=True)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going", "--all"]
    started = time.monotonic()
    with open(BUILD_LOG, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            command, cwd=ROOT, env=run_env(), stdout=log, stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_S
        )
    seconds = time.monotonic() - started
    text = re.sub(r"\x1b\[[0-9;]*m", "", BUILD_LOG.read_text(encoding="utf-8", errors="replace"))
    if proc.returncode != 0 or not (HTML_DIR / "index.html").is_file():
        problems = [
            ln
            for ln in text.splitlines()
            if re.search(r"(WARNING|ERROR|CRITICAL|SEVERE):|Error\b|Exception\b", ln)
            and "[IPKernelApp]" not in ln
        ]
        raise AssertionError(
            f"strict book build failed (exit {proc.returncode}, {seconds:.0f} s); "
            f"full log in {BUILD_LOG}\n"
            + "\n".join(problems[-40:] or text.splitlines()[-40:])
        )
    print(f"book built in {seconds:.0f} s")
    return HTML_DIR


class LinkParser(HTMLParser):
    """Collects the links (href/src) and element ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and tag != "meta":
                self.ids.add(value)
            if name in ("href", "src"):
                self.links.append((tag, name, value))
            elif name == "srcset":
                for part in value.split(","):
                    if part.strip():
                        self.links.append((tag, name, part.strip().split()[0]))
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.links.append((tag, "refresh", value.split("=", 1)[1].strip()))


def parse_html(path: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser
