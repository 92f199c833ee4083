"""Checks of chapter 8 (notebooks/08_dnc_graphs): graph descriptions and what the reads look at."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import analysis, graphs
from .harness import F64, Mistake, checking, gen, simplex

__all__ = ["triple_channels", "read_sources"]


# =========================================================================== triple channels

def _channels_with(order=(0, 1, 2), reverse_digits=False, blank_as_zero=False) -> Callable:
    """A wrong triple_channels: parts in ``order``, digits reversed, or a blank written as 0."""
    def wrong(triple, node_digits, edge_digits):
        widths = (node_digits, edge_digits, node_digits)
        parts = []
        for i in order:
            part = triple[i]
            if part is None and not blank_as_zero:
                parts.append(torch.zeros(graphs.BASE * widths[i]))
                continue
            ds = graphs.digits(0 if part is None else part, widths[i])
            ds = ds[::-1] if reverse_digits else ds
            parts.append(torch.eye(graphs.BASE)[list(ds)].flatten())
        return torch.cat(parts)
    return wrong


TRIPLE_CHANNELS_MISTAKES = [
    Mistake("digits reversed", "the digits are reversed: the most significant digit comes first "
            "(42 in two digits is 4, then 2)", _channels_with(reverse_digits=True)),
    Mistake("blank as zero", "a blank part (None) is written as the number 0: leave its "
            "channels all zero, so that a blank differs from node 0", _channels_with(
                blank_as_zero=True)),
    Mistake("parts in the wrong order", "the parts are in the wrong order: source, then edge, "
            "then destination", _channels_with(order=(0, 2, 1))),
]


def triple_channels(student: Callable) -> None:
    """Check ``triple_channels(triple, node_digits, edge_digits) -> [10 * G]``.

    One one-hot group of ten per digit, G = 2 * node_digits + edge_digits groups: the source's
    digits, the edge's, the destination's, most significant first; a part that is None stays
    all zeros (memlab.graphs.triple_channels).

    Args:
        student: your ``triple_channels``, with the arguments above in the same order.

    Returns:
        None; prints ``"triple_channels: all <n> checks passed"``.

    Raises:
        AssertionError: a property fails; the message says which, and names the known mistake
            that the result matches, if any.
    """
    with checking("triple_channels", student, ("triple", "node_digits", "edge_digits")) as c:
        __tracebackhide__ = True
        cases = [((42, 3, 7), 2, 1, "the whole triple (42, 3, 7)"),
                 ((42, 3, None), 2, 1, "a query step (42, 3, None)"),
                 ((None, 5, None), 2, 1, "a query step (None, 5, None)"),
                 ((7, 0, 305), 3, 1, "(7, 0, 305) with 3 node digits"),
                 ((0, 12, 9), 1, 2, "(0, 12, 9) with 1 node digit and 2 edge digits")]
        for triple, node_digits, edge_digits, on in cases:
            size = graphs.BASE * (2 * node_digits + edge_digits)
            inputs = (triple, node_digits, edge_digits)
            out = c.call(inputs, on)
            out = c.tensor(out, (size,), "[10 * (2*node_digits + edge_digits)]", torch.float32,
                           on)
            c.compare(out, graphs.triple_channels(*inputs), on, TRIPLE_CHANNELS_MISTAKES,
                      inputs)
            c.passed()


# =========================================================================== read sources

def read_sources(student: Callable) -> None:
    """Check ``read_sources(read_weights [..., R, N], write_weights [T, N]) -> [..., R]``.

    For each read head, the step t whose write weighting overlaps its read weighting most,
    argmax_t sum_i r[i] w_t[i] (memlab.analysis.read_sources).

    Args:
        student: your ``read_sources``, with the arguments above in the same order.

    Returns:
        None; prints ``"read_sources: all <n> checks passed"``.

    Raises:
        AssertionError: a property fails; the message says which, and names the known mistake
            that the result matches, if any.
    """
    with checking("read_sources", student, ("read_weights", "write_weights")) as c:
        __tracebackhide__ = True

        def run(r, w, on):
            __tracebackhide__ = True
            out = c.call((r, w), on)
            if not isinstance(out, Tensor) or out.shape != r.shape[:-1]:
                shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                c.fail(f"on {on}: expected shape {list(r.shape[:-1])} (one step per read head), "
                       f"got {shape}")
            return out.long()

        def check(r, w, on):
            __tracebackhide__ = True
            got, expected = run(r, w, on), analysis.read_sources(r, w)
            if torch.equal(got, expected):
                return
            slot = r.argmax(-1)
            if torch.equal(got, slot):
                c.fail(f"on {on}: you returned the slot each head reads most ({slot.tolist()}); "
                       f"return the step that wrote there: argmax over t of w_t . r "
                       f"({expected.tolist()})")
            if torch.equal(got, (r @ w.T).argmin(-1)):
                c.fail(f"on {on}: argmin where argmax is meant: the step with the largest overlap")
            c.fail(f"on {on}: expected steps {expected.tolist()}, got {got.tolist()}")

        # three writes to slots 2, 0, 3 of N=4; head 0 reads slot 0 (written at step 1)
        w = torch.eye(4, dtype=F64)[[2, 0, 3]]
        r = torch.eye(4, dtype=F64)[[0, 3]]
        check(r, w, "writes to slots 2, 0, 3 and two heads reading slots 0 and 3")
        c.passed()
        for seed, (T, R, N) in enumerate(((5, 2, 8), (12, 3, 16), (3, 1, 6)), 30):
            g = gen(seed)
            w = torch.eye(N, dtype=F64)[torch.randperm(N, generator=g)[:T]]
            w = 0.9 * w + 0.1 * simplex(g, T, N)
            r = simplex(g, 2, R, N) ** 4
            r = r / r.sum(-1, keepdim=True)
            check(r, w, f"soft write and read weightings (T={T}, batch 2, R={R}, N={N})")
            c.passed()
