"""Attention and fast weights, written as memory look-ups: one pure batched function each.

Scaled dot-product attention (Vaswani et al. 2017, eq. 1) is a content weighting over N stored
positions, like the DNC's C(M, k, beta) of `memlab.addressing.content_weights`::

    DNC:        C(M, k, beta)[i] = softmax_i(beta k . M[i] / (|k| |M[i]|))
    attention:  a[i]             = softmax_i(q . K[i] / sqrt(D))

Both read the weighted sum of what is stored (r = M^T w). The cosine ignores the lengths that the
dot product keeps (``|q|`` plays the part of beta, a long key K[i] draws more weight); attention
keeps keys and values apart, and stores one position per input where the DNC rewrites N slots.

Linear attention is a fast-weight memory (Schlag, Irie & Schmidhuber 2021): the pairs are summed
into one matrix W of outer products v k^T, read as W q, by the sum rule or by the delta rule,
which first erases what the key retrieves. Keys and queries are used as given: the paper's
feature map phi and its normalisation are the caller's step (the delta rule stores a value
exactly when ``|k| = 1``).

Tensors are batch-first: B batch, N stored positions, H queries (one per head), D key size, Dk
and Dv the key and value sizes of a fast-weight memory. Each function checks its arguments'
shapes once, with a ValueError naming the argument; the equations follow unchecked.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from . import addressing


def _sizes(**arguments: tuple) -> dict:
    """{letter: size} of ``name=(tensor, "B H D")`` arguments, or a ValueError on a mismatch."""
    sizes: dict = {}
    for name, (value, letters) in arguments.items():
        letters = letters.split()
        shape = tuple(value.shape) if isinstance(value, Tensor) else None
        if shape is None or len(shape) != len(letters) \
                or any(sizes.get(letter, n) != n for letter, n in zip(letters, shape)):
            known = ", ".join(f"{letter}={sizes[letter]}" for letter in letters if letter in sizes)
            got = list(shape) if shape is not None else type(value).__name__
            raise ValueError(f"{name} must be a tensor of shape [{', '.join(letters)}]"
                             f"{' with ' + known if known else ''}, got {got}")
        sizes.update(zip(letters, shape))
    return sizes


# --------------------------------------------------------------------- scaled dot-product attention

def _check_mask(mask: Tensor, sizes: dict) -> None:
    """A bool [B, N] or [B, H, N] mask that leaves every query at least one position."""
    B, H, N = sizes["B"], sizes["H"], sizes["N"]
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool \
            or tuple(mask.shape) not in ((B, N), (B, H, N)):
        got = (f"{mask.dtype} {list(mask.shape)}" if isinstance(mask, Tensor)
               else type(mask).__name__)
        raise ValueError(f"mask must be a bool tensor of shape [B, N] = {[B, N]} or "
                         f"[B, H, N] = {[B, H, N]}, got {got}")
    if not bool(mask.any(dim=-1).all()):
        raise ValueError("mask hides every position from some query: its softmax would be 0 / 0")


def dot_product_weights(memory_keys: Tensor, queries: Tensor, mask: Tensor | None = None) -> Tensor:
    """Attention weights a[i] = softmax_i(q . K[i] / sqrt(D))  (Vaswani et al. 2017, eq. 1).

    The paper's softmax(Q K^T / sqrt(d_k)), one row per query, set out like
    `addressing.content_weights`. The fixed sqrt(D) keeps the scores of random vectors near unit
    variance whatever D, where the DNC divides by ``|k| |M[i]|`` and multiplies by beta.

    Args:
        memory_keys: [B, N, D], K: the keys of the N stored positions.
        queries: [B, H, D], q: one query per head.
        mask: None, or bool [B, N] (the same for every query) or [B, H, N]: True where a query
            may look (e.g. a causal mask); every query must see at least one position.

    Returns:
        [B, H, N], each row summing to 1 (0 on masked positions).
    """
    sizes = _sizes(memory_keys=(memory_keys, "B N D"), queries=(queries, "B H D"))
    if mask is not None:
        _check_mask(mask, sizes)
    scores = queries @ memory_keys.transpose(1, 2) / math.sqrt(sizes["D"])  # [B, H, N]
    if mask is not None:
        scores = scores.masked_fill(~(mask if mask.dim() == 3 else mask.unsqueeze(1)), -math.inf)
    return torch.softmax(scores, dim=-1)


def attend(memory_keys: Tensor, memory_values: Tensor, queries: Tensor,
           mask: Tensor | None = None) -> Tensor:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(D)) V  (Vaswani et al. 2017, eq. 1).

    The DNC's read r = M^T w (`addressing.read_memory`) with the values V as the memory.

    Args:
        memory_keys: [B, N, D], K.
        memory_values: [B, N, Dv], V: the value stored with each key.
        queries: [B, H, D], q.
        mask: None, or bool [B, N] or [B, H, N], as in `dot_product_weights`.

    Returns:
        [B, H, Dv], one read vector per query.
    """
    _sizes(memory_keys=(memory_keys, "B N D"), memory_values=(memory_values, "B N Dv"),
           queries=(queries, "B H D"))
    weights = dot_product_weights(memory_keys, queries, mask)
    return addressing.read_memory(memory_values, weights)


# --------------------------------------------------------------------------- fast weights

def sum_rule_update(fast_weights: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """Sum rule W_t = W_{t-1} + v k^T  (Schlag, Irie & Schmidhuber 2021).

    Linear attention without its normaliser: from W = 0, the read W q = sum_j v_j (k_j . q).
    At most Dk (orthogonal) keys are retrieved without crosstalk: the paper's capacity argument.

    Args:
        fast_weights: [B, Dv, Dk], W_{t-1}.
        key: [B, Dk], k.
        value: [B, Dv], v.

    Returns:
        [B, Dv, Dk], W_t: a new tensor.
    """
    _sizes(fast_weights=(fast_weights, "B Dv Dk"), key=(key, "B Dk"), value=(value, "B Dv"))
    return fast_weights + torch.einsum("bv,bk->bvk", value, key)


def delta_rule_update(fast_weights: Tensor, key: Tensor, value: Tensor, beta: Tensor) -> Tensor:
    """Delta rule W_t = W_{t-1} + beta (v - W_{t-1} k) k^T  (Schlag, Irie & Schmidhuber 2021).

    For a unit key, what k retrieved, v_bar = W_{t-1} k, becomes (1 - beta) v_bar + beta v: with
    beta = 1 exactly v, however often k was written. Rearranged, W_t = W_{t-1} (I - beta k k^T)
    + beta v k^T erases along the key, then writes: with M = W^T and a one-hot key k = e_i it is
    the DNC write M_t = M_{t-1} o (E - w e^T) + w v^T with w = beta e_i and e = 1.

    Args:
        fast_weights: [B, Dv, Dk], W_{t-1}.
        key: [B, Dk], k (normalised by the caller: ``|k| = 1`` for an exact write).
        value: [B, Dv], v.
        beta: [B], the writing strength, in [0, 1] in the paper.

    Returns:
        [B, Dv, Dk], W_t: a new tensor.
    """
    _sizes(fast_weights=(fast_weights, "B Dv Dk"), key=(key, "B Dk"), value=(value, "B Dv"),
           beta=(beta, "B"))
    v_bar = torch.einsum("bvk,bk->bv", fast_weights, key)  # what the key retrieves now
    return fast_weights + beta[:, None, None] * torch.einsum("bv,bk->bvk", value - v_bar, key)


def fast_weight_read(fast_weights: Tensor, query: Tensor) -> Tensor:
    """Read y = W q  (Schlag, Irie & Schmidhuber 2021).

    The DNC's read r = M^T w with M = W^T, q a weighting over Dk key directions not summing to 1.

    Args:
        fast_weights: [B, Dv, Dk], W.
        query: [B, Dk], q.

    Returns:
        [B, Dv].
    """
    _sizes(fast_weights=(fast_weights, "B Dv Dk"), query=(query, "B Dk"))
    return torch.einsum("bvk,bk->bv", fast_weights, query)


__all__ = ["dot_product_weights", "attend", "sum_rule_update", "delta_rule_update",
           "fast_weight_read"]
