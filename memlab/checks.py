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
"""
from __future__ import annotations

import contextlib
import math
import operator
from typing import Any, Callable, Iterator, NoReturn, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import addressing as A
from . import analysis, dnc, tasks

__all__ = [
    "shift", "sharpen", "content_weights", "update_usage", "allocation_weights",
    "update_link", "oneplus", "parse_interface", "write_weighting", "read_weighting",
    "copy_batch", "bit_errors", "bits_per_sequence", "masked_bce", "read_mode_usage",
    "link_chain", "edge_rows", "read_sources",
]

F64 = torch.float64
F32 = torch.float32


# =========================================================================== helpers

def _num(x: Any) -> str:
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, float):
        text = f"{x:.4g}"
        return "0" if text == "-0" else text
    return str(x)


def _fmt(value: Any) -> str:
    """A short printable form of a tensor (or nested list), 4 significant digits."""
    if isinstance(value, Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bool:
            value = value.int()
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return _num(value)


def _dims(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _close(got: Tensor, expected: Tensor, atol: float, rtol: float) -> bool:
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        return False
    got64 = got.detach().to(F64)
    return bool(torch.allclose(got64, expected.detach().to(F64), atol=atol, rtol=rtol))


def _clone(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, Tensor) else value


def _same(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach(), b))


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    return torch.randn(shape, generator=g, dtype=F64).to(dtype)


def _rand(g: torch.Generator, *shape: int, low=0.0, high=1.0, dtype=F64) -> Tensor:
    return (low + (high - low) * torch.rand(shape, generator=g, dtype=F64)).to(dtype)


def _simplex(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    """Strictly positive distributions along the last axis."""
    return torch.softmax(1.5 * torch.randn(shape, generator=g, dtype=F64), dim=-1).to(dtype)


def _one_hot(index: int, size: int, dtype=F64) -> Tensor:
    return F.one_hot(torch.tensor(index), size).to(dtype)


def _masks(g: torch.Generator, batch: int, steps: int, dtype=F64) -> Tensor:
    """[B, T] masks of one block of ones each, of different lengths across samples."""
    lengths = torch.randint(1, steps, (batch,), generator=g)
    if batch >= 2 and bool((lengths == lengths[0]).all()):
        lengths[1] = lengths[0] % (steps - 1) + 1
    starts = (torch.rand(batch, generator=g) * (steps - lengths + 1)).long()
    t = torch.arange(steps)
    return ((t >= starts[:, None]) & (t < (starts + lengths)[:, None])).to(dtype)


def _describe(dtype: torch.dtype, seed: int, **sizes: int) -> str:
    dims = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return f"random {str(dtype).replace('torch.', '')} inputs with {dims} (seed {seed})"


class _Check:
    """Runs the student's function and turns every failure into a readable AssertionError."""

    def __init__(self, name: str, student: Callable, params: Sequence[str]):
        self.name = name
        self.student = student
        self.params = tuple(params)
        self.count = 0

    # ------------------------------------------------------------------ reporting
    def fail(self, message: str, cause: Optional[BaseException] = None) -> NoReturn:
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        raise AssertionError(f"{self.name}: {message}") from cause

    def passed(self) -> None:
        self.count += 1

    # ------------------------------------------------------------------ running
    def call(self, args: Sequence[Any], on: str) -> Any:
        """The student's result on args; the inputs must come back unchanged."""
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        copies = [_clone(a) for a in args]
        try:
            result = self.student(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure is the student's to see
            hint = ""
            if "must match the size of tensor" in str(error):
                hint = ("\n  (two shapes that do not broadcast: line the axes up, e.g. gate[:, None] "
                        "or x.unsqueeze(-1) to multiply [B] by [B, N])")
            self.fail(
                f"your function raised {type(error).__name__}: {error}\n  on {on}{hint}\n"
                f"  (the original error and its traceback are shown above)", error)
        for name, arg, copy in zip(self.params, args, copies):
            if isinstance(arg, Tensor) and not _same(arg, copy):
                self.fail(
                    f"your function changed its input `{name}` in place (on {on}). "
                    f"Compute a new tensor instead (x = x * y, not x *= y, x.mul_(y) or x[...] = ...): "
                    f"the DNC still needs the old value, and autograd needs it for the gradient.")
        return result

    def tensor(self, out: Any, shape: Sequence[int], dims: str, dtype: torch.dtype, on: str,
               what: str = "the result", dtype_hint: Optional[str] = None) -> Tensor:
        """out must be a finite Tensor of this shape and dtype."""
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        if not isinstance(out, Tensor):
            hint = ""
            if out is None:
                hint = " (did you forget the `return`?)"
            elif isinstance(out, (tuple, list)):
                hint = " (return one tensor, not a tuple or list)"
            elif type(out).__module__.startswith("numpy"):
                hint = " (stay in torch: numpy arrays carry no gradients)"
            self.fail(f"{what} must be a torch.Tensor, got {type(out).__name__}{hint}\n  on {on}")
        shape = tuple(int(s) for s in shape)
        if tuple(out.shape) != shape:
            hint = ""
            if out.dim() < len(shape):
                hint = " (an axis is missing: did you sum, index or squeeze over it?)"
            elif out.dim() > len(shape):
                hint = " (an extra axis: check how you unsqueeze and broadcast)"
            elif sorted(out.shape) == sorted(shape):
                hint = " (the axes are in the wrong order)"
            self.fail(f"wrong shape of {what}: expected {dims} = {_dims(shape)}, "
                      f"got {_dims(out.shape)}{hint}\n  on {on}")
        if out.dtype != dtype:
            hint = dtype_hint or ("(the dtype of the inputs). Create new tensors with the inputs' "
                                  "dtype, e.g. torch.zeros_like(x) or dtype=x.dtype")
            self.fail(f"{what} has dtype {out.dtype}, expected {dtype} {hint}\n  on {on}")
        if out.is_floating_point() and not bool(torch.isfinite(out).all()):
            bad = tuple(int(i) for i in (~torch.isfinite(out)).nonzero()[0])
            self.fail(f"{what} contains NaN or inf (first at index {list(bad)})\n  on {on}")
        return out

    def diagnose(self, got: Any, mistakes, on: str, atol: float = 1e-6, rtol: float = 1e-5) -> None:
        """Fail naming the first known mistake that got matches, if any."""
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        for message, variant in mistakes:
            if variant is not None and _close(got, variant, atol, rtol):
                self.fail(f"{message}\n  on {on}")

    def compare(self, got: Tensor, expected: Tensor, on: str, mistakes=(),
                atol: float = 1e-8, rtol: float = 1e-6, what: str = "values") -> None:
        """got must equal expected; else name the first known mistake it matches."""
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        if _close(got, expected, atol, rtol):
            return
        self.diagnose(got, mistakes, on, max(atol, 1e-6), max(rtol, 1e-5))
        diff = (got.detach().to(F64) - expected.detach().to(F64)).abs()
        flat = int(diff.argmax())
        index = []
        for size in reversed(diff.shape):  # unravel the flat index (torch.unravel_index is slow to load)
            index.insert(0, flat % size)
            flat //= size
        if expected.numel() <= 12:
            shown_e, shown_g, where = _fmt(expected), _fmt(got), ""
        else:
            row = tuple(index[:-1])
            shown_e, shown_g = _fmt(expected[row]), _fmt(got[row])
            where = f" at [{', '.join(str(i) for i in row)}, :]" if row else ""
        self.fail(
            f"wrong {what} on {on}{where}:\n"
            f"  expected {shown_e}\n"
            f"  got      {shown_g}\n"
            f"  (largest difference {float(diff.max()):.3g} at index {index})")

    def grad(self, args: Sequence[Any], on: str, outputs: Optional[Callable[[Any], list]] = None,
             which: Optional[Sequence[int]] = None) -> None:
        """Gradients must flow from the result back to the float inputs (or those in which)."""
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        leaves = [a.detach().clone().requires_grad_(True)
                  if isinstance(a, Tensor) and a.is_floating_point()
                  and (which is None or i in which) else a for i, a in enumerate(args)]
        result = self.call(leaves, on + ", inputs with requires_grad=True")
        tensors = outputs(result) if outputs else [result]
        if not all(isinstance(t, Tensor) and t.requires_grad for t in tensors):
            self.fail(
                "the result carries no gradient: the model trains by backpropagating through "
                "this function, so keep every step a torch operation on the inputs (no .detach(), "
                ".item(), .numpy(), .data or torch.no_grad())")
        try:
            sum(t.sum() for t in tensors).backward()
        except Exception as error:  # noqa: BLE001
            self.fail(f"backpropagating through your result failed with "
                      f"{type(error).__name__}: {error}", error)


@contextlib.contextmanager
def _checking(name: str, student: Callable, params: Sequence[str]) -> Iterator[_Check]:
    """Run one check: the global random state and thread count are restored after; print one
    line on success."""
    if not callable(student):
        raise TypeError(
            f"checks.{name} takes your function itself, e.g. checks.{name}(my_{name}), "
            f"not {type(student).__name__}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost time on a busy CPU
    try:
        with torch.random.fork_rng(devices=[]):
            check = _Check(name, student, params)
            yield check
    finally:
        torch.set_num_threads(threads)
    print(f"{name}: all {check.count} checks passed")


def _landing(out: Tensor) -> Optional[int]:
    """The slot a [1, 1, N] output puts (almost) all its weight on, else None."""
    row = out.detach().to(F64).reshape(-1)
    slot = int(row.argmax())
    return slot if abs(float(row[slot]) - 1.0) < 1e-5 and float(row.abs().sum()) < 1 + 1e-5 else None


# =========================================================================== chapter 1: NTM

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


def shift(student: Callable) -> None:
    """Check ``shift(weights [B,H,N], shift [B,H,S]) -> [B,H,N]`` against memlab.addressing.shift.

    Circular convolution (NTM eq. 8): shift index S//2 keeps attention in place,
    index S//2 + 1 moves it one slot forward, and indices wrap around mod N.
    """
    with _checking("shift", student, ("weights", "shift")) as c:
        __tracebackhide__ = True

        def run(w, s, on):
            __tracebackhide__ = True
            out = c.call((w, s), on)
            return c.tensor(out, w.shape, "[B, H, N]", w.dtype, on)

        # direction: +1 must move attention forward
        N = 6
        w, s = _one_hot(2, N)[None, None], _one_hot(2, 3)[None, None]
        on = "weights = a one-hot at slot 2 of N = 6 slots, shift = [0, 0, 1] (offset +1)"
        out = run(w, s, on)
        slot = _landing(out)
        if slot != 3:
            if slot == 1:
                c.fail("your shift moves attention backwards: a one-hot at slot 2 with shift +1 "
                       "(s = [0, 0, 1]) should land on slot 3, got slot 1. In w~(i) = sum_j w(j) "
                       "s(i - j) the weight at slot i comes from slot i - offset "
                       "(torch.roll(w, +1) moves it forward).")
            if slot == 2:
                c.fail(f"attention did not move: a one-hot at slot 2 with shift [0, 0, 1] should "
                       f"land on slot 3, got slot 2. Shift index S//2 is the offset 0, index "
                       f"S//2 + 1 the offset +1 (offsets run -S//2 .. S//2).")
            if slot is not None:
                c.fail(f"a one-hot at slot 2 with shift [0, 0, 1] (offset +1) should land on "
                       f"slot 3, got slot {slot}. The shift entries stand for the offsets "
                       f"-S//2 .. S//2: index k is the offset k - S//2.")
            c.compare(out, _one_hot(3, N)[None, None], on)
        c.passed()

        # wrap-around at both ends
        for start, k, target, label in ((N - 1, 2, 0, "+1"), (0, 0, N - 1, "-1")):
            on = (f"weights = a one-hot at slot {start} of N = {N} slots, shift = "
                  f"{_fmt(_one_hot(k, 3))} (offset {label})")
            out = run(_one_hot(start, N)[None, None], _one_hot(k, 3)[None, None], on)
            if _landing(out) != target:
                total = float(out.sum())
                if total < 1e-6:
                    c.fail(f"no wrap-around: a one-hot at slot {start} with shift {label} must "
                           f"come back at slot {target} (indices are taken mod N = {N}: the "
                           f"convolution is circular), but all the weight fell off the end")
                if _landing(out) == start:
                    c.fail(f"no wrap-around: a one-hot at slot {start} with shift {label} must "
                           f"land on slot {target} (indices mod N = {N}), it stayed at slot "
                           f"{start} (clamped at the end instead of wrapped)")
                c.fail(f"a one-hot at slot {start} with shift {label} must wrap around to slot "
                       f"{target} (indices mod N = {N}), got {_fmt(out[0, 0])}")
            c.passed()

        # offset 0 keeps the weights unchanged
        g = _gen(1)
        w = _simplex(g, 2, 3, 5)
        s = _one_hot(1, 3).expand(2, 3, 3).clone()
        on = "random weights [B=2, H=3, N=5] and shift [0, 1, 0] (offset 0)"
        c.compare(run(w, s, on), w, on, what="values (the centre shift entry, offset 0, must "
                  "leave the weights unchanged)")
        c.passed()

        # a wider shift (S = 5): offsets -2 .. 2, do not hard-code S = 3
        N = 7
        for k, target in ((4, 3), (0, 6)):
            on = (f"weights = a one-hot at slot 1 of N = 7 slots, a shift of width S = 5 "
                  f"{_fmt(_one_hot(k, 5))} (offset {k - 2:+d})")
            out = run(_one_hot(1, N)[None, None], _one_hot(k, 5)[None, None], on)
            if _landing(out) != target:
                c.fail(f"with S = 5 shift entries the offsets are -2 .. +2: {_fmt(_one_hot(k, 5))} "
                       f"moves slot 1 to slot {target}, got {_fmt(out[0, 0])} (use S = "
                       f"shift.shape[-1], do not assume 3 entries)")
        c.passed()

        # random inputs
        for seed, (B, H, N, S) in enumerate(((2, 3, 7, 3), (1, 1, 5, 3), (3, 2, 8, 5), (4, 1, 3, 3)), 10):
            g = _gen(seed)
            w, s = _simplex(g, B, H, N), _simplex(g, B, H, S)
            on = _describe(F64, seed, B=B, H=H, N=N, S=S)
            c.compare(run(w, s, on), A.shift(w, s), on, mistakes=[
                ("your shift moves attention backwards: the weight at slot i must come from slot "
                 "i - offset (w~(i) = sum_j w(j) s(i - j)), yours comes from slot i + offset",
                 A.shift(w, s.flip(-1))),
                ("no wrap-around: weight shifted past either end must come back at the other end "
                 "(indices mod N)", _shift_no_wrap(w, s)),
            ])
        c.passed()

        g = _gen(20)
        w, s = _simplex(g, 2, 2, 6, dtype=F32), _simplex(g, 2, 2, 3, dtype=F32)
        on = _describe(F32, 20, B=2, H=2, N=6, S=3)
        c.compare(run(w, s, on), A.shift(w, s), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((w, s), on)
        c.passed()


def sharpen(student: Callable) -> None:
    """Check ``sharpen(weights [B,H,N], gamma [B,H]) -> [B,H,N]`` against memlab.addressing.sharpen.

    w(i) = w~(i)^gamma / sum_j w~(j)^gamma (NTM eq. 9), per row over the slots.
    """
    tol = dict(atol=1e-5, rtol=1e-4)  # a tiny epsilon added to the weights is fine
    with _checking("sharpen", student, ("weights", "gamma")) as c:
        __tracebackhide__ = True

        def run(w, gamma, on):
            __tracebackhide__ = True
            out = c.call((w, gamma), on)
            return c.tensor(out, w.shape, "[B, H, N]", w.dtype, on)

        def mistakes(w, gamma):
            p = w ** gamma.unsqueeze(-1)
            return [
                ("does not sum to one: divide w^gamma by its sum over the memory slots "
                 "(w^gamma / w^gamma.sum(-1, keepdim=True))", p),
                ("normalised over the wrong axis: each row over memory slots (the last axis) must "
                 "sum to 1", p / p.sum(dim=1, keepdim=True)),
                ("looks like a softmax of gamma * w; sharpening raises each weight to the power "
                 "gamma, then renormalises", torch.softmax(gamma.unsqueeze(-1) * w, dim=-1)),
                ("gamma is ignored: the weights are only renormalised, not raised to the power "
                 "gamma", w / w.sum(-1, keepdim=True)),
            ]

        g = _gen(1)
        w = _simplex(g, 2, 3, 5)
        gamma = torch.ones(2, 3, dtype=F64)
        on = "random normalised weights [B=2, H=3, N=5] and gamma = 1"
        out = run(w, gamma, on)
        if not _close(out, w, **tol):
            if _close(out, torch.softmax(w, -1), **tol):
                c.fail("with gamma = 1 sharpening must return the weights unchanged, yours looks "
                       "like a softmax of the weights: raise each weight to the power gamma, then "
                       "divide by the row's sum")
            c.compare(out, w, on, mistakes=mistakes(w, gamma), **tol,
                      what="values (with gamma = 1 sharpening must return normalised "
                      "weights unchanged: w^1 / sum w = w)")
        c.passed()

        # must sum to one, per [b, h] row over slots
        w = _rand(g, 2, 3, 4, low=0.05, high=1.0)
        gamma = _rand(g, 2, 3, low=1.0, high=3.0)
        on = "random unnormalised weights [B=2, H=3, N=4] and gamma in [1, 3]"
        out = run(w, gamma, on)
        sums = out.detach().to(F64).sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums)):
            if torch.allclose(out.detach().to(F64).sum(1), torch.ones(2, 4, dtype=F64)):
                c.fail("normalised over the wrong axis: each row over memory slots (the last "
                       "axis, dim=-1) must sum to 1, yours sums to 1 over the heads")
            c.fail(f"does not sum to one: each row over the memory slots must sum to 1 (divide "
                   f"w^gamma by its sum over the last axis); row sums {_fmt(sums)}\n  on {on}")
        c.passed()

        # a small example
        w = torch.tensor([[[0.1, 0.2, 0.3, 0.4]]], dtype=F64)
        gamma = torch.tensor([[2.0]], dtype=F64)
        on = "weights [0.1, 0.2, 0.3, 0.4] and gamma = 2"
        c.compare(run(w, gamma, on), A.sharpen(w, gamma), on, mistakes=mistakes(w, gamma), **tol)
        c.passed()

        # zero weights stay zero; a large gamma concentrates on the largest weight
        w = torch.tensor([[[0.0, 0.5, 0.5, 0.0], [0.1, 0.2, 0.7, 0.0]]], dtype=F64)
        gamma = torch.tensor([[3.0, 40.0]], dtype=F64)
        on = "weights [[0, 0.5, 0.5, 0], [0.1, 0.2, 0.7, 0]] and gamma [3, 40]"
        c.compare(run(w, gamma, on), A.sharpen(w, gamma), on, mistakes=mistakes(w, gamma), **tol,
                  what="values (zero weights must stay exactly 0, and gamma = 40 must put almost "
                       "all the weight on the largest slot)")
        c.passed()

        for seed, (B, H, N) in enumerate(((2, 3, 7), (1, 1, 4), (3, 2, 6)), 10):
            g = _gen(seed)
            w = _simplex(g, B, H, N)
            gamma = _rand(g, B, H, low=1.0, high=10.0)
            on = _describe(F64, seed, B=B, H=H, N=N) + ", gamma in [1, 10]"
            c.compare(run(w, gamma, on), A.sharpen(w, gamma), on, mistakes=mistakes(w, gamma), **tol)
        c.passed()

        g = _gen(20)
        w, gamma = _simplex(g, 2, 2, 5, dtype=F32), _rand(g, 2, 2, low=1.0, high=4.0, dtype=F32)
        on = _describe(F32, 20, B=2, H=2, N=5)
        c.compare(run(w, gamma, on), A.sharpen(w, gamma), on, **tol)
        c.passed()
        c.grad((w, gamma), on)
        c.passed()


# =========================================================================== chapter 2: DNC memory

def _cosine_mistakes(memory: Tensor, keys: Tensor, strengths: Tensor):
    beta = strengths.unsqueeze(-1)
    dot = torch.bmm(keys, memory.transpose(1, 2))
    cosine = A.cosine_similarity(memory, keys)
    return [
        ("softmax over the wrong axis: each row over memory slots must sum to 1 (softmax over "
         "the last axis, dim=-1)", torch.softmax(cosine * beta, dim=1)),
        ("looks like a dot product instead of the cosine similarity: divide k . M[i] by "
         "|k| |M[i]| (plus a small epsilon)", torch.softmax(dot * beta, dim=-1)),
        ("the strength beta is missing: the content weighting is softmax(beta * D(k, M[i]))",
         torch.softmax(cosine, dim=-1)),
        ("oneplus applied to the strengths: they arrive already >= 0 (oneplus is the "
         "caller's job); use them as they are", torch.softmax(cosine * A.oneplus(beta), dim=-1)),
        ("the memory rows are not normalised: the similarity must be the cosine "
         "k . M[i] / (|k| |M[i]|)",
         torch.softmax(torch.bmm(keys / (keys.norm(dim=-1, keepdim=True) + A.EPSILON),
                                 memory.transpose(1, 2)) * beta, dim=-1)),
        ("the key is not normalised: the similarity must be the cosine k . M[i] / (|k| |M[i]|)",
         torch.softmax(torch.bmm(keys, (memory / (memory.norm(dim=-1, keepdim=True) + A.EPSILON))
                                 .transpose(1, 2)) * beta, dim=-1)),
    ]


def content_weights(student: Callable) -> None:
    """Check ``content_weights(memory [B,N,W], keys [B,H,W], strengths [B,H]) -> [B,H,N]``.

    Compared with memlab.addressing.content_weights: softmax over the slots of
    beta * cosine(k, M[i]), finite for all-zero rows and keys.
    """
    atol, rtol = 1e-6, 1e-4  # an epsilon in the norms other than memlab's is fine
    with _checking("content_weights", student, ("memory", "keys", "strengths")) as c:
        __tracebackhide__ = True

        def run(memory, keys, strengths, on):
            __tracebackhide__ = True
            B, N = memory.shape[:2]
            out = c.call((memory, keys, strengths), on)
            return c.tensor(out, (B, keys.shape[1], N), "[B, H, N]", memory.dtype, on)

        g = _gen(1)
        memory, keys, strengths = _randn(g, 2, 5, 4), _randn(g, 2, 3, 4), _rand(g, 2, 3, high=5.0)
        on = _describe(F64, 1, B=2, N=5, W=4, H=3)
        out = run(memory, keys, strengths, on)
        sums = out.detach().to(F64).sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums)):
            c.fail(f"softmax over the wrong axis: each row over memory slots must sum to 1 "
                   f"(softmax over the last axis, dim=-1); your rows sum to {_fmt(sums)}\n  on {on}")
        c.passed()

        # beta = 0: uniform over the slots
        strengths = torch.zeros(2, 3, dtype=F64)
        on = "random memory [B=2, N=5, W=4] and keys [H=3] with strengths beta = 0"
        out = run(memory, keys, strengths, on)
        if not _close(out, torch.full_like(out, 0.2, dtype=F64), atol, rtol):
            c.fail("with strength beta = 0 every slot must get 1/N = 0.2: the strength multiplies "
                   "the similarity inside the softmax, softmax(beta * D(k, M[i])); the strength is "
                   f"missing or misplaced. Got {_fmt(out[0, 0])} for the first head")
        c.passed()

        # cosine: scaling a row or the key must not change the weights
        memory = torch.tensor([[[1.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]],
                              dtype=F64)
        key = torch.tensor([[[1.0, 0.0, 0.0]]], dtype=F64)
        beta = torch.tensor([[5.0]], dtype=F64)
        on = ("memory rows [1, 0, 0], [3, 0, 0], [0, 1, 0], [0, 0, 2], key [1, 0, 0], "
              "strength 5")
        out = run(memory, key, beta, on)
        if abs(float(out[0, 0, 0]) - float(out[0, 0, 1])) > 1e-4:
            c.fail(f"looks like a dot product, not the cosine similarity: rows [1, 0, 0] and "
                   f"[3, 0, 0] point the same way, so they must get the same weight (got "
                   f"{_fmt(out[0, 0])}). Divide k . M[i] by |k| |M[i]| (plus a small epsilon)")
        c.compare(out, A.content_weights(memory, key, beta), on,
                  mistakes=_cosine_mistakes(memory, key, beta), atol=atol, rtol=rtol)
        on2 = on.replace("key [1, 0, 0]", "key [3, 0, 0]")
        out2 = run(memory, 3 * key, beta, on2)
        if not _close(out2, out, 1e-4, 1e-3):
            c.fail(f"scaling the key changed the weights (key [1, 0, 0] gave {_fmt(out[0, 0])}, "
                   f"key [3, 0, 0] gave {_fmt(out2[0, 0])}): divide by |k| too, the similarity "
                   f"is the cosine k . M[i] / (|k| |M[i]|)")
        c.passed()

        # an all-zero memory row and an all-zero key: finite, similarity 0
        g = _gen(2)
        memory, keys, strengths = _randn(g, 2, 4, 3), _randn(g, 2, 2, 3), _rand(g, 2, 2, low=0.5, high=5.0)
        memory[0, 1] = 0.0
        memory[1] = 0.0
        keys[0, 1] = 0.0
        on = ("random memory [B=2, N=4, W=3] where row 1 of sample 0 and the whole memory of "
              "sample 1 are zero, and the second key of sample 0 is zero")
        out = c.call((memory, keys, strengths), on)
        if isinstance(out, Tensor) and out.shape == (2, 2, 4) and not bool(torch.isfinite(out).all()):
            c.fail("NaN or inf for an all-zero memory row or key: the cosine divides by the norms, "
                   "so add a small epsilon to them (memlab uses EPSILON = 1e-6: "
                   "M / (|M| + 1e-6)); a zero row then has similarity 0")
        out = c.tensor(out, (2, 2, 4), "[B, H, N]", F64, on)
        c.compare(out, A.content_weights(memory, keys, strengths), on,
                  mistakes=_cosine_mistakes(memory, keys, strengths), atol=atol, rtol=rtol,
                  what="values (an all-zero row or key has similarity 0 with everything)")
        c.passed()

        # N = 1: all the weight on the only slot
        g = _gen(3)
        memory, keys, strengths = _randn(g, 3, 1, 4), _randn(g, 3, 2, 4), _rand(g, 3, 2, high=5.0)
        on = _describe(F64, 3, B=3, N=1, W=4, H=2)
        c.compare(run(memory, keys, strengths, on), torch.ones(3, 2, 1, dtype=F64), on,
                  atol=atol, rtol=rtol, what="values (with one slot, its weight is 1)")
        c.passed()

        for seed, (B, N, W, H) in enumerate(((2, 6, 4, 3), (1, 8, 5, 1), (3, 5, 3, 2), (4, 10, 6, 4)), 10):
            g = _gen(seed)
            memory, keys = _randn(g, B, N, W), _randn(g, B, H, W)
            strengths = _rand(g, B, H, low=0.5, high=8.0)
            on = _describe(F64, seed, B=B, N=N, W=W, H=H)
            c.compare(run(memory, keys, strengths, on), A.content_weights(memory, keys, strengths),
                      on, mistakes=_cosine_mistakes(memory, keys, strengths), atol=atol, rtol=rtol)
        c.passed()

        g = _gen(20)
        memory, keys = _randn(g, 2, 6, 4, dtype=F32), _randn(g, 2, 2, 4, dtype=F32)
        strengths = _rand(g, 2, 2, low=0.5, high=5.0, dtype=F32)
        on = _describe(F32, 20, B=2, N=6, W=4, H=2)
        c.compare(run(memory, keys, strengths, on), A.content_weights(memory, keys, strengths),
                  on, atol=1e-5, rtol=1e-4)
        c.passed()
        c.grad((memory, keys, strengths), on)
        c.passed()


def update_usage(student: Callable) -> None:
    """Check ``update_usage(usage [B,N], write_weights [B,N], retention [B,N]) -> [B,N]``.

    u_t = (u + w - u o w) o psi, against memlab.addressing.update_usage.
    """
    with _checking("update_usage", student, ("usage", "write_weights", "retention")) as c:
        __tracebackhide__ = True

        def run(u, w, psi, on):
            __tracebackhide__ = True
            out = c.call((u, w, psi), on)
            return c.tensor(out, u.shape, "[B, N]", u.dtype, on)

        def mistakes(u, w, psi):
            return [
                ("usage ignores retention: multiply by psi, the slots the free gates released "
                 "must lose their usage", u + w - u * w),
                ("usage with u + w but no - u o w term: u + w - u o w is the probability that a "
                 "slot was used before or written now, and stays in [0, 1]", (u + w) * psi),
                ("retention applied to the old usage only: the paper multiplies the whole "
                 "(u + w - u o w) by psi", u * psi + w - u * w),
                ("usage as max(u, w): the paper's u + w - u o w is a soft 'or'",
                 torch.maximum(u, w) * psi),
            ]

        u = torch.tensor([[0.0, 0.5, 1.0, 0.2]], dtype=F64)
        w = torch.tensor([[0.5, 0.5, 0.0, 1.0]], dtype=F64)
        psi = torch.tensor([[1.0, 1.0, 1.0, 0.5]], dtype=F64)
        on = "usage [0, 0.5, 1, 0.2], write_weights [0.5, 0.5, 0, 1], retention [1, 1, 1, 0.5]"
        c.compare(run(u, w, psi, on), A.update_usage(u, w, psi), on, mistakes=mistakes(u, w, psi))
        c.passed()

        g = _gen(1)
        u, w = _rand(g, 2, 5), _simplex(g, 2, 5)
        psi = torch.zeros(2, 5, dtype=F64)
        on = "random usage and write weights [B=2, N=5] with retention psi = 0"
        out = run(u, w, psi, on)
        if not _close(out, torch.zeros_like(out), 1e-12, 0):
            c.fail(f"usage ignores retention: with retention psi = 0 (every slot freed by the "
                   f"free gates) the usage must be 0, got {_fmt(out[0])}; multiply by psi")
        c.passed()

        # a free gate of 1 on a head that read slot 3: that slot is freed
        u, w = _rand(_gen(2), 1, 5, low=0.5, high=1.0), torch.zeros(1, 5, dtype=F64)
        read = _one_hot(3, 5)[None, None]
        psi = A.retention(torch.ones(1, 1, dtype=F64), read)
        on = (f"usage {_fmt(u[0])}, no write, retention {_fmt(psi[0])} from a free gate of 1 on "
              f"a head that read slot 3")
        out = run(u, w, psi, on)
        c.compare(out, A.update_usage(u, w, psi), on, mistakes=mistakes(u, w, psi),
                  what="values (the slot freed by the free gate must end with usage 0, the others "
                       "keep theirs)")
        c.passed()

        u, w, psi = (torch.ones(1, 3, dtype=F64) for _ in range(3))
        on = "usage 1, write_weights 1, retention 1"
        out = run(u, w, psi, on)
        if float(out.max()) > 1 + 1e-9:
            c.fail(f"usage above 1 (got {_fmt(out[0])} for usage 1 and a write of 1): "
                   f"u + w - u o w keeps usage in [0, 1]; did you forget the - u o w term?")
        c.compare(out, torch.ones_like(out), on)
        c.passed()

        for seed, (B, N) in enumerate(((3, 6), (1, 1), (2, 10), (5, 4)), 10):
            g = _gen(seed)
            u, w, psi = _rand(g, B, N), _simplex(g, B, N), _rand(g, B, N)
            on = _describe(F64, seed, B=B, N=N)
            c.compare(run(u, w, psi, on), A.update_usage(u, w, psi), on, mistakes=mistakes(u, w, psi))
        c.passed()

        g = _gen(20)
        u, w, psi = _rand(g, 2, 5, dtype=F32), _simplex(g, 2, 5, dtype=F32), _rand(g, 2, 5, dtype=F32)
        on = _describe(F32, 20, B=2, N=5)
        c.compare(run(u, w, psi, on), A.update_usage(u, w, psi), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((u, w, psi), on)
        c.passed()


def _allocation_mistakes(usage: Tensor):
    def exclusive(values):
        ones = torch.ones_like(values[..., :1])
        return torch.cumprod(torch.cat([ones, values[..., :-1]], dim=-1), dim=-1)

    sorted_usage, phi = torch.sort(usage, dim=-1)
    down_usage, down_phi = torch.sort(usage, dim=-1, descending=True)
    sorted_alloc = (1 - sorted_usage) * exclusive(sorted_usage)
    inclusive = (1 - sorted_usage) * torch.cumprod(sorted_usage, -1)
    return [
        ("allocation without sorting: the product must run over the slots sorted by usage, "
         "least used first (phi = argsort(usage)), not in slot order",
         (1 - usage) * exclusive(usage)),
        ("allocation with an inclusive product: a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i] "
         "excludes slot j itself (use cumprod of [1, u_sorted[:-1]])",
         inclusive.scatter(-1, phi, inclusive)),
        ("slots sorted the wrong way: phi lists the slots from least used to most used "
         "(ascending usage)",
         ((1 - down_usage) * exclusive(down_usage)).scatter(-1, down_phi,
                                                            (1 - down_usage) * exclusive(down_usage))),
        ("the allocation is returned in sorted order: put each value back at its slot "
         "(scatter with phi, or index with the inverse permutation)", sorted_alloc),
        ("the free-ness (1 - u[phi_j]) is missing: a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i]",
         exclusive(sorted_usage).scatter(-1, phi, exclusive(sorted_usage))),
    ]


def allocation_weights(student: Callable) -> None:
    """Check ``allocation_weights(usage [B,N]) -> [B,N]`` against memlab.addressing.allocation_weights.

    a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i], phi the slots sorted by usage
    (least used first).
    """
    with _checking("allocation_weights", student, ("usage",)) as c:
        __tracebackhide__ = True

        def run(u, on):
            __tracebackhide__ = True
            out = c.call((u,), on)
            return c.tensor(out, u.shape, "[B, N]", u.dtype, on)

        u = torch.ones(2, 5, dtype=F64)
        on = "a fully used memory (usage 1 everywhere, B=2, N=5)"
        out = run(u, on)
        if not _close(out, torch.zeros_like(out), 1e-6, 0):
            c.fail(f"a fully used memory has nothing to allocate: with usage 1 everywhere the "
                   f"allocation must be 0 everywhere, got {_fmt(out[0])}")
        c.passed()

        u = torch.tensor([[1.0, 1.0, 0.0, 1.0, 1.0]], dtype=F64)
        on = "usage [1, 1, 0, 1, 1] (only slot 2 is free)"
        out = run(u, on)
        if _landing(out) != 2:
            c.diagnose(out, _allocation_mistakes(u), on)
            c.fail(f"with usage [1, 1, 0, 1, 1] the allocation must go entirely to the free slot "
                   f"2: expected [0, 0, 1, 0, 0], got {_fmt(out[0])}")
        c.passed()

        u = torch.tensor([[0.9, 0.1, 0.5]], dtype=F64)
        on = "usage [0.9, 0.1, 0.5] (sorted: slot 1, slot 2, slot 0)"
        c.compare(run(u, on), A.allocation_weights(u), on, mistakes=_allocation_mistakes(u))
        c.passed()

        u = torch.tensor([[0.3], [0.8]], dtype=F64)
        on = "one slot (N = 1), usage [[0.3], [0.8]]"
        c.compare(run(u, on), 1 - u, on, what="values (with one slot the allocation is 1 - u)")
        c.passed()

        for seed, (B, N) in enumerate(((4, 7), (1, 2), (2, 16), (3, 5)), 10):
            g = _gen(seed)
            u = _rand(g, B, N)  # distinct values: no ties in the sort
            on = _describe(F64, seed, B=B, N=N)
            out = run(u, on)
            c.compare(out, A.allocation_weights(u), on, mistakes=_allocation_mistakes(u))
        c.passed()

        g = _gen(20)
        u = _rand(g, 3, 6, dtype=F32)
        on = _describe(F32, 20, B=3, N=6)
        c.compare(run(u, on), A.allocation_weights(u), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((u,), on)
        c.passed()


def _link_mistakes(link: Tensor, precedence: Tensor, w: Tensor):
    new_precedence = A.update_precedence(precedence, w)
    w_i, w_j = w.unsqueeze(-1), w.unsqueeze(-2)
    keep = 1 - torch.eye(link.shape[-1], dtype=link.dtype)
    new = w_i * precedence.unsqueeze(-2)
    return [
        ("the link diagonal is not zero: L[i, i] = 0 (a slot is never written right after "
         "itself); multiply by (1 - I)", (1 - w_i - w_j) * link + new),
        ("your link is transposed: L[i, j] = w[i] p[j] says slot i was written right after slot "
         "j (w_i = w[:, :, None], p_j = p[:, None, :])",
         A.update_link(link.transpose(1, 2), precedence, w).transpose(1, 2)),
        ("the link update uses the new precedence p_t; it must use the previous one p_{t-1} "
         "(update the link before the precedence)", A.update_link(link, new_precedence, w)),
        ("the old links do not decay: L_t[i, j] = (1 - w[i] - w[j]) L_{t-1}[i, j] + w[i] p[j]",
         (link + new) * keep),
        ("the decay factor must be (1 - w[i] - w[j]), not (1 - w[i]) (1 - w[j])",
         ((1 - w_i) * (1 - w_j) * link + new) * keep),
    ]


def update_link(student: Callable) -> None:
    """Check ``update_link(link [B,N,N], precedence [B,N], write_weights [B,N]) -> [B,N,N]``.

    L_t[i,j] = (1 - w[i] - w[j]) L_{t-1}[i,j] + w[i] p_{t-1}[j], L_t[i,i] = 0,
    against memlab.addressing.update_link.
    """
    with _checking("update_link", student, ("link", "precedence", "write_weights")) as c:
        __tracebackhide__ = True

        def run(link, p, w, on):
            __tracebackhide__ = True
            out = c.call((link, p, w), on)
            return c.tensor(out, link.shape, "[B, N, N]", link.dtype, on)

        def random_state(g, B, N, dtype=F64):
            link = _rand(g, B, N, N, high=0.3, dtype=dtype) * (1 - torch.eye(N, dtype=dtype))
            return link, _simplex(g, B, N, dtype=dtype) * 0.9, _simplex(g, B, N, dtype=dtype)

        g = _gen(1)
        link, p, w = random_state(g, 2, 5)
        on = _describe(F64, 1, B=2, N=5)
        out = run(link, p, w, on)
        diagonal = out.detach().diagonal(dim1=-2, dim2=-1)
        if float(diagonal.abs().max()) > 1e-12:
            c.fail(f"the link diagonal is not zero: L[i, i] = 0 (a slot is never written right "
                   f"after itself); multiply by (1 - I). Diagonal of sample 0: "
                   f"{_fmt(diagonal[0])}\n  on {on}")
        c.passed()

        # writes to slots 2, 0, 3 in turn, one step at a time: L[0, 2] = L[3, 0] = 1 at the end
        N = 4
        link, p = torch.zeros(1, N, N, dtype=F64), torch.zeros(1, N, dtype=F64)
        written = []
        for slot in (2, 0, 3):
            w = _one_hot(slot, N)[None]
            written.append(str(slot))
            on = (f"one-hot writes to slots {', then '.join(written)} (N = 4), starting from an "
                  f"empty link; this step writes slot {slot}")
            out = run(link, p, w, on)
            expected = A.update_link(link, p, w)
            if not _close(out, expected, 1e-9, 1e-6):
                c.diagnose(out, _link_mistakes(link, p, w), on)
                if float(out.abs().max()) < 1e-9:
                    c.fail(f"the link stays empty: after writing slot {written[-2]} then slot "
                           f"{slot}, L[{slot}, {written[-2]}] must be 1. Did you use the new "
                           f"precedence p_t? The link update uses the previous precedence p_{{t-1}}")
                c.compare(out, expected, on, what="link")
            link, p = expected, A.update_precedence(p, w)
        c.passed()

        link = torch.zeros(2, 1, 1, dtype=F64)
        on = "a single slot (N = 1)"
        c.compare(run(link, torch.full((2, 1), 0.5, dtype=F64), torch.ones(2, 1, dtype=F64), on),
                  link, on, what="values (a single slot has no link but its zero diagonal)")
        c.passed()

        for seed, (B, N) in enumerate(((2, 6), (1, 3), (3, 8), (4, 5)), 10):
            g = _gen(seed)
            link, p, w = random_state(g, B, N)
            on = _describe(F64, seed, B=B, N=N)
            c.compare(run(link, p, w, on), A.update_link(link, p, w), on,
                      mistakes=_link_mistakes(link, p, w))
        c.passed()

        g = _gen(20)
        link, p, w = random_state(g, 2, 5, dtype=F32)
        on = _describe(F32, 20, B=2, N=5)
        c.compare(run(link, p, w, on), A.update_link(link, p, w), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((link, p, w), on)
        c.passed()


# =========================================================================== chapter 3: controller

def oneplus(student: Callable) -> None:
    """Check ``oneplus(x) -> same shape`` against memlab.addressing.oneplus: 1 + log(1 + e^x)."""
    with _checking("oneplus", student, ("x",)) as c:
        __tracebackhide__ = True

        def run(x, on):
            __tracebackhide__ = True
            out = c.call((x,), on)
            return c.tensor(out, x.shape, "the shape of x " + _dims(x.shape), x.dtype, on)

        x = torch.tensor([0.0], dtype=F64)
        on = "x = [0.]"
        out = run(x, on)
        value = float(out[0])
        if abs(value - (1 + math.log(2))) > 1e-9:
            known = {math.log(2): "that is softplus(0) = ln 2: oneplus is 1 + softplus(x), "
                                  "you left out the 1 +",
                     2.0: "that is 1 + e^0: oneplus is 1 + log(1 + e^x)",
                     1.0: "that is 1 + relu(0) (or 1 + 0): oneplus is 1 + log(1 + e^x)"}
            hint = next((h for v, h in known.items() if abs(value - v) < 1e-9),
                        "oneplus(x) = 1 + log(1 + e^x)")
            c.fail(f"oneplus(0) must be 1 + ln 2 = 1.6931, got {value:.4g}: {hint}")
        c.passed()

        x = torch.linspace(-20, 20, 41, dtype=F64)
        on = "x = -20, -19, ..., 20"
        out = run(x, on)
        if float(out.min()) < 1 - 1e-12:
            c.fail(f"oneplus must be >= 1 everywhere (it maps to [1, inf)), got "
                   f"{float(out.min()):.4g} at x = {float(x[int(out.argmin())]):g}: did you "
                   f"forget the 1 + ?")
        c.compare(out, A.oneplus(x), on, mistakes=[
            ("oneplus is 1 + softplus(x): you returned softplus(x) without the 1 +", F.softplus(x)),
            ("that is 1 + e^x: oneplus is 1 + log(1 + e^x)", 1 + torch.exp(x)),
            ("that is 1 + relu(x): oneplus is 1 + log(1 + e^x), smooth at 0", 1 + torch.relu(x)),
        ])
        c.passed()

        x = torch.tensor([-100.0, -30.0, 30.0, 100.0], dtype=F32)
        on = "large float32 inputs x = [-100, -30, 30, 100]"
        out = c.call((x,), on)
        if isinstance(out, Tensor) and out.shape == x.shape and not bool(torch.isfinite(out).all()):
            c.fail(f"oneplus overflows for large x (got {_fmt(out)} for x = [-100, -30, 30, 100] "
                   f"in float32: e^100 is inf): use torch.nn.functional.softplus, which computes "
                   f"log(1 + e^x) without overflow")
        c.compare(c.tensor(out, x.shape, "[4]", F32, on), A.oneplus(x), on, atol=1e-5, rtol=1e-6)
        c.passed()

        for seed, shape in enumerate(((7,), (2, 3), (2, 3, 4), ()), 10):
            g = _gen(seed)
            x = 3 * _randn(g, *shape)
            on = f"random float64 x of shape {_dims(shape)} (seed {seed})"
            c.compare(run(x, on), A.oneplus(x), on)
        c.passed()
        c.grad((x,), on)
        c.passed()


def parse_interface(student: Callable) -> None:
    """Check ``parse_interface(xi [B, W*R+3W+5R+3], word_size, read_heads) -> Interface``.

    Every field of the result (memlab.dnc.Interface or any object with the same
    attribute names) is compared with memlab.dnc.parse_interface: where it lies
    in xi, its shape and its activation.
    """
    fields = dnc.interface_fields(1, 1)
    names = [name for name, _, _ in fields]
    order = ", ".join(names)
    with _checking("parse_interface", student, ("xi", "word_size", "read_heads")) as c:
        __tracebackhide__ = True

        def shapes(B, W, R):
            return {"read_keys": ((B, R, W), "[B, R, W]"), "read_strengths": ((B, R), "[B, R]"),
                    "write_key": ((B, W), "[B, W]"), "write_strength": ((B,), "[B]"),
                    "erase": ((B, W), "[B, W]"), "write_vector": ((B, W), "[B, W]"),
                    "free_gates": ((B, R), "[B, R]"), "allocation_gate": ((B,), "[B]"),
                    "write_gate": ((B,), "[B]"), "read_modes": ((B, R, 3), "[B, R, 3]")}

        def get_fields(result, on):
            __tracebackhide__ = True
            missing = [n for n in names if not hasattr(result, n)]
            if missing:
                c.fail(f"the result has no field(s) {', '.join(missing)}: return "
                       f"memlab.dnc.Interface(...) (or an object with the attributes {order}); "
                       f"got {type(result).__name__}\n  on {on}")
            return [getattr(result, n) for n in names]

        def check_config(xi, W, R, on):
            __tracebackhide__ = True
            B = xi.shape[0]
            result = c.call((xi, W, R), on)
            got = dict(zip(names, get_fields(result, on)))
            expected = dnc.parse_interface(xi, W, R)._asdict()
            slices = dnc.interface_slices(W, R)
            activation = {name: act for name, _, act in dnc.interface_fields(W, R)}
            size = dnc.interface_size(W, R)
            for name in names:
                shape, dims = shapes(B, W, R)[name]
                value = got[name]
                if isinstance(value, Tensor) and tuple(value.shape) != shape \
                        and value.numel() == math.prod(shape) and value.dim() == len(shape) + 1:
                    c.fail(f"wrong shape of {name}: expected {dims} = {_dims(shape)}, got "
                           f"{_dims(value.shape)}: squeeze the size-1 axis "
                           f"(e.g. xi[:, k] instead of xi[:, k:k+1])\n  on {on}")
                c.tensor(value, shape, dims, xi.dtype, on, what=name)
                if _close(value, expected[name], 1e-8, 1e-6):
                    continue
                act = activation[name]
                where = slices[name]
                length = where.stop - where.start
                raw = xi[:, where]
                mistakes = []
                if name == "read_modes":
                    mistakes.append((
                        "softmax over the wrong axis: each head's 3 read modes must sum to 1 "
                        "(reshape to [B, R, 3], then softmax over the last axis)",
                        torch.softmax(raw.reshape(B, R, 3), dim=1)))
                    mistakes.append((
                        "read_modes reshaped in the wrong order: the last 3R entries of xi hold "
                        "head 1's three modes, then head 2's, ...: reshape to [B, R, 3], not "
                        "[B, 3, R]", torch.softmax(raw.reshape(B, 3, R).transpose(1, 2), dim=-1)))
                    mistakes.append((
                        "softmax over all 3R read-mode entries at once: reshape to [B, R, 3] first, "
                        "then take the softmax over the last axis (3 modes per head)",
                        torch.softmax(raw, dim=-1).reshape(B, R, 3)))
                if name == "read_keys":
                    mistakes.append((
                        "read_keys reshaped in the wrong order: key i is xi[:, i*W:(i+1)*W], so "
                        "reshape to [B, R, W], not [B, W, R]", raw.reshape(B, W, R).transpose(1, 2)))
                candidates = {
                    "none": raw, "sigmoid": torch.sigmoid(raw), "oneplus": A.oneplus(raw),
                    "softplus": F.softplus(raw), "softmax": torch.softmax(raw, dim=-1)}
                label = {"none": "no activation", "sigmoid": "a sigmoid", "oneplus": "oneplus",
                         "softplus": "softplus (without the 1 +)", "softmax": "a softmax"}
                for other, tensor_ in candidates.items():
                    if other != act and tensor_.numel() == math.prod(shape):
                        mistakes.append((
                            f"{name} must go through {label[act]}, yours went through "
                            f"{label[other]}" + (f" (sigmoid missing on {name})"
                                                 if act == "sigmoid" and other == "none" else ""),
                            tensor_.reshape(shape)))
                expected_act = {"none": lambda v: v, "sigmoid": torch.sigmoid,
                                "oneplus": A.oneplus,
                                "softmax": lambda v: torch.softmax(v.reshape(B, R, 3), dim=-1)}[act]
                for start in range(0, size - length + 1):
                    if start != where.start:
                        mistakes.append((
                            f"{name} is read from xi[:, {start}:{start + length}], it lies at "
                            f"xi[:, {where.start}:{where.stop}]: the fields overlap or are out of "
                            f"order (the paper's order is {order}, sizes RW, R, W, 1, W, W, R, "
                            f"1, 1, 3R)", expected_act(xi[:, start:start + length]).reshape(shape)))
                c.compare(value, expected[name], on + f", field {name}", mistakes=mistakes,
                          what=f"{name}")
            return got

        for seed, (B, W, R) in enumerate(((3, 4, 2), (2, 3, 1), (1, 5, 3), (4, 2, 4)), 10):
            g = _gen(seed)
            xi = 2 * _randn(g, B, dnc.interface_size(W, R))
            check_config(xi, W, R, _describe(F64, seed, B=B, W=W, R=R))
            c.passed()

        g = _gen(20)
        xi = 2 * _randn(g, 2, dnc.interface_size(3, 2), dtype=F32)
        on = _describe(F32, 20, B=2, W=3, R=2)
        result = c.call((xi, 3, 2), on)
        got = get_fields(result, on)
        for name, value, expected in zip(names, got, dnc.parse_interface(xi, 3, 2)):
            c.tensor(value, expected.shape, _dims(expected.shape), F32, on, what=name)
            c.compare(value, expected, on, atol=1e-6, rtol=1e-5, what=name)
        c.passed()
        c.grad((xi, 3, 2), on, outputs=lambda r: get_fields(r, on))
        c.passed()


# =========================================================================== chapter 4: complete DNC

def write_weighting(student: Callable) -> None:
    """Check ``write_weighting(allocation [B,N], content [B,N], allocation_gate [B], write_gate [B])``.

    w^w = g^w [g^a a + (1 - g^a) c^w] -> [B, N], against memlab.addressing.write_weighting.
    """
    params = ("allocation", "content", "allocation_gate", "write_gate")
    with _checking("write_weighting", student, params) as c:
        __tracebackhide__ = True

        def run(a, cw, ga, gw, on):
            __tracebackhide__ = True
            out = c.call((a, cw, ga, gw), on)
            return c.tensor(out, a.shape, "[B, N]", a.dtype, on)

        def mistakes(a, cw, ga, gw):
            ga1, gw1 = ga.unsqueeze(-1), gw.unsqueeze(-1)
            found = [
                ("the gates are swapped: the write gate g^w scales the whole weighting, the "
                 "allocation gate g^a chooses between allocation and content: "
                 "g^w [g^a a + (1 - g^a) c]", ga1 * (gw1 * a + (1 - gw1) * cw)),
                ("allocation and content are swapped: g^a weighs the allocation a, (1 - g^a) "
                 "the content weighting c", gw1 * ((1 - ga1) * a + ga1 * cw)),
                ("the write gate is missing: w^w = g^w [g^a a + (1 - g^a) c]",
                 ga1 * a + (1 - ga1) * cw),
            ]
            if a.shape[0] == a.shape[1]:
                found.append((
                    "the gates are broadcast along the slots: they are [B], one per sample, so "
                    "use gate[:, None] (or gate.unsqueeze(-1)) against [B, N] weightings",
                    gw * (ga * a + (1 - ga) * cw)))
            return found

        g = _gen(1)
        a, cw = _simplex(g, 2, 5), _simplex(g, 2, 5)
        for ga_value, gw_value, expected, what in (
                (1.0, 0.8, 0.8 * a, "with allocation gate 1 the weighting is g^w a (allocation only)"),
                (0.0, 0.8, 0.8 * cw, "with allocation gate 0 the weighting is g^w c (content only)"),
                (0.6, 0.0, torch.zeros_like(a), "with write gate 0 nothing is written: all zeros")):
            ga = torch.full((2,), ga_value, dtype=F64)
            gw = torch.full((2,), gw_value, dtype=F64)
            on = (f"random allocation and content weightings [B=2, N=5], allocation gate "
                  f"{ga_value:g}, write gate {gw_value:g}")
            c.compare(run(a, cw, ga, gw, on), expected, on, mistakes=mistakes(a, cw, ga, gw),
                      what=f"values ({what})")
            c.passed()

        for seed, (B, N) in enumerate(((3, 6), (1, 1), (5, 9), (4, 4)), 10):
            g = _gen(seed)
            a, cw, ga, gw = _simplex(g, B, N), _simplex(g, B, N), _rand(g, B), _rand(g, B)
            on = _describe(F64, seed, B=B, N=N)
            c.compare(run(a, cw, ga, gw, on), A.write_weighting(a, cw, ga, gw), on,
                      mistakes=mistakes(a, cw, ga, gw))
        c.passed()

        g = _gen(20)
        a, cw = _simplex(g, 2, 5, dtype=F32), _simplex(g, 2, 5, dtype=F32)
        ga, gw = _rand(g, 2, dtype=F32), _rand(g, 2, dtype=F32)
        on = _describe(F32, 20, B=2, N=5)
        c.compare(run(a, cw, ga, gw, on), A.write_weighting(a, cw, ga, gw), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((a, cw, ga, gw), on)
        c.passed()


def read_weighting(student: Callable) -> None:
    """Check ``read_weighting(backward, content, forward [B,R,N], read_modes [B,R,3]) -> [B,R,N]``.

    w^r = pi[0] b + pi[1] c + pi[2] f, modes in the paper's order (backward,
    content, forward), against memlab.addressing.read_weighting.
    """
    mode_names = ("backward", "content", "forward")
    with _checking("read_weighting", student, ("backward", "content", "forward", "read_modes")) as c:
        __tracebackhide__ = True

        def run(b, cr, f, pi, on):
            __tracebackhide__ = True
            out = c.call((b, cr, f, pi), on)
            return c.tensor(out, b.shape, "[B, R, N]", b.dtype, on)

        def mistakes(b, cr, f, pi):
            found = []
            for perm in ((2, 1, 0), (1, 0, 2), (0, 2, 1), (1, 2, 0), (2, 0, 1)):
                names = ", ".join(mode_names[k] for k in perm)
                found.append((
                    f"read modes are in the wrong order: the paper orders them (backward, "
                    f"content, forward); yours weigh them as ({names})",
                    A.read_weighting(*(((b, cr, f)[k]) for k in perm), pi)))
            found.append((
                "the read modes are normalised again (a softmax of a distribution): they arrive "
                "as probabilities already", A.read_weighting(b, cr, f, torch.softmax(pi, -1))))
            return found

        g = _gen(1)
        b, cr, f = _simplex(g, 2, 3, 6), _simplex(g, 2, 3, 6), _simplex(g, 2, 3, 6)
        weightings = (b, cr, f)
        for k, mode in enumerate(mode_names):
            pi = _one_hot(k, 3).expand(2, 3, 3).clone()
            on = (f"random backward, content and forward weightings [B=2, R=3, N=6] with "
                  f"read_modes = {_fmt(pi[0, 0])} for every head")
            out = run(b, cr, f, pi, on)
            if not _close(out, weightings[k], 1e-8, 1e-6):
                c.diagnose(out, mistakes(b, cr, f, pi)[5:], on)
                for j, other in enumerate(mode_names):
                    if j != k and _close(out, weightings[j], 1e-8, 1e-6):
                        c.fail(f"read modes are in the wrong order: the paper orders them "
                               f"(backward, content, forward); with read_modes = "
                               f"{_fmt(pi[0, 0])} the result must be the {mode} weighting, yours "
                               f"is the {other} weighting")
                c.compare(out, weightings[k], on,
                          what=f"values (read_modes {_fmt(pi[0, 0])} selects the {mode} weighting)")
            c.passed()

        for seed, (B, R, N) in enumerate(((2, 3, 6), (1, 1, 4), (3, 2, 5), (4, 4, 1)), 10):
            g = _gen(seed)
            b, cr, f = _simplex(g, B, R, N), _simplex(g, B, R, N), _simplex(g, B, R, N)
            pi = _simplex(g, B, R, 3)
            on = _describe(F64, seed, B=B, R=R, N=N)
            c.compare(run(b, cr, f, pi, on), A.read_weighting(b, cr, f, pi), on,
                      mistakes=mistakes(b, cr, f, pi))
        c.passed()

        g = _gen(20)
        b, cr, f = (_simplex(g, 2, 2, 5, dtype=F32) for _ in range(3))
        pi = _simplex(g, 2, 2, 3, dtype=F32)
        on = _describe(F32, 20, B=2, R=2, N=5)
        c.compare(run(b, cr, f, pi, on), A.read_weighting(b, cr, f, pi), on, atol=1e-6, rtol=1e-5)
        c.passed()
        c.grad((b, cr, f, pi), on)
        c.passed()


# =========================================================================== chapter 5: tasks

def copy_batch(student: Callable) -> None:
    """Check ``copy_batch(batch_size, length, width, generator) -> (inputs, targets, mask)``.

    The batch must have memlab's CopyTask format (``CopyTask(width, L, L).batch``)
    with every sample of length exactly L: inputs [B, 2L+1, width+1] (the bits on
    steps 0..L-1, the delimiter on the last channel at step L), targets
    [B, 2L+1, width] (the bits again on steps L+1..2L), mask [B, 2L+1] (1 on
    steps L+1..2L); random bits drawn from ``generator``.
    """
    with _checking("copy_batch", student, ("batch_size", "length", "width", "generator")) as c:
        __tracebackhide__ = True

        def run(B, L, W, seed):
            __tracebackhide__ = True
            on = f"batch_size={B}, length={L}, width={W}, generator seeded with {seed}"
            result = c.call((B, L, W, _gen(seed)), on)
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                c.fail(f"return the three tensors (inputs, targets, mask), like memlab's Batch; "
                       f"got {type(result).__name__}" + (f" of length {len(result)}"
                                                         if isinstance(result, (tuple, list)) else "")
                       + f"\n  on {on}")
            reference = tasks.CopyTask(W, L, L).batch(B, generator=_gen(seed))
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
                           f"channel (index width = {W}); channels 0..{W - 1} carry the bits\n  on {on}")
                steps = [int(s) for s in (inputs[0, :, W] != 0).nonzero().flatten()]
                c.fail(f"the delimiter channel (the last one, index {W}) must be 1 at step "
                       f"L = {L} only (right after the {L} input vectors at steps 0..{L - 1}) and "
                       f"0 elsewhere; sample 0 has it at steps {steps}\n  on {on}")
            data = inputs[..., :W]
            if bool(data[:, L:].ne(0).any()):
                c.fail(f"the data channels of the inputs must be 0 from step L = {L} on (the "
                       f"model sees the delimiter, then nothing while it answers)\n  on {on}")
            if not bool(((data[:, :L] == 0) | (data[:, :L] == 1)).all()):
                c.fail(f"the input bits (steps 0..{L - 1}, channels 0..{W - 1}) must be 0 or 1\n  on {on}")
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
                       f"{L + 1}..{2 * L} and 0 elsewhere, got steps {got_steps} for sample 0\n  on {on}")
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


def _metric_inputs(g: torch.Generator, B: int, T: int, O: int, dtype=F64):
    logits = 3 * _randn(g, B, T, O, dtype=dtype)
    targets = torch.randint(0, 2, (B, T, O), generator=g).to(dtype)
    return logits, targets, _masks(g, B, T, dtype=dtype)


def _run_metric(c: _Check, args, on: str, shape, dims: str, any_float: bool = False):
    __tracebackhide__ = True
    out = c.call(args, on)
    if isinstance(out, Tensor) and out.dim() == 0 and len(shape) == 1:
        c.fail(f"expected one value per sequence, shape {dims} = {_dims(shape)}, got a scalar: "
               f"sum over time and channels, not over the batch\n  on {on}")
    if any_float and isinstance(out, Tensor) and not out.is_floating_point():
        c.fail(f"return float counts (e.g. .float()), got dtype {out.dtype}: integer tensors "
               f"have no .mean(), which the chapters take over a batch\n  on {on}")
    dtype = out.dtype if any_float and isinstance(out, Tensor) else args[0].dtype
    return c.tensor(out, shape, dims, dtype, on)


def bit_errors(student: Callable) -> None:
    """Check ``bit_errors(logits [B,T,O], targets [B,T,O], mask [B,T]) -> [B]``.

    Wrong bits per sequence, logits thresholded at 0, on the steps where mask
    is 1 only (memlab.tasks.bit_errors).
    """
    with _checking("bit_errors", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True

        def mistakes(logits, targets, mask):
            def count(predicted, m=mask):
                return ((predicted.to(targets.dtype) != targets).to(targets.dtype).sum(-1) * m).sum(-1)

            ones = torch.ones_like(mask)
            found = [
                ("counts masked-out steps: only the steps where mask is 1 count",
                 count(logits > 0, ones)),
                ("thresholding probabilities at 0: sigmoid(logits) is always > 0, so every bit "
                 "reads 1; threshold the logits at 0 (or the probabilities at 0.5)",
                 count(torch.sigmoid(logits) > 0)),
                ("the logits are thresholded at 0.5: a logit > 0 already means probability "
                 "> 0.5, so threshold logits at 0 (or sigmoid(logits) at 0.5)",
                 count(logits > 0.5)),
                ("a mean over the channels instead of a count: bit errors per sequence is the "
                 "number of wrong bits", count(logits > 0) / logits.shape[-1]),
            ]
            for shift_, word in ((1, "later"), (-1, "earlier")):
                rolled = torch.roll(mask, shift_, dims=1)
                found.append((f"your mask is off by one step (it counts each step one step "
                              f"{word}): use mask[:, t] for step t", count(logits > 0, rolled)))
            return found

        logits = torch.tensor([[[2.0, -1.0], [0.3, -0.3], [-2.0, 1.0], [4.0, 4.0]],
                               [[1.0, 1.0], [-0.2, 0.2], [3.0, -3.0], [-1.0, 0.4]]], dtype=F64)
        targets = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                                [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]], dtype=F64)
        mask = torch.tensor([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]], dtype=F64)
        on = (f"logits {_fmt(logits)}, targets {_fmt(targets)}, mask {_fmt(mask)}")
        c.compare(_run_metric(c, (logits, targets, mask), on, (2,), "[B]", any_float=True),
                  tasks.bit_errors(logits, targets, mask), on,
                  mistakes=mistakes(logits, targets, mask))
        c.passed()

        logits = torch.full((2, 3, 4), 5.0, dtype=F64)
        targets = torch.zeros(2, 3, 4, dtype=F64)
        mask = torch.zeros(2, 3, dtype=F64)
        on = "every bit wrong but mask all zeros (B=2, T=3, O=4)"
        out = _run_metric(c, (logits, targets, mask), on, (2,), "[B]", any_float=True)
        if float(out.abs().max()) != 0:
            c.fail(f"counts masked-out steps: with mask 0 everywhere nothing counts, expected "
                   f"[0, 0], got {_fmt(out)}")
        c.passed()

        logits = torch.tensor([[[0.3, -0.3, 0.01, -0.01]]], dtype=F64)
        targets = torch.tensor([[[1.0, 0.0, 1.0, 0.0]]], dtype=F64)
        mask = torch.ones(1, 1, dtype=F64)
        on = "logits [0.3, -0.3, 0.01, -0.01] with targets [1, 0, 1, 0]"
        out = _run_metric(c, (logits, targets, mask), on, (1,), "[B]", any_float=True)
        if float(out[0]) != 0:
            if float(out[0]) == 2:
                c.fail("thresholding probabilities at 0: sigmoid(logits) is always > 0, so every "
                       "bit reads 1; threshold the logits at 0 (or the probabilities at 0.5)")
            if float(out[0]) == 2 or float(out[0]) == 1:
                c.fail(f"logits [0.3, -0.3, 0.01, -0.01] predict [1, 0, 1, 0]: a logit > 0 means "
                       f"probability > 0.5, so threshold the logits at 0 (not at 0.5); expected "
                       f"0 errors, got {_fmt(out)}")
            c.fail(f"expected 0 bit errors for logits [0.3, -0.3, 0.01, -0.01] and targets "
                   f"[1, 0, 1, 0] (threshold logits at 0), got {_fmt(out)}")
        c.passed()

        for seed, (B, T, O) in enumerate(((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), 10):
            g = _gen(seed)
            dtype = F64 if seed % 2 == 0 else F32
            logits, targets, mask = _metric_inputs(g, B, T, O, dtype)
            on = _describe(dtype, seed, B=B, T=T, O=O) + ", masks of different lengths per sample"
            c.compare(_run_metric(c, (logits, targets, mask), on, (B,), "[B]", any_float=True),
                      tasks.bit_errors(logits, targets, mask), on,
                      mistakes=mistakes(logits, targets, mask))
        c.passed()


# =========================================================================== chapter 6: training

def _bce_mistakes(logits: Tensor, targets: Tensor, mask: Tensor, per_sequence: bool):
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # [B, T, O]
    masked = bce.sum(-1) * mask  # [B, T]
    B, T, O = logits.shape
    ln2 = math.log(2)
    if per_sequence:
        seq = masked.sum(-1)
        return [
            ("in nats, not bits: divide by ln 2 (log2(x) = ln(x) / ln 2)", seq),
            ("counts steps where mask is 0: only the masked-in steps cost", bce.sum((1, 2)) / ln2),
            ("a mean over the channels instead of a sum: the cost of a sequence adds up every "
             "bit", seq / O / ln2),
            ("a mean over time instead of a sum: the cost of a sequence adds up every counted "
             "step", seq / mask.sum(-1).clamp_min(1) / ln2),
        ]
    total = masked.sum()
    counted = mask.sum() * O
    return [
        ("a mean over all steps instead of the counted ones: divide the masked sum by the number "
         "of counted bits (mask.sum() * O)", bce.mean()),
        ("the masked sum divided by every step (B * T * O): divide by the number of counted "
         "bits, mask.sum() * O", total / (B * T * O)),
        ("divided by the number of counted steps, not counted bits: also divide by the number of "
         "output channels O (mask.sum() * O)", total / mask.sum()),
        ("averaged per sequence, then over sequences: memlab divides the total masked BCE by the "
         "total number of counted bits, so longer sequences weigh more",
         (masked.sum(-1) / (mask.sum(-1) * O)).mean()),
        ("in bits: the training loss stays in nats (do not divide by ln 2)", total / counted / ln2),
        ("not normalised: divide the masked sum by the number of counted bits (mask.sum() * O)",
         total),
        ("normalised per sequence but not per bit: divide the total by mask.sum() * O",
         total / B),
    ]


def _stability_check(c: _Check, reference: Callable, shape, dims: str) -> None:
    __tracebackhide__ = True
    logits = torch.tensor([[[20.0, -20.0, 30.0, -30.0], [20.0, -20.0, 0.0, 1.0]]], dtype=F32)
    targets = torch.tensor([[[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]], dtype=F32)
    mask = torch.ones(1, 2, dtype=F32)
    on = "confident float32 logits [[20, -20, 30, -30], [20, -20, 0, 1]] (right and wrong)"
    out = c.call((logits, targets, mask), on)
    if isinstance(out, Tensor) and out.is_floating_point() and not bool(torch.isfinite(out).all()):
        c.fail(f"NaN or inf for confident logits (got {_fmt(out)} on {on}): sigmoid(20) rounds "
               f"to exactly 1 in float32, so log(1 - p) is -inf; compute the cross-entropy from "
               f"the logits with torch.nn.functional.binary_cross_entropy_with_logits")
    out = c.tensor(out, shape, dims, F32, on)
    c.compare(out, reference(logits, targets, mask), on, atol=1e-4, rtol=1e-4)


def bits_per_sequence(student: Callable) -> None:
    """Check ``bits_per_sequence(logits [B,T,O], targets [B,T,O], mask [B,T]) -> [B]``.

    The NTM paper's cost: binary cross-entropy summed over the counted steps and
    channels, in bits (memlab.tasks.bits_per_sequence).
    """
    with _checking("bits_per_sequence", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True
        g = _gen(1)
        logits = torch.zeros(3, 5, 4, dtype=F64)
        targets = torch.randint(0, 2, (3, 5, 4), generator=g).to(F64)
        mask = _masks(g, 3, 5)
        on = f"logits 0 everywhere (B=3, T=5, O=4), mask {_fmt(mask)}"
        out = _run_metric(c, (logits, targets, mask), on, (3,), "[B]")
        expected = mask.sum(-1) * 4
        if not _close(out, expected, 1e-8, 1e-6):
            if _close(out, expected * math.log(2), 1e-8, 1e-6):
                c.fail(f"in nats, not bits: a model answering 0.5 costs exactly 1 bit per counted "
                       f"bit, expected {_fmt(expected)}, got {_fmt(out)}: divide by ln 2")
            c.compare(out, expected, on, mistakes=_bce_mistakes(logits, targets, mask, True),
                      what="values (a model answering 0.5 costs exactly 1 bit per counted bit)")
        c.passed()

        for seed, (B, T, O) in enumerate(((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), 10):
            g = _gen(seed)
            logits, targets, mask = _metric_inputs(g, B, T, O)
            on = _describe(F64, seed, B=B, T=T, O=O) + ", masks of different lengths per sample"
            c.compare(_run_metric(c, (logits, targets, mask), on, (B,), "[B]"),
                      tasks.bits_per_sequence(logits, targets, mask), on,
                      mistakes=_bce_mistakes(logits, targets, mask, True))
        c.passed()

        _stability_check(c, tasks.bits_per_sequence, (1,), "[B]")
        c.passed()
        g = _gen(20)
        logits, targets, mask = _metric_inputs(g, 2, 6, 3, F32)
        on = _describe(F32, 20, B=2, T=6, O=3)
        c.compare(_run_metric(c, (logits, targets, mask), on, (2,), "[B]"),
                  tasks.bits_per_sequence(logits, targets, mask), on, atol=1e-4, rtol=1e-5)
        c.passed()
        c.grad((logits, targets, mask), on, which=(0,))
        c.passed()


def masked_bce(student: Callable) -> None:
    """Check ``masked_bce(logits [B,T,O], targets [B,T,O], mask [B,T]) -> scalar``.

    The training loss: the masked binary cross-entropy summed over every sample,
    divided by the number of counted bits (mask.sum() * O), in nats
    (memlab.tasks.masked_bce).
    """
    with _checking("masked_bce", student, ("logits", "targets", "mask")) as c:
        __tracebackhide__ = True

        def run(args, on):
            __tracebackhide__ = True
            out = c.call(args, on)
            if isinstance(out, Tensor) and out.dim() == 1:
                c.fail(f"expected a scalar (shape []), got shape {_dims(out.shape)}: the loss "
                       f"reduces over the whole batch\n  on {on}")
            return c.tensor(out, (), "a scalar []", args[0].dtype, on)

        g = _gen(1)
        logits = torch.zeros(3, 6, 4, dtype=F64)
        targets = torch.randint(0, 2, (3, 6, 4), generator=g).to(F64)
        mask = _masks(g, 3, 6)
        on = f"logits 0 everywhere (B=3, T=6, O=4), mask {_fmt(mask)}"
        out = run((logits, targets, mask), on)
        if abs(float(out) - math.log(2)) > 1e-9:
            c.compare(out, torch.tensor(math.log(2), dtype=F64), on,
                      mistakes=_bce_mistakes(logits, targets, mask, False),
                      what="loss (a model answering 0.5 everywhere must score ln 2 = 0.6931 "
                           "nats per counted bit)")
        c.passed()

        for seed, (B, T, O) in enumerate(((3, 9, 4), (1, 5, 1), (5, 7, 8), (2, 12, 3)), 10):
            g = _gen(seed)
            logits, targets, mask = _metric_inputs(g, B, T, O)
            on = _describe(F64, seed, B=B, T=T, O=O) + ", masks of different lengths per sample"
            c.compare(run((logits, targets, mask), on), tasks.masked_bce(logits, targets, mask),
                      on, mistakes=_bce_mistakes(logits, targets, mask, False), what="loss")
        c.passed()

        _stability_check(c, tasks.masked_bce, (), "a scalar []")
        c.passed()
        g = _gen(20)
        logits, targets, mask = _metric_inputs(g, 2, 6, 3, F32)
        on = _describe(F32, 20, B=2, T=6, O=3)
        c.compare(run((logits, targets, mask), on), tasks.masked_bce(logits, targets, mask), on,
                  atol=1e-5, rtol=1e-5, what="loss")
        c.passed()
        c.grad((logits, targets, mask), on, which=(0,))
        c.passed()


# =========================================================================== chapter 7: visualisation

def read_mode_usage(student: Callable) -> None:
    """Check ``read_mode_usage(read_modes [B,T,R,3], mask [B,T]) -> [R,3]``.

    The mean read mode of each head over the steps where mask is 1, all samples
    pooled (memlab.analysis.read_mode_usage).
    """
    with _checking("read_mode_usage", student, ("read_modes", "mask")) as c:
        __tracebackhide__ = True

        def run(pi, mask, on):
            __tracebackhide__ = True
            out = c.call((pi, mask), on)
            return c.tensor(out, (pi.shape[2], 3), "[R, 3]", pi.dtype, on)

        def mistakes(pi, mask):
            m = mask[:, :, None, None]
            per_sample = (pi * m).sum(1) / mask.sum(1)[:, None, None]  # [B, R, 3]
            return [
                ("ignores the mask: average only over the steps where mask is 1",
                 pi.mean(dim=(0, 1))),
                ("averaged per sample, then over samples: pool the counted steps of all samples, "
                 "each counted step weighs the same", per_sample.mean(0)),
                ("divided by every step (B * T): divide the masked sum by the number of counted "
                 "steps, mask.sum()", (pi * m).sum((0, 1)) / (pi.shape[0] * pi.shape[1])),
                ("not normalised: divide the masked sum by the number of counted steps",
                 (pi * m).sum((0, 1))),
            ]

        B, T, R = 2, 5, 3
        mask = torch.tensor([[0, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=F64)
        for k, mode in enumerate(("backward", "content", "forward")):
            pi = _one_hot(k, 3).expand(B, T, R, 3).clone()
            on = f"read_modes {_fmt(pi[0, 0, 0])} at every step for every head (B=2, T=5, R=3)"
            out = run(pi, mask, on)
            c.compare(out, _one_hot(k, 3).expand(R, 3), on, mistakes=mistakes(pi, mask),
                      what=f"values (every head always reads {mode}, so each row is "
                           f"{_fmt(_one_hot(k, 3))})")
        c.passed()

        # forward where mask is 1, backward elsewhere
        pi = torch.where(mask[:, :, None, None].bool(), _one_hot(2, 3), _one_hot(0, 3)).expand(B, T, R, 3)
        pi = pi.clone()
        on = "read_modes 'forward' on the steps where mask is 1 and 'backward' elsewhere"
        out = run(pi, mask, on)
        if not _close(out, _one_hot(2, 3).expand(R, 3), 1e-8, 1e-6):
            c.compare(out, _one_hot(2, 3).expand(R, 3), on, mistakes=mistakes(pi, mask),
                      what="values (only the steps where mask is 1 count)")
        c.passed()

        # pooled over samples: 1 counted step of backward and 3 of forward -> [0.25, 0, 0.75]
        mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0]], dtype=F64)
        pi = torch.stack([_one_hot(0, 3).expand(4, 1, 3), _one_hot(2, 3).expand(4, 1, 3)]).clone()
        pi[mask == 0] = _one_hot(1, 3)
        on = ("one head; sample 0 reads backward on its 1 counted step, sample 1 reads forward "
              "on its 3 counted steps, both read by content on the steps not counted")
        c.compare(run(pi, mask, on), torch.tensor([[0.25, 0.0, 0.75]], dtype=F64), on,
                  mistakes=mistakes(pi, mask))
        c.passed()

        for seed, (B, T, R) in enumerate(((3, 8, 2), (1, 5, 1), (4, 6, 4), (2, 10, 3)), 10):
            g = _gen(seed)
            pi, mask = _simplex(g, B, T, R, 3), _masks(g, B, T)
            on = _describe(F64, seed, B=B, T=T, R=R) + ", masks of different lengths per sample"
            out = run(pi, mask, on)
            sums = out.detach().sum(-1)
            if not torch.allclose(sums, torch.ones_like(sums)):
                c.compare(out, analysis.read_mode_usage(pi, mask), on, mistakes=mistakes(pi, mask),
                          what="values (each head's row is a mean of distributions and must "
                               "sum to 1)")
            c.compare(out, analysis.read_mode_usage(pi, mask), on, mistakes=mistakes(pi, mask))
        c.passed()

        g = _gen(20)
        pi, mask = _simplex(g, 2, 6, 2, 3, dtype=F32), _masks(g, 2, 6, dtype=F32)
        on = _describe(F32, 20, B=2, T=6, R=2)
        c.compare(run(pi, mask, on), analysis.read_mode_usage(pi, mask), on, atol=1e-6, rtol=1e-5)
        c.passed()


def _written_link(order: Sequence[int], N: int) -> Tensor:
    """[N, N] link after one-hot writes to the slots in ``order`` (memlab's equations)."""
    link, p = torch.zeros(1, N, N, dtype=F64), torch.zeros(1, N, dtype=F64)
    for slot in order:
        w = _one_hot(slot, N)[None]
        link = A.update_link(link, p, w)
        p = A.update_precedence(p, w)
    return link[0]


def link_chain(student: Callable) -> None:
    """Check ``link_chain(link [N,N], start, length) -> list[int]``.

    Follow forward links: the slot after j is argmax_i L[i, j]; returns
    ``length`` slots beginning with ``start`` (memlab.analysis.link_chain).
    """
    with _checking("link_chain", student, ("link", "start", "length")) as c:
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
                c.fail(f"expected length = {length} slots, got {len(slots)}: {slots}{hint}\n  on {on}")
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
                           f"column j (link[:, j].argmax()); expected {expected}, got {got}\n  on {on}")
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
            g = _gen(seed)
            link = _rand(g, N, N) * (1 - torch.eye(N, dtype=F64))  # distinct values: no ties
            start = int(torch.randint(0, N, (1,), generator=g))
            length = N + 3
            check(link, start, length,
                  f"a random [N={N}, N={N}] link (seed {seed}), start {start}, length {length}")
        c.passed()

        link = _written_link([2, 1, 0], 3).to(F32)
        check(link, 2, 3, "a float32 link after writes to slots 2, 1, 0, start 2, length 3")
        c.passed()


# --------------------------------------------------------------------------- chapter 8: graphs


def _random_edges(g: torch.Generator, nodes: int, num_ids: int, num_labels: int) -> list:
    ids = torch.randperm(num_ids, generator=g)[:nodes].tolist()
    edges = []
    for i, source in enumerate(ids):
        for label in torch.randperm(num_labels, generator=g)[: 1 + i % num_labels].tolist():
            other = ids[(i + 1 + int(torch.randint(nodes - 1, (1,), generator=g))) % nodes]
            edges.append((source, label, other))
    return edges


def edge_rows(student: Callable) -> None:
    """Check ``edge_rows(edges, num_ids, num_labels) -> [E, 2*num_ids + num_labels]``.

    One row per (source, label, destination) triple: one-hot source | one-hot label | one-hot
    destination (memlab.tasks.edge_rows, the description phase of graph traversal).
    """
    from . import tasks

    with _checking("edge_rows", student, ("edges", "num_ids", "num_labels")) as c:
        __tracebackhide__ = True

        def mistakes(edges, I, L):
            swapped = [(d, l, s) for s, l, d in edges]
            by_ids = torch.zeros(len(edges), 2 * I + L)
            for e, (s, l, d) in enumerate(edges):  # source | destination | label
                by_ids[e, s] = by_ids[e, I + d] = by_ids[e, 2 * I + l] = 1
            shared = torch.zeros(len(edges), 2 * I + L)
            for e, (s, l, d) in enumerate(edges):  # the label written over the id channels
                shared[e, s] = shared[e, l] = shared[e, I + L + d] = 1
            return [
                ("source and destination swapped: the source comes first",
                 tasks.edge_rows(swapped, I, L)),
                ("blocks in the wrong order: source | label | destination",
                 by_ids),
                ("the label's one-hot starts at channel 0: it starts after the num_ids source "
                 "channels", shared),
            ]

        def run(edges, I, L, on):
            __tracebackhide__ = True
            out = c.call((list(edges), I, L), on)
            out = c.tensor(out, (len(edges), 2 * I + L), "[E, 2*num_ids + num_labels]",
                           torch.float32, on) if isinstance(out, Tensor) and \
                out.is_floating_point() else out
            if not isinstance(out, Tensor):
                c.fail(f"on {on}: expected a tensor, got {type(out).__name__}")
            return out.to(torch.float32)

        edges = [(0, 1, 2)]
        on = "edges [(0, 1, 2)] with num_ids=3, num_labels=2"
        c.compare(run(edges, 3, 2, on), tasks.edge_rows(edges, 3, 2), on,
                  mistakes=mistakes(edges, 3, 2), what="the row (source 0 | label 1 | destination 2)")
        c.passed()
        for seed, (nodes, I, L) in enumerate(((3, 5, 2), (6, 16, 4), (4, 4, 3), (8, 12, 6)), 20):
            g = _gen(seed)
            edges = _random_edges(g, nodes, I, L)
            on = f"a random graph of {nodes} nodes, {len(edges)} edges (num_ids={I}, num_labels={L})"
            c.compare(run(edges, I, L, on), tasks.edge_rows(edges, I, L), on,
                      mistakes=mistakes(edges, I, L))
            c.passed()


def read_sources(student: Callable) -> None:
    """Check ``read_sources(read_weights [..., R, N], write_weights [T, N]) -> [..., R]``.

    For each read head, the step t whose write weighting overlaps its read weighting most,
    argmax_t sum_i r[i] w_t[i] (memlab.analysis.read_sources).
    """
    from . import analysis

    with _checking("read_sources", student, ("read_weights", "write_weights")) as c:
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
            g = _gen(seed)
            w = torch.eye(N, dtype=F64)[torch.randperm(N, generator=g)[:T]]
            w = 0.9 * w + 0.1 * _simplex(g, T, N)
            r = _simplex(g, 2, R, N) ** 4
            r = r / r.sum(-1, keepdim=True)
            check(r, w, f"soft write and read weightings (T={T}, batch 2, R={R}, N={N})")
            c.passed()
