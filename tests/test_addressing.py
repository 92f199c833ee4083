"""Correctness of `memlab.addressing`, the NTM and DNC addressing equations.

Every function is compared with the loop-based reference in `tests/paper_reference.py` (written
straight from the papers) on random float64 inputs drawn from each argument's domain, checked with
`torch.autograd.gradcheck`, rolled out for many steps to check the invariants the paper relies on,
and run on small hand-built cases whose answer is known. A last group of tests shows that the
comparisons are sensitive: plausible wrong variants of the equations do not pass them.

The three changes of Csordás & Schmidhuber (2019) (masked content look-up, de-allocation, link
sharpness) are tested the same way, in their own section; `masked_content_weights` names
`addressing.content_weights` called with a mask.
"""

from __future__ import annotations

import math
import zlib
from typing import Callable

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from memlab import addressing

try:  # tests/ as a package, or as a plain directory on sys.path
    from . import paper_reference as ref
except ImportError:
    import paper_reference as ref

F64 = torch.float64
TOL = dict(rtol=1e-6, atol=1e-6)

# (batch, memory_size, word_size, read_heads): N = 1, N < S, odd and even N, R >= 2.
SIZES = [(1, 1, 3, 2), (2, 2, 1, 2), (2, 4, 3, 2), (3, 5, 4, 3), (2, 8, 2, 2)]

FUNCTIONS = [
    "oneplus",
    "content_weights",
    "interpolate",
    "shift",
    "sharpen",
    "retention",
    "update_usage",
    "allocation_weights",
    "write_weighting",
    "write_memory",
    "update_link",
    "update_precedence",
    "directional_weights",
    "read_weighting",
    "read_memory",
    "masked_content_weights",
    "deallocate",
    "sharpen_links",
]


def assert_matches(actual, expected) -> None:
    """Equal within TOL, with the same shape and dtype; tuples compared element by element."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, **TOL)
    else:
        assert_close(actual, expected, **TOL)


def assert_steps_match(got_steps: list, want_steps: list) -> None:
    """Per step, every value of ``got`` matches ``want``'s of the same name (assert_matches); a
    failure names the step and the value.
    """
    assert len(got_steps) == len(want_steps)
    for step, (got, want) in enumerate(zip(got_steps, want_steps)):
        for name, value in got.items():
            try:
                assert_matches(value, want[name])
            except AssertionError as error:
                raise AssertionError(f"step {step}, {name}: {error}") from error


def generator(*key) -> torch.Generator:
    """A generator seeded from the test's parameters, so every case is reproducible."""
    return torch.Generator().manual_seed(zlib.crc32(repr(key).encode()))


# --- random inputs, each in its argument's domain --------------------------------------------


class Draw:
    """Random float64 tensors from the domains of the addressing equations."""

    def __init__(self, gen: torch.Generator):
        self.gen = gen

    def randn(self, *shape: int) -> Tensor:
        return torch.randn(*shape, generator=self.gen, dtype=F64)

    def rand(self, *shape: int) -> Tensor:
        """Uniform in [0, 1): gates, erase vectors, usage, retention."""
        return torch.rand(*shape, generator=self.gen, dtype=F64)

    def weighting(self, *shape: int) -> Tensor:
        """Nonnegative along the last axis, summing to a random total in (0, 1]."""
        total = 1.0 - self.rand(*shape[:-1], 1)
        return torch.softmax(2.0 * self.randn(*shape), dim=-1) * total

    def distribution(self, *shape: int) -> Tensor:
        """Nonnegative, summing to exactly 1 along the last axis (shift kernels, read modes)."""
        return torch.softmax(2.0 * self.randn(*shape), dim=-1)

    def strength(self, *shape: int) -> Tensor:
        """In [1, 5), as oneplus gives."""
        return 1.0 + 4.0 * self.rand(*shape)

    def distinct_usage(self, batch: int, memory_size: int) -> Tensor:
        """Usage in (0, 1) whose values differ by at least 0.2 / N: no ties in the sort."""
        ranks = torch.argsort(self.rand(batch, memory_size), dim=-1).to(F64)
        return (ranks + 0.1 + 0.8 * self.rand(batch, memory_size)) / memory_size

    def link(self, batch: int, memory_size: int) -> Tensor:
        """Entries in [0, 1/N), zero diagonal: rows and columns sum to less than 1."""
        off_diagonal = 1.0 - torch.eye(memory_size, dtype=F64)
        return self.rand(batch, memory_size, memory_size) / memory_size * off_diagonal


def make_inputs(name: str, gen: torch.Generator, B=2, N=5, W=3, R=2, S=3) -> tuple[Tensor, ...]:
    d = Draw(gen)
    builders: dict[str, Callable[[], tuple]] = {
        "oneplus": lambda: (4.0 * d.randn(B, R),),
        "content_weights": lambda: (d.randn(B, N, W), d.randn(B, R, W), d.strength(B, R)),
        "interpolate": lambda: (d.weighting(B, R, N), d.weighting(B, R, N), d.rand(B, R)),
        "shift": lambda: (d.weighting(B, R, N), d.distribution(B, R, S)),
        "sharpen": lambda: (d.weighting(B, R, N), d.strength(B, R)),
        "retention": lambda: (d.rand(B, R), d.weighting(B, R, N)),
        "update_usage": lambda: (d.rand(B, N), d.weighting(B, N), d.rand(B, N)),
        "allocation_weights": lambda: (d.distinct_usage(B, N),),
        "write_weighting": lambda: (d.weighting(B, N), d.weighting(B, N), d.rand(B), d.rand(B)),
        "write_memory": lambda: (d.randn(B, N, W), d.weighting(B, N), d.rand(B, W), d.randn(B, W)),
        "update_link": lambda: (d.link(B, N), d.weighting(B, N), d.weighting(B, N)),
        "update_precedence": lambda: (d.weighting(B, N), d.weighting(B, N)),
        "directional_weights": lambda: (d.link(B, N), d.weighting(B, R, N)),
        "read_weighting": lambda: (
            d.weighting(B, R, N),
            d.weighting(B, R, N),
            d.weighting(B, R, N),
            d.distribution(B, R, 3),
        ),
        "read_memory": lambda: (d.randn(B, N, W), d.weighting(B, R, N)),
        "masked_content_weights": lambda: (
            d.randn(B, N, W), d.randn(B, R, W), d.strength(B, R), d.rand(B, R, W)),
        "deallocate": lambda: (d.randn(B, N, W), d.rand(B, N)),
        "sharpen_links": lambda: (d.weighting(B, R, N), d.strength(B, R)),
    }
    return builders[name]()


def function(name: str) -> Callable:
    """The memlab function under test: `addressing.<name>`, or content_weights with a mask."""
    if name == "masked_content_weights":
        return lambda memory, keys, strengths, mask: addressing.content_weights(
            memory, keys, strengths, mask=mask)
    return getattr(addressing, name)


def reference(name: str) -> Callable:
    if name in ("content_weights", "masked_content_weights", "sharpen_links"):
        return lambda *args: getattr(ref, name)(*args, eps=addressing.EPSILON)
    return getattr(ref, name)


# --- every function against the reference ------------------------------------------------------

CASES = [(name, size, 3) for name in FUNCTIONS for size in SIZES]
CASES += [("shift", size, 5) for size in SIZES]


@pytest.mark.parametrize(
    "name, size, S", CASES, ids=[f"{n}-BNWR{''.join(map(str, z))}-S{s}" for n, z, s in CASES]
)
def test_matches_paper_reference(name, size, S):
    B, N, W, R = size
    inputs = make_inputs(name, generator(name, size, S), B, N, W, R, S)
    expected = reference(name)(*inputs)
    assert_matches(function(name)(*inputs), expected)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_gradcheck(name):
    inputs = make_inputs(name, generator("gradcheck", name), B=2, N=5, W=3, R=2, S=3)
    inputs = tuple(x.clone().requires_grad_(True) for x in inputs)
    assert torch.autograd.gradcheck(function(name), inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_inputs_are_not_modified(name):
    inputs = make_inputs(name, generator("inplace", name))
    copies = tuple(x.clone() for x in inputs)
    function(name)(*inputs)
    for x, original in zip(inputs, copies):
        assert torch.equal(x, original)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_in_float32_out(name):
    inputs = tuple(x.float() for x in make_inputs(name, generator("float32", name)))
    outputs = function(name)(*inputs)
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        assert out.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_runs_on_the_inputs_device(name):
    inputs = make_inputs(name, generator("cuda", name))
    expected = function(name)(*inputs)
    outputs = function(name)(*(x.cuda() for x in inputs))
    expected = expected if isinstance(expected, tuple) else (expected,)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for out, exp in zip(outputs, expected):
        assert out.is_cuda
        assert_close(out.cpu(), exp, **TOL)


# --- oneplus ------------------------------------------------------------------------------------


def test_oneplus_is_at_least_one_and_finite_at_extremes():
    x = torch.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=F64, requires_grad=True)
    y = addressing.oneplus(x)
    expected = torch.tensor([1.0, 1.0 + math.exp(-30.0), 1.0 + math.log(2.0), 31.0, 1001.0],
                            dtype=F64)
    assert_close(y, expected, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert_close(x.grad, torch.sigmoid(x.detach()), rtol=1e-12, atol=1e-12)


# --- content weighting ------------------------------------------------------------------------


def content_gradients_are_finite(memory: Tensor, keys: Tensor, strengths: Tensor) -> Tensor:
    memory, keys, strengths = (x.clone().requires_grad_(True) for x in (memory, keys, strengths))
    weights = addressing.content_weights(memory, keys, strengths)
    probe = torch.randn(weights.shape, generator=generator("probe"), dtype=F64)
    (weights * probe).sum().backward()
    for x in (memory, keys, strengths):
        assert x.grad is not None and torch.isfinite(x.grad).all()
    return weights.detach()


def test_content_weights_with_an_all_zero_memory_row():
    B, N, W, R = 2, 5, 4, 2
    memory, keys, strengths = make_inputs("content_weights", generator("zero-row"), B, N, W, R)
    memory[:, 2] = 0.0
    weights = content_gradients_are_finite(memory, keys, strengths)
    assert torch.isfinite(weights).all()
    assert_close(weights.sum(-1), torch.ones(B, R, dtype=F64), **TOL)
    assert_matches(weights, reference("content_weights")(memory, keys, strengths))


def test_content_weights_with_an_all_zero_key_are_uniform():
    B, N, W, R = 2, 5, 4, 2
    memory, keys, strengths = make_inputs("content_weights", generator("zero-key"), B, N, W, R)
    keys[:, 1] = 0.0
    weights = content_gradients_are_finite(memory, keys, strengths)
    assert torch.isfinite(weights).all()
    assert_close(weights.sum(-1), torch.ones(B, R, dtype=F64), **TOL)
    assert_close(weights[:, 1], torch.full((B, N), 1.0 / N, dtype=F64), **TOL)


def test_content_weights_on_an_all_zero_memory_with_an_all_zero_key():
    B, N, W, R = 2, 6, 3, 2
    memory = torch.zeros(B, N, W, dtype=F64)
    keys = torch.zeros(B, R, W, dtype=F64)
    strengths = torch.full((B, R), 3.0, dtype=F64)
    weights = content_gradients_are_finite(memory, keys, strengths)
    assert_close(weights, torch.full((B, R, N), 1.0 / N, dtype=F64), **TOL)


def test_content_weights_on_a_small_constant_memory_are_uniform():
    B, N, W, R = 1, 6, 3, 2
    memory = torch.full((B, N, W), 1e-6, dtype=F64)
    keys = torch.randn(B, R, W, generator=generator("small-constant"), dtype=F64)
    weights = content_gradients_are_finite(memory, keys, torch.full((B, R), 2.0, dtype=F64))
    assert_close(weights, torch.full((B, R, N), 1.0 / N, dtype=F64), **TOL)


def test_content_weights_in_float32_match_float64_with_all_zero_rows():
    """The float32 weights and gradients, all-zero rows and key included, agree with float64."""
    B, N, W, R = 2, 6, 4, 3
    memory, keys, strengths = make_inputs("content_weights", generator("f32-zero"), B, N, W, R)
    memory[:, 1] = 0.0
    memory[1, 4] = 0.0
    keys[0, 2] = 0.0
    probe = torch.randn(B, R, N, generator=generator("f32-zero-probe"), dtype=F64)
    results = {}
    for dtype in (F64, torch.float32):
        inputs = [x.to(dtype).requires_grad_(True) for x in (memory, keys, strengths)]
        weights = addressing.content_weights(*inputs)
        grads = torch.autograd.grad((weights * probe.to(dtype)).sum(), inputs)
        results[dtype] = (weights, *grads)
    for got, want in zip(results[torch.float32], results[F64]):
        assert got.dtype == torch.float32 and torch.isfinite(got).all()
        assert_close(got, want.float(), rtol=1e-4, atol=1e-5)


def test_content_weights_are_twice_differentiable():
    # Plain tensor operations all the way: double backward (gradgradcheck) and torch.func work.
    memory, keys, strengths = make_inputs("content_weights", generator("twice"), B=2, N=4, W=3, R=2)
    inputs = tuple(x.clone().requires_grad_(True) for x in (memory, keys, strengths))
    assert torch.autograd.gradgradcheck(addressing.content_weights, inputs)
    mask = Draw(generator("twice-mask")).rand(2, 2, 3).requires_grad_(True)
    assert torch.autograd.gradgradcheck(
        lambda m, k, b, mask: addressing.content_weights(m, k, b, mask=mask), (*inputs, mask))


def test_content_weights_under_torch_func():
    memory, keys, strengths = make_inputs("content_weights", generator("func"), B=2, N=5, W=3, R=2)
    probe = torch.randn(2, 2, 5, generator=generator("func-probe"), dtype=F64)

    def loss(memory, keys):
        return (addressing.content_weights(memory, keys, strengths) * probe).sum()

    grad_memory, grad_keys = torch.func.grad(loss, argnums=(0, 1))(memory, keys)
    want = torch.autograd.grad(loss(memory.requires_grad_(), keys.requires_grad_()),
                               (memory, keys))
    assert_close(grad_memory, want[0], **TOL)
    assert_close(grad_keys, want[1], **TOL)
    hessian = torch.func.hessian(loss, argnums=1)(memory.detach(), keys.detach())
    assert hessian.shape == (2, 2, 3, 2, 2, 3) and torch.isfinite(hessian).all()
    assert_close(hessian, hessian.permute(3, 4, 5, 0, 1, 2), **TOL)  # symmetric


def test_content_weights_find_the_matching_row_and_ignore_scale():
    memory = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]],
                          dtype=F64)
    keys = torch.tensor([[[0.0, 5.0, 0.0]]], dtype=F64)  # parallel to row 1, five times longer
    weights = addressing.content_weights(memory, keys, torch.tensor([[10.0]], dtype=F64))
    cosines = torch.tensor([0.0, 1.0, 0.0, 1.0 / math.sqrt(2.0)], dtype=F64)
    assert_close(weights[0, 0], torch.softmax(10.0 * cosines, dim=0), **TOL)


def test_higher_strength_gives_a_sharper_content_weighting():
    N, W = 7, 4
    gen = generator("strength")
    memory = torch.randn(1, N, W, generator=gen, dtype=F64)
    strengths = torch.tensor([[1.0, 2.0, 4.0, 8.0, 16.0]], dtype=F64)
    keys = torch.randn(1, 1, W, generator=gen, dtype=F64).expand(1, strengths.shape[1], W)
    weights = addressing.content_weights(memory, keys, strengths)[0]
    peak = weights.max(dim=-1).values
    entropy = -(weights * weights.log()).sum(dim=-1)
    assert (peak[1:] > peak[:-1]).all(), peak
    assert (entropy[1:] < entropy[:-1]).all(), entropy
    assert (weights.argmax(-1) == weights[0].argmax()).all()


# --- NTM location addressing --------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 5, 6])
@pytest.mark.parametrize("S, offset",
                         [(3, -1), (3, 0), (3, 1), (5, -2), (5, -1), (5, 0), (5, 1), (5, 2)])
def test_shift_moves_a_one_hot_by_the_offset_and_wraps(S, offset, N):
    weights = torch.eye(N, dtype=F64).unsqueeze(1)  # sample j: one-hot at slot j, for every j
    kernel = torch.zeros(N, 1, S, dtype=F64)
    kernel[..., S // 2 + offset] = 1.0
    expected = torch.roll(torch.eye(N, dtype=F64), shifts=offset, dims=-1).unsqueeze(1)
    for api in (addressing, ref):
        assert_close(api.shift(weights, kernel), expected, **TOL)


def test_shift_forward_from_the_last_slot_wraps_to_the_first():
    N, S = 6, 3
    weights = torch.zeros(1, 1, N, dtype=F64)
    weights[..., N - 1] = 1.0
    kernel = torch.zeros(1, 1, S, dtype=F64)
    kernel[..., S // 2 + 1] = 1.0
    shifted = addressing.shift(weights, kernel)
    assert shifted[0, 0, 0] == pytest.approx(1.0, abs=1e-12)
    assert shifted[0, 0, 1:].abs().max() < 1e-12


def test_shift_preserves_total_weight():
    weights, kernel = make_inputs("shift", generator("shift-total"), B=3, N=7, R=2, S=5)
    assert_close(addressing.shift(weights, kernel).sum(-1), weights.sum(-1), **TOL)


def test_interpolation_gate_extremes():
    content, previous, _ = make_inputs("interpolate", generator("gate-extremes"))
    ones = torch.ones(content.shape[:2], dtype=F64)
    zeros = torch.zeros(content.shape[:2], dtype=F64)
    assert_close(addressing.interpolate(content, previous, ones), content, **TOL)
    assert_close(addressing.interpolate(content, previous, zeros), previous, **TOL)


def test_sharpen_with_gamma_one_is_the_identity_on_a_normalised_weighting():
    weights = Draw(generator("gamma-one")).distribution(3, 2, 6)
    assert_close(addressing.sharpen(weights, torch.ones(3, 2, dtype=F64)), weights, **TOL)


def test_sharpen_with_a_large_gamma_approaches_the_argmax_one_hot():
    weights = torch.tensor([[[0.02, 0.9, 0.05, 0.03], [0.3, 0.1, 0.35, 0.25]]], dtype=F64)
    gamma = torch.tensor([[100.0, 400.0]], dtype=F64)
    expected = torch.tensor([[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]], dtype=F64)
    for api in (addressing, ref):
        assert_close(api.sharpen(weights, gamma), expected, **TOL)


def test_sharpen_of_a_zero_weight_is_zero_with_finite_gradients():
    weights = torch.tensor([[[0.0, 0.3, 0.7]]], dtype=F64, requires_grad=True)
    gamma = torch.tensor([[2.5]], dtype=F64, requires_grad=True)
    sharp = addressing.sharpen(weights, gamma)
    assert_close(sharp, ref.sharpen(weights, gamma), **TOL)
    (sharp * torch.tensor([1.0, 2.0, 3.0], dtype=F64)).sum().backward()
    assert torch.isfinite(weights.grad).all() and torch.isfinite(gamma.grad).all()


def _near_uniform(n: int) -> Tensor:
    noise = torch.randn(1, 1, n, generator=generator("near-uniform", n), dtype=F64)
    return torch.softmax(0.1 * noise, dim=-1)


@pytest.mark.parametrize(
    "weights, gamma",
    [
        pytest.param(torch.tensor([[[0.1, 0.2, 0.3, 0.4]]], dtype=F64), 200.0, id="N4-gamma200"),
        pytest.param(_near_uniform(128), 30.0, id="N128-near-uniform-gamma30"),
    ],
)
def test_sharpen_with_a_large_gamma_stays_a_weighting_in_float32(weights, gamma):
    # Every w^gamma underflows float32 here, yet the normalised ratio is well defined.
    gamma = torch.tensor([[gamma]], dtype=F64)
    sharp = addressing.sharpen(weights.float(), gamma.float())
    assert torch.isfinite(sharp).all()
    assert_close(sharp, ref.sharpen(weights, gamma).float(), rtol=1e-4, atol=1e-5)


def test_sharpen_normalises_and_keeps_the_order():
    weights, gamma = make_inputs("sharpen", generator("sharpen-order"), B=3, N=7, R=2)
    sharp = addressing.sharpen(weights, gamma)
    assert_close(sharp.sum(-1), torch.ones(3, 2, dtype=F64), **TOL)
    assert torch.equal(sharp.argsort(-1), weights.argsort(-1))


# --- DNC: hand-built behaviour -------------------------------------------------------------------

APIS = [pytest.param(addressing, id="memlab"), pytest.param(ref, id="reference")]


def one_hot(index: int, size: int) -> Tensor:
    x = torch.zeros(size, dtype=F64)
    x[index] = 1.0
    return x


@pytest.mark.parametrize("api", APIS)
def test_links_follow_the_order_of_writes(api):
    N, order = 6, [1, 4, 0]  # write slot 1, then slot 4, then slot 0
    link = torch.zeros(1, N, N, dtype=F64)
    precedence = torch.zeros(1, N, dtype=F64)
    for slot in order:
        write = one_hot(slot, N).unsqueeze(0)
        link = api.update_link(link, precedence, write)
        precedence = api.update_precedence(precedence, write)
        assert_close(precedence, write, **TOL)
    expected_link = torch.zeros(N, N, dtype=F64)
    expected_link[4, 1] = 1.0  # 4 was written after 1
    expected_link[0, 4] = 1.0  # 0 was written after 4
    assert_close(link[0], expected_link, **TOL)

    reads = torch.stack([one_hot(s, N) for s in order]).unsqueeze(0)  # [1, R=3, N]
    forward, backward = api.directional_weights(link, reads)
    # forward from 1 -> 4, from 4 -> 0, from 0 (the last write) -> nowhere
    assert_close(forward[0], torch.stack([one_hot(4, N), one_hot(0, N), torch.zeros(N, dtype=F64)]),
                 **TOL)
    # backward from 1 (the first write) -> nowhere, from 4 -> 1, from 0 -> 4
    assert_close(backward[0],
                 torch.stack([torch.zeros(N, dtype=F64), one_hot(1, N), one_hot(4, N)]), **TOL)


@pytest.mark.parametrize("api", APIS)
def test_allocation_picks_the_least_used_slot(api):
    usage = torch.tensor([[0.9, 0.95, 0.1, 0.99, 0.8]], dtype=F64)
    allocation = api.allocation_weights(usage)
    assert allocation.argmax().item() == 2
    assert allocation[0, 2].item() == pytest.approx(1.0 - 0.1, abs=1e-6)
    assert allocation[0, 4].item() == pytest.approx((1.0 - 0.8) * 0.1, abs=1e-6)
    assert allocation.sum().item() == pytest.approx(1.0 - usage.prod().item(), abs=1e-6)


@pytest.mark.parametrize("api", APIS)
def test_allocation_of_a_full_memory_is_zero(api):
    assert_close(api.allocation_weights(torch.ones(2, 5, dtype=F64)), torch.zeros(2, 5, dtype=F64),
                 **TOL)


@pytest.mark.parametrize("api", APIS)
def test_allocation_goes_to_the_only_free_slot(api):
    usage = torch.ones(1, 5, dtype=F64)
    usage[0, 3] = 0.0
    assert_close(api.allocation_weights(usage), one_hot(3, 5).unsqueeze(0), **TOL)


@pytest.mark.parametrize("api", APIS)
def test_free_gates_free_the_slots_that_were_read(api):
    N = 4
    # head 0 read slot 1, head 1 slot 2
    read_weights = torch.stack([one_hot(1, N), one_hot(2, N)]).unsqueeze(0)
    free_gates = torch.tensor([[1.0, 0.0]], dtype=F64)  # head 0 frees, head 1 keeps
    psi = api.retention(free_gates, read_weights)
    assert_close(psi, torch.tensor([[1.0, 0.0, 1.0, 1.0]], dtype=F64), **TOL)

    usage = torch.tensor([[0.5, 0.7, 0.6, 0.2]], dtype=F64)
    usage = api.update_usage(usage, torch.zeros(1, N, dtype=F64), psi)
    assert_close(usage, torch.tensor([[0.5, 0.0, 0.6, 0.2]], dtype=F64), **TOL)
    assert_close(api.allocation_weights(usage), one_hot(1, N).unsqueeze(0), **TOL)


@pytest.mark.parametrize("api", APIS)
def test_writing_raises_usage(api):
    usage = torch.tensor([[0.0, 0.5, 0.0]], dtype=F64)
    write = torch.tensor([[1.0, 0.5, 0.0]], dtype=F64)
    updated = api.update_usage(usage, write, torch.ones(1, 3, dtype=F64))
    assert_close(updated, torch.tensor([[1.0, 0.75, 0.0]], dtype=F64), **TOL)


@pytest.mark.parametrize("api", APIS)
def test_write_gates_select_allocation_or_content(api):
    allocation = torch.tensor([[0.0, 1.0, 0.0]], dtype=F64)
    content = torch.tensor([[0.2, 0.0, 0.8]], dtype=F64)
    one, zero = torch.ones(1, dtype=F64), torch.zeros(1, dtype=F64)
    assert_close(api.write_weighting(allocation, content, one, one), allocation, **TOL)
    assert_close(api.write_weighting(allocation, content, zero, one), content, **TOL)
    assert_close(api.write_weighting(allocation, content, one, zero), torch.zeros(1, 3, dtype=F64),
                 **TOL)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode, expected_index",
                         [((1.0, 0.0, 0.0), 0), ((0.0, 1.0, 0.0), 1), ((0.0, 0.0, 1.0), 2)])
def test_read_modes_are_ordered_backward_content_forward(api, mode, expected_index):
    d = Draw(generator("read-modes"))
    backward, content, forward = (d.weighting(2, 3, 5) for _ in range(3))
    modes = torch.tensor(mode, dtype=F64).expand(2, 3, 3)
    expected = (backward, content, forward)[expected_index]
    assert_close(api.read_weighting(backward, content, forward, modes), expected, **TOL)


@pytest.mark.parametrize("api", APIS)
def test_write_with_full_erase_replaces_one_row(api):
    d = Draw(generator("replace-row"))
    memory, vector = d.randn(2, 4, 3), d.randn(2, 3)
    write = torch.stack([one_hot(2, 4), one_hot(0, 4)])
    updated = api.write_memory(memory, write, torch.ones(2, 3, dtype=F64), vector)
    expected = memory.clone()
    expected[0, 2] = vector[0]
    expected[1, 0] = vector[1]
    assert_close(updated, expected, **TOL)


@pytest.mark.parametrize("api", APIS)
def test_write_without_erase_adds_and_zero_weight_changes_nothing(api):
    d = Draw(generator("add-row"))
    memory, vector, erase = d.randn(1, 4, 3), d.randn(1, 3), d.rand(1, 3)
    added = api.write_memory(memory, one_hot(1, 4).unsqueeze(0), torch.zeros(1, 3, dtype=F64),
                             vector)
    expected = memory.clone()
    expected[0, 1] += vector[0]
    assert_close(added, expected, **TOL)
    assert_close(api.write_memory(memory, torch.zeros(1, 4, dtype=F64), erase, vector), memory,
                 **TOL)


@pytest.mark.parametrize("api", APIS)
def test_read_with_a_one_hot_weighting_returns_that_row(api):
    memory = Draw(generator("read-row")).randn(1, 5, 3)
    read_weights = torch.stack([one_hot(3, 5), one_hot(0, 5)]).unsqueeze(0)
    assert_close(api.read_memory(memory, read_weights), memory[:, [3, 0]], **TOL)


# --- DNC: multi-step rollouts -------------------------------------------------------------------


def interface_sequence(gen: torch.Generator, steps: int, B: int, N: int, W: int, R: int) -> list:
    d = Draw(gen)
    return [
        dict(
            read_keys=d.randn(B, R, W),
            read_strengths=d.strength(B, R),
            write_key=d.randn(B, 1, W),
            write_strength=d.strength(B, 1),
            erase=d.rand(B, W),
            write_vector=d.randn(B, W),
            free_gates=d.rand(B, R),
            allocation_gate=d.rand(B),
            write_gate=d.rand(B),
            read_modes=d.distribution(B, R, 3),
        )
        for _ in range(steps)
    ]


class EpsilonReference:
    """The reference module, with its content weighting using memlab's epsilon."""

    def __getattr__(self, name: str) -> Callable:
        return reference(name)


def rollout(api, state: dict, interfaces: list) -> list:
    """The reference order of the DNC memory access, one time step per interface (Graves et al.
    2016, Methods), written out here, not taken from memlab.

    api: `addressing` or `EpsilonReference()`; the equations come from it, the order is this
    function's own. `rollout(EpsilonReference(), ...)` is the reference that
    tests/test_dnc.py compares `memlab.dnc.access_step`, the order memlab runs, with; the tests
    here check memlab's equations along this order. Returns one dict per step: the state
    fields, the intermediate weightings and the read vectors.
    """
    history = []
    for xi in interfaces:
        s = dict(state)
        s["retention"] = api.retention(xi["free_gates"], state["read_weights"])
        s["usage"] = api.update_usage(state["usage"], state["write_weights"], s["retention"])
        s["allocation"] = api.allocation_weights(s["usage"])
        s["write_content"] = api.content_weights(state["memory"], xi["write_key"],
                                                 xi["write_strength"])[:, 0]
        s["write_weights"] = api.write_weighting(
            s["allocation"], s["write_content"], xi["allocation_gate"], xi["write_gate"]
        )
        s["memory"] = api.write_memory(state["memory"], s["write_weights"], xi["erase"],
                                       xi["write_vector"])
        s["link"] = api.update_link(state["link"], state["precedence"], s["write_weights"])
        s["precedence"] = api.update_precedence(state["precedence"], s["write_weights"])
        s["forward"], s["backward"] = api.directional_weights(s["link"], state["read_weights"])
        s["read_content"] = api.content_weights(s["memory"], xi["read_keys"], xi["read_strengths"])
        s["read_weights"] = api.read_weighting(s["backward"], s["read_content"], s["forward"],
                                               xi["read_modes"])
        s["read_vectors"] = api.read_memory(s["memory"], s["read_weights"])
        history.append(s)
        state = s
    return history


def zero_state(B: int, N: int, W: int, R: int) -> dict:
    return dict(
        memory=torch.zeros(B, N, W, dtype=F64),
        usage=torch.zeros(B, N, dtype=F64),
        link=torch.zeros(B, N, N, dtype=F64),
        precedence=torch.zeros(B, N, dtype=F64),
        read_weights=torch.zeros(B, R, N, dtype=F64),
        write_weights=torch.zeros(B, N, dtype=F64),
    )


def random_state(gen: torch.Generator, B: int, N: int, W: int, R: int) -> dict:
    d = Draw(gen)
    return dict(
        memory=d.randn(B, N, W),
        usage=d.distinct_usage(B, N),
        link=d.link(B, N),
        precedence=d.weighting(B, N),
        read_weights=d.weighting(B, R, N),
        write_weights=d.weighting(B, N),
    )


WEIGHTINGS = [
    "retention",
    "allocation",
    "write_content",
    "write_weights",
    "precedence",
    "forward",
    "backward",
    "read_content",
    "read_weights",
]


def assert_invariants(s: dict) -> None:
    lo, slack = -1e-12, 1e-6
    for key in WEIGHTINGS + ["usage", "link"]:
        assert s[key].min() >= lo, key
        assert s[key].max() <= 1.0 + 1e-12, key
    for key in WEIGHTINGS:
        if key != "retention":
            assert s[key].sum(-1).max() <= 1.0 + slack, key
    diagonal = torch.diagonal(s["link"], dim1=-2, dim2=-1)
    assert torch.equal(diagonal, torch.zeros_like(diagonal))
    assert s["link"].sum(-1).max() <= 1.0 + slack
    assert s["link"].sum(-2).max() <= 1.0 + slack


@pytest.mark.parametrize("start", ["zeros", "random"])
def test_rollout_keeps_the_invariants(start):
    B, N, W, R = 3, 6, 4, 2
    gen = generator("rollout", start)
    state = zero_state(B, N, W, R) if start == "zeros" else random_state(gen, B, N, W, R)
    for step, s in enumerate(rollout(addressing, state, interface_sequence(gen, 20, B, N, W, R))):
        try:
            assert_invariants(s)
        except AssertionError as error:
            raise AssertionError(f"step {step}: {error}") from error


def test_rollout_matches_the_paper_reference_step_by_step():
    """memlab's equations chained in the reference order match the paper's, step by step (the
    order of `memlab.dnc.access_step` itself: tests/test_dnc.py).
    """
    # Random distinct initial usage: with ties (e.g. all-zero usage) the slot allocated first
    # depends on how the sort breaks them, which the paper leaves open.
    B, N, W, R = 2, 5, 3, 2
    gen = generator("rollout-reference")
    state = random_state(gen, B, N, W, R)
    interfaces = interface_sequence(gen, 20, B, N, W, R)
    memlab_history = rollout(addressing, state, interfaces)
    reference_history = rollout(EpsilonReference(), state, interfaces)
    assert all(set(got) == set(want) for got, want in zip(memlab_history, reference_history))
    assert_steps_match(memlab_history, reference_history)


# --- Csordás & Schmidhuber (2019): masking, de-allocation, link sharpness ------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda z: "BNWR" + "".join(map(str, z)))
def test_content_weights_without_a_mask_are_the_2016_weights_bit_for_bit(size):
    B, N, W, R = size
    memory, keys, strengths = make_inputs("content_weights", generator("no-mask", size), B, N, W, R)
    for dtype in (F64, torch.float32):
        m, k, b = (x.to(dtype) for x in (memory, keys, strengths))
        unmasked = torch.softmax(addressing.cosine_similarity(m, k) * b.unsqueeze(-1), dim=-1)
        assert torch.equal(addressing.content_weights(m, k, b), unmasked)
        assert torch.equal(addressing.content_weights(m, k, b, mask=None), unmasked)


@pytest.mark.parametrize("value", [1.0, 0.3])
def test_a_constant_mask_leaves_the_cosine_unchanged(value):
    memory, keys, strengths, _ = make_inputs("masked_content_weights", generator("constant-mask"),
                                             2, 6, 4, 3)
    mask = torch.full(keys.shape, value, dtype=F64)
    assert_close(addressing.content_weights(memory, keys, strengths, mask=mask),
                 addressing.content_weights(memory, keys, strengths), **TOL)


def test_a_mask_on_the_key_part_ignores_the_values():
    # words are [key (3) | value (3)]; the query carries slot 1's value but slot 0's key
    memory = torch.tensor([[[1.0, 0.0, 0.0, 0.0, 0.0, 3.0],
                            [0.0, 1.0, 0.0, 3.0, 3.0, 0.0],
                            [0.0, 0.0, 1.0, 0.0, 3.0, 3.0]]], dtype=F64)
    keys = torch.tensor([[[1.0, 0.0, 0.0, 3.0, 3.0, 0.0]]], dtype=F64)
    strengths = torch.tensor([[20.0]], dtype=F64)
    key_part = torch.tensor([[[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]], dtype=F64)
    plain = addressing.content_weights(memory, keys, strengths)
    masked = addressing.content_weights(memory, keys, strengths, mask=key_part)
    assert plain[0, 0].argmax() == 1  # the value part dominates the unmasked cosine
    assert masked[0, 0].argmax() == 0 and masked[0, 0, 0] > 0.99
    assert_matches(masked, reference("masked_content_weights")(memory, keys, strengths, key_part))


@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_an_all_zero_mask_gives_uniform_weights_and_finite_gradients(dtype):
    B, N, W, R = 2, 5, 4, 3
    memory, keys, strengths, mask = make_inputs("masked_content_weights", generator("zero-mask"),
                                                B, N, W, R)
    mask[:, 1] = 0.0
    memory[:, 2] = 0.0  # an empty slot as well
    memory, keys, strengths, mask = (x.to(dtype).requires_grad_(True)
                                     for x in (memory, keys, strengths, mask))
    weights = addressing.content_weights(memory, keys, strengths, mask=mask)
    assert_close(weights[:, 1], torch.full((B, N), 1.0 / N, dtype=dtype))
    probe = torch.randn(weights.shape, generator=generator("zero-mask-probe"), dtype=F64)
    (weights * probe.to(dtype)).sum().backward()
    for x in (memory, keys, strengths, mask):
        assert torch.isfinite(x.grad).all()


def test_deallocate_with_full_retention_changes_nothing_and_empties_freed_slots():
    d = Draw(generator("deallocate"))
    memory = d.randn(2, 5, 3)
    assert torch.equal(addressing.deallocate(memory, torch.ones(2, 5, dtype=F64)), memory)
    psi = torch.ones(2, 5, dtype=F64)
    psi[0, 3] = 0.0
    psi[1, 0] = 0.25
    expected = memory.clone()
    expected[0, 3] = 0.0
    expected[1, 0] *= 0.25
    assert_close(addressing.deallocate(memory, psi), expected, **TOL)


@pytest.mark.parametrize("size", SIZES, ids=lambda z: "BNWR" + "".join(map(str, z)))
def test_write_after_deallocate_is_the_papers_write_with_deallocation(size):
    B, N, W, _ = size
    d = Draw(generator("deallocating-write", size))
    memory, psi, write = d.randn(B, N, W), d.rand(B, N), d.weighting(B, N)
    erase, vector = d.rand(B, W), d.randn(B, W)
    ours = addressing.write_memory(addressing.deallocate(memory, psi), write, erase, vector)
    assert_matches(ours, ref.deallocating_write(memory, psi, write, erase, vector))


@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_sharpen_links_of_an_all_zero_distribution_is_uniform_with_finite_gradients(dtype):
    # no link yet (first steps), a link row that has decayed to nothing, and a normal one
    weights = torch.tensor([[[0.0] * 6, [1e-30] * 6, [0.0, 0.5, 0.2, 0.0, 0.0, 0.1]]], dtype=dtype)
    weights.requires_grad_(True)
    sharpness = torch.tensor([[1.7, 20.0, 3.0]], dtype=dtype, requires_grad=True)
    sharp = addressing.sharpen_links(weights, sharpness)
    assert torch.isfinite(sharp).all()
    assert_close(sharp[0, :2], torch.full((2, 6), 1.0 / 6, dtype=dtype))
    assert_close(sharp.sum(-1), torch.ones(1, 3, dtype=dtype))
    (sharp * torch.arange(6, dtype=dtype)).sum().backward()
    assert torch.isfinite(weights.grad).all() and torch.isfinite(sharpness.grad).all()


def test_sharpen_links_with_sharpness_one_renormalises_and_a_large_one_picks_the_largest():
    weights = Draw(generator("sharpen-links")).weighting(3, 2, 6)
    once = addressing.sharpen_links(weights, torch.ones(3, 2, dtype=F64))
    assert_close(once, weights / weights.sum(-1, keepdim=True), rtol=1e-4, atol=1e-5)
    sharp = addressing.sharpen_links(weights, torch.full((3, 2), 400.0, dtype=F64))
    assert_close(sharp, torch.nn.functional.one_hot(weights.argmax(-1), 6).to(F64), **TOL)
    middle = addressing.sharpen_links(weights, torch.full((3, 2), 3.0, dtype=F64))
    assert torch.equal(middle.argsort(-1), weights.argsort(-1))
    assert (middle.max(-1).values > once.max(-1).values).all()


def test_sharpen_links_in_float32_with_a_large_sharpness():
    weights = torch.tensor([[[0.1, 0.2, 0.3, 0.4], [1e-8, 2e-8, 0.0, 5e-9]]], dtype=F64)
    sharpness = torch.tensor([[200.0, 50.0]], dtype=F64)
    sharp = addressing.sharpen_links(weights.float(), sharpness.float())
    assert torch.isfinite(sharp).all()
    assert_close(sharp, reference("sharpen_links")(weights, sharpness).float(), rtol=1e-4,
                 atol=1e-5)


def improved_rollout(api: str, state: dict, interfaces: list, masks: list, sharpness: list) -> list:
    """The reference order of the DNC memory access with the three changes of Csordás &
    Schmidhuber (2019); tests/test_improvements.py compares `memlab.dnc.access_step` with it.

    api: "memlab" or "reference". masks[t]: (write mask [B, 1, W], read masks [B, R, W]);
    sharpness[t]: (forward [B, R], backward [B, R]).
    """
    if api == "memlab":
        lib = addressing
        masked = lambda m, k, b, mask: addressing.content_weights(m, k, b, mask=mask)  # noqa: E731
    else:
        lib, masked = EpsilonReference(), reference("masked_content_weights")
    history = []
    for xi, (write_mask, read_masks), (s_forward, s_backward) in zip(interfaces, masks, sharpness):
        s = dict(state)
        s["retention"] = lib.retention(xi["free_gates"], state["read_weights"])
        s["usage"] = lib.update_usage(state["usage"], state["write_weights"], s["retention"])
        s["allocation"] = lib.allocation_weights(s["usage"])
        s["write_content"] = masked(state["memory"], xi["write_key"], xi["write_strength"],
                                    write_mask)[:, 0]
        s["write_weights"] = lib.write_weighting(
            s["allocation"], s["write_content"], xi["allocation_gate"], xi["write_gate"]
        )
        freed = lib.deallocate(state["memory"], s["retention"])
        s["memory"] = lib.write_memory(freed, s["write_weights"], xi["erase"], xi["write_vector"])
        s["link"] = lib.update_link(state["link"], state["precedence"], s["write_weights"])
        s["precedence"] = lib.update_precedence(state["precedence"], s["write_weights"])
        forward, backward = lib.directional_weights(s["link"], state["read_weights"])
        s["forward"] = lib.sharpen_links(forward, s_forward)
        s["backward"] = lib.sharpen_links(backward, s_backward)
        s["read_content"] = masked(s["memory"], xi["read_keys"], xi["read_strengths"], read_masks)
        s["read_weights"] = lib.read_weighting(s["backward"], s["read_content"], s["forward"],
                                               xi["read_modes"])
        s["read_vectors"] = lib.read_memory(s["memory"], s["read_weights"])
        history.append(s)
        state = s
    return history


def test_improved_rollout_matches_the_reference_and_keeps_the_invariants():
    B, N, W, R = 2, 5, 3, 2
    gen = generator("improved-rollout")
    d = Draw(gen)
    state = random_state(gen, B, N, W, R)
    interfaces = interface_sequence(gen, 15, B, N, W, R)
    masks = [(d.rand(B, 1, W), d.rand(B, R, W)) for _ in interfaces]
    sharpness = [(d.strength(B, R), d.strength(B, R)) for _ in interfaces]
    ours = improved_rollout("memlab", state, interfaces, masks, sharpness)
    theirs = improved_rollout("reference", state, interfaces, masks, sharpness)
    for got in ours:
        assert_invariants(got)
    assert all(set(got) == set(want) for got, want in zip(ours, theirs))
    assert_steps_match(ours, theirs)


# --- the comparisons are sensitive: wrong variants do not match the reference -----------------


def _cosine(memory, keys):
    dot = keys @ memory.transpose(-1, -2)
    return dot / (keys.norm(dim=-1).unsqueeze(-1) * memory.norm(dim=-1).unsqueeze(-2) + 1e-8)


def _exclusive_cumprod(x):
    return torch.cumprod(torch.cat([torch.ones_like(x[..., :1]), x[..., :-1]], dim=-1), dim=-1)


def _allocation(usage, descending=False, inclusive=False, sort=True):
    if sort:
        sorted_usage, order = torch.sort(usage, dim=-1, descending=descending)
    else:
        sorted_usage, order = usage, torch.arange(usage.shape[-1]).expand_as(usage)
    products = (torch.cumprod(sorted_usage, dim=-1) if inclusive
                else _exclusive_cumprod(sorted_usage))
    return torch.zeros_like(usage).scatter(-1, order, (1 - sorted_usage) * products)


def _link(link, p, w, transposed=False, keep_diagonal=False):
    wi, wj = w.unsqueeze(-1), w.unsqueeze(-2)
    new = (1 - wi - wj) * link + (wj * p.unsqueeze(-1) if transposed else wi * p.unsqueeze(-2))
    return new if keep_diagonal else new * (1 - torch.eye(w.shape[-1], dtype=w.dtype))


WRONG_VARIANTS = {
    "oneplus: softplus without the one": ("oneplus", lambda x: torch.nn.functional.softplus(x)),
    "oneplus: 1 + exp": ("oneplus", lambda x: 1 + torch.exp(x)),
    "content: dot product instead of cosine": (
        "content_weights",
        lambda m, k, b: torch.softmax(b.unsqueeze(-1) * (k @ m.transpose(-1, -2)), dim=-1),
    ),
    "content: softmax over heads": (
        "content_weights",
        lambda m, k, b: torch.softmax(b.unsqueeze(-1) * _cosine(m, k), dim=1),
    ),
    "content: strength ignored": ("content_weights",
                                  lambda m, k, b: torch.softmax(_cosine(m, k), dim=-1)),
    "interpolate: gate on the wrong side": (
        "interpolate",
        lambda c, p, g: (1 - g.unsqueeze(-1)) * c + g.unsqueeze(-1) * p,
    ),
    "shift: opposite direction": ("shift", lambda w, s: ref.shift(w, s.flip(-1))),
    "sharpen: not renormalised": ("sharpen", lambda w, g: w ** g.unsqueeze(-1)),
    "retention: sum instead of product": ("retention",
                                          lambda f, w: 1 - (f.unsqueeze(-1) * w).sum(1)),
    "usage: missing -u*w": ("update_usage", lambda u, w, psi: (u + w) * psi),
    "usage: retention before the write": ("update_usage",
                                          lambda u, w, psi: u * psi + w - u * psi * w),
    "allocation: inclusive product": ("allocation_weights",
                                      lambda u: _allocation(u, inclusive=True)),
    "allocation: no sort": ("allocation_weights", lambda u: _allocation(u, sort=False)),
    "allocation: sorted descending": ("allocation_weights",
                                      lambda u: _allocation(u, descending=True)),
    "write weighting: gates swapped": (
        "write_weighting",
        lambda a, c, ga, gw: ga.unsqueeze(-1) * (gw.unsqueeze(-1) * a + (1 - gw.unsqueeze(-1)) * c),
    ),
    "write: erase after add": (
        "write_memory",
        lambda m, w, e, v: ((m + w.unsqueeze(-1) * v.unsqueeze(-2))
                            * (1 - w.unsqueeze(-1) * e.unsqueeze(-2))),
    ),
    "link: transposed": ("update_link", lambda L, p, w: _link(L, p, w, transposed=True)),
    "link: diagonal kept": ("update_link", lambda L, p, w: _link(L, p, w, keep_diagonal=True)),
    "link: updated precedence": (
        "update_link",
        lambda L, p, w: _link(L, (1 - w.sum(-1, keepdim=True)) * p + w, w),
    ),
    "precedence: elementwise decay": ("update_precedence", lambda p, w: (1 - w) * p + w),
    "directional: transposed link": (
        "directional_weights",
        lambda L, w: (w @ L, w @ L.transpose(-1, -2)),
    ),
    "read modes: (backward, forward, content)": (
        "read_weighting",
        lambda b, c, f, pi: pi[..., 0:1] * b + pi[..., 1:2] * f + pi[..., 2:3] * c,
    ),
    "read: renormalised weighting": (
        "read_memory",
        lambda m, w: (w / w.sum(-1, keepdim=True)) @ m,
    ),
}


WRONG_VARIANTS.update({
    "masked content: key not masked": (
        "masked_content_weights",
        lambda m, k, b, mask: addressing.content_weights(m, k / mask.clamp_min(1e-3), b, mask=mask),
    ),
    "masked content: memory not masked": (
        "masked_content_weights",
        lambda m, k, b, mask: torch.softmax(b.unsqueeze(-1) * _cosine(m, k * mask), dim=-1),
    ),
    "masked content: one mask for all heads": (
        "masked_content_weights",
        lambda m, k, b, mask: ref.masked_content_weights(m, k, b, mask[:, :1].expand_as(mask)),
    ),
    "deallocate: usage instead of retention": ("deallocate",
                                               lambda m, psi: m * (1 - psi).unsqueeze(-1)),
    "sharpen links: not renormalised": ("sharpen_links",
                                        lambda w, s: (w + 1e-6) ** s.unsqueeze(-1)),
    "sharpen links: sharpness ignored": (
        "sharpen_links",
        lambda w, s: (w + 1e-6) / (w + 1e-6).sum(-1, keepdim=True),
    ),
    "sharpen links: over the heads": (
        "sharpen_links",
        lambda w, s: torch.softmax(s.unsqueeze(-1) * torch.log(w + 1e-6), dim=1),
    ),
})


@pytest.mark.parametrize("variant", list(WRONG_VARIANTS))
def test_a_wrong_variant_fails_the_comparison(variant):
    name, wrong = WRONG_VARIANTS[variant]
    inputs = make_inputs(name, generator("wrong", variant), B=3, N=5, W=4, R=3, S=5)
    expected = reference(name)(*inputs)
    with pytest.raises(AssertionError):
        assert_matches(wrong(*inputs), expected)
