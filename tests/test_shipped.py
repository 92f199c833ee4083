"""Tests of memlab.pretrained: the registry, local resolution, downloads and their errors."""

import functools
import http.server
import importlib
import json
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml

import memlab

P = importlib.import_module("memlab.pretrained")
ROOT = Path(__file__).resolve().parents[1]
NAME = "ntm_repeat_copy"  # a small shipped file


def test_registry_matches_the_checkpoints_folder():
    assert P.registry_problems(ROOT / "checkpoints") == []
    for entry in P.registry().values():
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) and entry["size"] > 0
        assert entry["description"]


def test_repository_agrees_with_the_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert P.REPOSITORY == config["repository"]["url"]
    assert P.BRANCH == config["repository"]["branch"]


def test_loads_from_the_checkout_by_name():
    ckpt = memlab.pretrained(NAME)
    same = memlab.pretrained(NAME + ".pt")
    assert ckpt.model.kind == "ntm" and ckpt.task is not None and ckpt.history is not None
    assert ckpt.extra["command"] == same.extra["command"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known names are: .*dnc_copy"):
        memlab.pretrained("no_such_model")


def test_folder_override(tmp_path, monkeypatch):
    monkeypatch.setenv(P.FOLDER_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=P.FOLDER_ENV):
        memlab.pretrained(NAME)
    shutil.copy(ROOT / "checkpoints" / f"{NAME}.pt", tmp_path)
    assert memlab.pretrained(NAME).model.kind == "ntm"


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/served; yields (folder, url)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture
def no_checkout(tmp_path, monkeypatch):
    """Resolve as an installed memlab would: no checkout folder, an empty cache."""
    monkeypatch.setattr(P, "checkout_folder", lambda: None)
    monkeypatch.delenv(P.FOLDER_ENV, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv(P.CACHE_ENV, str(cache))
    return cache


def test_download_once_into_the_cache(server, no_checkout, monkeypatch):
    served, url = server
    shutil.copy(ROOT / "checkpoints" / f"{NAME}.pt", served)
    monkeypatch.setenv(P.URL_ENV, url)
    assert memlab.pretrained(NAME).model.kind == "ntm"
    cached = no_checkout / f"{NAME}.pt"
    assert P.sha256(cached) == P.registry()[f"{NAME}.pt"]["sha256"]
    (served / f"{NAME}.pt").unlink()  # the second call needs no server
    assert memlab.pretrained(NAME).model.kind == "ntm"
    assert list(no_checkout.glob("*.partial")) == []


def test_a_download_with_the_wrong_hash_is_deleted_and_refused(server, no_checkout, monkeypatch):
    served, url = server
    data = (ROOT / "checkpoints" / f"{NAME}.pt").read_bytes()
    (served / f"{NAME}.pt").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    monkeypatch.setenv(P.URL_ENV, url)
    with pytest.raises(ValueError, match="does not match memlab's registry.*deleted"):
        memlab.pretrained(NAME)
    assert not (no_checkout / f"{NAME}.pt").exists()
    assert list(no_checkout.glob("*")) == []


def test_a_missing_file_and_a_missing_network_give_clear_errors(server, no_checkout, monkeypatch):
    served, url = server
    monkeypatch.setenv(P.URL_ENV, url)
    with pytest.raises(RuntimeError, match="not found at .*set MEMLAB_CHECKPOINTS"):
        memlab.pretrained(NAME)
    monkeypatch.setenv(P.URL_ENV, "http://127.0.0.1:9/")  # nothing listens on the discard port
    with pytest.raises(ConnectionError, match="could not download .*MEMLAB_CHECKPOINTS"):
        memlab.pretrained(NAME)


def test_install_source_reads_pip_direct_url():
    direct = json.dumps({"url": "https://github.com/memlab-book/memlab", "vcs_info": {
        "vcs": "git", "commit_id": "a" * 40, "requested_revision": "main"}})
    assert P.install_source(direct) == ("https://github.com/memlab-book/memlab", "a" * 40)
    assert P.install_source(json.dumps({"url": "file:///x", "dir_info": {"editable": True}})) is None
    assert P.install_source("not json") is None
    assert P.github_repository("git@github.com:memlab-book/memlab.git") == ("memlab-book", "memlab")
    assert P.raw_folder("o", "r", "abc").endswith("/o/r/abc/checkpoints/")


def test_download_folders_prefer_the_installed_commit(monkeypatch):
    monkeypatch.delenv(P.URL_ENV, raising=False)
    monkeypatch.setattr(P, "install_source",
                        lambda: ("https://github.com/memlab-book/memlab", "b" * 40))
    folders = P.download_folders()
    assert "b" * 40 in folders[0]
    assert f"v{memlab.__version__}" in folders[1] and folders[2].endswith("/main/checkpoints/")
    monkeypatch.setenv(P.URL_ENV, "http://mirror.example/ckpt")
    assert P.download_folders() == ["http://mirror.example/ckpt/"]


def test_command_line_lists_the_shipped_models(capsys):
    from memlab.__main__ import main

    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    assert all(name[:-3] in out for name in P.registry())
