"""The addressing equations of the NTM and the DNC, one pure batched function each.

Every function here is a direct transcription of one equation of
Graves et al. 2014 ("Neural Turing Machines") or Graves et al. 2016
("Hybrid computing using a neural network with dynamic external memory",
Methods); the last section holds the three changes of Csordás & Schmidhuber
2019 ("Improving Differentiable Neural Computers Through Memory Masking,
De-allocation, and Link Distribution Sharpness Control", ICLR). All tensors are
batch-first:

    B batch, N memory_size, W word_size, R read heads, H heads, S shift width.

Each equation is written as the paper writes it, with plain tensor operations,
and autograd computes its gradient (so double backward and torch.func work too).
The functions keep no state and check no shapes: the memories and models that
call them validate their inputs once, at the public boundary.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

EPSILON = 1e-6
"""Added to vector norms so that the cosine of an all-zero row or key is finite (zero), and to
link distributions before they are sharpened, so that an all-zero one stays finite."""


# --------------------------------------------------------------------------- shared

def oneplus(x: Tensor) -> Tensor:
    """The DNC's oneplus, 1 + log(1 + e^x): its map to [1, inf) for strengths.

    Args:
        x: any shape.

    Returns:
        The same shape, every value > 1.
    """
    return 1.0 + F.softplus(x)


def cosine_similarity(memory: Tensor, keys: Tensor) -> Tensor:
    """Cosine similarity D(k, M[i]) of every key with every slot.

    ``D(k, M[i]) = k . M[i] / ((|k| + eps) (|M[i]| + eps))``: EPSILON (eps) is added
    to each norm, so an all-zero row or key has similarity 0.

    Args:
        memory: [B, N, W].
        keys: [B, H, W], one key per head.

    Returns:
        [B, H, N], each value in [-1, 1].
    """
    dot = torch.bmm(keys, memory.transpose(1, 2))                       # k . M[i]: [B, H, N]
    key_norm = torch.linalg.vector_norm(keys, dim=-1, keepdim=True)     # |k|: [B, H, 1]
    memory_norm = torch.linalg.vector_norm(memory, dim=-1).unsqueeze(1)  # |M[i]|: [B, 1, N]
    return dot / ((key_norm + EPSILON) * (memory_norm + EPSILON))


def content_weights(memory: Tensor, keys: Tensor, strengths: Tensor,
                    mask: Tensor | None = None) -> Tensor:
    """Content weighting C(M, k, beta): softmax over slots of beta * cosine(k, M[i]).

    With a mask m, the masked content look-up of Csordás & Schmidhuber (2019):
    C(M, k, beta, m)[i] = softmax_i(beta D(k o m, M[i] o m)), so that only the
    masked part of each word (say, its key) takes part in the comparison.

    Args:
        memory: [B, N, W].
        keys: [B, H, W], one key per head.
        strengths: [B, H], already >= 0 (oneplus is the caller's).
        mask: [B, H, W] in [0, 1], one mask per head, or None for the unmasked
            look-up of Graves et al. (2016).

    Returns:
        [B, H, N], each row summing to 1.
    """
    if mask is None:
        similarity = cosine_similarity(memory, keys)
    else:
        similarity = masked_cosine_similarity(memory, keys, mask)
    return torch.softmax(similarity * strengths.unsqueeze(-1), dim=-1)


def write_memory(memory: Tensor, write_weights: Tensor, erase: Tensor,
                 write_vector: Tensor) -> Tensor:
    """Erase then add: M_t = M_{t-1} o (E - w e^T) + w v^T.

    Args:
        memory: [B, N, W], M_{t-1}.
        write_weights: [B, N], w.
        erase: [B, W] in [0, 1], e.
        write_vector: [B, W], v.

    Returns:
        [B, N, W], M_t: a new tensor, memory is never changed in place.
    """
    w = write_weights.unsqueeze(-1)  # a column, [B, N, 1]
    e, v = erase.unsqueeze(1), write_vector.unsqueeze(1)  # rows, [B, 1, W]
    return memory * (1.0 - w * e) + w * v  # w * e is the outer product w e^T


def read_memory(memory: Tensor, read_weights: Tensor) -> Tensor:
    """Read vectors r^i = M^T w^i.

    Args:
        memory: [B, N, W].
        read_weights: [B, R, N].

    Returns:
        [B, R, W], one read vector per head.
    """
    return torch.bmm(read_weights, memory)


# -------------------------------------------------------------------------- NTM location addressing

def interpolate(content: Tensor, previous: Tensor, gate: Tensor) -> Tensor:
    """Interpolation gate: w^g = g w^c + (1 - g) w_{t-1}  (NTM eq. 7).

    Args:
        content: [B, H, N], w^c.
        previous: [B, H, N], w_{t-1}.
        gate: [B, H] in [0, 1], g.

    Returns:
        [B, H, N], w^g.
    """
    g = gate.unsqueeze(-1)
    return g * content + (1.0 - g) * previous


def shift(weights: Tensor, shift: Tensor) -> Tensor:
    """Circular convolution w~(i) = sum_j w(j) s(i - j), indices mod N  (NTM eq. 8).

    Index S//2 of the shift keeps attention in place; index S//2 + 1 moves it one
    slot forward (from slot j to slot j + 1).

    Args:
        weights: [B, H, N], w.
        shift: [B, H, S] with S odd, s: a distribution over the offsets -S//2 .. S//2.

    Returns:
        [B, H, N], w~.
    """
    half = shift.shape[-1] // 2
    # rolled[..., half + k, i] = w(i - k): the weighting moved k slots forward, k = -half .. half
    rolled = torch.stack([torch.roll(weights, k, dims=-1) for k in range(-half, half + 1)], dim=-2)
    return (shift.unsqueeze(-1) * rolled).sum(dim=-2)  # w~(i) = sum_k s(k) w(i - k)


def sharpen(weights: Tensor, gamma: Tensor) -> Tensor:
    """Sharpening: w(i) = w~(i)^gamma / sum_j w~(j)^gamma  (NTM eq. 9).

    As w~^gamma = exp(gamma log w~), the ratio is a softmax over i of gamma log w~(i).
    The softmax subtracts the largest exponent first, so a large gamma cannot
    underflow every power to zero (in float32, 0.25^200 is 0), and its backward
    costs about a tenth of an NTM training step less than that of a power with a
    tensor exponent. The smallest normal number is added before the logarithm, so
    that a zero weight stays zero with finite gradients.

    Args:
        weights: [B, H, N] >= 0, w~.
        gamma: [B, H] >= 1.

    Returns:
        [B, H, N], each row summing to 1.
    """
    log_weights = torch.log(weights + torch.finfo(weights.dtype).tiny)  # log w~
    return torch.softmax(gamma.unsqueeze(-1) * log_weights, dim=-1)  # w~^gamma / sum_j w~(j)^gamma


# -------------------------------------------------------------------- DNC dynamic memory allocation

def retention(free_gates: Tensor, read_weights: Tensor) -> Tensor:
    """Memory retention psi_t = prod_i (1 - f^i_t w^{r,i}_{t-1})  (DNC eq. 1 of Methods).

    Args:
        free_gates: [B, R] in [0, 1], f^i_t.
        read_weights: [B, R, N], w^{r,i}_{t-1} of the previous step.

    Returns:
        [B, N] in [0, 1], psi_t.
    """
    return torch.prod(1.0 - free_gates.unsqueeze(-1) * read_weights, dim=1)


def update_usage(usage: Tensor, write_weights: Tensor, retention: Tensor) -> Tensor:
    """Usage u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} o w^w_{t-1}) o psi_t.

    Args:
        usage: [B, N] in [0, 1], u_{t-1}.
        write_weights: [B, N], w^w_{t-1} of the previous step.
        retention: [B, N], psi_t (see `retention`).

    Returns:
        [B, N] in [0, 1], u_t.
    """
    return (usage + write_weights - usage * write_weights) * retention


def allocation_weights(usage: Tensor) -> Tensor:
    """Allocation a_t[phi_j] = (1 - u_t[phi_j]) prod_{i<j} u_t[phi_i].

    phi sorts the slots by usage, least used first; the product is exclusive.
    The sort order is treated as a constant for gradients (as in the paper).

    Args:
        usage: [B, N] in [0, 1], u_t.

    Returns:
        [B, N], a_t, summing to at most 1.
    """
    sorted_usage, phi = torch.sort(usage, dim=-1)  # sorted_usage[j] = u_t[phi_j]
    ones = torch.ones_like(sorted_usage[..., :1])
    # prod_{i<j} u_t[phi_i]: the product of the usages before j (1 for j = 1)
    exclusive_product = torch.cumprod(torch.cat([ones, sorted_usage[..., :-1]], dim=-1), dim=-1)
    sorted_allocation = (1.0 - sorted_usage) * exclusive_product  # a_t[phi_j]
    return torch.zeros_like(usage).scatter(-1, phi, sorted_allocation)  # back to slot order


def write_weighting(allocation: Tensor, content: Tensor, allocation_gate: Tensor,
                    write_gate: Tensor) -> Tensor:
    """Write weighting w^w_t = g^w [g^a a_t + (1 - g^a) c^w_t].

    Args:
        allocation: [B, N], a_t.
        content: [B, N], c^w_t, the write content weighting.
        allocation_gate: [B] in [0, 1], g^a.
        write_gate: [B] in [0, 1], g^w.

    Returns:
        [B, N], w^w_t, summing to at most 1.
    """
    g_a = allocation_gate.unsqueeze(-1)
    return write_gate.unsqueeze(-1) * (g_a * allocation + (1.0 - g_a) * content)


# ---------------------------------------------------------------------- DNC temporal memory linkage

def update_link(link: Tensor, precedence: Tensor, write_weights: Tensor) -> Tensor:
    """Temporal link L_t[i,j] = (1 - w[i] - w[j]) L_{t-1}[i,j] + w[i] p_{t-1}[j], L_t[i,i] = 0.

    L[i, j] is how much slot i was written right after slot j.

    Args:
        link: [B, N, N], L_{t-1}.
        precedence: [B, N], p_{t-1} of the previous step.
        write_weights: [B, N], w^w_t of this step.

    Returns:
        [B, N, N], L_t, with a zero diagonal.
    """
    w_i = write_weights.unsqueeze(-1)   # [B, N, 1]
    w_j = write_weights.unsqueeze(-2)   # [B, 1, N]
    p_j = precedence.unsqueeze(-2)      # [B, 1, N]
    off_diagonal = 1.0 - torch.eye(link.shape[-1], dtype=link.dtype, device=link.device)
    return ((1.0 - w_i - w_j) * link + w_i * p_j) * off_diagonal  # L_t[i, i] = 0


def update_precedence(precedence: Tensor, write_weights: Tensor) -> Tensor:
    """Precedence p_t = (1 - sum_i w^w_t[i]) p_{t-1} + w^w_t.

    Args:
        precedence: [B, N], p_{t-1}.
        write_weights: [B, N], w^w_t.

    Returns:
        [B, N], p_t, summing to at most 1.
    """
    return (1.0 - write_weights.sum(dim=-1, keepdim=True)) * precedence + write_weights


def directional_weights(link: Tensor, read_weights: Tensor) -> tuple[Tensor, Tensor]:
    """Forward f^i = L_t w^{r,i}_{t-1} and backward b^i = L_t^T w^{r,i}_{t-1}.

    Args:
        link: [B, N, N], L_t.
        read_weights: [B, R, N], w^{r,i}_{t-1} of the previous step.

    Returns:
        (forward [B, R, N], backward [B, R, N]).
    """
    forward = torch.bmm(read_weights, link.transpose(1, 2))  # f[i] = sum_j L[i, j] w[j]
    backward = torch.bmm(read_weights, link)                 # b[j] = sum_i L[i, j] w[i]
    return forward, backward


def read_weighting(backward: Tensor, content: Tensor, forward: Tensor,
                   read_modes: Tensor) -> Tensor:
    """Read weighting w^{r,i} = pi^i[1] b^i + pi^i[2] c^{r,i} + pi^i[3] f^i.

    Args:
        backward: [B, R, N], b^i.
        content: [B, R, N], c^{r,i}, the read content weightings.
        forward: [B, R, N], f^i.
        read_modes: [B, R, 3], pi^i: a distribution over the modes in the paper's
            order (backward, content, forward).

    Returns:
        [B, R, N], w^{r,i}.
    """
    pi_backward, pi_content, pi_forward = read_modes.unsqueeze(-1).unbind(-2)  # each [B, R, 1]
    return pi_backward * backward + pi_content * content + pi_forward * forward


# ----------------------------------------------------------------------- Csordás & Schmidhuber 2019

def masked_cosine_similarity(memory: Tensor, keys: Tensor, mask: Tensor) -> Tensor:
    """Masked similarity D(k o m, M[i] o m) of every key with every slot.

    Each head h compares its key and every memory word through its own mask m^h
    (both sides masked, as in the paper), with the EPSILON of `cosine_similarity`.

    Args:
        memory: [B, N, W].
        keys: [B, H, W].
        mask: [B, H, W] in [0, 1].

    Returns:
        [B, H, N].
    """
    batch, heads, word = keys.shape
    # fold the heads into the batch: head h sees the memory through its mask m^h
    masked_memory = memory.unsqueeze(1) * mask.unsqueeze(2)  # [B, H, N, W]
    masked_keys = keys * mask
    similarity = cosine_similarity(masked_memory.reshape(batch * heads, -1, word),
                                   masked_keys.reshape(batch * heads, 1, word))
    return similarity.reshape(batch, heads, -1)


def deallocate(memory: Tensor, retention: Tensor) -> Tensor:
    """De-allocation: freed slots are erased, M o psi_t 1^T (Csordás & Schmidhuber 2019).

    The write then acts on the result, giving the paper's
    M_t = (M_{t-1} o psi_t 1^T) o (E - w e^T) + w v^T
    = write_memory(deallocate(M_{t-1}, psi_t), w, e, v). In the 2016 DNC a freed
    slot keeps its content until it is overwritten, so a content look-up can
    still find it.

    Args:
        memory: [B, N, W], M_{t-1}.
        retention: [B, N] in [0, 1], psi_t of this step (see `retention`).

    Returns:
        [B, N, W], a new tensor.
    """
    return memory * retention.unsqueeze(-1)


def sharpen_links(weights: Tensor, sharpness: Tensor) -> Tensor:
    """Link distribution sharpness sharpen(w, gamma)[i] = w[i]^gamma / sum_j w[j]^gamma.

    Csordás & Schmidhuber (2019), applied to the forward f^i = L w^{r,i} and backward
    b^i = L^T w^{r,i} weightings, each head with its own gamma >= 1, before the read modes
    mix them. EPSILON is added to every w[i] (as in the authors' code): an all-zero
    distribution (no link yet) becomes uniform rather than 0/0. As in `sharpen`, the ratio
    is computed as a softmax over i of gamma log(w[i] + EPSILON), so no power underflows to
    an all-zero sum.

    Args:
        weights: [B, R, N] >= 0, a forward or a backward weighting.
        sharpness: [B, R] >= 1 (oneplus), one per read head.

    Returns:
        [B, R, N], each row summing to 1.
    """
    log_weights = torch.log(weights + EPSILON)  # log(w + EPSILON)
    return torch.softmax(sharpness.unsqueeze(-1) * log_weights, dim=-1)  # w^gamma / sum w^gamma


__all__ = [
    "EPSILON", "oneplus", "cosine_similarity", "content_weights", "write_memory",
    "read_memory", "interpolate", "shift", "sharpen", "retention", "update_usage",
    "allocation_weights", "write_weighting", "update_link", "update_precedence",
    "directional_weights", "read_weighting", "masked_cosine_similarity", "deallocate",
    "sharpen_links",
]
