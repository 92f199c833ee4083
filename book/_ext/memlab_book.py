"""Sphinx extension with the book's own build-time settings.

* Progress bars: memlab's training loop prints a single plain-text progress
  line, instead of a Jupyter widget, when ``MEMLAB_PROGRESS=text`` is set. The
  notebook kernels started by the build inherit this process's environment, so
  setting the variable here keeps widget JSON out of the static pages however
  the build is started (``make book``, ``jupyter-book build .`` or the tests).
* Inline scripts: sphinx-thebe and sphinx-togglebutton add inline ``<script>``
  blocks after the HTML builder is set up, which Sphinx 7 then emits twice on
  every page; the second ``const THEBE_JS_URL`` is a JavaScript error in the
  browser. Each page keeps one copy of each script.
* MathJax offline: the pages load MathJax from the site itself
  (``mathjax_path: mathjax/tex-chtml.js`` in ``_config.yml``), never from a CDN.
  After an HTML build, the MathJax 3 files of the pinned ``django-static-mathjax``
  package (``requirements.txt``) that the pages need are copied into
  ``_static/mathjax/``: the ``tex-chtml`` component, its web fonts and the TeX
  extensions that it loads on demand (about 2 MB; the package holds 30 MB).
"""

import os
import shutil
from pathlib import Path

# What the site needs of MathJax's es5/ folder: the combined TeX-to-CommonHTML
# component (with the menu and assistive MathML), its fonts, and the TeX
# extensions that \require or autoload fetch when a page uses them.
MATHJAX_FILES = ("tex-chtml.js",)
MATHJAX_FOLDERS = ("output/chtml/fonts/woff-v2", "input/tex/extensions")


def mathjax_source() -> Path:
    """The es5/ folder of the installed MathJax 3 distribution."""
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError as error:
        raise RuntimeError(
            "MathJax is not installed: pip install -r requirements.txt (django-static-mathjax)"
        ) from error
    root = Path(mathjax.__file__).resolve().parent / "static" / "mathjax"
    if not (root / "es5" / MATHJAX_FILES[0]).is_file():
        raise RuntimeError(f"no MathJax 3 es5/{MATHJAX_FILES[0]} under {root}")
    return root


def copy_mathjax(outdir: Path) -> Path:
    """Copy the MathJax files the pages load into ``outdir/_static/mathjax``; return that folder."""
    root = mathjax_source()
    target = Path(outdir) / "_static" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in MATHJAX_FILES:
        shutil.copy2(root / "es5" / name, target / name)
    for folder in MATHJAX_FOLDERS:
        shutil.copytree(root / "es5" / folder, target / folder)
    shutil.copy2(root / "LICENSE", target / "LICENSE")
    return target


def _install_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir))


def _unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (
            os.fspath(getattr(script, "filename", None) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    os.environ.setdefault("MEMLAB_PROGRESS", "text")
    app.connect("html-page-context", _unique_scripts, priority=900)
    app.connect("build-finished", _install_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
