"""Checks for the exercises of the memlab book.

Every check has the same contract, stated here once; a check's own docstring
gives only the function it checks, that function's signature with shapes, and
its equation::

    from memlab import checks
    checks.shift(my_shift)          # prints "shift: all 8 checks passed"

- **Takes** the student's function itself (anything not callable raises
  ``TypeError``), called with the arguments in the order of the signature in
  the check's docstring: the order of the memlab function it re-implements.
- **Runs** it on small hand-made cases chosen to expose the usual mistakes,
  then on seeded random inputs of several sizes (mostly float64) and, for the
  functions a model trains through, one float32 case and a backward pass. Each
  result must be of the right type, shape and dtype (float32 in, float32 out),
  finite, leave its inputs unchanged (nothing in place), and equal memlab's own
  function within ``atol=1e-8, rtol=1e-6`` (float32: ``1e-6, 1e-5``; a check
  that allows another epsilon loosens them in its code); in the backward pass
  gradients must reach the inputs.
- **Succeeds** silently but for one line, ``<name>: all <n> checks passed``
  (n counts the properties checked), and returns None.
- **Fails** with an ``AssertionError`` that reads ``<name>: <what failed>``,
  then, on a line of its own, ``on <the inputs>``. Each check keeps a
  catalogue of known mistakes (``*_MISTAKES`` in its chapter's module,
  ``harness.Mistake`` records: the wrong result as a function of the inputs);
  when the student's result matches one, what failed is that mistake,
  explained with its fix; otherwise the message shows the expected and the
  obtained values. An exception raised by the student's
  function becomes such an AssertionError naming the input that caused it (the
  original error chained), except ``NotImplementedError``, which passes through
  unchanged: the exercise is not done yet.
- **Leaves** the global random state and thread count as they were: a notebook
  runs the same whether or not its checks ran.

The package has one module per chapter, named after the chapter's notebook
(``ch02_dnc_memory`` holds the checks that ``notebooks/02_dnc_memory.ipynb``
calls), and ``harness``, the machinery they share. Adding a check: write it in
its chapter's module (a new chapter adds ``chNN_<notebook name>.py`` with an
``__all__``) on ``harness.checking`` and the methods of ``harness.Check``, then
import it here and add its name to ``__all__``. tests/test_checks.py wants at
least three mutants per check, each rejected with a message naming the mistake.
"""
from .ch01_tiny_ntm_lab import sharpen, shift
from .ch02_dnc_memory import allocation_weights, content_weights, update_link, update_usage
from .ch03_dnc_controller import oneplus, parse_interface
from .ch04_dnc_complete import read_weighting, write_weighting
from .ch05_dnc_tasks import bit_errors, copy_batch
from .ch06_dnc_training import bits_per_sequence, masked_bce
from .ch07_dnc_visualisation import link_chain, read_mode_usage
from .ch08_dnc_graphs import read_sources, triple_channels
from .ch09_dnc_improvements import masked_content_weights, sharpen_links
from .ch10_memory_vs_attention import delta_rule_update, dot_product_weights

__all__ = [
    "shift", "sharpen", "content_weights", "update_usage", "allocation_weights",
    "update_link", "oneplus", "parse_interface", "write_weighting", "read_weighting",
    "copy_batch", "bit_errors", "bits_per_sequence", "masked_bce", "read_mode_usage",
    "link_chain", "triple_channels", "read_sources", "masked_content_weights", "sharpen_links",
    "dot_product_weights", "delta_rule_update",
]
