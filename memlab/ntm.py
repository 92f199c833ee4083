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
    """Parameters per head: key W, strength 1, gate 1, shift S, gamma 1."""
    return word_size + shift_width + 3


def parse_heads(raw: Tensor, heads: int, word_size: int, shift_width: int) -> HeadParams:
    """raw: [B, H * (W + S + 3)] -> HeadParams of H heads."""
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
    """The NTM addressing pipeline for H heads (NTM eqs. 5-9).

    memory: [B, N, W]; previous: [B, H, N] -> (weights [B, H, N], content [B, H, N]).
    """
    content = A.content_weights(memory, params.key, params.strength)
    gated = A.interpolate(content, previous, params.gate)
    shifted = A.shift(gated, params.shift)
    return A.sharpen(shifted, params.gamma), content


def write_heads(memory: Tensor, weights: Tensor, erase: Tensor, add: Tensor) -> Tensor:
    """Write of H heads (NTM eqs. 3-4): all erases multiply, then all adds sum.

    memory: [B, N, W]; weights: [B, H, N]; erase: [B, H, W] in [0, 1]; add: [B, H, W]
    -> [B, N, W]. With one head this is `addressing.write_memory`.
    """
    if weights.shape[1] == 1:
        return A.write_memory(memory, weights[:, 0], erase[:, 0], add[:, 0])
    keep = torch.prod(1.0 - weights.unsqueeze(-1) * erase.unsqueeze(2), dim=1)  # [B, N, W]
    return memory * keep + torch.bmm(weights.transpose(1, 2), add)


def initial_state(batch_size: int, memory_size: int, word_size: int, read_heads: int,
                  write_heads: int, device=None, dtype=None) -> NTMState:
    """Memory filled with MEMORY_INIT; every head starts focused on slot 0."""
    memory = torch.full((batch_size, memory_size, word_size), MEMORY_INIT, device=device, dtype=dtype)

    def at_slot_zero(heads):
        weights = torch.zeros(batch_size, heads, memory_size, device=device, dtype=dtype)
        weights[:, :, 0] = 1.0
        return weights

    return NTMState(memory, at_slot_zero(read_heads), at_slot_zero(write_heads))


def memory_step(read: HeadParams, write: HeadParams, erase: Tensor, add: Tensor,
                state: NTMState) -> tuple[Tensor, NTMState, NTMInfo]:
    """One NTM memory step: address and write with the write heads, then address and read.

    read: HeadParams of R heads; write: HeadParams of Hw heads; erase, add: [B, Hw, W]
    -> (read_vectors [B, R, W], new NTMState, NTMInfo).
    """
    write_weights, write_content = address(state.memory, write, state.write_weights)
    memory = write_heads(state.memory, write_weights, erase, add)
    read_weights, read_content = address(memory, read, state.read_weights)
    read_vectors = A.read_memory(memory, read_weights)
    info = NTMInfo(read_content, write_content, erase, add)
    return read_vectors, NTMState(memory, read_weights, write_weights), info
