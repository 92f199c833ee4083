"""Checks of chapter 10 (notebooks/10_memory_vs_attention): attention weights and the delta rule."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from .. import addressing as A
from .. import attention as T
from .harness import F64, Mistake, checking, close, fmt, rand, randn

__all__ = ["dot_product_weights", "delta_rule_update"]


# =========================================================================== dot-product weights

def _scores(memory_keys: Tensor, queries: Tensor) -> Tensor:
    return queries @ memory_keys.transpose(1, 2)  # [B, H, N], q . K[i]


DOT_PRODUCT_MISTAKES = [
    Mistake("no scaling",
            "the scores are not scaled: divide q . K[i] by sqrt(D), D the size of a key "
            "(memory_keys.shape[-1]), before the softmax",
            lambda K, q: torch.softmax(_scores(K, q), dim=-1)),
    Mistake("divided by D",
            "the scores are divided by D: divide by sqrt(D), math.sqrt(memory_keys.shape[-1])",
            lambda K, q: torch.softmax(_scores(K, q) / K.shape[-1], dim=-1)),
    Mistake("multiplied by sqrt(D)",
            "the scores are multiplied by sqrt(D): divide by it",
            lambda K, q: torch.softmax(_scores(K, q) * math.sqrt(K.shape[-1]), dim=-1)),
    Mistake("divided by sqrt(N)",
            "the scores are divided by sqrt(N), N the number of stored positions: divide by "
            "sqrt(D), D the size of a key (the last axis)",
            lambda K, q: torch.softmax(_scores(K, q) / math.sqrt(K.shape[1]), dim=-1)),
    Mistake("softmax over heads",
            "softmax over the wrong axis: each query's weights over the N positions must sum to "
            "1 (softmax over the last axis, dim=-1)",
            lambda K, q: torch.softmax(_scores(K, q) / math.sqrt(K.shape[-1]), dim=1)),
    Mistake("cosine",
            "looks like the cosine similarity, the DNC's look-up: attention uses the dot product "
            "q . K[i] itself, lengths included, divided by sqrt(D)",
            lambda K, q: torch.softmax(A.cosine_similarity(K, q), dim=-1)),
    Mistake("scaled cosine",
            "looks like the cosine similarity divided by sqrt(D): attention uses the dot product "
            "q . K[i] itself, lengths included",
            lambda K, q: torch.softmax(A.cosine_similarity(K, q) / math.sqrt(K.shape[-1]), dim=-1)),
    Mistake("no softmax",
            "the scores are not turned into weights: take the softmax over the N positions",
            lambda K, q: _scores(K, q) / math.sqrt(K.shape[-1])),
]


def _attention_inputs(g: torch.Generator, dtype: torch.dtype, B: int, N: int, D: int, H: int):
    return randn(g, B, N, D, dtype=dtype), randn(g, B, H, D, dtype=dtype)


def dot_product_weights(student: Callable) -> None:
    """Check ``dot_product_weights(memory_keys [B,N,D], queries [B,H,D]) -> [B,H,N]``.

    Scaled dot-product attention weights softmax_i(q . K[i] / sqrt(D)) (Vaswani et al. 2017,
    eq. 1), one row per query; memlab's is called without a mask.
    """
    atol, rtol = 1e-8, 1e-6
    with checking("dot_product_weights", student, ("memory_keys", "queries")) as c:
        __tracebackhide__ = True
        run = c.returns("[B, H, N]", lambda K, q: (K.shape[0], q.shape[1], K.shape[1]))

        # q . K = [6, 0, 0] / sqrt(4) = [3, 0, 0]: every usual mistake gives other scores
        keys = torch.tensor([[[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]],
                            dtype=F64)
        query = torch.tensor([[[3.0, 0.0, 0.0, 0.0]]], dtype=F64)
        expected = torch.softmax(torch.tensor([[[3.0, 0.0, 0.0]]], dtype=F64), dim=-1)
        c.case(run, (keys, query), expected,
               "keys [2,0,0,0], [0,1,0,0], [0,0,0,0] and the query [3,0,0,0] (D = 4)",
               DOT_PRODUCT_MISTAKES, atol=atol, rtol=rtol,
               what="weights (softmax of q . K[i] / sqrt(4) = [3, 0, 0])")

        # the length of a stored key counts: two keys that point the same way differ
        keys = torch.tensor([[[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]]], dtype=F64)
        query = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]], dtype=F64)
        on = "keys [1,0], [3,0], [0,1] and the queries [1,0], [0,2] (D = 2)"
        out = run(keys, query, on)
        if close(out[0, 0, 0], out[0, 0, 1], 1e-6, 1e-5):
            c.diagnose(out, DOT_PRODUCT_MISTAKES, (keys, query), on)
            c.fail(f"keys [1,0] and [3,0] got the same weight ({fmt(out[0, 0])} for the query "
                   f"[1,0]): attention compares by the dot product q . K[i], so the longer key "
                   f"scores 3 times as much\n  on {on}")
        c.compare(out, T.dot_product_weights(keys, query), on, DOT_PRODUCT_MISTAKES,
                  (keys, query), atol=atol, rtol=rtol)
        c.passed()

        c.random_cases(run, T.dot_product_weights, _attention_inputs, "B N D H",
                       [(2, 5, 4, 3), (1, 7, 16, 2), (3, 6, 9, 1), (2, 3, 64, 4)],
                       DOT_PRODUCT_MISTAKES, atol=atol, rtol=rtol)
        c.float32_case(run, T.dot_product_weights, _attention_inputs, "B N D H", (2, 6, 8, 3),
                       atol=1e-6, rtol=1e-5)


# =========================================================================== delta rule

def _outer(v: Tensor, k: Tensor) -> Tensor:
    return v.unsqueeze(-1) * k.unsqueeze(-2)  # [B, Dv, Dk], v k^T


def _retrieved(W: Tensor, k: Tensor) -> Tensor:
    return (W @ k.unsqueeze(-1)).squeeze(-1)  # [B, Dv], W k


def _beta(beta: Tensor) -> Tensor:
    return beta[:, None, None]


DELTA_MISTAKES = [
    Mistake("sum rule",
            "looks like the sum rule W + v k^T: the delta rule first takes away what the key "
            "retrieves now, W + beta (v - W k) k^T",
            lambda W, k, v, b: W + _outer(v, k)),
    Mistake("no erase",
            "nothing is erased: W + beta v k^T adds the new value on top of the old one; write "
            "W + beta (v - W k) k^T",
            lambda W, k, v, b: W + _beta(b) * _outer(v, k)),
    Mistake("sign flipped",
            "the sign of the correction is flipped: write W + beta (v - W k) k^T, the new value "
            "minus the retrieved one",
            lambda W, k, v, b: W + _beta(b) * _outer(_retrieved(W, k) - v, k)),
    Mistake("beta on the value only",
            "beta multiplies the value only, W + (beta v - W k) k^T: it multiplies the whole "
            "correction, W + beta (v - W k) k^T",
            lambda W, k, v, b: W + _outer(b[:, None] * v - _retrieved(W, k), k)),
    Mistake("no beta",
            "beta is not used: the correction is W + beta (v - W k) k^T",
            lambda W, k, v, b: W + _outer(v - _retrieved(W, k), k)),
    Mistake("outer product transposed",
            "the outer product is transposed: with W of shape [Dv, Dk], the update is "
            "(v - W k) k^T, a column of size Dv times a row of size Dk, not k (v - W k)^T",
            lambda W, k, v, b: W + _beta(b) * _outer(k, v - _retrieved(W, k))
            if W.shape[-1] == W.shape[-2] else None),
    Mistake("retrieved with W^T",
            "the retrieved value is W^T k: with W of shape [Dv, Dk], the key retrieves W k",
            lambda W, k, v, b: W + _beta(b) * _outer(v - _retrieved(W.transpose(1, 2), k), k)
            if W.shape[-1] == W.shape[-2] else None),
]


def _delta_inputs(g: torch.Generator, dtype: torch.dtype, B: int, Dv: int, Dk: int):
    weights, key = randn(g, B, Dv, Dk, dtype=F64), randn(g, B, Dk, dtype=F64)
    key = key / key.norm(dim=-1, keepdim=True)  # unit keys, as the paper's normalised phi(k)
    value, beta = randn(g, B, Dv, dtype=F64), rand(g, B, low=0.1, high=0.9, dtype=F64)
    return weights.to(dtype), key.to(dtype), value.to(dtype), beta.to(dtype)


def delta_rule_update(student: Callable) -> None:
    """Check ``delta_rule_update(fast_weights, key, value, beta) -> [B,Dv,Dk]``.

    fast_weights [B,Dv,Dk], key [B,Dk], value [B,Dv], beta [B]: the delta rule
    W + beta (v - W k) k^T (Schlag, Irie & Schmidhuber 2021), erase what the key retrieves,
    then write.
    """
    atol, rtol = 1e-8, 1e-6
    params = ("fast_weights", "key", "value", "beta")
    with checking("delta_rule_update", student, params) as c:
        __tracebackhide__ = True
        run = c.returns("[B, Dv, Dk]")

        # sample 0: beta = 1 and a unit key, so W' k must be v; sample 1: beta = 0.5
        W = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]], dtype=F64)
        W = W.repeat(2, 1, 1)
        k = torch.tensor([[0.6, 0.8, 0.0], [0.0, 0.6, 0.8]], dtype=F64)
        v = torch.tensor([[1.0, -1.0, 2.0], [0.5, 0.0, -2.0]], dtype=F64)
        beta = torch.tensor([1.0, 0.5], dtype=F64)
        inputs = (W, k, v, beta)
        on = ("W = [[1,2,0],[0,1,-1],[3,0,1]] in both samples, keys [0.6,0.8,0] and [0,0.6,0.8], "
              "values [1,-1,2] and [0.5,0,-2], beta [1, 0.5]")
        out = run(*inputs, on)
        read = _retrieved(out.detach().to(F64), k)
        if not close(read[0], v[0], 1e-6, 1e-5):
            c.diagnose(out, DELTA_MISTAKES, inputs, on)
            c.fail(f"with beta = 1 and a unit key, the new W must retrieve the new value exactly: "
                   f"W' k = {fmt(v[0])}, got {fmt(read[0])}. The delta rule replaces what k "
                   f"retrieves, W + beta (v - W k) k^T\n  on {on} (sample 0)")
        c.compare(out, T.delta_rule_update(*inputs), on, DELTA_MISTAKES, inputs, atol=atol,
                  rtol=rtol)
        c.passed()

        # writing a key twice keeps the latest value only
        zero = torch.zeros(1, 2, 3, dtype=F64)
        k = torch.tensor([[0.0, 0.6, 0.8]], dtype=F64)
        first = torch.tensor([[1.0, 2.0]], dtype=F64)
        second = torch.tensor([[-3.0, 0.5]], dtype=F64)
        one = torch.ones(1, dtype=F64)
        on = "W = 0 [Dv=2, Dk=3], the key [0,0.6,0.8] written with the value [1,2], beta = 1"
        W1 = run(zero, k, first, one, on)
        c.compare(W1, T.delta_rule_update(zero, k, first, one), on, DELTA_MISTAKES,
                  (zero, k, first, one), atol=atol, rtol=rtol)
        W1 = W1.detach().to(F64)
        on = "then the same key written again with the value [-3,0.5], beta = 1"
        W2 = run(W1, k, second, one, on)
        read = _retrieved(W2.detach().to(F64), k)
        if not close(read, second, 1e-6, 1e-5):
            c.diagnose(W2, DELTA_MISTAKES, (W1, k, second, one), on)
            c.fail(f"after writing [1,2] and then [-3,0.5] with the same key, the key must "
                   f"retrieve the latest value [-3, 0.5], got {fmt(read[0])}\n  on {on}")
        c.passed()

        c.random_cases(run, T.delta_rule_update, _delta_inputs, "B Dv Dk",
                       [(2, 3, 5), (1, 4, 4), (3, 6, 2), (2, 8, 8)], DELTA_MISTAKES,
                       atol=atol, rtol=rtol)
        c.float32_case(run, T.delta_rule_update, _delta_inputs, "B Dv Dk", (2, 5, 3),
                       atol=1e-6, rtol=1e-5)
