"""The table of contents and the chapters on disk agree."""

from book_support import ROOT, chapters, missing_chapters, missing_message, sync_badges


def test_every_toc_entry_exists():
    missing = missing_chapters()
    assert not missing, missing_message(missing)


def test_toc_lists_chapters():
    assert chapters(), "_toc.yml lists no notebook that exists in notebooks/"


def test_every_notebook_is_in_the_toc():
    # only_build_toc_files is on: a chapter left out of _toc.yml would silently not be built.
    listed = {path.resolve() for path in chapters()}
    unlisted = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")
                      if p.resolve() not in listed)
    assert not unlisted, f"notebooks missing from _toc.yml: {', '.join(unlisted)}"


def test_toc_order():
    entries = sync_badges.toc_entries(ROOT)
    assert entries[:3] == ["book/intro", "book/setup", "book/notation"]
    assert entries[-4:] == ["book/instructor_guide", "book/course", "book/api", "book/references"]
    notebooks = [e for e in entries if e.startswith("notebooks/")]
    assert notebooks == sorted(notebooks), "chapters must be listed in their numbered order"
    assert entries[3:-4] == notebooks
