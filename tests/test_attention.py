"""Correctness of `memlab.attention`: scaled dot-product attention and fast weights.

Each function is compared with a loop written straight from its paper (Vaswani et al. 2017, eq. 1;
Schlag, Irie & Schmidhuber 2021) on Python floats, one sample, query, slot and entry at a time, and
checked with `torch.autograd.gradcheck` in float64. Then the claims the chapter makes: when the
DNC's cosine look-up and attention agree, how the sum and delta rules are the DNC's write, linear
attention as a fast-weight read, and the capacity of a fast-weight matrix.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from memlab import addressing, attention

F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-12)


def rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=F64)


def unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


# =========================================================================== the papers, as loops

def loop_dot_product_weights(memory_keys, queries, mask=None):
    """a[b, h, i] = exp(s_i) / sum_j exp(s_j), s_i = sum_d q[d] K[i, d] / sqrt(D).

    A masked s_i is -inf.
    """
    K, q = memory_keys.tolist(), queries.tolist()
    B, N, D = memory_keys.shape
    H = queries.shape[1]
    if mask is not None and mask.dim() == 2:
        mask = mask[:, None, :].expand(B, H, N)
    out = torch.zeros(B, H, N, dtype=F64)
    for b in range(B):
        for h in range(H):
            seen = [i for i in range(N) if mask is None or bool(mask[b, h, i])]
            scores = {i: sum(q[b][h][d] * K[b][i][d] for d in range(D)) / math.sqrt(D)
                      for i in seen}
            top = max(scores.values())
            total = sum(math.exp(s - top) for s in scores.values())
            for i in seen:
                out[b, h, i] = math.exp(scores[i] - top) / total
    return out


def loop_attend(memory_keys, memory_values, queries, mask=None):
    """r[b, h, e] = sum_i a[b, h, i] V[b, i, e]."""
    a, V = loop_dot_product_weights(memory_keys, queries, mask).tolist(), memory_values.tolist()
    B, N, Dv = memory_values.shape
    H = queries.shape[1]
    return torch.tensor([[[sum(a[b][h][i] * V[b][i][e] for i in range(N)) for e in range(Dv)]
                          for h in range(H)] for b in range(B)], dtype=F64)


def loop_read(fast_weights, query):
    """y[b, v] = sum_k W[b, v, k] q[b, k]."""
    W, q = fast_weights.tolist(), query.tolist()
    B, Dv, Dk = fast_weights.shape
    return torch.tensor([[sum(W[b][i][j] * q[b][j] for j in range(Dk)) for i in range(Dv)]
                         for b in range(B)], dtype=F64)


def loop_sum_rule(fast_weights, key, value):
    """W'[b, i, j] = W[b, i, j] + v[b, i] k[b, j]."""
    W, k, v = fast_weights.tolist(), key.tolist(), value.tolist()
    B, Dv, Dk = fast_weights.shape
    return torch.tensor([[[W[b][i][j] + v[b][i] * k[b][j] for j in range(Dk)] for i in range(Dv)]
                         for b in range(B)], dtype=F64)


def loop_delta_rule(fast_weights, key, value, beta):
    """v_bar = W k; W'[b, i, j] = W[b, i, j] + beta[b] (v[b, i] - v_bar[b, i]) k[b, j]."""
    W, k, v, beta_ = fast_weights.tolist(), key.tolist(), value.tolist(), beta.tolist()
    v_bar = loop_read(fast_weights, key).tolist()
    B, Dv, Dk = fast_weights.shape
    return torch.tensor([[[W[b][i][j] + beta_[b] * (v[b][i] - v_bar[b][i]) * k[b][j]
                           for j in range(Dk)] for i in range(Dv)] for b in range(B)], dtype=F64)


# =========================================================================== against the loops

# B N D H Dv
ATTENTION_SIZES = [(1, 1, 1, 1, 1), (2, 5, 4, 3, 2), (3, 7, 16, 1, 5), (2, 3, 2, 4, 3)]
FAST_SIZES = [(1, 1, 1), (2, 3, 5), (3, 4, 4), (2, 6, 2)]  # B Dv Dk


@pytest.mark.parametrize("B,N,D,H,Dv", ATTENTION_SIZES)
def test_dot_product_weights_and_attend_match_the_paper(B, N, D, H, Dv):
    g = rng(B * 100 + N)
    K, V, q = randn(g, B, N, D), randn(g, B, N, Dv), randn(g, B, H, D)
    weights = attention.dot_product_weights(K, q)
    assert weights.shape == (B, H, N)
    assert_close(weights, loop_dot_product_weights(K, q), **TOL)
    assert_close(weights.sum(-1), torch.ones(B, H, dtype=F64), **TOL)
    assert_close(attention.attend(K, V, q), loop_attend(K, V, q), **TOL)


@pytest.mark.parametrize("per_query", [False, True])
def test_masked_attention_matches_the_paper(per_query):
    g = rng(3)
    B, N, D, H, Dv = 2, 5, 3, 4, 2
    K, V, q = randn(g, B, N, D), randn(g, B, N, Dv), randn(g, B, H, D)
    if per_query:  # causal: query h sees positions 0 .. h
        mask = torch.ones(N, N, dtype=torch.bool).tril()[:H].expand(B, H, N)
    else:
        mask = torch.tensor([[True, True, False, True, False], [False, False, False, False, True]])
    weights = attention.dot_product_weights(K, q, mask)
    assert_close(weights, loop_dot_product_weights(K, q, mask), **TOL)
    full = mask if per_query else mask[:, None, :].expand(B, H, N)
    assert bool((weights[~full] == 0).all())
    assert_close(attention.attend(K, V, q, mask), loop_attend(K, V, q, mask), **TOL)


@pytest.mark.parametrize("B,Dv,Dk", FAST_SIZES)
def test_fast_weight_functions_match_the_paper(B, Dv, Dk):
    g = rng(B * 10 + Dk)
    W, k, v, q = randn(g, B, Dv, Dk), unit(randn(g, B, Dk)), randn(g, B, Dv), randn(g, B, Dk)
    beta = torch.rand(B, generator=g, dtype=F64)
    assert_close(attention.sum_rule_update(W, k, v), loop_sum_rule(W, k, v), **TOL)
    assert_close(attention.delta_rule_update(W, k, v, beta), loop_delta_rule(W, k, v, beta), **TOL)
    assert_close(attention.fast_weight_read(W, q), loop_read(W, q), **TOL)


def test_nothing_is_changed_in_place():
    g = rng(4)
    K, V, q = randn(g, 2, 4, 3), randn(g, 2, 4, 2), randn(g, 2, 2, 3)
    W, k, v, beta = randn(g, 2, 2, 3), randn(g, 2, 3), randn(g, 2, 2), torch.rand(2, dtype=F64)
    inputs = [K, V, q, W, k, v, beta]
    copies = [x.clone() for x in inputs]
    attention.attend(K, V, q)
    attention.sum_rule_update(W, k, v)
    attention.delta_rule_update(W, k, v, beta)
    attention.fast_weight_read(W, k)
    assert all(torch.equal(x, c) for x, c in zip(inputs, copies))


def test_gradients():
    g = rng(5)
    K, V, q = randn(g, 2, 4, 3), randn(g, 2, 4, 2), randn(g, 2, 3, 3)
    mask = torch.tensor([[True, False, True, True], [True, True, True, False]])
    W, k, v = randn(g, 2, 2, 3), randn(g, 2, 3), randn(g, 2, 2)
    beta = torch.rand(2, generator=g, dtype=F64)
    leaves = [x.requires_grad_() for x in (K, V, q, W, k, v, beta)]
    assert torch.autograd.gradcheck(attention.dot_product_weights, (K, q))
    assert torch.autograd.gradcheck(lambda K, q: attention.dot_product_weights(K, q, mask), (K, q))
    assert torch.autograd.gradcheck(attention.attend, (K, V, q))
    assert torch.autograd.gradcheck(attention.sum_rule_update, (W, k, v))
    assert torch.autograd.gradcheck(attention.delta_rule_update, (W, k, v, beta))
    assert torch.autograd.gradcheck(attention.fast_weight_read, (W, k))
    assert all(x.requires_grad for x in leaves)


def test_float32_matches_float64():
    g = rng(6)
    K, q = randn(g, 2, 5, 8), randn(g, 2, 3, 8)
    W, k, v = randn(g, 2, 4, 6), unit(randn(g, 2, 6)), randn(g, 2, 4)
    beta = torch.rand(2, generator=g, dtype=F64)
    for f, args in [(attention.dot_product_weights, (K, q)),
                    (attention.delta_rule_update, (W, k, v, beta))]:
        out32 = f(*(x.float() for x in args))
        assert out32.dtype == torch.float32
        assert_close(out32.double(), f(*args), rtol=1e-5, atol=1e-6)


# =========================================================================== arguments

K3, Q3 = torch.zeros(2, 5, 4), torch.zeros(2, 3, 4)
W3, K1, V1 = torch.zeros(2, 3, 4), torch.zeros(2, 4), torch.zeros(2, 3)


@pytest.mark.parametrize("call,needle", [
    (lambda: attention.dot_product_weights(torch.zeros(5, 4), Q3),
     r"memory_keys must be a tensor of shape \[B, N, D\]"),
    (lambda: attention.dot_product_weights(K3, torch.zeros(2, 3, 5)),
     r"queries .*\[B, H, D\] with B=2, D=4, got \[2, 3, 5\]"),
    (lambda: attention.dot_product_weights(K3, torch.zeros(3, 3, 4)), "queries"),
    (lambda: attention.dot_product_weights(K3, [[0.0]]), "queries .* got list"),
    (lambda: attention.dot_product_weights(K3, Q3, torch.ones(2, 5)), "mask must be a bool tensor"),
    (lambda: attention.dot_product_weights(K3, Q3, torch.ones(2, 4, dtype=torch.bool)), "mask"),
    (lambda: attention.dot_product_weights(K3, Q3, torch.ones(2, 3, 5, 1, dtype=torch.bool)),
     "mask"),
    (lambda: attention.dot_product_weights(K3, Q3, torch.zeros(2, 5, dtype=torch.bool)),
     "hides every position"),
    (lambda: attention.attend(K3, torch.zeros(2, 4, 6), Q3), r"memory_values .*\[B, N, Dv\]"),
    (lambda: attention.sum_rule_update(torch.zeros(3, 4), K1, V1), "fast_weights"),
    (lambda: attention.sum_rule_update(W3, torch.zeros(2, 3), V1), r"key .* with B=2, Dk=4"),
    (lambda: attention.sum_rule_update(W3, K1, torch.zeros(2, 4)), r"value .* with B=2, Dv=3"),
    (lambda: attention.delta_rule_update(W3, K1, V1, torch.ones(3)),
     r"beta must be a tensor of shape \[B\] with B=2"),
    (lambda: attention.delta_rule_update(W3, K1, V1, 0.5), "beta .* got float"),
    (lambda: attention.fast_weight_read(W3, torch.zeros(2, 3)), r"query .* Dk=4, got \[2, 3\]"),
])
def test_shapes_are_checked(call, needle):
    with pytest.raises(ValueError, match=needle):
        call()


def test_import_memlab_loads_attention():
    import memlab

    assert memlab.attention is attention and "attention" in memlab.__all__


# ======================================================================= cosine against dot product

@pytest.mark.parametrize("D", [2, 5, 16])
def test_cosine_look_up_is_attention_over_unit_rows(D):
    """For unit-norm memory rows, C(M, k, beta) = dot_product_weights(M, beta sqrt(D) k / |k|).

    Derivation: cos(k, M[i]) = k . M[i] / (|k| |M[i]|) = (k / |k|) . M[i] when |M[i]| = 1, so
    beta cos(k, M[i]) = q . M[i] / sqrt(D) with q = beta sqrt(D) k / |k|; both softmaxes get the
    same scores. memlab's cosine adds EPSILON to both norms: with it, the exact query is
    q = beta sqrt(D) k / ((|k| + eps)(1 + eps)); without it, the two agree to about 2 beta eps.
    """
    g = rng(D)
    M, k = unit(randn(g, 2, 7, D)), randn(g, 2, 3, D)
    beta = 0.5 + 9.5 * torch.rand(2, 3, generator=g, dtype=F64)
    cosine = addressing.content_weights(M, k, beta)
    scale = beta.unsqueeze(-1) * math.sqrt(D)
    eps = addressing.EPSILON
    exact = scale * k / ((k.norm(dim=-1, keepdim=True) + eps) * (1 + eps))
    assert_close(attention.dot_product_weights(M, exact), cosine, rtol=1e-12, atol=1e-14)
    clean = scale * unit(k)
    assert_close(attention.dot_product_weights(M, clean), cosine, rtol=1e-4, atol=1e-6)


def test_dot_product_prefers_long_rows_where_the_cosine_does_not():
    """Rows of different lengths: no query turns attention into the cosine look-up."""
    M = torch.tensor([[[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]]], dtype=F64)
    k = torch.tensor([[[1.0, 0.0]]], dtype=F64)
    cosine = addressing.content_weights(M, k, torch.tensor([[4.0]], dtype=F64))
    dot = attention.dot_product_weights(M, k * 4 * math.sqrt(2))
    assert abs(float(cosine[0, 0, 0] - cosine[0, 0, 1])) < 1e-5  # same direction, same weight
    assert float(dot[0, 0, 1]) > 0.99 > float(dot[0, 0, 0])       # the longer row takes it all


# ========================================================================= fast weights and the DNC

def test_linear_attention_is_a_fast_weight_read():
    """T sum-rule writes from W = 0, then the read W q = sum_t v_t (k_t . q): attention with the
    softmax replaced by the dot product (unnormalised linear attention).
    """
    g = rng(7)
    B, T, Dk, Dv = 2, 6, 4, 3
    keys, values, q = randn(g, B, T, Dk), randn(g, B, T, Dv), randn(g, B, Dk)
    W = torch.zeros(B, Dv, Dk, dtype=F64)
    for t in range(T):
        W = attention.sum_rule_update(W, keys[:, t], values[:, t])
    linear = torch.stack([sum(values[b, t] * float(keys[b, t] @ q[b]) for t in range(T))
                          for b in range(B)])
    assert_close(attention.fast_weight_read(W, q), linear, **TOL)


def test_rules_are_the_dnc_write_for_one_hot_keys():
    """With M = W^T (Dk slots of Dv numbers) and k = e_i: the delta rule is the DNC write with
    w = beta e_i, erase e = 1; the sum rule is the write with w = e_i, e = 0; W q is M^T q.
    """
    g = rng(8)
    B, Dv, Dk = 3, 4, 5
    W, v = randn(g, B, Dv, Dk), randn(g, B, Dv)
    beta = torch.rand(B, generator=g, dtype=F64)
    k = F.one_hot(torch.tensor([0, 3, 4]), Dk).to(F64)
    M = W.transpose(1, 2)
    delta = addressing.write_memory(M, beta[:, None] * k, torch.ones(B, Dv, dtype=F64), v)
    assert_close(attention.delta_rule_update(W, k, v, beta), delta.transpose(1, 2), **TOL)
    add = addressing.write_memory(M, k, torch.zeros(B, Dv, dtype=F64), v)
    assert_close(attention.sum_rule_update(W, k, v), add.transpose(1, 2), **TOL)
    q = randn(g, B, Dk)
    assert_close(attention.fast_weight_read(W, q),
                 addressing.read_memory(M, q.unsqueeze(1)).squeeze(1), **TOL)


def test_delta_rule_is_erase_then_write():
    """W + beta (v - W k) k^T = W (I - beta k k^T) + beta v k^T."""
    g = rng(9)
    W, k, v = randn(g, 2, 3, 4), randn(g, 2, 4), randn(g, 2, 3)
    beta = torch.rand(2, generator=g, dtype=F64)
    eye = torch.eye(4, dtype=F64)
    b = beta[:, None, None]
    erased = W @ (eye - b * k[:, :, None] * k[:, None, :])
    written = b * v[:, :, None] * k[:, None, :]
    assert_close(attention.delta_rule_update(W, k, v, beta), erased + written, **TOL)


# =========================================================================== capacity

def write_all(rule, keys, values, Dv):
    """Write the pairs (keys[:, t], values[:, t]) in order from W = 0 with beta = 1."""
    B, T, Dk = keys.shape
    W = torch.zeros(B, Dv, Dk, dtype=F64)
    for t in range(T):
        if rule == "sum":
            W = attention.sum_rule_update(W, keys[:, t], values[:, t])
        else:
            W = attention.delta_rule_update(W, keys[:, t], values[:, t], torch.ones(B, dtype=F64))
    return W


def retrieval_error(W, keys, values):
    """The largest |W k_t - v_t| over all stored pairs."""
    read = torch.stack([attention.fast_weight_read(W, keys[:, t]) for t in range(keys.shape[1])], 1)
    return float((read - values).abs().max())


@pytest.mark.parametrize("rule", ["sum", "delta"])
def test_dk_orthonormal_keys_are_retrieved_exactly(rule):
    g = rng(10)
    B, Dk, Dv = 2, 6, 3
    keys = torch.linalg.qr(randn(g, B, Dk, Dk))[0].transpose(1, 2)  # rows: Dk orthonormal keys
    values = randn(g, B, Dk, Dv)
    assert retrieval_error(write_all(rule, keys, values, Dv), keys, values) < 1e-12


@pytest.mark.parametrize("rule", ["sum", "delta"])
def test_more_keys_than_dk_are_not_retrieved_exactly(rule):
    """Dk + 2 unit keys in Dk dimensions are linearly dependent: no Dv x Dk matrix maps them all
    onto random values, whichever rule writes it.
    """
    g = rng(11)
    B, Dk, Dv = 2, 6, 8
    keys, values = unit(randn(g, B, Dk + 2, Dk)), randn(g, B, Dk + 2, Dv)
    assert retrieval_error(write_all(rule, keys, values, Dv), keys, values) > 1e-2


def test_delta_rule_keeps_the_latest_value_of_a_repeated_key():
    g = rng(12)
    B, Dk, Dv = 2, 5, 3
    keys = torch.linalg.qr(randn(g, B, Dk, Dk))[0].transpose(1, 2)[:, :3]  # 3 orthonormal keys
    keys = torch.cat([keys, keys[:, :1]], 1)  # the first key again, with a new value
    values = randn(g, B, 4, Dv)
    latest = torch.cat([values[:, 3:], values[:, 1:3]], 1)  # what each distinct key should give
    distinct = keys[:, :3]
    assert retrieval_error(write_all("delta", keys, values, Dv), distinct, latest) < 1e-12
    summed = write_all("sum", keys, values, Dv)
    assert_close(attention.fast_weight_read(summed, keys[:, 0]), values[:, 0] + values[:, 3], **TOL)
    assert retrieval_error(summed, distinct, latest) > 1e-2
