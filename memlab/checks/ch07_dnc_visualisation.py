"""Checks of chapter 7 (notebooks/07_dnc_visualisation): reading a trained DNC's traces."""
from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Callable

import torch
from torch import Tensor

from .. import addressing as A
from .. import analysis
from .harness import (
    F32,
    F64,
    MASK_NOTE,
    Mistake,
    checking,
    fmt,
    gen,
    masks,
    one_hot,
    rand,
    seeded,
    simplex,
)

__all__ = ["read_mode_usage", "link_chain"]


# =========================================================================== read mode usage

def _masked_sum(pi: Tensor, mask: Tensor) -> Tensor:
    """[R, 3] read modes summed over the counted steps of all samples."""
    return (pi * mask[:, :, None, None]).sum((0, 1))


READ_MODE_USAGE_MISTAKES = [
    Mistake("no mask", "ignores the mask: average only over the steps where mask is 1",
            lambda pi, m: pi.mean(dim=(0, 1))),
    Mistake("per sample",
            "averaged per sample, then over samples: pool the counted steps of all samples, "
            "each counted step weighs the same",
            lambda pi, m: ((pi * m[:, :, None, None]).sum(1) / m.sum(1)[:, None, None]).mean(0)),
    Mistake("divided by every step",
            "divided by every step (B * T): divide the masked sum by the number of counted "
            "steps, mask.sum()", lambda pi, m: _masked_sum(pi, m) / (pi.shape[0] * pi.shape[1])),
    Mistake("not normalised",
            "not normalised: divide the masked sum by the number of counted steps",
            _masked_sum),
]


def _read_mode_inputs(g: torch.Generator, dtype: torch.dtype, B: int, T: int, R: int):
    return simplex(g, B, T, R, 3, dtype=dtype), masks(g, B, T, dtype=dtype)


def read_mode_usage(student: Callable) -> None:
    """Check ``read_mode_usage(read_modes [B,T,R,3], mask [B,T]) -> [R,3]``.

    The mean read mode of each head over the steps where mask is 1, all samples pooled.
    """
    with checking("read_mode_usage", student, ("read_modes", "mask")) as c:
        __tracebackhide__ = True
        run = c.returns("[R, 3]", lambda pi, mask: (pi.shape[2], 3))

        B, T, R = 2, 5, 3
        mask = torch.tensor([[0, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=F64)
        for k, mode in enumerate(("backward", "content", "forward")):
            pi = one_hot(k, 3).expand(B, T, R, 3).clone()
            on = f"read_modes {fmt(pi[0, 0, 0])} at every step for every head (B=2, T=5, R=3)"
            out = run(pi, mask, on)
            c.compare(out, one_hot(k, 3).expand(R, 3), on, READ_MODE_USAGE_MISTAKES, (pi, mask),
                      what=f"values (every head always reads {mode}, so each row is "
                           f"{fmt(one_hot(k, 3))})")
        c.passed()

        # forward where mask is 1, backward elsewhere
        pi = torch.where(mask[:, :, None, None].bool(), one_hot(2, 3), one_hot(0, 3))
        pi = pi.expand(B, T, R, 3).clone()
        c.case(run, (pi, mask), one_hot(2, 3).expand(R, 3),
               "read_modes 'forward' on the steps where mask is 1 and 'backward' elsewhere",
               READ_MODE_USAGE_MISTAKES, what="values (only the steps where mask is 1 count)")

        # pooled over samples: 1 counted step of backward and 3 of forward -> [0.25, 0, 0.75]
        mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0]], dtype=F64)
        pi = torch.stack([one_hot(0, 3).expand(4, 1, 3), one_hot(2, 3).expand(4, 1, 3)]).clone()
        pi[mask == 0] = one_hot(1, 3)
        c.case(run, (pi, mask), torch.tensor([[0.25, 0.0, 0.75]], dtype=F64),
               "one head; sample 0 reads backward on its 1 counted step, sample 1 reads forward "
               "on its 3 counted steps, both read by content on the steps not counted",
               READ_MODE_USAGE_MISTAKES)

        for (pi, mask), on in seeded(_read_mode_inputs, "B T R",
                                     ((3, 8, 2), (1, 5, 1), (4, 6, 4), (2, 10, 3)), MASK_NOTE):
            out = run(pi, mask, on)
            expected = analysis.read_mode_usage(pi, mask)
            sums = out.detach().sum(-1)
            if not torch.allclose(sums, torch.ones_like(sums)):
                c.compare(out, expected, on, READ_MODE_USAGE_MISTAKES, (pi, mask),
                          what="values (each head's row is a mean of distributions and must "
                               "sum to 1)")
            c.compare(out, expected, on, READ_MODE_USAGE_MISTAKES, (pi, mask))
        c.passed()

        c.float32_case(run, analysis.read_mode_usage, _read_mode_inputs, "B T R", (2, 6, 2),
                       grad=False)


# =========================================================================== link chain

def _written_link(order: Sequence[int], N: int) -> Tensor:
    """[N, N] link after one-hot writes to the slots in ``order`` (memlab's equations)."""
    link, p = torch.zeros(1, N, N, dtype=F64), torch.zeros(1, N, dtype=F64)
    for slot in order:
        w = one_hot(slot, N)[None]
        link = A.update_link(link, p, w)
        p = A.update_precedence(p, w)
    return link[0]


def link_chain(student: Callable) -> None:
    """Check ``link_chain(link [N,N], start, length) -> list[int]``.

    The forward links followed from start: the slot after j is argmax_i L[i, j]; ``length``
    slots, start the first.
    """
    with checking("link_chain", student, ("link", "start", "length")) as c:
        __tracebackhide__ = True

        def run(link, start, length, on):
            __tracebackhide__ = True
            out = c.call((link, start, length), on)
            if isinstance(out, Tensor):
                c.fail(f"return a list of Python ints, not a tensor (e.g. chain.tolist(), or "
                       f"append int(slot) to a list)\n  on {on}")
            if not isinstance(out, (list, tuple)):
                c.fail(f"return a list of slot indices, got {type(out).__name__}\n  on {on}")
            slots = []
            for item in out:
                try:
                    if isinstance(item, (bool, float)):
                        raise TypeError
                    slots.append(operator.index(item))
                except TypeError:
                    c.fail(f"the chain must hold integer slot indices, got {item!r} "
                           f"({type(item).__name__}); use int(...)\n  on {on}")
            if len(slots) != length:
                hint = ""
                if len(slots) == length + 1:
                    hint = " (one too many: the start slot counts as the first of the `length`)"
                elif len(slots) == length - 1:
                    hint = " (one too few: the start slot counts as the first of the `length`)"
                c.fail(f"expected length = {length} slots, got {len(slots)}: "
                       f"{slots}{hint}\n  on {on}")
            if slots and slots[0] != start:
                c.fail(f"the chain must begin with the start slot {start}, got {slots}\n  on {on}")
            return slots

        def check(link, start, length, on):
            __tracebackhide__ = True
            expected = analysis.link_chain(link, start, length)
            got = run(link, start, length, on)
            if got != expected:
                backwards = analysis.link_chain(link.t().contiguous(), start, length)
                if got == backwards:
                    c.fail(f"you followed the links backwards (argmax over the wrong axis): the "
                           f"slot written after slot j is argmax_i L[i, j], the largest entry of "
                           f"column j (link[:, j].argmax()); expected {expected}, got {got}"
                           f"\n  on {on}")
                c.fail(f"expected the chain {expected}, got {got}\n  on {on}")

        order = [3, 0, 4, 1, 5]
        link = _written_link(order, 6)
        on = "the link after one-hot writes to slots 3, 0, 4, 1, 5 (N = 6), start 3, length 5"
        check(link, 3, 5, on)
        c.passed()
        check(link, 0, 3, on.replace("start 3, length 5", "start 0, length 3"))
        c.passed()
        check(link, 4, 1, on.replace("start 3, length 5", "start 4, length 1"))
        c.passed()

        for seed, N in enumerate((7, 4, 12), 10):
            g = gen(seed)
            link = rand(g, N, N) * (1 - torch.eye(N, dtype=F64))  # distinct values: no ties
            start = int(torch.randint(0, N, (1,), generator=g))
            length = N + 3
            check(link, start, length,
                  f"a random [N={N}, N={N}] link (seed {seed}), start {start}, length {length}")
        c.passed()

        link = _written_link([2, 1, 0], 3).to(F32)
        check(link, 2, 3, "a float32 link after writes to slots 2, 1, 0, start 2, length 3")
        c.passed()
