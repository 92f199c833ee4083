"""The addressing equations of the NTM and the DNC, one pure batched function each.

Every function here is a direct transcription of one equation of
Graves et al. 2014 ("Neural Turing Machines") or Graves et al. 2016
("Hybrid computing using a neural network with dynamic external memory",
Methods); the last section holds the three changes of Csordás & Schmidhuber
2019 ("Improving Differentiable Neural Computers Through Memory Masking,
De-allocation, and Link Distribution Sharpness Control", ICLR). All tensors are
batch-first:

    B batch, N memory_size, W word_size, R read heads, H heads, S shift width.

The functions keep no state and check no shapes: the memories and models that
call them validate their inputs once, at the public boundary.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

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


class _CosineSimilarity(torch.autograd.Function):
    """`cosine_similarity` with its gradient written out: fewer, cheaper passes backward.

    With s = (|k| + eps)(|M[i]| + eps) and D = k . M[i] / s, the gradients are
    dD/dk = M[i] / s - D k / (|k| (|k| + eps)) and, symmetrically,
    dD/dM[i] = k / s - D M[i] / (|M[i]| (|M[i]| + eps)). For an all-zero key or row
    D is 0 and so is the second term, as in autograd's gradient of the norm (the
    denominator is kept at least the smallest normal number, so 0 / 0 never occurs).
    Left to autograd, the norm alone takes three passes over the [B, N, W] memory
    and the dot product hands back a transposed gradient; here the memory's
    gradient is two passes, which saves roughly a tenth of an NTM training step on a CPU.
    """

    @staticmethod
    def forward(ctx, memory: Tensor, keys: Tensor) -> Tensor:
        dot = torch.bmm(keys, memory.transpose(1, 2))                      # [B, H, N]
        key_norm = torch.linalg.vector_norm(keys, dim=-1, keepdim=True)   # [B, H, 1]
        memory_norm = torch.linalg.vector_norm(memory, dim=-1)            # [B, N]
        scale = (key_norm + EPSILON) * (memory_norm.unsqueeze(-2) + EPSILON)
        similarity = dot / scale                                           # [B, H, N]
        ctx.save_for_backward(memory, keys, key_norm, memory_norm, scale, similarity)
        return similarity

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        memory, keys, key_norm, memory_norm, scale, similarity = ctx.saved_tensors
        tiny = torch.finfo(grad.dtype).tiny
        grad_dot = grad / scale       # [B, H, N]
        weighted = grad * similarity  # [B, H, N]
        grad_memory = grad_keys = None
        if ctx.needs_input_grad[0]:
            # -sum_h g D / (|M[i]| (|M[i]| + eps)) for each row i: [B, N]
            row = weighted.sum(dim=-2).div_(
                (memory_norm * (memory_norm + EPSILON)).clamp_min_(tiny))
            scaled = memory * row.neg_().unsqueeze(-1)
            if keys.shape[1] == 1:  # one key: the outer product broadcast, cheaper than a bmm
                grad_memory = torch.addcmul(scaled, grad_dot.transpose(1, 2), keys)
            else:
                grad_memory = torch.baddbmm(scaled, grad_dot.transpose(1, 2), keys)
        if ctx.needs_input_grad[1]:
            # the same for each key: [B, H, 1]
            key = weighted.sum(dim=-1, keepdim=True).div_(
                (key_norm * (key_norm + EPSILON)).clamp_min_(tiny))
            grad_keys = torch.baddbmm(keys * key.neg_(), grad_dot, memory)
        return grad_memory, grad_keys


def cosine_similarity(memory: Tensor, keys: Tensor) -> Tensor:
    """Cosine similarity ``D(k, M[i]) = k . M[i] / (|k| |M[i]|)`` of every key with every slot.

    EPSILON is added to each norm, so an all-zero row or key has similarity 0.
    The dot products come first and the norms divide the small [B, H, N] result,
    so the memory is never rescaled as a whole. The backward pass is written out
    (see `_CosineSimilarity`); it is the gradient autograd would compute.

    Args:
        memory: [B, N, W].
        keys: [B, H, W], one key per head.

    Returns:
        [B, H, N], each value in [-1, 1].
    """
    return _CosineSimilarity.apply(memory, keys)


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

    Computed row by row as M_t[i] = M_{t-1}[i] + w[i] (v - e o M_{t-1}[i]), the same
    sum in two passes over the memory instead of four, with a cheaper backward.

    Args:
        memory: [B, N, W], M_{t-1}.
        write_weights: [B, N], w.
        erase: [B, W] in [0, 1], e.
        write_vector: [B, W], v.

    Returns:
        [B, N, W], M_t: a new tensor, memory is never changed in place.
    """
    change = torch.addcmul(write_vector.unsqueeze(1), memory, erase.unsqueeze(1), value=-1.0)
    return torch.addcmul(memory, write_weights.unsqueeze(-1), change)  # M + w (v - e o M)


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

    One `torch.lerp`, w_{t-1} + g (w^c - w_{t-1}): the same weighting.

    Args:
        content: [B, H, N], w^c.
        previous: [B, H, N], w_{t-1}.
        gate: [B, H] in [0, 1], g.

    Returns:
        [B, H, N], w^g.
    """
    return torch.lerp(previous, content, gate.unsqueeze(-1))


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
    kernel = shift.unsqueeze(-1).unbind(-2)  # s(k) for k = -half .. half, each [B, H, 1]
    shifted = kernel[half] * weights         # k = 0
    for k in range(-half, half + 1):
        if k != 0:  # roll(w, k)[i] = w(i - k): the weighting moved k slots forward
            shifted = torch.addcmul(shifted, kernel[k + half], torch.roll(weights, k, dims=-1))
    return shifted


def sharpen(weights: Tensor, gamma: Tensor) -> Tensor:
    """Sharpening: w(i) = w~(i)^gamma / sum_j w~(j)^gamma  (NTM eq. 9).

    Computed as softmax_i(gamma log w~(i)), the same ratio: the softmax subtracts
    the largest exponent, so a large gamma cannot underflow every w^gamma to zero,
    and it costs fewer operations than powers and a sum. The smallest positive
    normal number is added before the logarithm, so a zero weight stays
    (numerically) zero; in float32 that leaves every weight above 1e-30 as it is,
    and unlike a clamp it costs nothing in the backward pass.

    Args:
        weights: [B, H, N] >= 0, w~.
        gamma: [B, H] >= 1.

    Returns:
        [B, H, N], each row summing to 1.
    """
    tiny = torch.finfo(weights.dtype).tiny
    return torch.softmax(weights.add(tiny).log() * gamma.unsqueeze(-1), dim=-1)


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
    sorted_usage, phi = torch.sort(usage, dim=-1)
    ones = torch.ones_like(sorted_usage[..., :1])
    exclusive_product = torch.cumprod(torch.cat([ones, sorted_usage[..., :-1]], dim=-1), dim=-1)
    sorted_allocation = (1.0 - sorted_usage) * exclusive_product
    return sorted_allocation.scatter(-1, phi, sorted_allocation)


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
    w_i = write_weights.unsqueeze(-1)  # [B, N, 1]
    w_j = write_weights.unsqueeze(-2)  # [B, 1, N]
    new_link = (1.0 - w_i - w_j) * link + w_i * precedence.unsqueeze(-2)
    return new_link - torch.diag_embed(new_link.diagonal(dim1=-2, dim2=-1))  # L_t[i, i] = 0


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
    forward = torch.bmm(read_weights, link.transpose(1, 2))
    backward = torch.bmm(read_weights, link)
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
    """Link distribution sharpness S(d, s)_i = d_i^s / sum_j d_j^s (Csordás & Schmidhuber 2019).

    Applied to the forward f^i = L w^{r,i} and backward b^i = L^T w^{r,i} weightings,
    each head with its own s >= 1, before the read modes mix them. EPSILON is added
    to every d_i (as in the authors' code): an all-zero distribution (no link yet)
    becomes uniform rather than 0/0, and the gradient of log(d + EPSILON) stays
    below 1 / EPSILON. Computed as softmax_i(s log(d_i + EPSILON)), the same ratio,
    whose largest exponent is subtracted, so no power overflows or underflows to an all-zero sum.

    Args:
        weights: [B, R, N] >= 0, a forward or a backward weighting.
        sharpness: [B, R] >= 1 (oneplus), one per read head.

    Returns:
        [B, R, N], each row summing to 1.
    """
    return torch.softmax(sharpness.unsqueeze(-1) * torch.log(weights + EPSILON), dim=-1)


__all__ = [
    "EPSILON", "oneplus", "cosine_similarity", "content_weights", "write_memory",
    "read_memory", "interpolate", "shift", "sharpen", "retention", "update_usage",
    "allocation_weights", "write_weighting", "update_link", "update_precedence",
    "directional_weights", "read_weighting", "masked_cosine_similarity", "deallocate",
    "sharpen_links",
]
