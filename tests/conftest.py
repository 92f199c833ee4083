"""Shared fixtures of the book's tests (see tests/book_support.py)."""

import pytest
import torch

import book_support

# memlab's tensors in the tests are tiny: one thread is the fastest, and on a shared
# machine several threads per process can be orders of magnitude slower.
torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: builds the book, runs the chapters or drives a browser (skip with -m 'not slow')",
    )


# The test files that use the built site. Under pytest-xdist (``make test`` runs two workers)
# they all go to one worker, so the book is built once per run, never by two workers at a time.
BOOK_TEST_FILES = ("test_browser.py", "test_figures_captions.py", "test_pdf.py", "test_site.py")


def _book_file(nodeid: str) -> bool:
    return nodeid.split("::")[0].rsplit("/", 1)[-1] in BOOK_TEST_FILES


def pytest_collection_modifyitems(items):
    """Fail the run if a test outside BOOK_TEST_FILES asks for the built book."""
    strays = [item.nodeid for item in items
              if "built_book" in getattr(item, "fixturenames", ()) and not _book_file(item.nodeid)]
    if strays:
        raise pytest.UsageError(f"tests using built_book outside {BOOK_TEST_FILES}: {strays}")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Keep the built-site tests together on one worker under ``--dist load``.

    Every other test is scheduled on its own. (pytest-xdist's own ``xdist_group`` marks do not
    group tests under pytest 9, whose node ids they cannot rename.)
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BookTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "the built book" if _book_file(nodeid) else nodeid

    return BookTogether(config, log)


@pytest.fixture(scope="session")
def settings():
    """The Colab settings derived from _config.yml."""
    return book_support.sync_badges.load_settings(book_support.ROOT)


@pytest.fixture(scope="session")
def built_book():
    """The book, built once per test session with the strict build into _build/html."""
    missing = book_support.missing_chapters()
    if missing:
        pytest.fail(book_support.missing_message(missing), pytrace=False)
    try:
        return book_support.build_book()
    except AssertionError as error:
        pytest.fail(str(error), pytrace=False)
