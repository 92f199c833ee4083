"""DNC memory access (Graves et al. 2016, Methods): state in, state out.

One time step of the DNC's memory, in the paper's order:

    retention -> usage -> allocation -> write content -> write weighting -> write
    -> link -> precedence -> forward/backward -> read content -> read weighting -> read

The recurrent state is an immutable named tuple per sample of the batch; each
step returns a new one. Nothing is stored on a module, so two training steps in
a row, or two samples of a batch, never share memory.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import addressing as A


class AccessState(NamedTuple):
    """The DNC memory between two time steps."""

    memory: Tensor         # [B, N, W]
    usage: Tensor          # [B, N], in [0, 1]
    link: Tensor           # [B, N, N], diagonal zero
    precedence: Tensor     # [B, N], sums to at most 1
    read_weights: Tensor   # [B, R, N]
    write_weights: Tensor  # [B, N]


class Interface(NamedTuple):
    """The interface vector xi_t, parsed and squashed into its fields."""

    read_keys: Tensor        # [B, R, W]
    read_strengths: Tensor   # [B, R], oneplus
    write_key: Tensor        # [B, W]
    write_strength: Tensor   # [B], oneplus
    erase: Tensor            # [B, W], sigmoid
    write_vector: Tensor     # [B, W]
    free_gates: Tensor       # [B, R], sigmoid
    allocation_gate: Tensor  # [B], sigmoid
    write_gate: Tensor       # [B], sigmoid
    read_modes: Tensor       # [B, R, 3], softmax over (backward, content, forward)


class AccessInfo(NamedTuple):
    """Intermediate weightings of one step, returned for pictures and analysis."""

    allocation: Tensor      # [B, N]
    write_content: Tensor   # [B, N]
    read_content: Tensor    # [B, R, N]
    forward: Tensor         # [B, R, N]
    backward: Tensor        # [B, R, N]


def interface_fields(word_size: int, read_heads: int) -> list[tuple[str, int, str]]:
    """The fields of the interface vector in the paper's order: (name, size, activation).

    The sizes add up to W*R + 3W + 5R + 3.
    """
    W, R = word_size, read_heads
    return [
        ("read_keys", R * W, "none"),
        ("read_strengths", R, "oneplus"),
        ("write_key", W, "none"),
        ("write_strength", 1, "oneplus"),
        ("erase", W, "sigmoid"),
        ("write_vector", W, "none"),
        ("free_gates", R, "sigmoid"),
        ("allocation_gate", 1, "sigmoid"),
        ("write_gate", 1, "sigmoid"),
        ("read_modes", 3 * R, "softmax"),
    ]


def interface_size(word_size: int, read_heads: int) -> int:
    """Length of the interface vector: W*R + 3W + 5R + 3."""
    return word_size * read_heads + 3 * word_size + 5 * read_heads + 3


def interface_slices(word_size: int, read_heads: int) -> dict[str, slice]:
    """Where each field lies in the interface vector."""
    slices, start = {}, 0
    for name, size, _ in interface_fields(word_size, read_heads):
        slices[name] = slice(start, start + size)
        start += size
    return slices


def parse_interface(xi: Tensor, word_size: int, read_heads: int) -> Interface:
    """Split the raw interface vector and apply each field's activation.

    xi: [B, W*R + 3W + 5R + 3] -> Interface (shapes in its definition).
    """
    W, R = word_size, read_heads
    # free gates, allocation gate and write gate lie side by side: one sigmoid for all three
    (read_keys, read_strengths, write_key, write_strength, erase, write_vector,
     gates, read_modes) = torch.split(xi, [R * W, R, W, 1, W, W, R + 2, 3 * R], dim=-1)
    gates = torch.sigmoid(gates)
    batch = xi.shape[0]
    return Interface(
        read_keys=read_keys.reshape(batch, R, W),
        read_strengths=A.oneplus(read_strengths),
        write_key=write_key,
        write_strength=A.oneplus(write_strength).squeeze(-1),
        erase=torch.sigmoid(erase),
        write_vector=write_vector,
        free_gates=gates[:, :R],
        allocation_gate=gates[:, R],
        write_gate=gates[:, R + 1],
        read_modes=F.softmax(read_modes.reshape(batch, R, 3), dim=-1),
    )


def initial_state(batch_size: int, memory_size: int, word_size: int, read_heads: int,
                  device=None, dtype=None) -> AccessState:
    """An empty memory: all zeros (no slot used, no links, no attention)."""
    def zeros(*shape):
        return torch.zeros(batch_size, *shape, device=device, dtype=dtype)

    return AccessState(
        memory=zeros(memory_size, word_size),
        usage=zeros(memory_size),
        link=zeros(memory_size, memory_size),
        precedence=zeros(memory_size),
        read_weights=zeros(read_heads, memory_size),
        write_weights=zeros(memory_size),
    )


def access_step(interface: Interface, state: AccessState) -> tuple[Tensor, AccessState, AccessInfo]:
    """One step of DNC memory access, equations in the paper's order.

    interface: this step's parsed interface; state: the previous step's AccessState
    -> (read_vectors [B, R, W], new AccessState, AccessInfo).
    """
    # dynamic memory allocation
    psi = A.retention(interface.free_gates, state.read_weights)
    usage = A.update_usage(state.usage, state.write_weights, psi)
    allocation = A.allocation_weights(usage)
    # write
    write_content = A.content_weights(
        state.memory, interface.write_key.unsqueeze(1), interface.write_strength.unsqueeze(1)
    ).squeeze(1)
    write_weights = A.write_weighting(
        allocation, write_content, interface.allocation_gate, interface.write_gate)
    memory = A.write_memory(state.memory, write_weights, interface.erase, interface.write_vector)
    # temporal memory linkage (the link update uses the previous precedence)
    link = A.update_link(state.link, state.precedence, write_weights)
    precedence = A.update_precedence(state.precedence, write_weights)
    # read
    forward, backward = A.directional_weights(link, state.read_weights)
    read_content = A.content_weights(memory, interface.read_keys, interface.read_strengths)
    read_weights = A.read_weighting(backward, read_content, forward, interface.read_modes)
    read_vectors = A.read_memory(memory, read_weights)

    new_state = AccessState(memory, usage, link, precedence, read_weights, write_weights)
    info = AccessInfo(allocation, write_content, read_content, forward, backward)
    return read_vectors, new_state, info
