"""Checks of chapter 6 (notebooks/06_dnc_training): the cost in bits and the training loss."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import metrics
from .harness import (
    F32,
    F64,
    MASK_NOTE,
    Check,
    Mistake,
    checking,
    close,
    dims,
    fmt,
    gen,
    masks,
    metric_inputs,
    metric_result,
)

__all__ = ["bits_per_sequence", "masked_bce"]

LN2 = math.log(2)


def _masked(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """[B, T] binary cross-entropy in nats summed over the channels, 0 where mask is 0."""
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(-1) * mask


def _unmasked(logits: Tensor, targets: Tensor) -> Tensor:
    """[B, T, O] binary cross-entropy in nats."""
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none")


BITS_PER_SEQUENCE_MISTAKES = [
    Mistake("nats", "in nats, not bits: divide by ln 2 (log2(x) = ln(x) / ln 2)",
            lambda lo, t, m: _masked(lo, t, m).sum(-1)),
    Mistake("unmasked", "counts steps where mask is 0: only the masked-in steps cost",
            lambda lo, t, m: _unmasked(lo, t).sum((1, 2)) / LN2),
    Mistake("mean over channels",
            "a mean over the channels instead of a sum: the cost of a sequence adds up every "
            "bit", lambda lo, t, m: _masked(lo, t, m).sum(-1) / lo.shape[-1] / LN2),
    Mistake("mean over time",
            "a mean over time instead of a sum: the cost of a sequence adds up every counted "
            "step", lambda lo, t, m: _masked(lo, t, m).sum(-1) / m.sum(-1).clamp_min(1) / LN2),
]

MASKED_BCE_MISTAKES = [
    Mistake("mean over all steps",
            "a mean over all steps instead of the counted ones: divide the masked sum by the "
            "number of counted bits (mask.sum() * O)", lambda lo, t, m: _unmasked(lo, t).mean()),
    Mistake("divided by every bit",
            "the masked sum divided by every step (B * T * O): divide by the number of counted "
            "bits, mask.sum() * O", lambda lo, t, m: _masked(lo, t, m).sum() / lo.numel()),
    Mistake("per counted step",
            "divided by the number of counted steps, not counted bits: also divide by the number "
            "of output channels O (mask.sum() * O)",
            lambda lo, t, m: _masked(lo, t, m).sum() / m.sum()),
    Mistake("averaged per sequence",
            "averaged per sequence, then over sequences: memlab divides the total masked BCE by "
            "the total number of counted bits, so longer sequences weigh more",
            lambda lo, t, m: (_masked(lo, t, m).sum(-1) / (m.sum(-1) * lo.shape[-1])).mean()),
    Mistake("bits", "in bits: the training loss stays in nats (do not divide by ln 2)",
            lambda lo, t, m: _masked(lo, t, m).sum() / (m.sum() * lo.shape[-1]) / LN2),
    Mistake("not normalised",
            "not normalised: divide the masked sum by the number of counted bits (mask.sum() * O)",
            lambda lo, t, m: _masked(lo, t, m).sum()),
    Mistake("per sequence only",
            "normalised per sequence but not per bit: divide the total by mask.sum() * O",
            lambda lo, t, m: _masked(lo, t, m).sum() / lo.shape[0]),
]


def _stability_check(c: Check, reference: Callable, shape, dims_text: str) -> None:
    """Confident float32 logits: the result must stay finite and match the reference."""
    __tracebackhide__ = True
    logits = torch.tensor([[[20.0, -20.0, 30.0, -30.0], [20.0, -20.0, 0.0, 1.0]]], dtype=F32)
    targets = torch.tensor([[[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]], dtype=F32)
    mask = torch.ones(1, 2, dtype=F32)
    on = "confident float32 logits [[20, -20, 30, -30], [20, -20, 0, 1]] (right and wrong)"
    out = c.call((logits, targets, mask), on)
    if isinstance(out, Tensor) and out.is_floating_point() and not bool(torch.isfinite(out).all()):
        c.fail(f"NaN or inf for confident logits (got {fmt(out)} on {on}): sigmoid(20) rounds "
               f"to exactly 1 in float32, so log(1 - p) is -inf; compute the cross-entropy from "
               f"the logits with torch.nn.functional.binary_cross_entropy_with_logits")
    out = c.tensor(out, shape, dims_text, F32, on)
    c.compare(out, reference(logits, targets, mask), on, atol=1e-4, rtol=1e-4)


def bits_per_sequence(student: Callable) -> None:
    """Check ``bits_per_sequence(logits [B,T,O], targets [B,T,O], mask [B,T]) -> [B]``.

    The NTM paper's cost per sequence: binary cross-entropy summed over the counted steps and
    channels, in bits.
    """
    with checking("bits_per_sequence", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True

        def run(logits, targets, mask, on):
            __tracebackhide__ = True
            return metric_result(c, (logits, targets, mask), on, (logits.shape[0],), "[B]")

        g = gen(1)
        logits = torch.zeros(3, 5, 4, dtype=F64)
        targets = torch.randint(0, 2, (3, 5, 4), generator=g).to(F64)
        mask = masks(g, 3, 5)
        on = f"logits 0 everywhere (B=3, T=5, O=4), mask {fmt(mask)}"
        out = run(logits, targets, mask, on)
        expected = mask.sum(-1) * 4
        if not close(out, expected, 1e-8, 1e-6):
            if close(out, expected * LN2, 1e-8, 1e-6):
                c.fail(f"in nats, not bits: a model answering 0.5 costs exactly 1 bit per counted "
                       f"bit, expected {fmt(expected)}, got {fmt(out)}: divide by ln 2")
            c.compare(out, expected, on, BITS_PER_SEQUENCE_MISTAKES, (logits, targets, mask),
                      what="values (a model answering 0.5 costs exactly 1 bit per counted bit)")
        c.passed()

        c.random_cases(run, metrics.bits_per_sequence, metric_inputs, "B T O",
                       ((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), BITS_PER_SEQUENCE_MISTAKES,
                       note=MASK_NOTE)
        _stability_check(c, metrics.bits_per_sequence, (1,), "[B]")
        c.passed()
        c.float32_case(run, metrics.bits_per_sequence, metric_inputs, "B T O", (2, 6, 3),
                       atol=1e-4, rtol=1e-5, which=(0,))


def masked_bce(student: Callable) -> None:
    """Check ``masked_bce(logits [B,T,O], targets [B,T,O], mask [B,T]) -> scalar``.

    The training loss: the masked binary cross-entropy summed over every sample, divided by the
    number of counted bits (mask.sum() * O), in nats.
    """
    with checking("masked_bce", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True

        def run(logits, targets, mask, on):
            __tracebackhide__ = True
            out = c.call((logits, targets, mask), on)
            if isinstance(out, Tensor) and out.dim() == 1:
                c.fail(f"expected a scalar (shape []), got shape {dims(out.shape)}: the loss "
                       f"reduces over the whole batch\n  on {on}")
            return c.tensor(out, (), "a scalar []", logits.dtype, on)

        g = gen(1)
        logits = torch.zeros(3, 6, 4, dtype=F64)
        targets = torch.randint(0, 2, (3, 6, 4), generator=g).to(F64)
        mask = masks(g, 3, 6)
        on = f"logits 0 everywhere (B=3, T=6, O=4), mask {fmt(mask)}"
        out = run(logits, targets, mask, on)
        if abs(float(out) - LN2) > 1e-9:
            c.compare(out, torch.tensor(LN2, dtype=F64), on, MASKED_BCE_MISTAKES,
                      (logits, targets, mask),
                      what="loss (a model answering 0.5 everywhere must score ln 2 = 0.6931 "
                           "nats per counted bit)")
        c.passed()

        c.random_cases(run, metrics.masked_bce, metric_inputs, "B T O",
                       ((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), MASKED_BCE_MISTAKES,
                       note=MASK_NOTE, what="loss")
        _stability_check(c, metrics.masked_bce, (), "a scalar []")
        c.passed()
        c.float32_case(run, metrics.masked_bce, metric_inputs, "B T O", (2, 6, 3),
                       atol=1e-5, rtol=1e-5, what="loss", which=(0,))
