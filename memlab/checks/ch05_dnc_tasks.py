"""Checks of chapter 5 (notebooks/05_dnc_tasks): the copy task's batches and the bit errors."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import metrics, tasks
from .harness import F32, F64, MASK_NOTE, Mistake, checking, fmt, gen, metric_inputs, metric_result

__all__ = ["copy_batch", "bit_errors"]


# =========================================================================== copy_batch

def copy_batch(student: Callable) -> None:
    """Check ``copy_batch(batch_size, length, width, generator) -> (inputs, targets, mask)``.

    memlab's copy task (``CopyTask(width, L, L).batch``, NTM section 4.1), every sample L long:
    inputs [B, 2L+1, width+1] (random bits from ``generator`` on steps 0..L-1, the delimiter on
    the last channel at step L), targets [B, 2L+1, width] (the bits again on steps L+1..2L),
    mask [B, 2L+1] (1 on steps L+1..2L).
    """
    with checking("copy_batch", student, ("batch_size", "length", "width", "generator")) as c:
        __tracebackhide__ = True

        def run(B, L, W, seed):
            __tracebackhide__ = True
            on = f"batch_size={B}, length={L}, width={W}, generator seeded with {seed}"
            result = c.call((B, L, W, gen(seed)), on)
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                c.fail(f"return the three tensors (inputs, targets, mask), like memlab's Batch; "
                       f"got {type(result).__name__}" + (f" of length {len(result)}"
                                                         if isinstance(result, (tuple, list))
                                                         else "")
                       + f"\n  on {on}")
            reference = tasks.CopyTask(W, L, L).batch(B, generator=gen(seed))
            T = 2 * L + 1
            hint = "like memlab's batches (build them as float tensors, or convert with .float())"
            inputs = c.tensor(result[0], (B, T, W + 1), "[B, 2L+1, width+1]",
                              reference.inputs.dtype, on, what="inputs", dtype_hint=hint)
            targets = c.tensor(result[1], (B, T, W), "[B, 2L+1, width]",
                               reference.targets.dtype, on, what="targets", dtype_hint=hint)
            mask = c.tensor(result[2], (B, T), "[B, 2L+1]", reference.mask.dtype, on, what="mask",
                            dtype_hint=hint)
            return inputs, targets, mask, on

        for seed, (B, L, W) in enumerate(((3, 4, 5), (1, 1, 1), (2, 6, 8), (4, 3, 2)), 10):
            inputs, targets, mask, on = run(B, L, W, seed)
            T = 2 * L + 1
            t = torch.arange(T)
            delimiter = (t == L).to(inputs.dtype).expand(B, T)
            if not torch.equal(inputs[..., W], delimiter):
                if W > 1 and torch.equal(inputs[..., 0], delimiter):
                    c.fail(f"delimiter in the wrong channel: memlab puts it on the last input "
                           f"channel (index width = {W}); channels 0..{W - 1} carry the bits"
                           f"\n  on {on}")
                steps = [int(s) for s in (inputs[0, :, W] != 0).nonzero().flatten()]
                c.fail(f"the delimiter channel (the last one, index {W}) must be 1 at step "
                       f"L = {L} only (right after the {L} input vectors at steps 0..{L - 1}) and "
                       f"0 elsewhere; sample 0 has it at steps {steps}\n  on {on}")
            data = inputs[..., :W]
            if bool(data[:, L:].ne(0).any()):
                c.fail(f"the data channels of the inputs must be 0 from step L = {L} on (the "
                       f"model sees the delimiter, then nothing while it answers)\n  on {on}")
            if not bool(((data[:, :L] == 0) | (data[:, :L] == 1)).all()):
                c.fail(f"the input bits (steps 0..{L - 1}, channels 0..{W - 1}) "
                       f"must be 0 or 1\n  on {on}")
            output = ((t > L) & (t <= 2 * L)).to(mask.dtype).expand(B, T)
            if not torch.equal(mask, output):
                got_steps = [int(s) for s in (mask[0] != 0).nonzero().flatten()]
                early = ((t >= L) & (t < 2 * L)).to(mask.dtype).expand(B, T)
                if torch.equal(mask, early):
                    c.fail(f"the output phase starts one step early: the mask (and the targets) "
                           f"must cover steps L+1..2L = {L + 1}..{2 * L}, the steps after the "
                           f"delimiter at step L = {L}; yours covers steps {got_steps}\n  on {on}")
                if float(mask[0, L]) != 0:
                    c.fail(f"the mask covers the delimiter step L = {L}: it must be 1 exactly on "
                           f"the output steps L+1..2L = {L + 1}..{2 * L}, got steps {got_steps} "
                           f"for sample 0\n  on {on}")
                c.fail(f"the mask must be 1 exactly on the output steps L+1..2L = "
                       f"{L + 1}..{2 * L} and 0 elsewhere, got steps {got_steps} for sample 0"
                       f"\n  on {on}")
            expected_targets = torch.zeros_like(targets)
            expected_targets[:, L + 1:] = data[:, :L]
            if not torch.equal(targets, expected_targets):
                early = torch.zeros_like(targets)
                early[:, L:2 * L] = data[:, :L]
                late = torch.zeros_like(targets)
                late[:, L + 2:] = data[:, :L - 1]
                if torch.equal(targets, early):
                    c.fail(f"the output phase starts one step early: the copy of input step 0 "
                           f"belongs at step L+1 = {L + 1}, right after the delimiter at step "
                           f"L = {L}; yours is at step {L}\n  on {on}")
                if L > 1 and torch.equal(targets, late):
                    c.fail(f"the output phase starts one step late: the copy of input step 0 "
                           f"belongs at step L+1 = {L + 1}; yours is at step {L + 2}\n  on {on}")
                if bool(targets[:, :L + 1].ne(0).any()):
                    c.fail(f"the targets must be 0 outside the output phase (steps "
                           f"0..{L} here)\n  on {on}")
                c.fail(f"the targets at steps L+1..2L must repeat the input bits of steps "
                       f"0..L-1 in the same order: targets[:, L+1+k] == inputs[:, k, :width]"
                       f"\n  on {on}")
            c.passed()

        # the bits are random, from the generator, different across samples
        B, L, W = 8, 6, 8
        torch.manual_seed(0)  # the global state: restored when the check ends
        first, _, _, on = run(B, L, W, 123)
        torch.manual_seed(1)
        again = run(B, L, W, 123)[0]
        if not torch.equal(first, again):
            c.fail("two calls with generators seeded alike gave different batches: draw every "
                   "random number from `generator` (e.g. torch.randint(0, 2, shape, "
                   "generator=generator)), not from the global random state")
        other = run(B, L, W, 124)[0]
        if torch.equal(first, other):
            c.fail("generators with different seeds gave the same batch: the bits must be random, "
                   "drawn from `generator`")
        bits = first[:, :L, :W]
        fraction = float(bits.mean())
        if not 0.3 <= fraction <= 0.7:
            c.fail(f"the bits must be random 0/1 with probability 1/2 each; {fraction:.0%} of "
                   f"yours are 1\n  on {on}")
        if bool((bits == bits[:1]).all()):
            c.fail(f"every sample of the batch has the same bits: draw [B, L, width] random bits, "
                   f"one sequence per sample\n  on {on}")
        c.passed()


# =========================================================================== bit errors

def _count(targets: Tensor, mask: Tensor, predicted: Tensor) -> Tensor:
    """[B] wrong bits of the predicted 0/1 values on the steps where mask is 1."""
    return ((predicted.to(targets.dtype) != targets).to(targets.dtype).sum(-1) * mask).sum(-1)


BIT_ERRORS_MISTAKES = [
    Mistake("counts masked-out steps",
            "counts masked-out steps: only the steps where mask is 1 count",
            lambda lo, t, m: _count(t, torch.ones_like(m), lo > 0)),
    Mistake("probabilities at 0",
            "thresholding probabilities at 0: sigmoid(logits) is always > 0, so every bit "
            "reads 1; threshold the logits at 0 (or the probabilities at 0.5)",
            lambda lo, t, m: _count(t, m, torch.sigmoid(lo) > 0)),
    Mistake("logits at 0.5",
            "the logits are thresholded at 0.5: a logit > 0 already means probability "
            "> 0.5, so threshold logits at 0 (or sigmoid(logits) at 0.5)",
            lambda lo, t, m: _count(t, m, lo > 0.5)),
    Mistake("mean over channels",
            "a mean over the channels instead of a count: bit errors per sequence is the "
            "number of wrong bits", lambda lo, t, m: _count(t, m, lo > 0) / lo.shape[-1]),
] + [
    Mistake(f"mask {word}",
            f"your mask is off by one step (it counts each step one step "
            f"{word}): use mask[:, t] for step t",
            lambda lo, t, m, shift_=shift_: _count(t, torch.roll(m, shift_, dims=1), lo > 0))
    for shift_, word in ((1, "later"), (-1, "earlier"))
]


def bit_errors(student: Callable) -> None:
    """Check ``bit_errors(logits [B,T,O], targets [B,T,O], mask [B,T]) -> [B]``.

    Wrong bits per sequence: the logits thresholded at 0, on the steps where mask is 1 only.
    """
    with checking("bit_errors", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True

        def run(logits, targets, mask, on):
            __tracebackhide__ = True
            return metric_result(c, (logits, targets, mask), on, (logits.shape[0],), "[B]",
                                 any_float=True)

        logits = torch.tensor([[[2.0, -1.0], [0.3, -0.3], [-2.0, 1.0], [4.0, 4.0]],
                               [[1.0, 1.0], [-0.2, 0.2], [3.0, -3.0], [-1.0, 0.4]]], dtype=F64)
        targets = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                                [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]], dtype=F64)
        mask = torch.tensor([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]], dtype=F64)
        c.case(run, (logits, targets, mask), metrics.bit_errors(logits, targets, mask),
               f"logits {fmt(logits)}, targets {fmt(targets)}, mask {fmt(mask)}",
               BIT_ERRORS_MISTAKES)

        logits = torch.full((2, 3, 4), 5.0, dtype=F64)
        targets = torch.zeros(2, 3, 4, dtype=F64)
        mask = torch.zeros(2, 3, dtype=F64)
        on = "every bit wrong but mask all zeros (B=2, T=3, O=4)"
        out = run(logits, targets, mask, on)
        if float(out.abs().max()) != 0:
            c.fail(f"counts masked-out steps: with mask 0 everywhere nothing counts, expected "
                   f"[0, 0], got {fmt(out)}")
        c.passed()

        logits = torch.tensor([[[0.3, -0.3, 0.01, -0.01]]], dtype=F64)
        targets = torch.tensor([[[1.0, 0.0, 1.0, 0.0]]], dtype=F64)
        mask = torch.ones(1, 1, dtype=F64)
        on = "logits [0.3, -0.3, 0.01, -0.01] with targets [1, 0, 1, 0]"
        out = run(logits, targets, mask, on)
        if float(out[0]) != 0:
            if float(out[0]) == 2:
                c.fail("thresholding probabilities at 0: sigmoid(logits) is always > 0, so every "
                       "bit reads 1; threshold the logits at 0 (or the probabilities at 0.5)")
            if float(out[0]) == 2 or float(out[0]) == 1:
                c.fail(f"logits [0.3, -0.3, 0.01, -0.01] predict [1, 0, 1, 0]: a logit > 0 means "
                       f"probability > 0.5, so threshold the logits at 0 (not at 0.5); expected "
                       f"0 errors, got {fmt(out)}")
            c.fail(f"expected 0 bit errors for logits [0.3, -0.3, 0.01, -0.01] and targets "
                   f"[1, 0, 1, 0] (threshold logits at 0), got {fmt(out)}")
        c.passed()

        c.random_cases(run, metrics.bit_errors, metric_inputs, "B T O",
                       ((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), BIT_ERRORS_MISTAKES,
                       note=MASK_NOTE, dtypes=(F64, F32))
