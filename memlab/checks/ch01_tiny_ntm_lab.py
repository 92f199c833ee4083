"""Checks of chapter 1 (notebooks/01_tiny_ntm_lab): the NTM's location addressing."""
from __future__ import annotations

import functools
from typing import Any, Callable

import torch
from torch import Tensor

from .. import addressing as A
from .harness import F64, Mistake, checking, close, fmt, gen, landing, one_hot, rand, simplex

__all__ = ["shift", "sharpen"]


# =========================================================================== shift

def _shift_no_wrap(weights: Tensor, shift: Tensor) -> Tensor:
    """Shift with zero padding at the ends (a linear, not circular, convolution)."""
    N, S = weights.shape[-1], shift.shape[-1]
    out = torch.zeros_like(weights)
    for k in range(S):
        offset = k - S // 2
        moved = torch.zeros_like(weights)
        if offset >= 0:
            moved[..., offset:] = weights[..., :N - offset]
        else:
            moved[..., :N + offset] = weights[..., -offset:]
        out = out + shift[..., k:k + 1] * moved
    return out


SHIFT_MISTAKES = [
    Mistake("backwards",
            "your shift moves attention backwards: the weight at slot i must come from slot "
            "i - offset (w~(i) = sum_j w(j) s(i - j)), yours comes from slot i + offset",
            lambda w, s: A.shift(w, s.flip(-1))),
    Mistake("no wrap-around",
            "no wrap-around: weight shifted past either end must come back at the other end "
            "(indices mod N)", _shift_no_wrap),
]


def _shift_inputs(g: torch.Generator, dtype: torch.dtype, B: int, H: int, N: int, S: int):
    return simplex(g, B, H, N, dtype=dtype), simplex(g, B, H, S, dtype=dtype)


def shift(student: Callable) -> None:
    """Check ``shift(weights [B,H,N], shift [B,H,S]) -> [B,H,N]`` (NTM eq. 8).

    Circular convolution w~(i) = sum_j w(j) s(i - j), indices mod N: shift index S//2 keeps
    attention in place, index S//2 + 1 moves it one slot forward.
    """
    with checking("shift", student, ("weights", "shift")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, H, N]")

        # direction: +1 must move attention forward
        N = 6
        w, s = one_hot(2, N)[None, None], one_hot(2, 3)[None, None]
        on = "weights = a one-hot at slot 2 of N = 6 slots, shift = [0, 0, 1] (offset +1)"
        out = run(w, s, on)
        slot = landing(out)
        if slot != 3:
            if slot == 1:
                c.fail("your shift moves attention backwards: a one-hot at slot 2 with shift +1 "
                       "(s = [0, 0, 1]) should land on slot 3, got slot 1. In w~(i) = sum_j w(j) "
                       "s(i - j) the weight at slot i comes from slot i - offset "
                       "(torch.roll(w, +1) moves it forward).")
            if slot == 2:
                c.fail("attention did not move: a one-hot at slot 2 with shift [0, 0, 1] should "
                       "land on slot 3, got slot 2. Shift index S//2 is the offset 0, index "
                       "S//2 + 1 the offset +1 (offsets run -S//2 .. S//2).")
            if slot is not None:
                c.fail(f"a one-hot at slot 2 with shift [0, 0, 1] (offset +1) should land on "
                       f"slot 3, got slot {slot}. The shift entries stand for the offsets "
                       f"-S//2 .. S//2: index k is the offset k - S//2.")
            c.compare(out, one_hot(3, N)[None, None], on)
        c.passed()

        # wrap-around at both ends
        for start, k, target, label in ((N - 1, 2, 0, "+1"), (0, 0, N - 1, "-1")):
            on = (f"weights = a one-hot at slot {start} of N = {N} slots, shift = "
                  f"{fmt(one_hot(k, 3))} (offset {label})")
            out = run(one_hot(start, N)[None, None], one_hot(k, 3)[None, None], on)
            if landing(out) != target:
                total = float(out.sum())
                if total < 1e-6:
                    c.fail(f"no wrap-around: a one-hot at slot {start} with shift {label} must "
                           f"come back at slot {target} (indices are taken mod N = {N}: the "
                           f"convolution is circular), but all the weight fell off the end")
                if landing(out) == start:
                    c.fail(f"no wrap-around: a one-hot at slot {start} with shift {label} must "
                           f"land on slot {target} (indices mod N = {N}), it stayed at slot "
                           f"{start} (clamped at the end instead of wrapped)")
                c.fail(f"a one-hot at slot {start} with shift {label} must wrap around to slot "
                       f"{target} (indices mod N = {N}), got {fmt(out[0, 0])}")
            c.passed()

        # offset 0 keeps the weights unchanged
        g = gen(1)
        w = simplex(g, 2, 3, 5)
        s = one_hot(1, 3).expand(2, 3, 3).clone()
        c.case(run, (w, s), w, "random weights [B=2, H=3, N=5] and shift [0, 1, 0] (offset 0)",
               what="values (the centre shift entry, offset 0, must leave the weights unchanged)")

        # a wider shift (S = 5): offsets -2 .. 2, do not hard-code S = 3
        N = 7
        for k, target in ((4, 3), (0, 6)):
            on = (f"weights = a one-hot at slot 1 of N = 7 slots, a shift of width S = 5 "
                  f"{fmt(one_hot(k, 5))} (offset {k - 2:+d})")
            out = run(one_hot(1, N)[None, None], one_hot(k, 5)[None, None], on)
            if landing(out) != target:
                c.fail(f"with S = 5 shift entries the offsets are -2 .. +2: {fmt(one_hot(k, 5))} "
                       f"moves slot 1 to slot {target}, got {fmt(out[0, 0])} (use S = "
                       f"shift.shape[-1], do not assume 3 entries)")
        c.passed()

        c.random_cases(run, A.shift, _shift_inputs, "B H N S",
                       ((2, 3, 7, 3), (1, 1, 5, 3), (3, 2, 8, 5), (4, 1, 3, 3)), SHIFT_MISTAKES)
        c.float32_case(run, A.shift, _shift_inputs, "B H N S", (2, 2, 6, 3))


# =========================================================================== sharpen

def _powered(w: Tensor, gamma: Tensor) -> Tensor:
    return w ** gamma.unsqueeze(-1)


SHARPEN_MISTAKES = [
    Mistake("not renormalised",
            "does not sum to one: divide w^gamma by its sum over the memory slots "
            "(w^gamma / w^gamma.sum(-1, keepdim=True))", _powered),
    Mistake("wrong axis",
            "normalised over the wrong axis: each row over memory slots (the last axis) must "
            "sum to 1",
            lambda w, gamma: _powered(w, gamma) / _powered(w, gamma).sum(dim=1, keepdim=True)),
    Mistake("softmax",
            "looks like a softmax of gamma * w; sharpening raises each weight to the power "
            "gamma, then renormalises",
            lambda w, gamma: torch.softmax(gamma.unsqueeze(-1) * w, dim=-1)),
    Mistake("gamma ignored",
            "gamma is ignored: the weights are only renormalised, not raised to the power "
            "gamma", lambda w, gamma: w / w.sum(-1, keepdim=True)),
]


def _sharpen_inputs(g: torch.Generator, dtype: torch.dtype, B: int, H: int, N: int,
                    high: float = 10.0):
    return simplex(g, B, H, N, dtype=dtype), rand(g, B, H, low=1.0, high=high, dtype=dtype)


def sharpen(student: Callable) -> None:
    """Check ``sharpen(weights [B,H,N], gamma [B,H]) -> [B,H,N]`` (NTM eq. 9).

    w(i) = w~(i)^gamma / sum_j w~(j)^gamma, per row over the slots.
    """
    tol: dict[str, Any] = dict(atol=1e-5, rtol=1e-4)  # a tiny epsilon added to the weights is fine
    with checking("sharpen", student, ("weights", "gamma")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, H, N]")

        g = gen(1)
        w = simplex(g, 2, 3, 5)
        gamma = torch.ones(2, 3, dtype=F64)
        on = "random normalised weights [B=2, H=3, N=5] and gamma = 1"
        out = run(w, gamma, on)
        if not close(out, w, **tol):
            if close(out, torch.softmax(w, -1), **tol):
                c.fail("with gamma = 1 sharpening must return the weights unchanged, yours looks "
                       "like a softmax of the weights: raise each weight to the power gamma, then "
                       "divide by the row's sum")
            c.compare(out, w, on, SHARPEN_MISTAKES, (w, gamma), **tol,
                      what="values (with gamma = 1 sharpening must return normalised "
                      "weights unchanged: w^1 / sum w = w)")
        c.passed()

        # must sum to one, per [b, h] row over slots
        w = rand(g, 2, 3, 4, low=0.05, high=1.0)
        gamma = rand(g, 2, 3, low=1.0, high=3.0)
        on = "random unnormalised weights [B=2, H=3, N=4] and gamma in [1, 3]"
        out = run(w, gamma, on)
        sums = out.detach().to(F64).sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums)):
            if torch.allclose(out.detach().to(F64).sum(1), torch.ones(2, 4, dtype=F64)):
                c.fail("normalised over the wrong axis: each row over memory slots (the last "
                       "axis, dim=-1) must sum to 1, yours sums to 1 over the heads")
            c.fail(f"does not sum to one: each row over the memory slots must sum to 1 (divide "
                   f"w^gamma by its sum over the last axis); row sums {fmt(sums)}\n  on {on}")
        c.passed()

        # a small example
        w = torch.tensor([[[0.1, 0.2, 0.3, 0.4]]], dtype=F64)
        gamma = torch.tensor([[2.0]], dtype=F64)
        c.case(run, (w, gamma), A.sharpen(w, gamma), "weights [0.1, 0.2, 0.3, 0.4] and gamma = 2",
               SHARPEN_MISTAKES, **tol)

        # zero weights stay zero; a large gamma concentrates on the largest weight
        w = torch.tensor([[[0.0, 0.5, 0.5, 0.0], [0.1, 0.2, 0.7, 0.0]]], dtype=F64)
        gamma = torch.tensor([[3.0, 40.0]], dtype=F64)
        c.case(run, (w, gamma), A.sharpen(w, gamma),
               "weights [[0, 0.5, 0.5, 0], [0.1, 0.2, 0.7, 0]] and gamma [3, 40]",
               SHARPEN_MISTAKES, **tol, what="values (zero weights must stay exactly 0, and "
               "gamma = 40 must put almost all the weight on the largest slot)")

        c.random_cases(run, A.sharpen, _sharpen_inputs, "B H N", ((2, 3, 7), (1, 1, 4), (3, 2, 6)),
                       SHARPEN_MISTAKES, note=", gamma in [1, 10]", **tol)
        c.float32_case(run, A.sharpen, functools.partial(_sharpen_inputs, high=4.0), "B H N",
                       (2, 2, 5), **tol)
