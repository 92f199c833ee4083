"""The book's shipped checkpoints, by name.

    import memlab
    ckpt = memlab.pretrained("dnc_copy")     # Checkpoint(model, task, history, extra)

Where the file comes from, first match wins:

1. the folder named by ``MEMLAB_CHECKPOINTS`` (offline use, e.g. autograding);
2. the ``checkpoints/`` folder of the repository when memlab runs from a clone of it;
3. the cache folder (``MEMLAB_CACHE``, else the user's cache: ``~/.cache/memlab`` on Linux),
   after one download from the repository memlab was installed from: the exact commit when pip
   recorded one (``pip install "memlab @ git+https://github.com/..."``), else the release tag
   ``v<version>``, else the default branch. ``MEMLAB_PRETRAINED_URL`` replaces these addresses
   with one folder URL (a mirror).

Every downloaded file must match the SHA-256 and size recorded in the package's registry,
``memlab/pretrained.json``; ``python -m memlab pretrained --update`` rewrites that registry
from ``checkpoints/``, and ``python -m memlab pretrained`` lists it.

This module imports only the standard library; torch is imported when a checkpoint is loaded.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    import torch

#: The repository the book is published from (``repository.url`` in ``_config.yml``).
REPOSITORY = "https://github.com/memlab-book/memlab"
#: Its default branch (``repository.branch`` in ``_config.yml``).
BRANCH = "main"

FOLDER_ENV = "MEMLAB_CHECKPOINTS"
CACHE_ENV = "MEMLAB_CACHE"
URL_ENV = "MEMLAB_PRETRAINED_URL"

REGISTRY_PATH = Path(__file__).with_name("pretrained.json")
SUFFIX = ".pt"
TIMEOUT_S = 30.0
_CHUNK = 1 << 16

__all__ = ["pretrained"]


# --- the registry ---------------------------------------------------------------------------------


def registry(path: Union[str, Path, None] = None) -> dict:
    """The shipped files: ``{file name: {"sha256", "size", "description"}}``, sorted by name.

    Args:
        path: the registry file (the package's ``pretrained.json`` when None).

    Returns:
        The registry, as read from its JSON.
    """
    path = Path(path) if path is not None else REGISTRY_PATH
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def file_name(name: str, known: Optional[dict] = None) -> str:
    """The registered file name of ``name`` ("dnc_copy" or "dnc_copy.pt"), else a ValueError.

    Args:
        name: a checkpoint's name, with or without ``.pt``.
        known: the registry (read from the package when None).

    Returns:
        The file name, ending in ``.pt``.

    Raises:
        ValueError: no such checkpoint; the message lists the known names.
    """
    known = registry() if known is None else known
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be the name of a shipped checkpoint, got {name!r}")
    file = name if name.endswith(SUFFIX) else name + SUFFIX
    if file not in known:
        listed = ", ".join(n[: -len(SUFFIX)] for n in sorted(known))
        hint = ""
        checkout = checkout_folder()
        if checkout is not None and (checkout / file).is_file():
            hint = (
                f" ({checkout / file} exists but is not registered: run "
                "`python -m memlab pretrained --update`)"
            )
        raise ValueError(f"no shipped checkpoint named {name!r}{hint}; the known names are: {listed}")
    return file


def sha256(path: Union[str, Path]) -> str:
    """The SHA-256 of a file, as 64 hexadecimal digits.

    Args:
        path: the file.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Union[str, Path]) -> str:
    """A one-line description of a checkpoint file from its contents (model, task, steps, seed).

    Args:
        path: a checkpoint written by memlab.train.save_checkpoint.

    Returns:
        The description, e.g. "DNC, 16 slots of 16, 1 read head, on copy (...), 4000 steps".
    """
    from memlab.train import load_checkpoint

    ckpt = load_checkpoint(path)
    config, kind = ckpt.model.config, ckpt.model.kind
    if kind == "lstm":
        model = f"LSTM of {config.get('hidden_size')} units"
    else:
        model = (
            f"{kind.upper()}, {config.get('memory_size')} slots of {config.get('word_size')}, "
            f"{config.get('read_heads')} read head{'' if config.get('read_heads') == 1 else 's'}"
        )
    text = model
    if ckpt.task is not None:
        task = ckpt.task
        params = ", ".join(f"{k}={v}" for k, v in vars(task).items())
        text += f", on {task.name.replace('_', ' ')} ({params})"
    if ckpt.history is not None and ckpt.history.step:
        text += f", {ckpt.history.step[-1]} steps"
    if "seed" in ckpt.extra:
        text += f", seed {ckpt.extra['seed']}"
    return text


def build_registry(folder: Union[str, Path], previous: Optional[dict] = None) -> dict:
    """The registry of every ``*.pt`` file in ``folder``.

    Sizes and hashes come from the files; a description is kept from ``previous`` when the name
    is already there, and written from the file's contents (:func:`describe`) otherwise.

    Args:
        folder: the folder of checkpoints.
        previous: the registry so far, or None.

    Returns:
        The registry ``{file name: {"size", "sha256", "description"}}``.

    Raises:
        ValueError: the folder holds no checkpoint.
    """
    folder = Path(folder)
    previous = previous or {}
    files = sorted(folder.glob("*" + SUFFIX))
    if not files:
        raise ValueError(f"folder {folder} holds no *{SUFFIX} checkpoint")
    entries = {}
    for path in files:
        description = (previous.get(path.name) or {}).get("description") or describe(path)
        entries[path.name] = {
            "size": path.stat().st_size,
            "sha256": sha256(path),
            "description": description,
        }
    return entries


def write_registry(entries: dict, path: Union[str, Path, None] = None) -> Path:
    """Write the registry as sorted, indented JSON (one entry per file) and return its path.

    Args:
        entries: the registry.
        path: the file to write (the package's ``pretrained.json`` when None).

    Returns:
        The path written.
    """
    path = Path(path) if path is not None else REGISTRY_PATH
    text = json.dumps(dict(sorted(entries.items())), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def registry_problems(folder: Union[str, Path], entries: Optional[dict] = None) -> list:
    """How ``folder``'s ``*.pt`` files and the registry disagree (empty when they agree).

    Args:
        folder: the folder of checkpoints.
        entries: the registry (read from the package when None).

    Returns:
        A list of messages, one per file missing on either side or with another hash or size.
    """
    folder = Path(folder)
    entries = registry() if entries is None else entries
    on_disk = {p.name: p for p in folder.glob("*" + SUFFIX)}
    problems = []
    for name in sorted(set(on_disk) - set(entries)):
        problems.append(f"{name}: in {folder} but not in the registry")
    for name in sorted(set(entries) - set(on_disk)):
        problems.append(f"{name}: in the registry but not in {folder}")
    for name in sorted(set(on_disk) & set(entries)):
        actual = sha256(on_disk[name])
        if actual != entries[name]["sha256"] or on_disk[name].stat().st_size != entries[name]["size"]:
            problems.append(
                f"{name}: registry has sha256 {entries[name]['sha256']}, the file has {actual}"
            )
    return problems


# --- where files live -----------------------------------------------------------------------------


def checkout_folder() -> Optional[Path]:
    """``checkpoints/`` of the repository when memlab runs from a clone of it, else None.

    Returns:
        The folder's path, or None.
    """
    folder = Path(__file__).resolve().parents[1] / "checkpoints"
    return folder if folder.is_dir() else None


def cache_folder() -> Path:
    """Where downloaded checkpoints are kept: ``MEMLAB_CACHE``, else the user's cache folder.

    Linux and others: ``$XDG_CACHE_HOME/memlab`` (``~/.cache/memlab``); macOS:
    ``~/Library/Caches/memlab``; Windows: ``%LOCALAPPDATA%\\memlab\\Cache``.

    Returns:
        The folder's path (it may not exist yet).
    """
    override = os.environ.get(CACHE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "").strip()
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "memlab" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "memlab"
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "memlab"


_GITHUB = re.compile(
    r"^(?:[a-z+]+://)?(?:[^@/]+@)?github\.com[:/](?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$",
    re.IGNORECASE,
)


def github_repository(url: str) -> Optional[tuple]:
    """``(owner, repo)`` of a GitHub repository URL (https, ssh or scp-like), else None.

    Args:
        url: e.g. ``https://github.com/memlab-book/memlab.git`` or ``git@github.com:o/r``.

    Returns:
        ``(owner, repo)``, or None for another host.
    """
    match = _GITHUB.match(url.strip())
    return (match.group("owner"), match.group("repo")) if match else None


def raw_folder(owner: str, repo: str, ref: str) -> str:
    """The raw.githubusercontent.com URL of ``checkpoints/`` at ``ref`` (commit, tag or branch).

    Args:
        owner: the GitHub owner.
        repo: the repository.
        ref: a commit, tag or branch.

    Returns:
        The folder URL, ending in ``/``.
    """
    return f"https://raw.githubusercontent.com/{owner}/{repo}/{ref}/checkpoints/"


def install_source(direct_url: Optional[str] = None) -> Optional[tuple]:
    """``(repository URL, commit)`` that pip recorded when it installed memlab from git.

    Reads PEP 610's ``direct_url.json`` of the installed distribution (or the JSON text
    ``direct_url``).

    Args:
        direct_url: the text of a ``direct_url.json``; None reads the installed one.

    Returns:
        ``(url, commit)``, or None when memlab was not installed from a git URL.
    """
    if direct_url is None:
        from importlib import metadata

        try:
            direct_url = metadata.distribution("memlab").read_text("direct_url.json")
        except metadata.PackageNotFoundError:
            return None
    if not direct_url:
        return None
    try:
        data = json.loads(direct_url)
    except json.JSONDecodeError:
        return None
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git" or not vcs.get("commit_id"):
        return None
    return str(data.get("url", "")), str(vcs["commit_id"])


def download_folders() -> list:
    """The folder URLs to download from, in the order tried.

    ``MEMLAB_PRETRAINED_URL`` alone when set; else the commit memlab was installed from (when
    pip recorded a GitHub URL), the release tag ``v<version>`` and the default branch.

    Returns:
        A list of folder URLs, each ending in ``/``.
    """
    override = os.environ.get(URL_ENV, "").strip()
    if override:
        return [override if override.endswith("/") else override + "/"]
    folders = []
    source = install_source()
    if source is not None:
        repository = github_repository(source[0])
        if repository is not None:
            folders.append(raw_folder(*repository, source[1]))
    from memlab import __version__

    owner, repo = github_repository(REPOSITORY)
    folders.append(raw_folder(owner, repo, f"v{__version__}"))
    folders.append(raw_folder(owner, repo, BRANCH))
    return folders


# --- download -------------------------------------------------------------------------------------


def _network_error(file: str, url: str, err: BaseException) -> ConnectionError:
    reason = getattr(err, "reason", None) or err
    return ConnectionError(
        f"could not download the checkpoint {file} from {url} ({reason}). Connect to the "
        f"internet and try again, or set the environment variable {FOLDER_ENV} to a folder that "
        f"holds the shipped checkpoints (the checkpoints/ folder of a clone of {REPOSITORY})."
    )


def download(file: str, url: str, target: Path, expected: dict) -> Path:
    """Download ``url`` to ``target`` through a temporary file, checking size and SHA-256.

    A file that does not match ``expected`` (``{"sha256", "size"}``) is deleted and refused.

    Args:
        file: the checkpoint's file name, for the messages.
        url: where to download it from.
        target: where to put it; its folder is created.
        expected: the registry entry, ``{"sha256", "size"}``.

    Returns:
        ``target``.

    Raises:
        ValueError: the download does not match ``expected``.
        urllib.error.HTTPError: an HTTP error status.
        ConnectionError: the server cannot be reached.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=file + ".", suffix=".partial", dir=target.parent)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=TIMEOUT_S)
            except urllib.error.HTTPError:
                raise
            except (http.client.HTTPException, OSError) as err:  # URLError, timeouts, resets
                raise _network_error(file, url, err) from err
            with response:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (http.client.HTTPException, OSError) as err:
                        raise _network_error(file, url, err) from err
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected["sha256"] or size != expected["size"]:
            raise ValueError(
                f"the download of the checkpoint {file} does not match memlab's registry: "
                f"expected sha256 {expected['sha256']} ({expected['size']} bytes), got sha256 "
                f"{actual} ({size} bytes) from {url}. The file was deleted. It may be damaged or "
                f"belong to another version of memlab: reinstall memlab, or set {FOLDER_ENV} to a "
                f"folder that holds the right file."
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def fetch(name: str) -> Path:
    """The local path of the shipped checkpoint ``name``, downloaded once if need be.

    Args:
        name: a shipped checkpoint, e.g. ``"dnc_copy"``.

    Returns:
        The path of the file, in ``MEMLAB_CHECKPOINTS``, the repository's ``checkpoints/`` or
        the cache.

    Raises:
        ValueError: an unknown name, or a download that does not match the registry.
        FileNotFoundError: the ``MEMLAB_CHECKPOINTS`` folder lacks the file.
        ConnectionError: the download server cannot be reached.
        RuntimeError: no address has the file.
    """
    known = registry()
    file = file_name(name, known)

    override = os.environ.get(FOLDER_ENV, "").strip()
    if override:
        path = Path(override).expanduser() / file
        if not path.is_file():
            raise FileNotFoundError(
                f"no checkpoint {file} in {path.parent} (set by {FOLDER_ENV}); copy it there from "
                f"the checkpoints/ folder of a clone of {REPOSITORY}, or unset {FOLDER_ENV}"
            )
        return path

    checkout = checkout_folder()
    if checkout is not None and (checkout / file).is_file():
        return checkout / file

    target = cache_folder() / file
    if target.is_file():
        if sha256(target) == known[file]["sha256"]:
            return target
        target.unlink()  # damaged, or from another version of memlab

    tried = []
    for folder in download_folders():
        url = folder + file
        print(f"memlab: downloading {file} ({known[file]['size'] / 1e3:.0f} kB) from {url}",
              file=sys.stderr)
        try:
            return download(file, url, target, known[file])
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise _network_error(file, url, err) from err
            tried.append(url)
    raise RuntimeError(
        f"the checkpoint {file} was not found at " + ", ".join(tried) + f"; set {FOLDER_ENV} to a "
        f"folder that holds it (the checkpoints/ folder of a clone of {REPOSITORY})"
    )


def pretrained(name: str, map_location: Union[str, torch.device] = "cpu"):
    """Load a checkpoint shipped with the book, by name.

    The file is taken from the ``MEMLAB_CHECKPOINTS`` folder, else the repository's
    ``checkpoints/`` folder when memlab runs from a clone, else the cache, where it is downloaded
    once and checked against the SHA-256 recorded in the package. ``python -m memlab pretrained``
    lists the names.

    Args:
        name: a shipped checkpoint, e.g. ``"dnc_copy"`` (``"dnc_copy.pt"`` also works).
        map_location: the device of the loaded model, e.g. ``"cpu"`` or ``"cuda"``.

    Returns:
        memlab.train.Checkpoint: ``(model, task, history, extra)``, the model in eval mode.

    Raises:
        ValueError: an unknown name (the message lists the known ones), or a download that does
            not match the registry (the file is deleted).
        ConnectionError: the download server cannot be reached.
    """
    from memlab.train import load_checkpoint

    return load_checkpoint(fetch(name), map_location=map_location)


def listing() -> str:
    """The shipped checkpoints as a table: name, size and description.

    Returns:
        The table as text, one line per checkpoint.
    """
    entries = registry()
    rows = [(n[: -len(SUFFIX)], f"{e['size'] / 1e3:.0f} kB", e["description"])
            for n, e in sorted(entries.items())]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{n:<{width}}  {s:>8}  {d}" for n, s, d in rows)


def update(folder: Union[str, Path, None] = None, path: Union[str, Path, None] = None) -> list:
    """Rewrite the registry from ``folder`` (the repository's ``checkpoints/``); return the changes.

    Args:
        folder: the folder of checkpoints (the repository's ``checkpoints/`` when None).
        path: the registry file (the package's ``pretrained.json`` when None).

    Returns:
        A list of changes, e.g. ``"dnc_copy.pt: new sha256"``.

    Raises:
        ValueError: no folder given and memlab does not run from a clone.
    """
    if folder is None:
        folder = checkout_folder()
        if folder is None:
            raise ValueError(
                "no checkpoints/ folder next to the memlab package: run this from a clone of "
                f"{REPOSITORY} installed with `pip install -e .`, or name the folder"
            )
    path = Path(path) if path is not None else REGISTRY_PATH
    previous = registry(path) if path.is_file() else {}
    entries = build_registry(folder, previous)
    changes = [f"{n}: added" for n in sorted(set(entries) - set(previous))]
    changes += [f"{n}: removed" for n in sorted(set(previous) - set(entries))]
    changes += [f"{n}: new sha256" for n in sorted(set(entries) & set(previous))
                if entries[n]["sha256"] != previous[n]["sha256"]]
    write_registry(entries, path)
    return changes
