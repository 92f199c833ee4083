"""What every exercise check shares: running the student's function, comparing, reporting.

A check is ``with checking(name, student, params) as c:`` around its cases; ``c``
is a :class:`Check`, whose methods run the student's function (``call``, or the
``run`` that ``returns`` builds), validate its result (``tensor``), compare it
with memlab's (``compare`` and ``case`` for one input, ``random_cases`` and
``float32_case`` for the seeded ones) naming the :class:`Mistake` it matches,
and backpropagate through it (``grad``). The contract this gives every check is
stated once, in the docstring of :mod:`memlab.checks`.

IPython and pytest leave out of a traceback the frames that set ``__tracebackhide__ = True``:
every function a failure passes through does, so the student sees their own frames only.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Callable, NamedTuple, NoReturn

import torch
import torch.nn.functional as F
from torch import Tensor

F64 = torch.float64
F32 = torch.float32
MASK_NOTE = ", masks of different lengths per sample"


class Mistake(NamedTuple):
    """A known wrong answer: when the student's result matches it, the check fails with message."""

    name: str  #: a short label, unique within its catalogue
    message: str  #: what the student did and how to fix it
    #: the wrong result from the inputs (None: not applicable)
    function: Callable[..., Tensor | None]


# =========================================================================== formatting

def _num(x: Any) -> str:
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, float):
        text = f"{x:.4g}"
        return "0" if text == "-0" else text
    return str(x)


def fmt(value: Any) -> str:
    """A tensor, (nested) list or number as short text, 4 significant digits: ``[0.25, 1, 0]``."""
    if isinstance(value, Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bool:
            value = value.int()
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return _num(value)


def dims(shape: Sequence[int]) -> str:
    """A shape as text, e.g. ``[2, 3]``."""
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def describe(dtype: torch.dtype, seed: int, **sizes: int) -> str:
    """The text naming random inputs, e.g. ``random float64 inputs with B=2, N=5 (seed 10)``."""
    text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return f"random {str(dtype).replace('torch.', '')} inputs with {text} (seed {seed})"


# =========================================================================== comparing

def close(got: Any, expected: Tensor, atol: float, rtol: float) -> bool:
    """got is a tensor of expected's shape, equal to it within the tolerances (in float64)."""
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        return False
    got64 = got.detach().to(F64)
    return bool(torch.allclose(got64, expected.detach().to(F64), atol=atol, rtol=rtol))


def _clone(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, Tensor) else value


def _same(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach(), b))


def landing(out: Tensor) -> int | None:
    """The slot a [1, 1, N] weighting puts (within 1e-5) all its weight on, else None."""
    row = out.detach().to(F64).reshape(-1)
    slot = int(row.argmax())
    is_one_hot = abs(float(row[slot]) - 1.0) < 1e-5 and float(row.abs().sum()) < 1 + 1e-5
    return slot if is_one_hot else None


# =========================================================================== input makers
# Every random value is drawn in float64 from a seeded generator, then cast: the same numbers
# whatever the dtype, and the global random state stays untouched.

def gen(seed: int) -> torch.Generator:
    """A CPU generator with this seed."""
    return torch.Generator().manual_seed(seed)


def randn(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    """Standard normal values of this shape."""
    return torch.randn(shape, generator=g, dtype=F64).to(dtype)


def rand(g: torch.Generator, *shape: int, low=0.0, high=1.0, dtype=F64) -> Tensor:
    """Uniform values in [low, high) of this shape."""
    return (low + (high - low) * torch.rand(shape, generator=g, dtype=F64)).to(dtype)


def simplex(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    """Strictly positive distributions along the last axis."""
    return torch.softmax(1.5 * torch.randn(shape, generator=g, dtype=F64), dim=-1).to(dtype)


def one_hot(index: int, size: int, dtype=F64) -> Tensor:
    """[size] zeros with a 1 at index."""
    return F.one_hot(torch.tensor(index), size).to(dtype)


def masks(g: torch.Generator, batch: int, steps: int, dtype=F64) -> Tensor:
    """[B, T] masks, each one run of 1 to T - 1 ones, of different lengths across samples."""
    lengths = torch.randint(1, steps, (batch,), generator=g)
    if batch >= 2 and bool((lengths == lengths[0]).all()):
        lengths[1] = lengths[0] % (steps - 1) + 1
    starts = (torch.rand(batch, generator=g) * (steps - lengths + 1)).long()
    t = torch.arange(steps)
    return ((t >= starts[:, None]) & (t < (starts + lengths)[:, None])).to(dtype)


def metric_inputs(g: torch.Generator, dtype: torch.dtype, B: int, T: int, O: int):  # noqa: E741
    """(logits [B, T, O], 0/1 targets [B, T, O], masks [B, T]) for the sequence metrics."""
    logits = 3 * randn(g, B, T, O, dtype=dtype)
    targets = torch.randint(0, 2, (B, T, O), generator=g).to(dtype)
    return logits, targets, masks(g, B, T, dtype=dtype)


def seeded(make: Callable[..., tuple], names: str, cases: Sequence[Sequence[int]], note: str = "",
           dtypes: Sequence[torch.dtype] = (F64,),
           first_seed: int = 10) -> Iterator[tuple[tuple, str]]:
    """(make(generator, dtype, **sizes), description) per case of sizes, named by names ("B N").

    Case k has the seed first_seed + k and the dtype ``dtypes[seed % len(dtypes)]``.
    """
    keys = names.split()
    for seed, values in enumerate(cases, first_seed):
        sizes = dict(zip(keys, values))
        dtype = dtypes[seed % len(dtypes)]
        yield make(gen(seed), dtype, **sizes), describe(dtype, seed, **sizes) + note


# =========================================================================== the check

class Check:
    """Runs student (its parameters named params) and turns each failure into an AssertionError."""

    def __init__(self, name: str, student: Callable, params: Sequence[str]):
        self.name = name
        self.student = student
        self.params = tuple(params)
        self.count = 0

    # ------------------------------------------------------------------ reporting
    def fail(self, message: str, cause: BaseException | None = None) -> NoReturn:
        """Raise ``AssertionError("<name>: <message>")``, chained to cause."""
        __tracebackhide__ = True
        raise AssertionError(f"{self.name}: {message}") from cause

    def passed(self) -> None:
        """Count one passed property (the success line reports the count)."""
        self.count += 1

    # ------------------------------------------------------------------ running
    def call(self, args: Sequence[Any], on: str) -> Any:
        """The student's result on args (``on`` names them); the inputs must come back unchanged."""
        __tracebackhide__ = True
        copies = [_clone(a) for a in args]
        try:
            result = self.student(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure is the student's to see
            hint = ""
            if "must match the size of tensor" in str(error):
                hint = ("\n  (two shapes that do not broadcast: line the axes up, e.g. "
                        "gate[:, None] or x.unsqueeze(-1) to multiply [B] by [B, N])")
            self.fail(
                f"your function raised {type(error).__name__}: {error}\n  on {on}{hint}\n"
                f"  (the original error and its traceback are shown above)", error)
        for name, arg, copy in zip(self.params, args, copies):
            if isinstance(arg, Tensor) and not _same(arg, copy):
                self.fail(
                    f"your function changed its input `{name}` in place (on {on}). "
                    "Compute a new tensor instead (x = x * y, not x *= y, x.mul_(y) or "
                    "x[...] = ...): "
                    f"the DNC still needs the old value, and autograd needs it for the gradient.")
        return result

    def tensor(self, out: Any, shape: Sequence[int], dims_text: str, dtype: torch.dtype, on: str,
               what: str = "the result", dtype_hint: str | None = None) -> Tensor:
        """out, checked to be a finite Tensor of this shape (in letters: dims_text) and dtype."""
        __tracebackhide__ = True
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
            self.fail(f"wrong shape of {what}: expected {dims_text} = {dims(shape)}, "
                      f"got {dims(out.shape)}{hint}\n  on {on}")
        if out.dtype != dtype:
            hint = dtype_hint or ("(the dtype of the inputs). Create new tensors with the inputs' "
                                  "dtype, e.g. torch.zeros_like(x) or dtype=x.dtype")
            self.fail(f"{what} has dtype {out.dtype}, expected {dtype} {hint}\n  on {on}")
        if out.is_floating_point() and not bool(torch.isfinite(out).all()):
            bad = tuple(int(i) for i in (~torch.isfinite(out)).nonzero()[0])
            self.fail(f"{what} contains NaN or inf (first at index {list(bad)})\n  on {on}")
        return out

    def returns(self, dims_text: str,
                shape: Callable[..., Sequence[int]] | None = None) -> Callable[..., Tensor]:
        """``run(*inputs, on)``: the student's result, a tensor of the first input's dtype.

        Its shape is ``shape(*inputs)``, by default the first input's shape.
        """
        def run(*args: Any) -> Tensor:
            __tracebackhide__ = True
            *inputs, on = args
            expected = shape(*inputs) if shape else inputs[0].shape
            return self.tensor(self.call(inputs, on), expected, dims_text, inputs[0].dtype, on)
        return run

    def diagnose(self, got: Any, mistakes: Sequence[Mistake], inputs: Sequence[Any], on: str,
                 atol: float = 1e-6, rtol: float = 1e-5) -> None:
        """Fail naming the first mistake whose result on inputs got matches, if any."""
        __tracebackhide__ = True
        for mistake in mistakes:
            variant = mistake.function(*inputs)
            if variant is not None and close(got, variant, atol, rtol):
                self.fail(f"{mistake.message}\n  on {on}")

    def compare(self, got: Tensor, expected: Tensor, on: str, mistakes: Sequence[Mistake] = (),
                inputs: Sequence[Any] = (), atol: float = 1e-8, rtol: float = 1e-6,
                what: str = "values") -> None:
        """got must equal expected; else fail naming the known mistake it matches, if any.

        Otherwise the message shows the largest difference.
        """
        __tracebackhide__ = True
        if close(got, expected, atol, rtol):
            return
        self.diagnose(got, mistakes, inputs, on, max(atol, 1e-6), max(rtol, 1e-5))
        diff = (got.detach().to(F64) - expected.detach().to(F64)).abs()
        flat = int(diff.argmax())
        index: list[int] = []
        # unravel the flat index (torch.unravel_index is slow to load)
        for size in reversed(diff.shape):
            index.insert(0, flat % size)
            flat //= size
        if expected.numel() <= 12:
            shown_e, shown_g, where = fmt(expected), fmt(got), ""
        else:
            row = tuple(index[:-1])
            shown_e, shown_g = fmt(expected[row]), fmt(got[row])
            where = f" at [{', '.join(str(i) for i in row)}, :]" if row else ""
        self.fail(
            f"wrong {what} on {on}{where}:\n"
            f"  expected {shown_e}\n"
            f"  got      {shown_g}\n"
            f"  (largest difference {float(diff.max()):.3g} at index {index})")

    def case(self, run: Callable[..., Tensor], inputs: Sequence[Any], expected: Tensor, on: str,
             mistakes: Sequence[Mistake] = (), **options: Any) -> None:
        """One hand-made case: ``run(*inputs, on)`` must equal expected (as compare); one passed."""
        __tracebackhide__ = True
        self.compare(run(*inputs, on), expected, on, mistakes, inputs, **options)
        self.passed()

    def grad(self, args: Sequence[Any], on: str, outputs: Callable[[Any], list] | None = None,
             which: Sequence[int] | None = None) -> None:
        """Gradients must flow from the result back to the float inputs (those in which).

        ``outputs(result)`` lists the tensors to backpropagate from (the result itself if None).
        """
        __tracebackhide__ = True
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

    # ------------------------------------------------------------------ the usual cases
    def random_cases(self, run: Callable[..., Tensor], reference: Callable[..., Tensor],
                     make: Callable[..., tuple], names: str, cases: Sequence[Sequence[int]],
                     mistakes: Sequence[Mistake] = (), note: str = "",
                     dtypes: Sequence[torch.dtype] = (F64,), **options: Any) -> None:
        """run must match reference on the :func:`seeded` inputs of make; one passed.

        ``options`` go to :meth:`compare` (atol, rtol, what).
        """
        __tracebackhide__ = True
        for inputs, on in seeded(make, names, cases, note, dtypes):
            self.compare(run(*inputs, on), reference(*inputs), on, mistakes, inputs, **options)
        self.passed()

    def float32_case(self, run: Callable[..., Tensor], reference: Callable[..., Tensor],
                     make: Callable[..., tuple], names: str, sizes: Sequence[int],
                     atol: float = 1e-6, rtol: float = 1e-5, what: str = "values",
                     grad: bool = True, which: Sequence[int] | None = None) -> None:
        """float32 inputs (seed 20) must match reference; one passed, and one for :meth:`grad`.

        The gradient is skipped when grad is False; ``which`` is passed to :meth:`grad`.
        """
        __tracebackhide__ = True
        (inputs, on), = seeded(make, names, [sizes], dtypes=(F32,), first_seed=20)
        self.compare(run(*inputs, on), reference(*inputs), on, atol=atol, rtol=rtol, what=what)
        self.passed()
        if grad:
            self.grad(inputs, on, which=which)
            self.passed()


@contextlib.contextmanager
def checking(name: str, student: Callable, params: Sequence[str]) -> Iterator[Check]:
    """Yield the Check of one run; print the success line after, restore the random state.

    Raises ``TypeError`` when student is not callable (its result was passed instead).
    """
    if not callable(student):
        raise TypeError(
            f"checks.{name} takes your function itself, e.g. checks.{name}(my_{name}), "
            f"not {type(student).__name__}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost time on a busy CPU
    try:
        with torch.random.fork_rng(devices=[]):
            check = Check(name, student, params)
            yield check
    finally:
        torch.set_num_threads(threads)
    print(f"{name}: all {check.count} checks passed")


def metric_result(c: Check, args: Sequence[Tensor], on: str, shape: Sequence[int], dims_text: str,
                  any_float: bool = False) -> Tensor:
    """The student's sequence metric on args = (logits, targets, mask), validated.

    With any_float, any floating dtype is fine (a count); else the logits' dtype is expected.
    """
    __tracebackhide__ = True
    out = c.call(args, on)
    if isinstance(out, Tensor) and out.dim() == 0 and len(shape) == 1:
        c.fail(f"expected one value per sequence, shape {dims_text} = {dims(shape)}, got a scalar: "
               f"sum over time and channels, not over the batch\n  on {on}")
    if any_float and isinstance(out, Tensor) and not out.is_floating_point():
        c.fail(f"return float counts (e.g. .float()), got dtype {out.dtype}: integer tensors "
               f"have no .mean(), which the chapters take over a batch\n  on {on}")
    dtype = out.dtype if any_float and isinstance(out, Tensor) else args[0].dtype
    return c.tensor(out, shape, dims_text, dtype, on)
