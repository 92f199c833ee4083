"""NTM memory and heads (Graves et al. 2014, section 3): state in, state out.

Each head addresses memory in four stages — content, interpolation, shift,
sharpening — from parameters the controller emits. The write heads address the
previous memory M_{t-1} and write (erase, then add); the read heads then address
and read the new memory M_t.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import addressing as A

MEMORY_INIT = 1e-6
"""Constant initial memory value: converges fastest (Collier & Beel 2018)."""


class NTMState(NamedTuple):
    """The NTM memory between two time steps."""

    memory: Tensor         #: [B, N, W]
    read_weights: Tensor   #: [B, R, N]
    write_weights: Tensor  #: [B, Hw, N]


class HeadParams(NamedTuple):
    """Addressing parameters of a group of H heads, already squashed."""

    key: Tensor       #: [B, H, W]
    strength: Tensor  #: [B, H], oneplus
    gate: Tensor      #: [B, H], sigmoid
    shift: Tensor     #: [B, H, S], softmax over offsets -S//2 .. S//2
    gamma: Tensor     #: [B, H], oneplus (>= 1)


class NTMInfo(NamedTuple):
    """Per-step details for pictures: content weightings and the write's erase/add."""

    read_content: Tensor   #: [B, R, N]
    write_content: Tensor  #: [B, Hw, N]
    erase: Tensor          #: [B, Hw, W]
    add: Tensor            #: [B, Hw, W]


def head_size(word_size: int, shift_width: int) -> int:
    """Parameters per head, W + S + 3: key W, strength 1, gate 1, shift S, gamma 1."""
    return word_size + shift_width + 3


def parse_heads(raw: Tensor, heads: int, word_size: int, shift_width: int) -> HeadParams:
    """Split the controller's raw output for H heads and squash each parameter.

    Each head's W + S + 3 values are, in order: key (kept as it is), strength
    (oneplus), gate (sigmoid), shift (softmax over the S offsets), gamma (oneplus).

    Args:
        raw: [B, H * (W + S + 3)], head after head.
        heads: H.
        word_size: W.
        shift_width: S.

    Returns:
        HeadParams of H heads: key [B, H, W], strength, gate and gamma [B, H],
        shift [B, H, S].
    """
    raw = raw.reshape(raw.shape[0], heads, head_size(word_size, shift_width))
    key, strength, gate, shift, gamma = torch.split(raw, [word_size, 1, 1, shift_width, 1], dim=-1)
    return HeadParams(
        key=key,
        strength=A.oneplus(strength.squeeze(-1)),
        gate=torch.sigmoid(gate.squeeze(-1)),
        shift=F.softmax(shift, dim=-1),
        gamma=A.oneplus(gamma.squeeze(-1)),
    )


def address(memory: Tensor, params: HeadParams, previous: Tensor) -> tuple[Tensor, Tensor]:
    """The NTM addressing of H heads (NTM eqs. 5-9): content, interpolation, shift, sharpening.

    Args:
        memory: [B, N, W], the memory the heads look up.
        params: HeadParams of H heads (`parse_heads`).
        previous: [B, H, N], the heads' weightings of the previous step.

    Returns:
        (weights [B, H, N], content [B, H, N]): the final weightings and the
        content weightings they started from.
    """
    content = A.content_weights(memory, params.key, params.strength)
    gated = A.interpolate(content, previous, params.gate)
    shifted = A.shift(gated, params.shift)
    return A.sharpen(shifted, params.gamma), content


def write_heads(memory: Tensor, weights: Tensor, erase: Tensor, add: Tensor) -> Tensor:
    """Write of H heads (NTM eqs. 3-4): all erases multiply, then all adds sum.

    With one head this is `addressing.write_memory`.

    Args:
        memory: [B, N, W], M_{t-1}.
        weights: [B, H, N], the write weightings.
        erase: [B, H, W] in [0, 1], one erase vector per head.
        add: [B, H, W], one add vector per head.

    Returns:
        [B, N, W], M_t, a new tensor.
    """
    if weights.shape[1] == 1:
        return A.write_memory(memory, weights.squeeze(1), erase.squeeze(1), add.squeeze(1))
    # M_t = M_{t-1} o prod_h (E - w_h e_h^T) + sum_h w_h a_h^T
    keep = torch.prod(1.0 - weights.unsqueeze(-1) * erase.unsqueeze(2), dim=1)  # [B, N, W]
    return memory * keep + torch.bmm(weights.transpose(1, 2), add)


def initial_state(batch_size: int, memory_size: int, word_size: int, read_heads: int,
                  write_heads: int, device=None, dtype=None) -> NTMState:
    """Memory filled with MEMORY_INIT; every head starts focused on slot 0.

    Args:
        batch_size: B.
        memory_size: N.
        word_size: W.
        read_heads: R.
        write_heads: Hw.
        device: of every tensor (None: torch's default).
        dtype: of every tensor (None: torch's default).

    Returns:
        NTMState of memory [B, N, W], read_weights [B, R, N], write_weights [B, Hw, N].
    """
    memory = torch.full((batch_size, memory_size, word_size), MEMORY_INIT, device=device,
                        dtype=dtype)

    def at_slot_zero(heads):
        weights = torch.zeros(batch_size, heads, memory_size, device=device, dtype=dtype)
        weights[:, :, 0] = 1.0
        return weights

    return NTMState(memory, at_slot_zero(read_heads), at_slot_zero(write_heads))


def memory_step(read: HeadParams, write: HeadParams, erase: Tensor, add: Tensor,
                state: NTMState) -> tuple[Tensor, NTMState, NTMInfo]:
    """One NTM memory step: the write heads address M_{t-1} and write; the reads address M_t.

    Args:
        read: HeadParams of R heads.
        write: HeadParams of Hw heads.
        erase: [B, Hw, W] in [0, 1].
        add: [B, Hw, W].
        state: the previous NTMState: memory [B, N, W], read_weights [B, R, N],
            write_weights [B, Hw, N].

    Returns:
        (read_vectors [B, R, W], the new NTMState with the same shapes, NTMInfo of
        read_content [B, R, N], write_content [B, Hw, N], erase and add [B, Hw, W]).
    """
    write_weights, write_content = address(state.memory, write, state.write_weights)
    memory = write_heads(state.memory, write_weights, erase, add)
    read_weights, read_content = address(memory, read, state.read_weights)
    read_vectors = A.read_memory(memory, read_weights)
    info = NTMInfo(read_content, write_content, erase, add)
    return read_vectors, NTMState(memory, read_weights, write_weights), info
