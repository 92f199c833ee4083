"""Checks for the exercises of the memlab book.

Each check takes the function a student wrote, with exactly the signature of
the memlab function it re-implements, and compares the two on random inputs
(several sizes, seeded, mostly float64) and on small edge cases chosen to
expose the usual mistakes::

    from memlab import checks
    checks.shift(my_shift)          # prints "shift: all 8 checks passed"

A wrong answer raises ``AssertionError`` with a message that says which
property failed and, where the result matches a known mistake, names it. An
exception raised by the student's function is reported as an AssertionError
naming the input that made it fail (the original error is chained), except
``NotImplementedError``, which passes through unchanged (the exercise is not
done yet). The checks also verify that the inputs are not modified in place,
that the result has the right type, shape and dtype, and (for the functions a
model trains through) that gradients flow through the result.

A check never changes the global random state (nor the thread count): a
notebook runs the same whether or not its checks ran.

The package has one module per chapter, named after the chapter's notebook
(``ch02_dnc_memory`` holds the checks that ``notebooks/02_dnc_memory.ipynb``
calls), and ``harness``, the machinery they share. Each check lists its known
mistakes at module level, as ``harness.Mistake`` records (a name, the
message, the wrong result as a function of the check's inputs).

Adding a check: write it in its chapter's module (a new chapter adds a module
``chNN_<notebook name>.py`` with an ``__all__``), built on
``harness.checking`` and the methods of ``harness.Check`` (``random_cases``
and ``float32_case`` cover the usual random and float32 cases), then import
it here and add its name to ``__all__``. tests/test_checks.py wants at least
three mutants per check, each rejected with a message that names the mistake.
"""
from .ch01_tiny_ntm_lab import sharpen, shift
from .ch02_dnc_memory import allocation_weights, content_weights, update_link, update_usage
from .ch03_dnc_controller import oneplus, parse_interface
from .ch04_dnc_complete import read_weighting, write_weighting
from .ch05_dnc_tasks import bit_errors, copy_batch
from .ch06_dnc_training import bits_per_sequence, masked_bce
from .ch07_dnc_visualisation import link_chain, read_mode_usage
from .ch08_dnc_graphs import edge_rows, read_sources
from .ch09_dnc_improvements import masked_content_weights, sharpen_links
from .ch10_memory_vs_attention import delta_rule_update, dot_product_weights

__all__ = [
    "shift", "sharpen", "content_weights", "update_usage", "allocation_weights",
    "update_link", "oneplus", "parse_interface", "write_weighting", "read_weighting",
    "copy_batch", "bit_errors", "bits_per_sequence", "masked_bce", "read_mode_usage",
    "link_chain", "edge_rows", "read_sources", "masked_content_weights", "sharpen_links",
    "dot_product_weights", "delta_rule_update",
]
