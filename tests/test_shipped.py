"""Tests of memlab.shipped (memlab.pretrained): the registry, local files, pooch's downloads and
cache, and their errors. Downloads come from a server on 127.0.0.1, never the internet.
"""

import functools
import http.server
import importlib
import json
import re
import shutil
import sys
import threading
from pathlib import Path

import pooch
import pytest
import yaml

import memlab
from memlab import shipped

ROOT = Path(__file__).resolve().parents[1]
NAME = "ntm_repeat_copy"  # a small shipped file
FILE = ROOT / "checkpoints" / f"{NAME}.pt"


def damaged(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def test_registry_matches_the_checkpoints_folder():
    entries = shipped.registry()
    files = {p.name: p for p in (ROOT / "checkpoints").glob("*.pt")}
    assert sorted(entries) == sorted(files), "run `python -m memlab pretrained --update`"
    for name, entry in entries.items():
        assert entry["sha256"] == pooch.file_hash(str(files[name])), f"{name}: run the update"
        assert entry["size"] == files[name].stat().st_size and entry["description"]


def test_repository_agrees_with_the_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert shipped.REPOSITORY == config["repository"]["url"]
    assert shipped.BRANCH == config["repository"]["branch"]


def test_the_function_and_the_module_have_their_own_names():
    assert memlab.pretrained is shipped.pretrained and callable(memlab.pretrained)
    assert importlib.import_module("memlab.shipped") is shipped
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("memlab.pretrained")


def test_loads_from_the_checkout_by_name():
    ckpt = memlab.pretrained(NAME)
    same = memlab.pretrained(NAME + ".pt")
    assert ckpt.model.kind == "ntm" and ckpt.task is not None and ckpt.history is not None
    assert not ckpt.model.training
    assert ckpt.extra["command"] == same.extra["command"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known names are: .*dnc_copy"):
        memlab.pretrained("no_such_model")


def test_a_damaged_checkout_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(shipped.FOLDER_ENV, raising=False)
    monkeypatch.setattr(shipped, "checkout_folder", lambda: tmp_path)
    (tmp_path / FILE.name).write_bytes(damaged(FILE.read_bytes()))
    with pytest.raises(ValueError, match="does not match memlab's registry.*pretrained --update"):
        memlab.pretrained(NAME)


def test_folder_override(tmp_path, monkeypatch):
    monkeypatch.setenv(shipped.FOLDER_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=shipped.FOLDER_ENV):
        memlab.pretrained(NAME)
    (tmp_path / FILE.name).write_bytes(damaged(FILE.read_bytes()))
    with pytest.raises(ValueError, match="does not match memlab's registry"):
        memlab.pretrained(NAME)
    shutil.copy(FILE, tmp_path)
    assert memlab.pretrained(NAME).model.kind == "ntm"


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/served; yields (folder, url)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_checkout(tmp_path, monkeypatch):
    """Resolve as an installed memlab would: no checkout folder, an empty cache."""
    monkeypatch.setattr(shipped, "checkout_folder", lambda: None)
    monkeypatch.delenv(shipped.FOLDER_ENV, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv(shipped.CACHE_ENV, str(cache))
    return cache


def test_download_once_into_the_cache(server, no_checkout, monkeypatch):
    served, url = server
    shutil.copy(FILE, served)
    monkeypatch.setenv(shipped.URL_ENV, url)
    assert memlab.pretrained(NAME).model.kind == "ntm"
    assert [p.name for p in no_checkout.iterdir()] == [FILE.name]  # no temporary file left
    assert pooch.file_hash(str(no_checkout / FILE.name)) == shipped.registry()[FILE.name]["sha256"]
    (served / FILE.name).unlink()  # the second call needs no server
    assert memlab.pretrained(NAME).model.kind == "ntm"


def test_a_damaged_cached_file_is_downloaded_again(server, no_checkout, monkeypatch):
    served, url = server
    shutil.copy(FILE, served)
    monkeypatch.setenv(shipped.URL_ENV, url)
    no_checkout.mkdir()
    (no_checkout / FILE.name).write_bytes(damaged(FILE.read_bytes()))
    assert shipped.fetch(NAME) == no_checkout / FILE.name
    assert (no_checkout / FILE.name).read_bytes() == FILE.read_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME is Linux's")
def test_the_cache_defaults_to_pooch_os_cache(server, no_checkout, tmp_path, monkeypatch):
    served, url = server
    shutil.copy(FILE, served)
    monkeypatch.setenv(shipped.URL_ENV, url)
    monkeypatch.setenv(shipped.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert shipped.fetch(NAME) == tmp_path / "xdg" / "memlab" / FILE.name


def test_a_download_with_the_wrong_hash_is_deleted_and_refused(server, no_checkout, monkeypatch):
    served, url = server
    (served / FILE.name).write_bytes(damaged(FILE.read_bytes()))
    monkeypatch.setenv(shipped.URL_ENV, url.rstrip("/"))  # a folder URL with or without "/"
    with pytest.raises(ValueError, match=f"does not match memlab's registry.*from {url}{FILE.name}"
                                         r"\. The file was deleted"):
        memlab.pretrained(NAME)
    assert list(no_checkout.glob("*")) == []


def test_a_missing_file_and_a_missing_network_give_clear_errors(server, no_checkout, monkeypatch):
    served, url = server
    monkeypatch.setenv(shipped.URL_ENV, url)
    with pytest.raises(RuntimeError, match="not found at .*set MEMLAB_CHECKPOINTS"):
        memlab.pretrained(NAME)
    # nothing listens on the discard port
    monkeypatch.setenv(shipped.URL_ENV, "http://127.0.0.1:9/")
    with pytest.raises(ConnectionError, match="could not download .*MEMLAB_CHECKPOINTS"):
        memlab.pretrained(NAME)


def test_base_urls_prefer_the_installed_commit(monkeypatch):
    monkeypatch.delenv(shipped.URL_ENV, raising=False)
    direct = json.dumps({"url": "https://github.com/fork/memlab.git", "vcs_info": {
        "vcs": "git", "commit_id": "b" * 40, "requested_revision": "main"}})
    raw = "https://raw.githubusercontent.com"
    assert shipped.base_urls(direct) == [
        f"{raw}/fork/memlab/{'b' * 40}/checkpoints/",
        f"{raw}/memlab-book/memlab/v{memlab.__version__}/checkpoints/",
        f"{raw}/memlab-book/memlab/main/checkpoints/"]
    editable = json.dumps({"url": "file:///x", "dir_info": {"editable": True}})
    assert shipped.base_urls(editable) == shipped.base_urls(direct)[1:]
    assert shipped.base_urls("not json") == shipped.base_urls(direct)[1:]
    monkeypatch.setenv(shipped.URL_ENV, "http://mirror.example/ckpt")
    assert shipped.base_urls(direct) == ["http://mirror.example/ckpt/"]


def test_update_rewrites_the_registry(tmp_path):
    copy = tmp_path / "pretrained.json"
    shutil.copy(shipped.REGISTRY_PATH, copy)
    assert shipped.update(ROOT / "checkpoints", copy) == []
    assert copy.read_text() == shipped.REGISTRY_PATH.read_text()  # every entry, the same format

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(FILE, folder / "renamed.pt")  # a new file: described from its contents
    (folder / FILE.name).write_bytes(damaged(FILE.read_bytes()))  # a retrained file
    changes = shipped.update(folder, copy)
    assert "renamed.pt: added" in changes and f"{FILE.name}: new sha256" in changes
    assert "dnc_copy.pt: removed" in changes
    entries = shipped.registry(copy)
    assert sorted(entries) == sorted(["renamed.pt", FILE.name])
    assert entries[FILE.name]["description"] == shipped.registry()[FILE.name]["description"]
    assert entries["renamed.pt"]["description"].startswith("NTM, ")
    assert entries[FILE.name]["sha256"] == pooch.file_hash(str(folder / FILE.name))
    with pytest.raises(ValueError, match="no \\*.pt checkpoint"):
        shipped.update(tmp_path / "empty", copy)


def test_command_line_lists_and_updates_the_registry(tmp_path, monkeypatch, capsys):
    from memlab.__main__ import main

    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    assert all(re.search(rf"^{name[:-3]} ", out, re.M) for name in shipped.registry())
    copy = tmp_path / "pretrained.json"
    shutil.copy(shipped.REGISTRY_PATH, copy)
    monkeypatch.setattr(shipped, "REGISTRY_PATH", copy)
    assert main(["pretrained", "--update"]) == 0
    assert capsys.readouterr().out == f"registry unchanged\nwrote {copy}\n"
