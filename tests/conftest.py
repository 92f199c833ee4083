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


def pytest_collection_modifyitems(items):
    """Put the tests of the built site on one pytest-xdist worker (``--dist loadgroup``).

    So the book is built once per run, and never by two workers at a time.
    """
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("book"))


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
