"""What every exercise check shares: running the student's function, comparing, reporting.

A check module builds on four pieces:

- ``checking(name, student, params)``: the context that runs one check and
  yields a :class:`Check`; it restores the global random state and thread
  count, and prints the one success line.
- :class:`Check`: ``call`` runs the student's function (inputs must come back
  unchanged), ``tensor`` validates the result's type, shape, dtype and
  finiteness, ``compare`` compares with the reference and names a known
  mistake, ``grad`` backpropagates, ``passed`` counts a passed property.
- ``random_cases`` and ``float32_case`` on :class:`Check`: the seeded
  random-size comparisons and the float32-plus-gradient case that end most
  checks; ``seeded`` yields the same inputs for a loop of one's own.
- :class:`Mistake`: one known wrong answer, a function of the check's inputs.
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
    """A short printable form of a tensor (or nested list), 4 significant digits.

    Args:
        value: a tensor, a (nested) list or tuple, or a number.

    Returns:
        The text, e.g. ``[0.25, 1, 0]``.
    """
    if isinstance(value, Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bool:
            value = value.int()
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return _num(value)


def dims(shape: Sequence[int]) -> str:
    """A shape as text, e.g. ``[2, 3]``.

    Args:
        shape: a torch.Size or a sequence of ints.

    Returns:
        The text.
    """
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def describe(dtype: torch.dtype, seed: int, **sizes: int) -> str:
    """The text naming random inputs, e.g. ``random float64 inputs with B=2, N=5 (seed 10)``.

    Args:
        dtype: the inputs' dtype.
        seed: the generator's seed.
        **sizes: the sizes, by name, in the order to show.

    Returns:
        The text.
    """
    text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return f"random {str(dtype).replace('torch.', '')} inputs with {text} (seed {seed})"


# =========================================================================== comparing

def close(got: Any, expected: Tensor, atol: float, rtol: float) -> bool:
    """got is a tensor of expected's shape, equal to it within the tolerances (compared in float64).

    Args:
        got: the student's result (any object).
        expected: the reference.
        atol: the absolute tolerance.
        rtol: the relative tolerance.

    Returns:
        True when they match.
    """
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        return False
    got64 = got.detach().to(F64)
    return bool(torch.allclose(got64, expected.detach().to(F64), atol=atol, rtol=rtol))


def _clone(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, Tensor) else value


def _same(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach(), b))


def landing(out: Tensor) -> int | None:
    """The slot a [1, 1, N] output puts (almost) all its weight on, else None.

    Args:
        out: [1, 1, N], a weighting.

    Returns:
        The slot index, or None when the weight is not (within 1e-5) one-hot.
    """
    row = out.detach().to(F64).reshape(-1)
    slot = int(row.argmax())
    is_one_hot = abs(float(row[slot]) - 1.0) < 1e-5 and float(row.abs().sum()) < 1 + 1e-5
    return slot if is_one_hot else None


# =========================================================================== input makers

def gen(seed: int) -> torch.Generator:
    """A CPU generator with this seed (the global random state stays untouched).

    Args:
        seed: the seed.

    Returns:
        A torch.Generator.
    """
    return torch.Generator().manual_seed(seed)


def randn(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    """Standard normal values, drawn in float64 (the same numbers whatever the dtype).

    Args:
        g: the generator.
        *shape: the tensor's shape.
        dtype: the dtype returned.

    Returns:
        [*shape].
    """
    return torch.randn(shape, generator=g, dtype=F64).to(dtype)


def rand(g: torch.Generator, *shape: int, low=0.0, high=1.0, dtype=F64) -> Tensor:
    """Uniform values in [low, high), drawn in float64.

    Args:
        g: the generator.
        *shape: the tensor's shape.
        low: the smallest value.
        high: the bound above.
        dtype: the dtype returned.

    Returns:
        [*shape].
    """
    return (low + (high - low) * torch.rand(shape, generator=g, dtype=F64)).to(dtype)


def simplex(g: torch.Generator, *shape: int, dtype=F64) -> Tensor:
    """Strictly positive distributions along the last axis.

    Args:
        g: the generator.
        *shape: the tensor's shape.
        dtype: the dtype returned.

    Returns:
        [*shape], summing to 1 along the last axis.
    """
    return torch.softmax(1.5 * torch.randn(shape, generator=g, dtype=F64), dim=-1).to(dtype)


def one_hot(index: int, size: int, dtype=F64) -> Tensor:
    """[size] zeros with a 1 at index.

    Args:
        index: where the 1 goes.
        size: the length.
        dtype: the dtype returned.

    Returns:
        [size].
    """
    return F.one_hot(torch.tensor(index), size).to(dtype)


def masks(g: torch.Generator, batch: int, steps: int, dtype=F64) -> Tensor:
    """[B, T] masks of one block of ones each, of different lengths across samples.

    Args:
        g: the generator.
        batch: B, the number of samples.
        steps: T, at least 2.
        dtype: the dtype returned.

    Returns:
        [B, T], each row one run of 1s (1 to T - 1 long) and 0 elsewhere.
    """
    lengths = torch.randint(1, steps, (batch,), generator=g)
    if batch >= 2 and bool((lengths == lengths[0]).all()):
        lengths[1] = lengths[0] % (steps - 1) + 1
    starts = (torch.rand(batch, generator=g) * (steps - lengths + 1)).long()
    t = torch.arange(steps)
    return ((t >= starts[:, None]) & (t < (starts + lengths)[:, None])).to(dtype)


def metric_inputs(g: torch.Generator, dtype: torch.dtype, B: int, T: int, O: int):  # noqa: E741
    """logits [B, T, O], 0/1 targets [B, T, O] and masks [B, T] for the sequence metrics.

    Args:
        g: the generator.
        dtype: the dtype of all three.
        B: the batch size.
        T: the steps.
        O: the output channels.

    Returns:
        (logits [B, T, O], targets [B, T, O], mask [B, T]).
    """
    logits = 3 * randn(g, B, T, O, dtype=dtype)
    targets = torch.randint(0, 2, (B, T, O), generator=g).to(dtype)
    return logits, targets, masks(g, B, T, dtype=dtype)


def seeded(make: Callable[..., tuple], names: str, cases: Sequence[Sequence[int]], note: str = "",
           dtypes: Sequence[torch.dtype] = (F64,),
           first_seed: int = 10) -> Iterator[tuple[tuple, str]]:
    """The seeded random-size inputs: one (inputs, description) per case.

    Args:
        make: ``make(generator, dtype, **sizes) -> inputs``, the tuple of arguments to test on.
        names: the size names, space separated, e.g. ``"B H N"``.
        cases: one tuple of sizes per case, in the order of names.
        note: appended to each description.
        dtypes: the dtype of a case is ``dtypes[seed % len(dtypes)]``.
        first_seed: the seed of the first case; each next case adds 1.

    Returns:
        An iterator of (inputs, description) pairs, one per case.
    """
    keys = names.split()
    for seed, values in enumerate(cases, first_seed):
        sizes = dict(zip(keys, values))
        dtype = dtypes[seed % len(dtypes)]
        yield make(gen(seed), dtype, **sizes), describe(dtype, seed, **sizes) + note


# =========================================================================== the check

class Check:
    """Runs the student's function and turns every failure into a readable AssertionError.

    Args:
        name: the check's name, which starts every message.
        student: the student's function.
        params: the names of its parameters, for the messages.
    """

    def __init__(self, name: str, student: Callable, params: Sequence[str]):
        self.name = name
        self.student = student
        self.params = tuple(params)
        self.count = 0

    # ------------------------------------------------------------------ reporting
    def fail(self, message: str, cause: BaseException | None = None) -> NoReturn:
        """Raise the AssertionError ``"<name>: <message>"``.

        Args:
            message: what went wrong.
            cause: the exception to chain, or None.

        Returns:
            Never.
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        raise AssertionError(f"{self.name}: {message}") from cause

    def passed(self) -> None:
        """Count one passed property (the success line reports the count).

        Returns:
            None.
        """
        self.count += 1

    # ------------------------------------------------------------------ running
    def call(self, args: Sequence[Any], on: str) -> Any:
        """The student's result on args; the inputs must come back unchanged.

        Args:
            args: the arguments, in the order of params.
            on: the text naming the inputs, for the messages.

        Returns:
            Whatever the student's function returned.

        Raises:
            AssertionError: the function raised (chained), or changed an input in place.
            NotImplementedError: passed through from the function (the exercise is not done).
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
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
        """out must be a finite Tensor of this shape (named dims_text, e.g. "[B, N]") and dtype.

        Args:
            out: the student's result.
            shape: the expected shape.
            dims_text: the shape in letters, e.g. ``"[B, N]"``.
            dtype: the expected dtype.
            on: the text naming the inputs.
            what: what out is, for the messages.
            dtype_hint: the advice when the dtype is wrong (a default one when None).

        Returns:
            ``out``, validated.
        """
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

    def diagnose(self, got: Any, mistakes: Sequence[Mistake], inputs: Sequence[Any], on: str,
                 atol: float = 1e-6, rtol: float = 1e-5) -> None:
        """Fail naming the first mistake whose result on inputs got matches, if any.

        Args:
            got: the student's result.
            mistakes: the known mistakes, in the order to try.
            inputs: the inputs the mistakes are computed from.
            on: the text naming the inputs.
            atol: the absolute tolerance of a match.
            rtol: the relative tolerance of a match.

        Returns:
            None, when no mistake matches.
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        for mistake in mistakes:
            variant = mistake.function(*inputs)
            if variant is not None and close(got, variant, atol, rtol):
                self.fail(f"{mistake.message}\n  on {on}")

    def compare(self, got: Tensor, expected: Tensor, on: str, mistakes: Sequence[Mistake] = (),
                inputs: Sequence[Any] = (), atol: float = 1e-8, rtol: float = 1e-6,
                what: str = "values") -> None:
        """got must equal expected; else name the first known mistake it matches on inputs.

        Args:
            got: the student's result, validated.
            expected: the reference.
            on: the text naming the inputs.
            mistakes: the known mistakes.
            inputs: the inputs the mistakes are computed from.
            atol: the absolute tolerance.
            rtol: the relative tolerance.
            what: what is compared, for the message.

        Returns:
            None, when they match; else the message shows the largest difference.
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
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

    def grad(self, args: Sequence[Any], on: str, outputs: Callable[[Any], list] | None = None,
             which: Sequence[int] | None = None) -> None:
        """Gradients must flow from the result back to the float inputs (or those in which).

        Args:
            args: the inputs; float tensors get requires_grad.
            on: the text naming the inputs.
            outputs: maps the result to the tensors to backpropagate from (the result itself
                when None).
            which: the indices of the inputs that need a gradient (every float one when None).

        Returns:
            None.
        """
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

    # ------------------------------------------------------------------ the usual cases
    def random_cases(self, run: Callable[..., Tensor], reference: Callable[..., Tensor],
                     make: Callable[..., tuple], names: str, cases: Sequence[Sequence[int]],
                     mistakes: Sequence[Mistake] = (), note: str = "",
                     dtypes: Sequence[torch.dtype] = (F64,), **options: Any) -> None:
        """The result must match the reference on seeded random inputs of several sizes: one passed.

        Args:
            run: ``run(*inputs, on) -> Tensor``, the student's validated result.
            reference: memlab's function, ``reference(*inputs)``.
            make: ``make(generator, dtype, **sizes) -> inputs``, as for :func:`seeded`.
            names: the size names, space separated, e.g. ``"B H N"``.
            cases: one tuple of sizes per case, in the order of names.
            note: appended to each case's description.
            dtypes: the dtype of a case is ``dtypes[seed % len(dtypes)]``.
            mistakes: the known mistakes to name when the result is wrong.
            options: passed to :meth:`compare` (atol, rtol, what).

        Returns:
            None.
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        for inputs, on in seeded(make, names, cases, note, dtypes):
            self.compare(run(*inputs, on), reference(*inputs), on, mistakes, inputs, **options)
        self.passed()

    def float32_case(self, run: Callable[..., Tensor], reference: Callable[..., Tensor],
                     make: Callable[..., tuple], names: str, sizes: Sequence[int],
                     atol: float = 1e-6, rtol: float = 1e-5, what: str = "values",
                     grad: bool = True, which: Sequence[int] | None = None) -> None:
        """float32 inputs (seed 20) must match the reference; then gradients must flow back.

        One passed for the values and, unless grad is False, one for the gradient.

        Args:
            run: ``run(*inputs, on) -> Tensor``, the student's validated result.
            reference: memlab's function, ``reference(*inputs)``.
            make: ``make(generator, dtype, **sizes) -> inputs``.
            names: the size names, space separated.
            sizes: the sizes, in the order of names.
            atol: the absolute tolerance.
            rtol: the relative tolerance.
            what: what is compared, for the message.
            grad: check the gradient as well.
            which: the inputs that need a gradient (indices into the inputs), as in
                :meth:`grad`.

        Returns:
            None.
        """
        __tracebackhide__ = True  # IPython and pytest show the student's frames only
        (inputs, on), = seeded(make, names, [sizes], dtypes=(F32,), first_seed=20)
        self.compare(run(*inputs, on), reference(*inputs), on, atol=atol, rtol=rtol, what=what)
        self.passed()
        if grad:
            self.grad(inputs, on, which=which)
            self.passed()


@contextlib.contextmanager
def checking(name: str, student: Callable, params: Sequence[str]) -> Iterator[Check]:
    """Run one check, and print one line on success.

    The global random state and thread count are restored after.

    Args:
        name: the check's name, e.g. ``"shift"``.
        student: the student's function.
        params: the names of its parameters.

    Returns:
        A context manager that yields the Check.

    Raises:
        TypeError: ``student`` is not callable (e.g. its result was passed instead).
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
    """The student's value of a sequence metric on (logits, targets, mask), validated.

    Args:
        c: the running Check.
        args: (logits, targets, mask).
        on: the text naming the inputs.
        shape: the expected shape, e.g. (B,).
        dims_text: the shape in letters, e.g. ``"[B]"``.
        any_float: any floating dtype is fine (a count); else the logits' dtype is expected.

    Returns:
        The result, validated.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames only
    out = c.call(args, on)
    if isinstance(out, Tensor) and out.dim() == 0 and len(shape) == 1:
        c.fail(f"expected one value per sequence, shape {dims_text} = {dims(shape)}, got a scalar: "
               f"sum over time and channels, not over the batch\n  on {on}")
    if any_float and isinstance(out, Tensor) and not out.is_floating_point():
        c.fail(f"return float counts (e.g. .float()), got dtype {out.dtype}: integer tensors "
               f"have no .mean(), which the chapters take over a batch\n  on {on}")
    dtype = out.dtype if any_float and isinstance(out, Tensor) else args[0].dtype
    return c.tensor(out, shape, dims_text, dtype, on)
