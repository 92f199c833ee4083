"""Checks of chapter 2 (notebooks/02_dnc_memory): content weights, usage, allocation, links."""
from __future__ import annotations

import functools
from typing import Callable

import torch
from torch import Tensor

from .. import addressing as A
from .harness import (
    F64,
    Mistake,
    checking,
    close,
    describe,
    fmt,
    gen,
    landing,
    one_hot,
    rand,
    randn,
    simplex,
)

__all__ = ["content_weights", "update_usage", "allocation_weights", "update_link"]


# =========================================================================== content weights

def _softmax_beta(similarity: Tensor, strengths: Tensor) -> Tensor:
    return torch.softmax(similarity * strengths.unsqueeze(-1), dim=-1)


def _unit(x: Tensor) -> Tensor:
    return x / (x.norm(dim=-1, keepdim=True) + A.EPSILON)


CONTENT_MISTAKES = [
    Mistake("softmax over heads",
            "softmax over the wrong axis: each row over memory slots must sum to 1 (softmax over "
            "the last axis, dim=-1)",
            lambda m, k, b: torch.softmax(A.cosine_similarity(m, k) * b.unsqueeze(-1), dim=1)),
    Mistake("dot product",
            "looks like a dot product instead of the cosine similarity: divide k . M[i] by "
            "|k| |M[i]| (plus a small epsilon)",
            lambda m, k, b: _softmax_beta(torch.bmm(k, m.transpose(1, 2)), b)),
    Mistake("no strength",
            "the strength beta is missing: the content weighting is softmax(beta * D(k, M[i]))",
            lambda m, k, b: torch.softmax(A.cosine_similarity(m, k), dim=-1)),
    Mistake("oneplus on strengths",
            "oneplus applied to the strengths: they arrive already >= 0 (oneplus is the "
            "caller's job); use them as they are",
            lambda m, k, b: _softmax_beta(A.cosine_similarity(m, k), A.oneplus(b))),
    Mistake("rows not normalised",
            "the memory rows are not normalised: the similarity must be the cosine "
            "k . M[i] / (|k| |M[i]|)",
            lambda m, k, b: _softmax_beta(torch.bmm(_unit(k), m.transpose(1, 2)), b)),
    Mistake("key not normalised",
            "the key is not normalised: the similarity must be the cosine k . M[i] / (|k| |M[i]|)",
            lambda m, k, b: _softmax_beta(torch.bmm(k, _unit(m).transpose(1, 2)), b)),
]


def _content_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int, W: int, H: int,
                    high: float = 8.0):
    memory, keys = randn(g, B, N, W, dtype=dtype), randn(g, B, H, W, dtype=dtype)
    return memory, keys, rand(g, B, H, low=0.5, high=high, dtype=dtype)


def content_weights(student: Callable) -> None:
    """Check ``content_weights(memory [B,N,W], keys [B,H,W], strengths [B,H]) -> [B,H,N]``.

    C(M, k, beta)[i] = softmax_i(beta cosine(k, M[i])) (DNC, Graves et al. 2016), finite for
    all-zero rows and keys.
    """
    atol, rtol = 1e-6, 1e-4  # an epsilon in the norms other than memlab's is fine
    with checking("content_weights", student, ("memory", "keys", "strengths")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, H, N]", lambda m, k, b: (m.shape[0], k.shape[1], m.shape[1]))

        g = gen(1)
        memory, keys, strengths = randn(g, 2, 5, 4), randn(g, 2, 3, 4), rand(g, 2, 3, high=5.0)
        on = describe(F64, 1, B=2, N=5, W=4, H=3)
        out = run(memory, keys, strengths, on)
        sums = out.detach().to(F64).sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums)):
            c.fail(f"softmax over the wrong axis: each row over memory slots must sum to 1 "
                   f"(softmax over the last axis, dim=-1); your rows sum to {fmt(sums)}\n  on {on}")
        c.passed()

        # beta = 0: uniform over the slots
        strengths = torch.zeros(2, 3, dtype=F64)
        on = "random memory [B=2, N=5, W=4] and keys [H=3] with strengths beta = 0"
        out = run(memory, keys, strengths, on)
        if not close(out, torch.full_like(out, 0.2, dtype=F64), atol, rtol):
            c.fail("with strength beta = 0 every slot must get 1/N = 0.2: the strength multiplies "
                   "the similarity inside the softmax, softmax(beta * D(k, M[i])); the strength is "
                   f"missing or misplaced. Got {fmt(out[0, 0])} for the first head")
        c.passed()

        # cosine: scaling a row or the key must not change the weights
        memory = torch.tensor([[[1.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                                [0.0, 0.0, 2.0]]],
                              dtype=F64)
        key = torch.tensor([[[1.0, 0.0, 0.0]]], dtype=F64)
        beta = torch.tensor([[5.0]], dtype=F64)
        on = ("memory rows [1, 0, 0], [3, 0, 0], [0, 1, 0], [0, 0, 2], key [1, 0, 0], "
              "strength 5")
        out = run(memory, key, beta, on)
        if abs(float(out[0, 0, 0]) - float(out[0, 0, 1])) > 1e-4:
            c.fail(f"looks like a dot product, not the cosine similarity: rows [1, 0, 0] and "
                   f"[3, 0, 0] point the same way, so they must get the same weight (got "
                   f"{fmt(out[0, 0])}). Divide k . M[i] by |k| |M[i]| (plus a small epsilon)")
        c.compare(out, A.content_weights(memory, key, beta), on, CONTENT_MISTAKES,
                  (memory, key, beta), atol=atol, rtol=rtol)
        on2 = on.replace("key [1, 0, 0]", "key [3, 0, 0]")
        out2 = run(memory, 3 * key, beta, on2)
        if not close(out2, out, 1e-4, 1e-3):
            c.fail(f"scaling the key changed the weights (key [1, 0, 0] gave {fmt(out[0, 0])}, "
                   f"key [3, 0, 0] gave {fmt(out2[0, 0])}): divide by |k| too, the similarity "
                   f"is the cosine k . M[i] / (|k| |M[i]|)")
        c.passed()

        # an all-zero memory row and an all-zero key: finite, similarity 0
        g = gen(2)
        memory, keys = randn(g, 2, 4, 3), randn(g, 2, 2, 3)
        strengths = rand(g, 2, 2, low=0.5, high=5.0)
        memory[0, 1] = 0.0
        memory[1] = 0.0
        keys[0, 1] = 0.0
        on = ("random memory [B=2, N=4, W=3] where row 1 of sample 0 and the whole memory of "
              "sample 1 are zero, and the second key of sample 0 is zero")
        out = c.call((memory, keys, strengths), on)
        if (isinstance(out, Tensor) and out.shape == (2, 2, 4)
                and not bool(torch.isfinite(out).all())):
            c.fail("NaN or inf for an all-zero memory row or key: the cosine divides by the norms, "
                   "so add a small epsilon to them (memlab uses EPSILON = 1e-6: "
                   "M / (|M| + 1e-6)); a zero row then has similarity 0")
        out = c.tensor(out, (2, 2, 4), "[B, H, N]", F64, on)
        c.compare(out, A.content_weights(memory, keys, strengths), on, CONTENT_MISTAKES,
                  (memory, keys, strengths), atol=atol, rtol=rtol,
                  what="values (an all-zero row or key has similarity 0 with everything)")
        c.passed()

        # N = 1: all the weight on the only slot
        g = gen(3)
        memory, keys, strengths = randn(g, 3, 1, 4), randn(g, 3, 2, 4), rand(g, 3, 2, high=5.0)
        c.case(run, (memory, keys, strengths), torch.ones(3, 2, 1, dtype=F64),
               describe(F64, 3, B=3, N=1, W=4, H=2), atol=atol, rtol=rtol,
               what="values (with one slot, its weight is 1)")

        c.random_cases(run, A.content_weights, _content_inputs, "B N W H",
                       ((2, 6, 4, 3), (1, 8, 5, 1), (3, 5, 3, 2), (4, 10, 6, 4)), CONTENT_MISTAKES,
                       atol=atol, rtol=rtol)
        c.float32_case(run, A.content_weights, functools.partial(_content_inputs, high=5.0),
                       "B N W H", (2, 6, 4, 2), atol=1e-5, rtol=1e-4)


# =========================================================================== usage

USAGE_MISTAKES = [
    Mistake("no retention",
            "usage ignores retention: multiply by psi, the slots the free gates released "
            "must lose their usage", lambda u, w, psi: u + w - u * w),
    Mistake("no - u o w",
            "usage with u + w but no - u o w term: u + w - u o w is the probability that a "
            "slot was used before or written now, and stays in [0, 1]",
            lambda u, w, psi: (u + w) * psi),
    Mistake("retention on old usage",
            "retention applied to the old usage only: the paper multiplies the whole "
            "(u + w - u o w) by psi", lambda u, w, psi: u * psi + w - u * w),
    Mistake("max",
            "usage as max(u, w): the paper's u + w - u o w is a soft 'or'",
            lambda u, w, psi: torch.maximum(u, w) * psi),
]


def _usage_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int):
    return rand(g, B, N, dtype=dtype), simplex(g, B, N, dtype=dtype), rand(g, B, N, dtype=dtype)


def update_usage(student: Callable) -> None:
    """Check ``update_usage(usage [B,N], write_weights [B,N], retention [B,N]) -> [B,N]``.

    u_t = (u_{t-1} + w_{t-1} - u_{t-1} o w_{t-1}) o psi_t (DNC, Graves et al. 2016).
    """
    with checking("update_usage", student, ("usage", "write_weights", "retention")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, N]")

        u = torch.tensor([[0.0, 0.5, 1.0, 0.2]], dtype=F64)
        w = torch.tensor([[0.5, 0.5, 0.0, 1.0]], dtype=F64)
        psi = torch.tensor([[1.0, 1.0, 1.0, 0.5]], dtype=F64)
        c.case(run, (u, w, psi), A.update_usage(u, w, psi),
               "usage [0, 0.5, 1, 0.2], write_weights [0.5, 0.5, 0, 1], retention [1, 1, 1, 0.5]",
               USAGE_MISTAKES)

        g = gen(1)
        u, w = rand(g, 2, 5), simplex(g, 2, 5)
        psi = torch.zeros(2, 5, dtype=F64)
        on = "random usage and write weights [B=2, N=5] with retention psi = 0"
        out = run(u, w, psi, on)
        if not close(out, torch.zeros_like(out), 1e-12, 0):
            c.fail(f"usage ignores retention: with retention psi = 0 (every slot freed by the "
                   f"free gates) the usage must be 0, got {fmt(out[0])}; multiply by psi")
        c.passed()

        # a free gate of 1 on a head that read slot 3: that slot is freed
        u, w = rand(gen(2), 1, 5, low=0.5, high=1.0), torch.zeros(1, 5, dtype=F64)
        read = one_hot(3, 5)[None, None]
        psi = A.retention(torch.ones(1, 1, dtype=F64), read)
        on = (f"usage {fmt(u[0])}, no write, retention {fmt(psi[0])} from a free gate of 1 on "
              f"a head that read slot 3")
        c.case(run, (u, w, psi), A.update_usage(u, w, psi), on, USAGE_MISTAKES,
               what="values (the slot freed by the free gate must end with usage 0, the others "
                    "keep theirs)")

        u, w, psi = (torch.ones(1, 3, dtype=F64) for _ in range(3))
        on = "usage 1, write_weights 1, retention 1"
        out = run(u, w, psi, on)
        if float(out.max()) > 1 + 1e-9:
            c.fail(f"usage above 1 (got {fmt(out[0])} for usage 1 and a write of 1): "
                   f"u + w - u o w keeps usage in [0, 1]; did you forget the - u o w term?")
        c.compare(out, torch.ones_like(out), on)
        c.passed()

        c.random_cases(run, A.update_usage, _usage_inputs, "B N", ((3, 6), (1, 1), (2, 10), (5, 4)),
                       USAGE_MISTAKES)
        c.float32_case(run, A.update_usage, _usage_inputs, "B N", (2, 5))


# =========================================================================== allocation

def _exclusive(values: Tensor) -> Tensor:
    """[..., N] products of the values before each position (1 for the first)."""
    ones = torch.ones_like(values[..., :1])
    return torch.cumprod(torch.cat([ones, values[..., :-1]], dim=-1), dim=-1)


def _in_sorted_order(usage: Tensor) -> Tensor:
    """The right values, left in the order of the sorted usage."""
    sorted_usage = torch.sort(usage, dim=-1)[0]
    return (1 - sorted_usage) * _exclusive(sorted_usage)


def _sorted_back(usage: Tensor, make: Callable[[Tensor], Tensor],
                 descending: bool = False) -> Tensor:
    """make(sorted usage), each value put back at its slot."""
    sorted_usage, phi = torch.sort(usage, dim=-1, descending=descending)
    values = make(sorted_usage)
    return values.scatter(-1, phi, values)


ALLOCATION_MISTAKES = [
    Mistake("not sorted",
            "allocation without sorting: the product must run over the slots sorted by usage, "
            "least used first (phi = argsort(usage)), not in slot order",
            lambda u: (1 - u) * _exclusive(u)),
    Mistake("inclusive product",
            "allocation with an inclusive product: a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i] "
            "excludes slot j itself (use cumprod of [1, u_sorted[:-1]])",
            lambda u: _sorted_back(u, lambda s: (1 - s) * torch.cumprod(s, -1))),
    Mistake("descending",
            "slots sorted the wrong way: phi lists the slots from least used to most used "
            "(ascending usage)",
            lambda u: _sorted_back(u, lambda s: (1 - s) * _exclusive(s), descending=True)),
    Mistake("sorted order",
            "the allocation is returned in sorted order: put each value back at its slot "
            "(scatter with phi, or index with the inverse permutation)", _in_sorted_order),
    Mistake("no free-ness",
            "the free-ness (1 - u[phi_j]) is missing: "
            "a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i]",
            lambda u: _sorted_back(u, _exclusive)),
]


def _allocation_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int):
    usage = rand(g, B, N, dtype=dtype)  # distinct values: no ties in the sort
    return (usage,)


def allocation_weights(student: Callable) -> None:
    """Check ``allocation_weights(usage [B,N]) -> [B,N]`` (DNC, Graves et al. 2016).

    a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i], phi the slots sorted by usage, least used first.
    """
    with checking("allocation_weights", student, ("usage",)) as c:
        __tracebackhide__ = True
        run = c.returns("[B, N]")

        u = torch.ones(2, 5, dtype=F64)
        on = "a fully used memory (usage 1 everywhere, B=2, N=5)"
        out = run(u, on)
        if not close(out, torch.zeros_like(out), 1e-6, 0):
            c.fail(f"a fully used memory has nothing to allocate: with usage 1 everywhere the "
                   f"allocation must be 0 everywhere, got {fmt(out[0])}")
        c.passed()

        u = torch.tensor([[1.0, 1.0, 0.0, 1.0, 1.0]], dtype=F64)
        on = "usage [1, 1, 0, 1, 1] (only slot 2 is free)"
        out = run(u, on)
        if landing(out) != 2:
            c.diagnose(out, ALLOCATION_MISTAKES, (u,), on)
            c.fail(f"with usage [1, 1, 0, 1, 1] the allocation must go entirely to the free slot "
                   f"2: expected [0, 0, 1, 0, 0], got {fmt(out[0])}")
        c.passed()

        u = torch.tensor([[0.9, 0.1, 0.5]], dtype=F64)
        c.case(run, (u,), A.allocation_weights(u),
               "usage [0.9, 0.1, 0.5] (sorted: slot 1, slot 2, slot 0)", ALLOCATION_MISTAKES)

        u = torch.tensor([[0.3], [0.8]], dtype=F64)
        c.case(run, (u,), 1 - u, "one slot (N = 1), usage [[0.3], [0.8]]",
               what="values (with one slot the allocation is 1 - u)")

        c.random_cases(run, A.allocation_weights, _allocation_inputs, "B N",
                       ((4, 7), (1, 2), (2, 16), (3, 5)), ALLOCATION_MISTAKES)
        c.float32_case(run, A.allocation_weights, _allocation_inputs, "B N", (3, 6))


# =========================================================================== temporal links

def _decayed_link(product: bool) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """The link with the decay (1 - w[i]) (1 - w[j]) (product) or with no decay at all."""
    def link_(link: Tensor, precedence: Tensor, w: Tensor) -> Tensor:
        w_i, w_j = w.unsqueeze(-1), w.unsqueeze(-2)
        keep = 1 - torch.eye(link.shape[-1], dtype=link.dtype)
        old = (1 - w_i) * (1 - w_j) * link if product else link
        return (old + w_i * precedence.unsqueeze(-2)) * keep
    return link_


LINK_MISTAKES = [
    Mistake("diagonal",
            "the link diagonal is not zero: L[i, i] = 0 (a slot is never written right after "
            "itself); multiply by (1 - I)",
            lambda link, p, w: (1 - w.unsqueeze(-1) - w.unsqueeze(-2)) * link
            + w.unsqueeze(-1) * p.unsqueeze(-2)),
    Mistake("transposed",
            "your link is transposed: L[i, j] = w[i] p[j] says slot i was written right after slot "
            "j (w_i = w[:, :, None], p_j = p[:, None, :])",
            lambda link, p, w: A.update_link(link.transpose(1, 2), p, w).transpose(1, 2)),
    Mistake("new precedence",
            "the link update uses the new precedence p_t; it must use the previous one p_{t-1} "
            "(update the link before the precedence)",
            lambda link, p, w: A.update_link(link, A.update_precedence(p, w), w)),
    Mistake("no decay",
            "the old links do not decay: L_t[i, j] = (1 - w[i] - w[j]) L_{t-1}[i, j] + w[i] p[j]",
            _decayed_link(product=False)),
    Mistake("product decay",
            "the decay factor must be (1 - w[i] - w[j]), not (1 - w[i]) (1 - w[j])",
            _decayed_link(product=True)),
]


def _link_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int):
    link = rand(g, B, N, N, high=0.3, dtype=dtype) * (1 - torch.eye(N, dtype=dtype))
    return link, simplex(g, B, N, dtype=dtype) * 0.9, simplex(g, B, N, dtype=dtype)


def update_link(student: Callable) -> None:
    """Check ``update_link(link [B,N,N], precedence [B,N], write_weights [B,N]) -> [B,N,N]``.

    L_t[i,j] = (1 - w[i] - w[j]) L_{t-1}[i,j] + w[i] p_{t-1}[j], L_t[i,i] = 0 (DNC, Graves et
    al. 2016).
    """
    with checking("update_link", student, ("link", "precedence", "write_weights")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, N, N]")

        link, p, w = _link_inputs(gen(1), F64, 2, 5)
        on = describe(F64, 1, B=2, N=5)
        out = run(link, p, w, on)
        diagonal = out.detach().diagonal(dim1=-2, dim2=-1)
        if float(diagonal.abs().max()) > 1e-12:
            c.fail(f"the link diagonal is not zero: L[i, i] = 0 (a slot is never written right "
                   f"after itself); multiply by (1 - I). Diagonal of sample 0: "
                   f"{fmt(diagonal[0])}\n  on {on}")
        c.passed()

        # writes to slots 2, 0, 3 in turn, one step at a time: L[0, 2] = L[3, 0] = 1 at the end
        N = 4
        link, p = torch.zeros(1, N, N, dtype=F64), torch.zeros(1, N, dtype=F64)
        written = []
        for slot in (2, 0, 3):
            w = one_hot(slot, N)[None]
            written.append(str(slot))
            on = (f"one-hot writes to slots {', then '.join(written)} (N = 4), starting from an "
                  f"empty link; this step writes slot {slot}")
            out = run(link, p, w, on)
            expected = A.update_link(link, p, w)
            if not close(out, expected, 1e-9, 1e-6):
                c.diagnose(out, LINK_MISTAKES, (link, p, w), on)
                if float(out.abs().max()) < 1e-9:
                    c.fail(f"the link stays empty: after writing slot {written[-2]} then slot "
                           f"{slot}, L[{slot}, {written[-2]}] must be 1. Did you use the new "
                           "precedence p_t? The link update uses the previous precedence "
                           "p_{t-1}")
                c.compare(out, expected, on, what="link")
            link, p = expected, A.update_precedence(p, w)
        c.passed()

        link = torch.zeros(2, 1, 1, dtype=F64)
        c.case(run, (link, torch.full((2, 1), 0.5, dtype=F64), torch.ones(2, 1, dtype=F64)), link,
               "a single slot (N = 1)",
               what="values (a single slot has no link but its zero diagonal)")

        c.random_cases(run, A.update_link, _link_inputs, "B N", ((2, 6), (1, 3), (3, 8), (4, 5)),
                       LINK_MISTAKES)
        c.float32_case(run, A.update_link, _link_inputs, "B N", (2, 5))
