"""Checks of chapter 4 (notebooks/04_dnc_complete): the write and read weightings."""
from __future__ import annotations

from typing import Callable

import torch

from .. import addressing as A
from .harness import F64, Mistake, checking, close, fmt, gen, one_hot, rand, simplex

__all__ = ["write_weighting", "read_weighting"]


# =========================================================================== write weighting

WRITE_WEIGHTING_MISTAKES = [
    Mistake("gates swapped",
            "the gates are swapped: the write gate g^w scales the whole weighting, the "
            "allocation gate g^a chooses between allocation and content: "
            "g^w [g^a a + (1 - g^a) c]",
            lambda a, cw, ga, gw: ga[:, None] * (gw[:, None] * a + (1 - gw[:, None]) * cw)),
    Mistake("allocation and content swapped",
            "allocation and content are swapped: g^a weighs the allocation a, (1 - g^a) "
            "the content weighting c",
            lambda a, cw, ga, gw: gw[:, None] * ((1 - ga[:, None]) * a + ga[:, None] * cw)),
    Mistake("no write gate",
            "the write gate is missing: w^w = g^w [g^a a + (1 - g^a) c]",
            lambda a, cw, ga, gw: ga[:, None] * a + (1 - ga[:, None]) * cw),
    Mistake("gates along the slots",  # broadcasts without an error only when B == N
            "the gates are broadcast along the slots: they are [B], one per sample, so "
            "use gate[:, None] (or gate.unsqueeze(-1)) against [B, N] weightings",
            lambda a, cw, ga, gw: gw * (ga * a + (1 - ga) * cw) if a.shape[0] == a.shape[1]
            else None),
]


def _write_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int):
    return (simplex(g, B, N, dtype=dtype), simplex(g, B, N, dtype=dtype), rand(g, B, dtype=dtype),
            rand(g, B, dtype=dtype))


def write_weighting(student: Callable) -> None:
    """Check ``write_weighting(allocation, content, allocation_gate, write_gate) -> [B,N]``.

    allocation [B,N], content [B,N], allocation_gate [B], write_gate [B]:
    w^w = g^w [g^a a + (1 - g^a) c^w] (DNC, Graves et al. 2016).
    """
    params = ("allocation", "content", "allocation_gate", "write_gate")
    with checking("write_weighting", student, params) as c:
        __tracebackhide__ = True
        run = c.returns("[B, N]")

        g = gen(1)
        a, cw = simplex(g, 2, 5), simplex(g, 2, 5)
        for ga_value, gw_value, expected, what in (
                (1.0, 0.8, 0.8 * a,
                 "with allocation gate 1 the weighting is g^w a (allocation only)"),
                (0.0, 0.8, 0.8 * cw,
                 "with allocation gate 0 the weighting is g^w c (content only)"),
                (0.6, 0.0, torch.zeros_like(a), "with write gate 0 nothing is written: all zeros")):
            ga = torch.full((2,), ga_value, dtype=F64)
            gw = torch.full((2,), gw_value, dtype=F64)
            on = (f"random allocation and content weightings [B=2, N=5], allocation gate "
                  f"{ga_value:g}, write gate {gw_value:g}")
            c.case(run, (a, cw, ga, gw), expected, on, WRITE_WEIGHTING_MISTAKES,
                   what=f"values ({what})")

        c.random_cases(run, A.write_weighting, _write_inputs, "B N",
                       ((3, 6), (1, 1), (5, 9), (4, 4)), WRITE_WEIGHTING_MISTAKES)
        c.float32_case(run, A.write_weighting, _write_inputs, "B N", (2, 5))


# =========================================================================== read weighting

MODE_NAMES = ("backward", "content", "forward")


def _modes_in_order(perm: tuple) -> Callable:
    """read_weighting with the three weightings taken in the order perm."""
    def weighting(b, cr, f, pi):
        first, second, third = ((b, cr, f)[k] for k in perm)
        return A.read_weighting(first, second, third, pi)
    return weighting


READ_WEIGHTING_MISTAKES = [
    Mistake(f"order {perm}",
            f"read modes are in the wrong order: the paper orders them (backward, "
            f"content, forward); yours weigh them as ({', '.join(MODE_NAMES[k] for k in perm)})",
            _modes_in_order(perm))
    for perm in ((2, 1, 0), (1, 0, 2), (0, 2, 1), (1, 2, 0), (2, 0, 1))
] + [
    Mistake("modes renormalised",
            "the read modes are normalised again (a softmax of a distribution): they arrive "
            "as probabilities already",
            lambda b, cr, f, pi: A.read_weighting(b, cr, f, torch.softmax(pi, -1))),
]


def _read_inputs(g: torch.Generator, dtype: torch.dtype, B: int, R: int, N: int):
    b, cr, f = (simplex(g, B, R, N, dtype=dtype) for _ in range(3))
    return b, cr, f, simplex(g, B, R, 3, dtype=dtype)


def read_weighting(student: Callable) -> None:
    """Check ``read_weighting(backward, content, forward [B,R,N], read_modes [B,R,3]) -> [B,R,N]``.

    w^r = pi[0] b + pi[1] c + pi[2] f, the modes in the paper's order (backward, content,
    forward) (DNC, Graves et al. 2016).
    """
    with checking("read_weighting", student, ("backward", "content", "forward", "read_modes")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, R, N]")

        g = gen(1)
        b, cr, f = simplex(g, 2, 3, 6), simplex(g, 2, 3, 6), simplex(g, 2, 3, 6)
        weightings = (b, cr, f)
        for k, mode in enumerate(MODE_NAMES):
            pi = one_hot(k, 3).expand(2, 3, 3).clone()
            on = (f"random backward, content and forward weightings [B=2, R=3, N=6] with "
                  f"read_modes = {fmt(pi[0, 0])} for every head")
            out = run(b, cr, f, pi, on)
            if not close(out, weightings[k], 1e-8, 1e-6):
                c.diagnose(out, READ_WEIGHTING_MISTAKES[5:], (b, cr, f, pi), on)
                for j, other in enumerate(MODE_NAMES):
                    if j != k and close(out, weightings[j], 1e-8, 1e-6):
                        c.fail(f"read modes are in the wrong order: the paper orders them "
                               f"(backward, content, forward); with read_modes = "
                               f"{fmt(pi[0, 0])} the result must be the {mode} weighting, yours "
                               f"is the {other} weighting")
                c.compare(out, weightings[k], on,
                          what=f"values (read_modes {fmt(pi[0, 0])} selects the {mode} weighting)")
            c.passed()

        c.random_cases(run, A.read_weighting, _read_inputs, "B R N",
                       ((2, 3, 6), (1, 1, 4), (3, 2, 5), (4, 4, 1)), READ_WEIGHTING_MISTAKES)
        c.float32_case(run, A.read_weighting, _read_inputs, "B R N", (2, 2, 5))
