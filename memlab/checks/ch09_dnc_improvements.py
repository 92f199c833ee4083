"""Checks of chapter 9 (notebooks/09_dnc_improvements): masked look-ups and sharper links."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import addressing as A
from .ch02_dnc_memory import _softmax_beta
from .harness import F64, Mistake, checking, close, fmt, gen, rand, randn, simplex

__all__ = ["masked_content_weights", "sharpen_links"]


# =========================================================================== masked content weights

def _key_only(memory: Tensor, keys: Tensor, mask: Tensor) -> Tensor:
    """The mask applied to the key only, the memory compared whole."""
    return A.cosine_similarity(memory, keys * mask)


def _memory_only(memory: Tensor, keys: Tensor, mask: Tensor) -> Tensor:
    """The mask applied to the memory only (each head its own mask), the key whole."""
    return torch.cat([A.cosine_similarity(memory * mask[:, h:h + 1], keys[:, h:h + 1])
                      for h in range(keys.shape[1])], dim=1)


MASKED_MISTAKES = [
    Mistake("mask on the key only",
            "the mask is applied to the key only: mask both sides, D(k o m, M[i] o m), or the "
            "unmasked part of every word still counts in |M[i]|",
            lambda m, k, b, mask: _softmax_beta(_key_only(m, k, mask), b)),
    Mistake("mask on the memory only",
            "the mask is applied to the memory only: mask the key too, D(k o m, M[i] o m)",
            lambda m, k, b, mask: _softmax_beta(_memory_only(m, k, mask), b)),
    Mistake("no mask",
            "the mask is not used: the similarity must be D(k o m, M[i] o m), the masked key "
            "against each masked word",
            lambda m, k, b, mask: A.content_weights(m, k, b)),
    Mistake("inverted mask",
            "the mask is inverted: m = 1 marks the channels that take part in the comparison, "
            "use k o m, not k o (1 - m)",
            lambda m, k, b, mask: A.content_weights(m, k, b, 1 - mask)),
    Mistake("dot product",
            "looks like a masked dot product instead of the cosine similarity: divide by "
            "|k o m| |M[i] o m| (plus a small epsilon)",
            lambda m, k, b, mask: _softmax_beta(
                torch.einsum("bhw,bnw->bhn", k * mask * mask, m), b)),
    Mistake("softmax over heads",
            "softmax over the wrong axis: each row over memory slots must sum to 1 (dim=-1)",
            lambda m, k, b, mask: torch.softmax(
                A.masked_cosine_similarity(m, k, mask) * b.unsqueeze(-1), dim=1)),
]


def _masked_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int, W: int, H: int):
    memory, keys = randn(g, B, N, W, dtype=dtype), randn(g, B, H, W, dtype=dtype)
    strengths = rand(g, B, H, low=0.5, high=8.0, dtype=dtype)
    return memory, keys, strengths, rand(g, B, H, W, dtype=dtype)


def masked_content_weights(student: Callable) -> None:
    """Check ``masked_content_weights(memory, keys, strengths, mask) -> [B,H,N]``.

    memory [B,N,W], keys [B,H,W], strengths [B,H], mask [B,H,W]: softmax_i(beta D(k o m,
    M[i] o m)), D the cosine similarity (Csordás & Schmidhuber 2019; memlab.addressing's
    content_weights with its ``mask``).
    """
    atol, rtol = 1e-6, 1e-4  # another epsilon in the norms is fine
    params = ("memory", "keys", "strengths", "mask")
    with checking("masked_content_weights", student, params) as c:
        __tracebackhide__ = True
        run = c.returns("[B, H, N]", lambda m, k, b, mask: (m.shape[0], k.shape[1], m.shape[1]))

        # two slots share the key half and differ in the value half: masked to the key half,
        # the look-up must not tell them apart; the unmasked one prefers the slot like the key
        memory = torch.tensor([[[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]]],
                              dtype=F64)
        keys = torch.tensor([[[1.0, 0.0, 1.0, 0.0]]], dtype=F64)
        strengths = torch.tensor([[10.0]], dtype=F64)
        mask = torch.tensor([[[1.0, 1.0, 0.0, 0.0]]], dtype=F64)
        inputs = (memory, keys, strengths, mask)
        on = ("slots [1,0,1,0], [1,0,0,1], [0,1,0,0], key [1,0,1,0], mask [1,1,0,0] "
              "(the key half only), beta 10")
        out = run(*inputs, on)
        if not close(out[0, 0, 0], out[0, 0, 1], atol, rtol):
            c.diagnose(out, MASKED_MISTAKES, inputs, on)
            c.fail(f"slots 0 and 1 agree on the masked channels, so they must get the same "
                   f"weight; got {fmt(out[0, 0])}\n  on {on}")
        c.compare(out, A.content_weights(*inputs[:3], mask), on, MASKED_MISTAKES, inputs,
                  atol=atol, rtol=rtol)
        c.passed()

        # a mask of ones is the unmasked look-up
        g = gen(3)
        memory, keys, strengths, _ = _masked_inputs(g, F64, B=2, N=5, W=4, H=3)
        ones = torch.ones_like(keys)
        c.case(run, (memory, keys, strengths, ones), A.content_weights(memory, keys, strengths),
               "random memory [B=2, N=5, W=4], keys [H=3] and a mask of ones", MASKED_MISTAKES,
               atol=atol, rtol=rtol, what="weights (a mask of ones must give the unmasked look-up)")

        c.random_cases(run, lambda m, k, b, mask: A.content_weights(m, k, b, mask), _masked_inputs,
                       "B N W H", [(2, 5, 4, 3), (1, 16, 8, 2), (3, 7, 6, 1)], MASKED_MISTAKES,
                       atol=atol, rtol=rtol)
        c.float32_case(run, lambda m, k, b, mask: A.content_weights(m, k, b, mask),
                       _masked_inputs, "B N W H", (2, 6, 5, 2), atol=1e-5, rtol=1e-4)


# =========================================================================== sharpened links

SHARPEN_MISTAKES = [
    Mistake("not normalised", "the powers d_i^s are not normalised: divide by sum_j d_j^s",
            lambda d, s: (d + A.EPSILON) ** s.unsqueeze(-1)),
    Mistake("no power", "the sharpness s is not used: raise each d_i to the power s, "
            "d_i^s / sum_j d_j^s",
            lambda d, s: (d + A.EPSILON) / (d + A.EPSILON).sum(-1, keepdim=True)),
    Mistake("softmax of d", "a softmax of s * d is not d^s normalised: take the softmax of "
            "s * log(d), or divide d^s by its sum",
            lambda d, s: torch.softmax(s.unsqueeze(-1) * d, dim=-1)),
    Mistake("sum over heads", "normalised over the wrong axis: each head's row over the N slots "
            "must sum to 1",
            lambda d, s: (d + A.EPSILON) ** s.unsqueeze(-1)
            / ((d + A.EPSILON) ** s.unsqueeze(-1)).sum(-2, keepdim=True)),
    Mistake("1 / s", "the power is 1 / s: that flattens the distribution; raise to s >= 1",
            lambda d, s: A.sharpen_links(d, 1 / s)),
]


def _link_inputs(g: torch.Generator, dtype: torch.dtype, B: int, R: int, N: int):
    weights = simplex(g, B, R, N, dtype=dtype) * rand(g, B, R, 1, low=0.3, high=1.0, dtype=dtype)
    return weights, rand(g, B, R, low=1.0, high=6.0, dtype=dtype)


def sharpen_links(student: Callable) -> None:
    """Check ``sharpen_links(weights [B,R,N], sharpness [B,R]) -> [B,R,N]``.

    S(d, s)_i = d_i^s / sum_j d_j^s per read head (Csordás & Schmidhuber 2019), finite for an
    all-zero row (no link yet) and for large s.
    """
    atol, rtol = 1e-6, 1e-4  # another epsilon inside the power is fine
    with checking("sharpen_links", student, ("weights", "sharpness")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, R, N]")

        d = torch.tensor([[[0.5, 0.3, 0.2, 0.0]]], dtype=F64)
        s = torch.tensor([[2.0]], dtype=F64)
        expected = torch.tensor([[[0.25, 0.09, 0.04, 0.0]]], dtype=F64) / 0.38
        c.case(run, (d, s), expected, "d = [0.5, 0.3, 0.2, 0] with s = 2", SHARPEN_MISTAKES,
               atol=1e-6, rtol=1e-5, what="weights (0.5^2, 0.3^2, 0.2^2, 0 over their sum 0.38)")

        # s = 1 gives the distribution back, normalised
        c.case(run, (d, torch.ones_like(s)), d, "d = [0.5, 0.3, 0.2, 0] with s = 1",
               SHARPEN_MISTAKES, atol=atol, rtol=rtol,
               what="weights (s = 1 must leave a distribution unchanged)")

        # an all-zero row (a head with no link to follow yet) and a very large s stay finite
        d = torch.tensor([[[0.0, 0.0, 0.0], [0.6, 0.4, 0.0]]], dtype=F64)
        s = torch.tensor([[3.0, 400.0]], dtype=F64)
        on = "an all-zero row with s = 3 and [0.6, 0.4, 0] with s = 400"
        out = run(d, s, on)
        if not torch.allclose(out.detach().sum(-1), torch.ones(1, 2, dtype=F64), atol=1e-6):
            c.fail(f"each row must sum to 1, the all-zero one included (add a small epsilon to d "
                   f"before the power, or compute softmax(s * log(d + eps))); got rows summing to "
                   f"{fmt(out.detach().sum(-1))}\n  on {on}")
        c.compare(out, A.sharpen_links(d, s), on, SHARPEN_MISTAKES, (d, s), atol=1e-5, rtol=1e-4)
        c.passed()

        c.random_cases(run, A.sharpen_links, _link_inputs, "B R N",
                       [(2, 3, 5), (1, 1, 16), (3, 4, 7)], SHARPEN_MISTAKES, atol=atol, rtol=rtol)
        c.float32_case(run, A.sharpen_links, _link_inputs, "B R N", (2, 2, 6),
                       atol=1e-5, rtol=1e-4)
