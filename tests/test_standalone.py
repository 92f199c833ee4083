"""Every chapter runs under nbval, alone, as on Colab: memlab installed by its first cell.

For each chapter in _toc.yml, run once:

* a fresh virtual environment that has the packages Colab already has (those of the running
  environment, made visible through a ``.pth`` file pointing at a folder of links to them) but
  not memlab: the first cell of the run asserts that ``import memlab`` would fail;
* ``google.colab`` stubbed and imported at kernel start, so the install cell runs; its pip URL
  points at a git snapshot of this working tree instead of GitHub (``--no-index``: pip may not
  download anything, the dependencies are already there as on Colab);
* the chapter copied alone into an empty folder and run top to bottom under nbval
  (``pytest --nbval-lax`` in a subprocess, a kernel in that environment), with a fresh cache
  folder and the checkpoints served from 127.0.0.1 through ``MEMLAB_PRETRAINED_URL``. An
  exception or a failed ``assert`` in any cell fails it (outputs are not compared), and the
  chapter must stay within its time budget (MEMLAB_CHAPTER_BUDGET_S, default 180 s, plus
  MEMLAB_STANDALONE_INSTALL_S for the install cell; the chapters aim at 120 s).

One more run, with nbclient, serves damaged checkpoints and expects memlab's hash error in the
cell output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import xml.etree.ElementTree as ET
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from book_support import CHAPTER_BUDGET_S, ROOT, chapters, in_ci, run_env

pytestmark = pytest.mark.slow

CHAPTERS = chapters()
CELL_TIMEOUT_S = 600
# a chapter's own budget, plus the install cell (a git clone and a wheel build) and the downloads
INSTALL_ALLOWANCE_S = float(os.environ.get("MEMLAB_STANDALONE_INSTALL_S", "120"))
PRETRAINED_CALL = re.compile(r"""memlab\.pretrained\(\s*["']([\w.]+)["']""")


def _hidden(name: str) -> bool:
    """Entries of site-packages that make memlab importable or visible to pip and metadata."""
    lowered = name.lower()
    return lowered.startswith(("memlab", "__editable__")) or lowered.endswith((".pth", ".egg-link"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(folder: Path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def _git(*args, cwd):
    return subprocess.run(
        ["git", "-c", "user.name=memlab", "-c", "user.email=memlab@localhost", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def colab(tmp_path_factory, settings):
    """What every standalone run shares: the package view, the git snapshot, the served files."""
    if shutil.which("git") is None:
        if in_ci():
            pytest.fail("git is needed to install memlab from a snapshot of the repository")
        pytest.skip("git is not installed")
    base = tmp_path_factory.mktemp("colab")

    # Colab's packages: every entry of this environment's site-packages except memlab's.
    packages = base / "packages"
    packages.mkdir()
    for folder in dict.fromkeys([sysconfig.get_paths()["purelib"],
                                 sysconfig.get_paths()["platlib"]]):
        for entry in Path(folder).iterdir():
            if not _hidden(entry.name) and not (packages / entry.name).exists():
                (packages / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())

    # The repository as the working tree has it, committed on the configured branch.
    repo = base / "repo"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, files):
        source = ROOT / rel
        if source.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / rel)
    _git("init", "-q", "-b", settings.branch, cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "snapshot", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)

    # google.colab, imported at kernel start as on Colab
    stub = base / "stub"
    (stub / "google" / "colab").mkdir(parents=True)  # google stays a namespace package
    (stub / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module."""\n')

    served = repo / "checkpoints"
    httpd, url = _serve(served)
    yield SimpleNamespace(packages=packages, repo=repo, commit=commit, stub=stub, served=served,
                          url=url, settings=settings)
    httpd.shutdown()
    httpd.server_close()


def fresh_environment(colab, where: Path) -> Path:
    """A new virtual environment that sees Colab's packages, not memlab; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(purelib, "colab_packages.pth").write_text(f"{colab.packages}\n")
    return python


def kernel_env(colab, tmp: Path, url: str) -> dict:
    no_proxy = ",".join(filter(None, [os.environ.get("no_proxy"), "127.0.0.1"]))
    return {
        "PYTHONPATH": str(colab.stub),
        "PYTHONNOUSERSITE": "1",
        "MEMLAB_PRETRAINED_URL": url,
        "MEMLAB_CHECKPOINTS": "",
        "MEMLAB_CACHE": "",
        "XDG_CACHE_HOME": str(tmp / "xdg-cache"),  # memlab's cache: <this>/memlab
        "MEMLAB_PROGRESS": "text",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CACHE_DIR": str(tmp / "pip-cache"),
        "no_proxy": no_proxy,
        "NO_PROXY": no_proxy,
    }


def colab_notebook(colab, notebook: Path):
    """The chapter as the run executes it: install URL pointed at the snapshot, one probe cell."""
    nb = nbformat.read(str(notebook), as_version=4)
    install = [c for c in nb.cells if "colab-install" in c.get("metadata", {}).get("tags", [])]
    assert len(install) == 1, f"{notebook.name}: expected one cell tagged colab-install"
    github = f'"memlab @ git+{colab.settings.repo_url}@{colab.settings.branch}"'
    assert github in install[0].source, f"{notebook.name}: install cell lacks {github}"
    # file://localhost/...: older pips refuse a URL requirement without a host
    repo_url = "file://localhost" + colab.repo.as_uri()[len("file://"):]
    snapshot = f'"memlab @ git+{repo_url}@{colab.settings.branch}" --no-build-isolation'
    install[0].source = install[0].source.replace(github, snapshot)
    probe = nbformat.v4.new_code_cell(
        "import importlib.util, sys\n"
        "assert 'google.colab' in sys.modules, 'google.colab was not imported at kernel start'\n"
        "assert importlib.util.find_spec('memlab') is None, "
        "'memlab is importable before the install'"
    )
    nb.cells.insert(nb.cells.index(install[0]), probe)
    return nb


def colab_kernel(colab, tmp: Path, url: str) -> Path:
    """A fresh environment with the kernel spec ``colab`` under tmp/kernels; returns its python."""
    python = fresh_environment(colab, tmp / "venv")
    (tmp / "kernels" / "colab").mkdir(parents=True)
    (tmp / "kernels" / "colab" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.exec_lines=import google.colab"],
        "display_name": "Colab stand-in",
        "language": "python",
        "env": kernel_env(colab, tmp, url),
    }))
    return python


def run_alone(colab, notebook: Path, tmp: Path, url: str, monkeypatch):
    """Run the chapter alone with nbclient; return (executed notebook, seconds, python, error)."""
    python = colab_kernel(colab, tmp, url)
    work = tmp / "work"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)  # the chapter alone in an empty folder
    nb = colab_notebook(colab, work / notebook.name)

    monkeypatch.setenv("JUPYTER_PATH", str(tmp))  # the kernel spec tmp/kernels/colab
    client = NotebookClient(nb, kernel_name="colab", timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(work)}})
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as err:
        error = err
    return nb, time.monotonic() - started, python, error


def run_nbval(notebook: Path, junit_xml: Path, kernel: str | None = None, jupyter_path=None):
    """Run one notebook under nbval in a subprocess; return (exit code, output, cases, seconds).

    ``cases`` are junit's (name, seconds, outcome) per cell; ``kernel`` is a kernel spec's name
    (found on ``jupyter_path``), or None for this environment's kernel.
    """
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
               "--nbval-lax", f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
               f"--junitxml={junit_xml}", str(notebook)]
    command.insert(-1, f"--nbval-kernel-name={kernel}" if kernel else "--nbval-current-env")
    env = run_env()
    if jupyter_path is not None:
        env["JUPYTER_PATH"] = str(jupyter_path)
    started = time.monotonic()
    proc = subprocess.run(command, cwd=notebook.parent, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    cases = []
    if junit_xml.exists():
        for case in ET.parse(junit_xml).getroot().iter("testcase"):
            outcome = next((child.tag for child in case
                            if child.tag in ("failure", "error", "skipped")), "passed")
            cases.append((case.get("name", ""), float(case.get("time", 0)), outcome))
    return proc.returncode, proc.stdout + proc.stderr, cases, seconds


def code_of(notebook: Path) -> str:
    cells = nbformat.read(str(notebook), as_version=4).cells
    return "\n".join(c.source for c in cells if c.cell_type == "code")


def install_output(nb) -> str:
    cell = next(c for c in nb.cells if "colab-install" in c.get("metadata", {}).get("tags", []))
    return "".join(o.get("text", "") or json.dumps(o.get("data", {}))
                   for o in cell.get("outputs", []))


def cell_errors(nb) -> list:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def assert_installed_from_snapshot(colab, python: Path, tmp: Path):
    code = (
        "import importlib.metadata as md, json, pathlib, sys, memlab\n"
        "info = json.loads(md.distribution('memlab').read_text('direct_url.json'))\n"
        "print(json.dumps({'file': memlab.__file__, 'commit': info['vcs_info']['commit_id'],\n"
        "                  'prefix': sys.prefix,\n"
        "                  'registry': pathlib.Path(memlab.__file__)"
        ".with_name('pretrained.json').is_file()}))"
    )
    env = {**os.environ, **kernel_env(colab, tmp, colab.url)}
    out = subprocess.run([str(python), "-c", code], env=env, cwd=tmp, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert Path(info["file"]).resolve().is_relative_to((tmp / "venv").resolve()), info
    assert info["commit"] == colab.commit, info
    assert info["registry"], "memlab/pretrained.json is missing from the installed package"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_alone_under_nbval(notebook, colab, tmp_path):
    python = colab_kernel(colab, tmp_path, colab.url)
    work = tmp_path / "work"
    work.mkdir()
    nb = colab_notebook(colab, notebook)
    nbformat.write(nb, str(work / notebook.name))  # the chapter alone in an empty folder
    rc, output, cases, seconds = run_nbval(work / notebook.name, tmp_path / "junit.xml",
                                           kernel="colab", jupyter_path=tmp_path)
    tail = "\n".join(output.splitlines()[-60:])
    assert rc == 0, f"{notebook.name} failed under nbval, run alone (exit {rc}):\n{tail}"
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert [outcome for *_, outcome in cases] == ["passed"] * len(code_cells), (
        f"{notebook.name}: nbval's cells {cases}, where {len(code_cells)} code cells should "
        f"all pass:\n{tail}")
    assert_installed_from_snapshot(colab, python, tmp_path)

    cache = tmp_path / "xdg-cache" / "memlab"
    registry = json.loads((colab.repo / "memlab" / "pretrained.json").read_text())
    cached = sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []
    for name in PRETRAINED_CALL.findall(code_of(notebook)):
        file = name if name.endswith(".pt") else name + ".pt"
        assert file in cached, f"{notebook.name} loads {name}, which is not in the cache {cached}"
    assert set(cached) <= set(registry), cached  # nothing but verified checkpoints, no partial file
    leftovers = sorted(str(p.relative_to(work)) for p in work.rglob("*.pt"))
    assert not leftovers, (
        f"{notebook.name} wrote checkpoints next to itself (retrained?): {leftovers}")

    install = code_cells.index(next(i for i, c in enumerate(nb.cells)
                                    if "colab-install" in c.metadata.get("tags", [])))
    installing = cases[install][1]
    print(f"{notebook.name} ran alone under nbval in {seconds:.0f} s, {installing:.0f} s of it "
          "installing memlab")
    assert seconds - installing <= CHAPTER_BUDGET_S, (
        f"{notebook.name} took {seconds - installing:.0f} s besides the install, over its budget "
        f"of {CHAPTER_BUDGET_S:.0f} s")
    assert installing <= INSTALL_ALLOWANCE_S, (
        f"{notebook.name}: the install cell took {installing:.0f} s, over "
        f"{INSTALL_ALLOWANCE_S:.0f} s")


def test_nbval_run_catches_a_failing_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("assert x == 2, 'wrong'")]
    path = tmp_path / "failing.ipynb"
    nbformat.write(nb, str(path))
    rc, output, cases, _ = run_nbval(path, tmp_path / "junit.xml")
    assert rc == 1 and [outcome for *_, outcome in cases] == ["passed", "failure"], output


def _first_loader(chapters_: list) -> Path | None:
    """The chapter whose first memlab.pretrained call comes after the fewest code cells."""
    best = None
    for path in chapters_:
        cells = [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
        first = next((i for i, c in enumerate(cells) if PRETRAINED_CALL.search(c.source)), None)
        if first is not None and (best is None or first < best[0]):
            best = (first, path)
    return best and best[1]


def test_damaged_download_is_refused_in_the_cell_output(colab, tmp_path, monkeypatch):
    notebook = _first_loader(CHAPTERS)
    if notebook is None:
        pytest.skip("no chapter calls memlab.pretrained")
    served = tmp_path / "damaged"
    served.mkdir()
    for path in colab.served.glob("*.pt"):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (served / path.name).write_bytes(bytes(data))
    httpd, url = _serve(served)
    try:
        nb, _, _, error = run_alone(colab, notebook, tmp_path, url, monkeypatch)
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert error is not None, f"{notebook.name} ran to the end on damaged checkpoints"
    errors = cell_errors(nb)
    assert len(errors) == 1, errors
    assert "ValueError" in errors[0], f"{errors[0]}\ninstall cell output:\n{install_output(nb)}"
    first = PRETRAINED_CALL.search(code_of(notebook)).group(1)
    file = first if first.endswith(".pt") else first + ".pt"
    registry = json.loads((colab.repo / "memlab" / "pretrained.json").read_text())
    for part in ("ValueError", f"the download of the checkpoint {file} does not match",
                 f"expected sha256 {registry[file]['sha256']}", f"from {url}{file}",
                 "The file was deleted"):
        assert part in errors[0], (part, errors[0])
    cache = tmp_path / "xdg-cache" / "memlab"
    assert not cache.is_dir() or not any(cache.iterdir()), list(cache.iterdir())
