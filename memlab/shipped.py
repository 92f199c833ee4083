"""The checkpoints shipped with the book, by name, each checked against its SHA-256.

    ckpt = memlab.pretrained("dnc_copy")     # Checkpoint(model, task, history, extra)

Where the file comes from, first match wins: the folder named by ``MEMLAB_CHECKPOINTS`` (offline
use, e.g. autograding); the ``checkpoints/`` folder of the repository when memlab runs from a
clone; else pooch's cache (``MEMLAB_CACHE``, else ``pooch.os_cache("memlab")``: ``~/.cache/memlab``
on Linux), where pooch downloads it once from the folder URLs of :func:`base_urls`.

Every file is checked against its SHA-256 in ``memlab/pretrained.json``; ``python -m memlab
pretrained`` lists that registry, ``--update`` rewrites it from ``checkpoints/``.
"""

from __future__ import annotations

import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pooch
import torch

from .train import load_checkpoint

#: The repository the book is published from and its branch (``repository`` in ``_config.yml``).
REPOSITORY, BRANCH = "https://github.com/memlab-book/memlab", "main"
FOLDER_ENV, CACHE_ENV, URL_ENV = "MEMLAB_CHECKPOINTS", "MEMLAB_CACHE", "MEMLAB_PRETRAINED_URL"
REGISTRY_PATH = Path(__file__).with_name("pretrained.json")
SUFFIX = ".pt"
_OFFLINE = f"set {FOLDER_ENV} to a folder that holds it (checkpoints/ of a clone of {REPOSITORY})"
_GITHUB = re.compile(r"\bgithub\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$", re.IGNORECASE)

__all__ = ["pretrained"]


def registry(path: str | Path | None = None) -> dict:
    """``{file name: {"size", "sha256", "description"}}`` from ``path`` (None: the package's)."""
    return json.loads(Path(path or REGISTRY_PATH).read_text(encoding="utf-8"))


def checkout_folder() -> Path | None:
    """``checkpoints/`` of the repository when memlab runs from a clone of it, else None."""
    folder = Path(__file__).resolve().parents[1] / "checkpoints"
    return folder if folder.is_dir() else None


def file_name(name: str, known: dict) -> str:
    """The registered file of ``name`` ("dnc_copy" or "dnc_copy.pt"); a ValueError lists them."""
    file = name if str(name).endswith(SUFFIX) else f"{name}{SUFFIX}"
    if file not in known:
        checkout, hint = checkout_folder(), ""
        if checkout is not None and (checkout / file).is_file():
            hint = (f" ({checkout / file} is not registered: "
                    "run `python -m memlab pretrained --update`)")
        listed = ", ".join(sorted(n[: -len(SUFFIX)] for n in known))
        raise ValueError(f"no shipped checkpoint named {name!r}{hint}; the known names are: "
                         f"{listed}")
    return file


def base_urls(direct_url: str | None = None) -> list:
    """The folder URLs tried in turn: ``MEMLAB_PRETRAINED_URL`` alone when set.

    Else the commit pip installed memlab from (PEP 610's direct_url.json, or the text
    ``direct_url``), the tag ``v<version>``, the default branch.
    """
    override = os.environ.get(URL_ENV, "").strip()
    if override:
        return [override.rstrip("/") + "/"]
    from memlab import __version__

    try:
        source = json.loads(direct_url
                            or metadata.distribution("memlab").read_text("direct_url.json")
                            or "{}")
    except (metadata.PackageNotFoundError, json.JSONDecodeError):
        source = {}
    vcs, raw = source.get("vcs_info") or {}, "https://raw.githubusercontent.com/{}/{}/{}/checkpoints/"
    fork = _GITHUB.search(source.get("url", "")) if vcs.get("vcs") == "git" else None
    first = [raw.format(*fork.groups(), vcs["commit_id"])] if fork and vcs.get("commit_id") else []
    home = REPOSITORY.split("/")[-2:]  # owner, name
    return first + [raw.format(*home, f"v{__version__}"), raw.format(*home, BRANCH)]


def _checked(path: Path, sha256: str, fix: str) -> Path:
    actual = pooch.file_hash(str(path), alg="sha256")
    if actual != sha256:
        raise ValueError(f"the checkpoint {path} does not match memlab's registry: expected "
                         f"sha256 {sha256}, the file has {actual}; {fix}")
    return path


def fetch(name: str) -> Path:
    """The local path of the shipped checkpoint ``name``, checked, downloaded once if need be.

    Raises:
        ValueError: an unknown name, or a file that does not match the registry (a download
            that does not match is deleted).
        FileNotFoundError: the ``MEMLAB_CHECKPOINTS`` folder lacks the file.
        ConnectionError, RuntimeError: the server cannot be reached; no address has the file.
    """
    known = registry()
    file = file_name(name, known)
    sha256, folder = known[file]["sha256"], os.environ.get(FOLDER_ENV, "").strip()
    if folder:
        path = Path(folder).expanduser() / file
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint {file} in {path.parent} (set by {FOLDER_ENV}); "
                                    f"copy it there from {REPOSITORY}, or unset {FOLDER_ENV}")
        return _checked(path, sha256, f"copy the right file there from {REPOSITORY}")
    checkout = checkout_folder()
    if checkout is not None and (checkout / file).is_file():
        return _checked(checkout / file, sha256, "run `python -m memlab pretrained --update`")

    import requests  # pooch's HTTP client, for its exceptions
    tried = []
    for url in base_urls():
        cache = pooch.create(pooch.os_cache("memlab"), url, env=CACHE_ENV,
                             registry={file: f"sha256:{sha256}"})
        try:
            return Path(cache.fetch(file))  # a cached file is checked; one that fails, fetched anew
        except ValueError as err:  # pooch deleted the download: it has another hash
            if "hash" not in str(err):  # not a download: e.g. a URL scheme pooch does not know
                raise
            raise ValueError(
                f"the download of the checkpoint {file} does not match memlab's registry: expected "
                f"sha256 {sha256}, got another file from {url}{file}. The file was deleted. It may "
                f"be damaged or belong to another version of memlab: reinstall memlab, or "
                f"{_OFFLINE}.") from err
        except requests.RequestException as err:
            if getattr(err.response, "status_code", None) != 404:
                raise ConnectionError(f"could not download the checkpoint {file} from {url}{file} "
                                      f"({err}). Connect to the internet and try again, or "
                                      f"{_OFFLINE}.") from err
            tried.append(url + file)
    raise RuntimeError(f"the checkpoint {file} was not found at {', '.join(tried)}; {_OFFLINE}")


def pretrained(name: str, map_location: str | torch.device = "cpu"):
    """Load a checkpoint shipped with the book by name (``python -m memlab pretrained`` lists them).

    Args:
        name: a shipped checkpoint, e.g. ``"dnc_copy"`` (``"dnc_copy.pt"`` also works).
        map_location: the device of the loaded model, e.g. ``"cpu"`` or ``"cuda"``.

    Returns:
        memlab.train.Checkpoint: ``(model, task, history, extra, run)``, the model in eval mode.

    Raises:
        ValueError: an unknown name (the message lists the known ones) or a wrong file; and as
            `fetch`, FileNotFoundError, ConnectionError or RuntimeError when it cannot be had.
    """
    return load_checkpoint(fetch(name), map_location=map_location)


def describe(path: str | Path) -> str:
    """A one-line description of a checkpoint from its contents (model, task, steps, seed)."""
    ckpt = load_checkpoint(path)
    model: Any = ckpt.model  # a memlab model (torch types .config and .kind as Tensor | Module)
    config, kind, heads = model.config, model.kind, model.config.get("read_heads")
    text = (f"LSTM of {config.get('hidden_size')} units" if kind == "lstm" else
            f"{kind.upper()}, {config.get('memory_size')} slots of {config.get('word_size')}, "
            f"{heads} read head{'' if heads == 1 else 's'}")
    if ckpt.task is not None:
        params = ", ".join(f"{k}={v}" for k, v in vars(ckpt.task).items())
        text += f", on {ckpt.task.name.replace('_', ' ')} ({params})"
    if ckpt.history is not None and ckpt.history.step:
        text += f", {ckpt.history.step[-1]} steps"
    return text + (f", seed {ckpt.extra['seed']}" if "seed" in ckpt.extra else "")


def update(folder: str | Path | None = None, path: str | Path | None = None) -> list:
    """Rewrite the registry ``path`` from the ``*.pt`` in ``folder``, keeping their descriptions.

    None: the package's registry, the clone's ``checkpoints/``; a new file is described by
    :func:`describe`. Returns the changes, e.g. ``["dnc_copy.pt: new sha256"]``.
    """
    folder = folder if folder is not None else checkout_folder()
    files = sorted(Path(folder).glob("*" + SUFFIX)) if folder is not None else []
    if not files:
        raise ValueError(f"no *{SUFFIX} checkpoint in {folder or 'checkpoints/ next to memlab'}: "
                         f"run this from a clone of {REPOSITORY} (`pip install -e .`), "
                         "or name the folder")
    path = Path(path or REGISTRY_PATH)
    previous = registry(path) if path.is_file() else {}
    entries = {p.name: {"size": p.stat().st_size, "sha256": pooch.file_hash(str(p), alg="sha256"),
                        "description": previous.get(p.name, {}).get("description") or describe(p)}
               for p in files}
    changes = [f"{n}: added" for n in sorted(set(entries) - set(previous))]
    changes += [f"{n}: removed" for n in sorted(set(previous) - set(entries))]
    changes += [f"{n}: new sha256" for n in sorted(set(entries) & set(previous))
                if entries[n]["sha256"] != previous[n]["sha256"]]
    path.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return changes
