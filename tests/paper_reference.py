"""Slow, loop-based reference implementations of the addressing equations.

Written straight from Graves et al. (2014), "Neural Turing Machines" (arXiv:1410.5401, section 3.3),
and Graves et al. (2016), "Hybrid computing using a neural network with dynamic external memory"
(Nature 538, Methods). Every index, sum and product is an explicit Python loop over one sample at a
time, on Python floats (double precision), so these functions share no code and no vectorisation
with `memlab.addressing`. They are the oracle of `tests/test_addressing.py`; use small inputs only.

Each public function takes and returns batch-first tensors with the same shapes as its namesake in
`memlab.addressing`, and returns float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

Vector = list[float]
Matrix = list[list[float]]


def _floats(x: Tensor) -> list:
    """Nested Python lists of floats (double precision) from a tensor."""
    return x.detach().to(device="cpu", dtype=torch.float64).tolist()


def _tensor(values: Sequence) -> Tensor:
    return torch.tensor(values, dtype=torch.float64)


# --- shared pieces ----------------------------------------------------------------------------


def softplus(x: float) -> float:
    """log(1 + e^x), written as max(x, 0) + log(1 + e^{-|x|}) so that it never overflows."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def oneplus(x: Tensor) -> Tensor:
    """The paper's oneplus, 1 + log(1 + e^x), elementwise, on a tensor of any shape."""
    flat = _floats(x.reshape(-1))
    out = [1.0 + softplus(v) for v in flat]
    return _tensor(out).reshape(x.shape)


def cosine_similarity(u: Vector, v: Vector, eps: float) -> float:
    """D(u, v) = u·v / ((|u| + eps)(|v| + eps)): a small eps added to each norm keeps an all-zero
    row or key finite, with similarity 0.
    """
    dot = 0.0
    norm_u_sq = 0.0
    norm_v_sq = 0.0
    for w in range(len(u)):
        dot += u[w] * v[w]
        norm_u_sq += u[w] * u[w]
        norm_v_sq += v[w] * v[w]
    return dot / ((math.sqrt(norm_u_sq) + eps) * (math.sqrt(norm_v_sq) + eps))


def content_weighting_sample(memory: Matrix, key: Vector, strength: float, eps: float) -> Vector:
    """C(M, k, β)[i] = exp(β D(k, M[i])) / Σ_j exp(β D(k, M[j]))."""
    n_slots = len(memory)
    scores = [strength * cosine_similarity(key, memory[i], eps) for i in range(n_slots)]
    top = max(scores)  # subtracting a constant leaves the ratio unchanged
    numerators = [math.exp(scores[i] - top) for i in range(n_slots)]
    total = 0.0
    for i in range(n_slots):
        total += numerators[i]
    return [numerators[i] / total for i in range(n_slots)]


def content_weights(memory: Tensor, keys: Tensor, strengths: Tensor, eps: float = 1e-6) -> Tensor:
    """memory [B, N, W], keys [B, H, W], strengths [B, H] -> [B, H, N]."""
    mem, k, beta = _floats(memory), _floats(keys), _floats(strengths)
    out = []
    for b in range(len(mem)):
        out.append([content_weighting_sample(mem[b], k[b][h], beta[b][h], eps)
                    for h in range(len(k[b]))])
    return _tensor(out).reshape(keys.shape[0], keys.shape[1], memory.shape[1])


# --- NTM location addressing (Graves et al. 2014, eqs. 7-9) -------------------------------------


def interpolate(content: Tensor, previous: Tensor, gate: Tensor) -> Tensor:
    """w^g = g w^c + (1 - g) w_{t-1}.  content, previous [B, H, N], gate [B, H] -> [B, H, N]."""
    c, p, g = _floats(content), _floats(previous), _floats(gate)
    out = []
    for b in range(len(c)):
        heads = []
        for h in range(len(c[b])):
            heads.append([g[b][h] * c[b][h][i] + (1.0 - g[b][h]) * p[b][h][i]
                          for i in range(len(c[b][h]))])
        out.append(heads)
    return _tensor(out).reshape(content.shape)


def shift_sample(weights: Vector, shift: Vector) -> Vector:
    """w̃(i) = Σ_j w(j) s(i - j), indices mod N.

    `shift` holds s over the offsets -(S//2), ..., 0, ..., +(S//2): entry m is offset m - S//2.
    s(i - j) is the total mass that s puts on offsets congruent to i - j modulo N (when S > N,
    several offsets land on the same slot).
    """
    n_slots = len(weights)
    half = len(shift) // 2
    out = []
    for i in range(n_slots):
        total = 0.0
        for j in range(n_slots):
            s_i_minus_j = 0.0
            for m in range(len(shift)):
                offset = m - half
                if (offset - (i - j)) % n_slots == 0:
                    s_i_minus_j += shift[m]
            total += weights[j] * s_i_minus_j
        out.append(total)
    return out


def shift(weights: Tensor, shift: Tensor) -> Tensor:
    """weights [B, H, N], shift [B, H, S] -> [B, H, N]."""
    w, s = _floats(weights), _floats(shift)
    out = [[shift_sample(w[b][h], s[b][h]) for h in range(len(w[b]))] for b in range(len(w))]
    return _tensor(out).reshape(weights.shape)


def sharpen(weights: Tensor, gamma: Tensor) -> Tensor:
    """w(i) = w̃(i)^γ / Σ_j w̃(j)^γ.  weights [B, H, N], gamma [B, H] -> [B, H, N]."""
    w, g = _floats(weights), _floats(gamma)
    out = []
    for b in range(len(w)):
        heads = []
        for h in range(len(w[b])):
            powered = [w[b][h][i] ** g[b][h] for i in range(len(w[b][h]))]
            total = 0.0
            for value in powered:
                total += value
            heads.append([value / total for value in powered])
        out.append(heads)
    return _tensor(out).reshape(weights.shape)


# --- DNC dynamic memory allocation (Graves et al. 2016, Methods) ---------------------------------


def retention(free_gates: Tensor, read_weights: Tensor) -> Tensor:
    """ψ[n] = Π_i (1 - f^i w^{r,i}[n]).  free_gates [B, R], read_weights [B, R, N] -> [B, N]."""
    f, w = _floats(free_gates), _floats(read_weights)
    out = []
    for b in range(len(w)):
        n_slots = len(w[b][0])
        psi = []
        for n in range(n_slots):
            product = 1.0
            for i in range(len(w[b])):
                product *= 1.0 - f[b][i] * w[b][i][n]
            psi.append(product)
        out.append(psi)
    return _tensor(out).reshape(read_weights.shape[0], read_weights.shape[2])


def update_usage(usage: Tensor, write_weights: Tensor, retention: Tensor) -> Tensor:
    """u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} ∘ w^w_{t-1}) ∘ ψ_t.  All [B, N]."""
    u, w, psi = _floats(usage), _floats(write_weights), _floats(retention)
    out = []
    for b in range(len(u)):
        out.append([(u[b][n] + w[b][n] - u[b][n] * w[b][n]) * psi[b][n] for n in range(len(u[b]))])
    return _tensor(out).reshape(usage.shape)


def allocation_sample(usage: Vector) -> Vector:
    """a[φ_j] = (1 - u[φ_j]) Π_{i<j} u[φ_i], φ the slots sorted by usage, least used first."""
    n_slots = len(usage)
    free_list = sorted(range(n_slots), key=lambda n: usage[n])  # φ
    allocation = [0.0] * n_slots
    running_product = 1.0  # Π_{i<j} u[φ_i]; the empty product is 1
    for j in range(n_slots):
        slot = free_list[j]
        allocation[slot] = (1.0 - usage[slot]) * running_product
        running_product *= usage[slot]
    return allocation


def allocation_weights(usage: Tensor) -> Tensor:
    """usage [B, N] -> allocation [B, N]."""
    u = _floats(usage)
    return _tensor([allocation_sample(u[b]) for b in range(len(u))]).reshape(usage.shape)


def write_weighting(allocation: Tensor, content: Tensor, allocation_gate: Tensor,
                    write_gate: Tensor) -> Tensor:
    """w^w = g^w [g^a a + (1 - g^a) c^w].  allocation, content [B, N], gates [B] -> [B, N]."""
    a, c = _floats(allocation), _floats(content)
    ga, gw = _floats(allocation_gate), _floats(write_gate)
    out = []
    for b in range(len(a)):
        out.append([gw[b] * (ga[b] * a[b][n] + (1.0 - ga[b]) * c[b][n]) for n in range(len(a[b]))])
    return _tensor(out).reshape(allocation.shape)


# --- DNC write and read --------------------------------------------------------------------------


def write_memory(memory: Tensor, write_weights: Tensor, erase: Tensor,
                 write_vector: Tensor) -> Tensor:
    """M_t[n, w] = M_{t-1}[n, w] (1 - w^w[n] e[w]) + w^w[n] v[w].

    memory [B, N, W], write_weights [B, N], erase [B, W], write_vector [B, W] -> [B, N, W].
    """
    m, ww = _floats(memory), _floats(write_weights)
    e, v = _floats(erase), _floats(write_vector)
    out = []
    for b in range(len(m)):
        rows = []
        for n in range(len(m[b])):
            rows.append([m[b][n][w] * (1.0 - ww[b][n] * e[b][w]) + ww[b][n] * v[b][w]
                         for w in range(len(m[b][n]))])
        out.append(rows)
    return _tensor(out).reshape(memory.shape)


def read_memory(memory: Tensor, read_weights: Tensor) -> Tensor:
    """r^i[w] = Σ_n M[n, w] w^{r,i}[n].  memory [B, N, W], read_weights [B, R, N] -> [B, R, W]."""
    m, wr = _floats(memory), _floats(read_weights)
    out = []
    for b in range(len(m)):
        heads = []
        for i in range(len(wr[b])):
            vector = []
            for w in range(memory.shape[2]):
                total = 0.0
                for n in range(len(m[b])):
                    total += m[b][n][w] * wr[b][i][n]
                vector.append(total)
            heads.append(vector)
        out.append(heads)
    return _tensor(out).reshape(memory.shape[0], read_weights.shape[1], memory.shape[2])


# --- DNC temporal memory linkage -----------------------------------------------------------------


def update_link(link: Tensor, precedence: Tensor, write_weights: Tensor) -> Tensor:
    """L_t[i, j] = (1 - w[i] - w[j]) L_{t-1}[i, j] + w[i] p_{t-1}[j];  L_t[i, i] = 0.

    link [B, N, N], precedence [B, N] (the previous step's), write_weights [B, N] -> [B, N, N].
    """
    L, p, w = _floats(link), _floats(precedence), _floats(write_weights)
    out = []
    for b in range(len(L)):
        n_slots = len(w[b])
        rows = []
        for i in range(n_slots):
            row = []
            for j in range(n_slots):
                if i == j:
                    row.append(0.0)
                else:
                    row.append((1.0 - w[b][i] - w[b][j]) * L[b][i][j] + w[b][i] * p[b][j])
            rows.append(row)
        out.append(rows)
    return _tensor(out).reshape(link.shape)


def update_precedence(precedence: Tensor, write_weights: Tensor) -> Tensor:
    """p_t = (1 - Σ_i w[i]) p_{t-1} + w.  Both [B, N]."""
    p, w = _floats(precedence), _floats(write_weights)
    out = []
    for b in range(len(p)):
        written = 0.0
        for i in range(len(w[b])):
            written += w[b][i]
        out.append([(1.0 - written) * p[b][n] + w[b][n] for n in range(len(p[b]))])
    return _tensor(out).reshape(precedence.shape)


def directional_weights(link: Tensor, read_weights: Tensor) -> tuple[Tensor, Tensor]:
    """forward f[i] = Σ_j L[i, j] w[j];  backward b[j] = Σ_i L[i, j] w[i].

    link [B, N, N], read_weights [B, R, N] -> (forward [B, R, N], backward [B, R, N]).
    """
    L, wr = _floats(link), _floats(read_weights)
    forward, backward = [], []
    for b in range(len(L)):
        n_slots = len(L[b])
        fwd_heads, bwd_heads = [], []
        for r in range(len(wr[b])):
            fwd = [0.0] * n_slots
            bwd = [0.0] * n_slots
            for i in range(n_slots):
                for j in range(n_slots):
                    fwd[i] += L[b][i][j] * wr[b][r][j]
                    bwd[j] += L[b][i][j] * wr[b][r][i]
            fwd_heads.append(fwd)
            bwd_heads.append(bwd)
        forward.append(fwd_heads)
        backward.append(bwd_heads)
    shape = read_weights.shape
    return _tensor(forward).reshape(shape), _tensor(backward).reshape(shape)


def read_weighting(backward: Tensor, content: Tensor, forward: Tensor,
                   read_modes: Tensor) -> Tensor:
    """w^{r,i} = π^i[1] b^i + π^i[2] c^{r,i} + π^i[3] f^i (modes: backward, content, forward).

    backward, content, forward [B, R, N], read_modes [B, R, 3] -> [B, R, N].
    """
    bw, c, fw, pi = _floats(backward), _floats(content), _floats(forward), _floats(read_modes)
    out = []
    for b in range(len(c)):
        heads = []
        for r in range(len(c[b])):
            weights = []
            for n in range(len(c[b][r])):
                weights.append(pi[b][r][0] * bw[b][r][n] + pi[b][r][1] * c[b][r][n]
                               + pi[b][r][2] * fw[b][r][n])
            heads.append(weights)
        out.append(heads)
    return _tensor(out).reshape(content.shape)


# --- Csordás & Schmidhuber (2019), "Improving Differentiable Neural Computers Through Memory
# --- Masking, De-allocation, and Link Distribution Sharpness Control" (ICLR) ----------------------


def masked_content_weights(memory: Tensor, keys: Tensor, strengths: Tensor, mask: Tensor,
                           eps: float = 1e-6) -> Tensor:
    """C(M, k, β, m)[i] = exp(β D(k ∘ m, M[i] ∘ m)) / Σ_j exp(β D(k ∘ m, M[j] ∘ m)).

    memory [B, N, W], keys [B, H, W], strengths [B, H], mask [B, H, W] (one mask per head)
    -> [B, H, N].
    """
    mem, k, beta, m = _floats(memory), _floats(keys), _floats(strengths), _floats(mask)
    out = []
    for b in range(len(mem)):
        heads = []
        for h in range(len(k[b])):
            n_words = len(k[b][h])
            masked_key = [k[b][h][w] * m[b][h][w] for w in range(n_words)]
            masked_memory = [[row[w] * m[b][h][w] for w in range(n_words)] for row in mem[b]]
            heads.append(content_weighting_sample(masked_memory, masked_key, beta[b][h], eps))
        out.append(heads)
    return _tensor(out).reshape(keys.shape[0], keys.shape[1], memory.shape[1])


def deallocate(memory: Tensor, retention: Tensor) -> Tensor:
    """M[n, w] ψ[n]: a freed slot (ψ[n] = 0) is emptied.

    memory [B, N, W], retention [B, N] -> [B, N, W].
    """
    m, psi = _floats(memory), _floats(retention)
    out = []
    for b in range(len(m)):
        out.append([[m[b][n][w] * psi[b][n] for w in range(len(m[b][n]))]
                    for n in range(len(m[b]))])
    return _tensor(out).reshape(memory.shape)


def deallocating_write(memory: Tensor, retention: Tensor, write_weights: Tensor, erase: Tensor,
                       write_vector: Tensor) -> Tensor:
    """The paper's write with de-allocation, in one equation:
    M_t[n, w] = M_{t-1}[n, w] ψ[n] (1 - w^w[n] e[w]) + w^w[n] v[w].

    memory [B, N, W], retention [B, N], write_weights [B, N], erase [B, W], write_vector [B, W]
    -> [B, N, W].
    """
    m, psi, ww = _floats(memory), _floats(retention), _floats(write_weights)
    e, v = _floats(erase), _floats(write_vector)
    out = []
    for b in range(len(m)):
        rows = []
        for n in range(len(m[b])):
            rows.append([m[b][n][w] * psi[b][n] * (1.0 - ww[b][n] * e[b][w]) + ww[b][n] * v[b][w]
                         for w in range(len(m[b][n]))])
        out.append(rows)
    return _tensor(out).reshape(memory.shape)


def sharpen_links(weights: Tensor, sharpness: Tensor, eps: float = 1e-6) -> Tensor:
    """S(d, s)[i] = (d[i] + eps)^s / Σ_j (d[j] + eps)^s.

    weights [B, R, N], sharpness [B, R] -> [B, R, N]. eps: the small constant added to every
    entry (memlab's EPSILON) so that an all-zero d is defined.
    """
    d, s = _floats(weights), _floats(sharpness)
    out = []
    for b in range(len(d)):
        heads = []
        for r in range(len(d[b])):
            powered = [(d[b][r][i] + eps) ** s[b][r] for i in range(len(d[b][r]))]
            total = 0.0
            for value in powered:
                total += value
            heads.append([value / total for value in powered])
        out.append(heads)
    return _tensor(out).reshape(weights.shape)


# --- NTM addressing and writing, composed --------------------------------------------------------


def ntm_address(memory: Tensor, key: Tensor, strength: Tensor, gate: Tensor, shift_weights: Tensor,
                gamma: Tensor, previous: Tensor) -> tuple[Tensor, Tensor]:
    """The NTM's addressing, equations (5)-(9) in order: content, interpolation, shift, sharpening.

    memory [B, N, W], key [B, H, W], strength/gate/gamma [B, H], shift_weights [B, H, S],
    previous [B, H, N] -> (weights [B, H, N], content [B, H, N]).
    """
    content = content_weights(memory, key, strength)
    gated = interpolate(content, previous, gate)
    return sharpen(shift(gated, shift_weights), gamma), content


def ntm_write(memory: Tensor, weights: Tensor, erase: Tensor, add: Tensor) -> Tensor:
    """Equations (3)-(4) with several write heads: every erase multiplies, then every add sums.

    M_t[n, w] = M_{t-1}[n, w] Π_h (1 - w_h[n] e_h[w]) + Σ_h w_h[n] a_h[w].
    memory [B, N, W], weights [B, H, N], erase and add [B, H, W] -> [B, N, W].
    """
    m, wt, e, a = _floats(memory), _floats(weights), _floats(erase), _floats(add)
    out = []
    for b in range(len(m)):
        rows = []
        for n in range(len(m[b])):
            row = []
            for w in range(len(m[b][n])):
                kept = m[b][n][w]
                for h in range(len(wt[b])):
                    kept *= 1.0 - wt[b][h][n] * e[b][h][w]
                row.append(kept + sum(wt[b][h][n] * a[b][h][w] for h in range(len(wt[b]))))
            rows.append(row)
        out.append(rows)
    return _tensor(out).reshape(memory.shape)
