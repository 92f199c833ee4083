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
"""

import os


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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
