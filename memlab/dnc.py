"""DNC memory access (Graves et al. 2016, Methods): state in, state out.

One time step of the DNC's memory, in the paper's order:

    retention -> usage -> allocation -> write content -> write weighting -> write
    -> link -> precedence -> forward/backward -> read content -> read weighting -> read

Three optional changes of Csordás & Schmidhuber (2019) can be switched on: masked
content look-ups (masking), erasing freed slots (deallocation) and sharpened
forward/backward weightings (link_sharpness). Off, the step is the 2016 one.

The recurrent state is an immutable named tuple per sample of the batch; each
step returns a new one. Nothing is stored on a module, so two training steps in
a row, or two samples of a batch, never share memory.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import addressing as A


class AccessState(NamedTuple):
    """The DNC memory between two time steps: what `access_step` takes and returns.

    Sizes: B batch, N memory_size, W word_size, R read_heads.
    """

    memory: Tensor         #: [B, N, W], M_t
    usage: Tensor          #: [B, N], u_t, in [0, 1]
    link: Tensor           #: [B, N, N], L_t, diagonal zero
    precedence: Tensor     #: [B, N], p_t, sums to at most 1
    read_weights: Tensor   #: [B, R, N], w^{r,i}_t, one weighting per read head
    write_weights: Tensor  #: [B, N], w^w_t


class Interface(NamedTuple):
    """The interface vector xi_t, parsed and squashed into its fields (`interface_table`).

    The ten fields of Graves et al. (2016) in the paper's order, then the masks and link
    sharpnesses of Csordás & Schmidhuber (2019), each None when its option is off.
    `parse_interface` builds one from the controller's output; shapes use B batch,
    W word_size, R read_heads.
    """

    read_keys: Tensor        #: [B, R, W]
    read_strengths: Tensor   #: [B, R], oneplus
    write_key: Tensor        #: [B, W]
    write_strength: Tensor   #: [B], oneplus
    erase: Tensor            #: [B, W], sigmoid
    write_vector: Tensor     #: [B, W]
    free_gates: Tensor       #: [B, R], sigmoid
    allocation_gate: Tensor  #: [B], sigmoid
    write_gate: Tensor       #: [B], sigmoid
    read_modes: Tensor       #: [B, R, 3], softmax over (backward, content, forward)
    read_masks: Tensor | None = None          #: [B, R, W], sigmoid (masking)
    write_mask: Tensor | None = None          #: [B, W], sigmoid (masking)
    forward_sharpness: Tensor | None = None   #: [B, R], oneplus (link_sharpness)
    backward_sharpness: Tensor | None = None  #: [B, R], oneplus (link_sharpness)


IMPROVEMENT_FIELDS = tuple(Interface._field_defaults)
"""The names of the fields that only the options of Csordás & Schmidhuber (2019) add."""


class AccessInfo(NamedTuple):
    """Intermediate weightings of one step, returned for pictures and analysis.

    B batch, N memory_size, R read_heads.
    """

    allocation: Tensor      #: [B, N], a_t
    write_content: Tensor   #: [B, N], c^w_t, the write key's content weighting on M_{t-1}
    read_content: Tensor    #: [B, R, N], c^{r,i}_t, the read keys' content weightings on M_t
    forward: Tensor         #: [B, R, N], sharpened when the interface has forward_sharpness
    backward: Tensor        #: [B, R, N], sharpened when the interface has backward_sharpness


def interface_table(word_size: int, read_heads: int, masking: bool = False,
                    link_sharpness: bool = False) -> list[tuple[str, tuple[int, ...], str]]:
    """The fields of the interface vector, in order: (name, shape per sample, activation).

    The one description of the layout: `interface_fields`, `interface_size`,
    `interface_slices` and `parse_interface` all follow it. First the ten fields of
    Graves et al. (2016) in the paper's order, W*R + 3W + 5R + 3 numbers; then, with
    the options of Csordás & Schmidhuber (2019), the masks (R*W + W) and the link
    sharpnesses (2R). The options only append, so the 2016 layout never moves.

    Args:
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        masking: add read_masks [R, W] and write_mask [W] (sigmoid).
        link_sharpness: add forward_sharpness [R] and backward_sharpness [R] (oneplus).

    Returns:
        A list of (name, shape, activation), activation one of "none", "sigmoid",
        "oneplus", "softmax" (over the last axis of the shape).
    """
    W, R = word_size, read_heads
    table = [
        ("read_keys", (R, W), "none"),
        ("read_strengths", (R,), "oneplus"),
        ("write_key", (W,), "none"),
        ("write_strength", (), "oneplus"),
        ("erase", (W,), "sigmoid"),
        ("write_vector", (W,), "none"),
        ("free_gates", (R,), "sigmoid"),
        ("allocation_gate", (), "sigmoid"),
        ("write_gate", (), "sigmoid"),
        ("read_modes", (R, 3), "softmax"),
    ]
    if masking:
        table += [("read_masks", (R, W), "sigmoid"), ("write_mask", (W,), "sigmoid")]
    if link_sharpness:
        table += [("forward_sharpness", (R,), "oneplus"), ("backward_sharpness", (R,), "oneplus")]
    return table


def interface_fields(word_size: int, read_heads: int, masking: bool = False,
                     link_sharpness: bool = False) -> list[tuple[str, int, str]]:
    """The fields of the interface vector in order: (name, size, activation).

    `interface_table` with each shape replaced by its number of entries; without
    options the sizes add up to W*R + 3W + 5R + 3.

    Args:
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        masking: add the read and write masks.
        link_sharpness: add the forward and backward sharpnesses.

    Returns:
        A list of (name, number of entries per sample, activation).
    """
    return [(name, math.prod(shape), activation) for name, shape, activation
            in interface_table(word_size, read_heads, masking, link_sharpness)]


def interface_size(word_size: int, read_heads: int, masking: bool = False,
                   link_sharpness: bool = False) -> int:
    """Length of the interface vector: W*R + 3W + 5R + 3.

    Plus R*W + W with masking, and 2R with link sharpness.

    Args:
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        masking: count the read and write masks.
        link_sharpness: count the forward and backward sharpnesses.

    Returns:
        The number of entries of xi per sample (the controller's interface output size).
    """
    return sum(size for _, size, _ in
               interface_fields(word_size, read_heads, masking, link_sharpness))


def interface_slices(word_size: int, read_heads: int, masking: bool = False,
                     link_sharpness: bool = False) -> dict[str, slice]:
    """Where each field lies in the interface vector.

    Args:
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        masking: the vector holds the read and write masks.
        link_sharpness: the vector holds the forward and backward sharpnesses.

    Returns:
        A dict from each field's name to its slice of xi's last axis, in the order of
        `interface_table`.
    """
    slices, start = {}, 0
    for name, size, _ in interface_fields(word_size, read_heads, masking, link_sharpness):
        slices[name] = slice(start, start + size)
        start += size
    return slices


# the activation of each kind of field, by the name `interface_table` gives it
_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "none": lambda x: x,
    "oneplus": A.oneplus,                          # strengths: [1, inf)
    "sigmoid": torch.sigmoid,                      # erase, gates and masks: [0, 1]
    "softmax": lambda x: F.softmax(x, dim=-1),     # read modes: a distribution over 3
}


def parse_interface(xi: Tensor, word_size: int, read_heads: int, masking: bool = False,
                    link_sharpness: bool = False) -> Interface:
    """Split the raw interface vector and apply each field's activation (`interface_table`).

    Args:
        xi: [B, interface_size(word_size, read_heads, masking, link_sharpness)].
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        masking: xi holds the read and write masks.
        link_sharpness: xi holds the forward and backward sharpnesses.

    Returns:
        The `Interface`; the fields of an option that is off are None.
    """
    table = interface_table(word_size, read_heads, masking, link_sharpness)
    parts = torch.split(xi, [math.prod(shape) for _, shape, _ in table], dim=-1)
    fields = {name: _ACTIVATIONS[activation](part.reshape(xi.shape[0], *shape))
              for (name, shape, activation), part in zip(table, parts)}
    return Interface(**fields)


def initial_state(batch_size: int, memory_size: int, word_size: int, read_heads: int,
                  device=None, dtype=None) -> AccessState:
    """An empty memory: all zeros (no slot used, no links, no attention).

    Args:
        batch_size: B, the number of samples.
        memory_size: N, the number of memory slots.
        word_size: W, the width of a memory word.
        read_heads: R, the number of read heads.
        device: the device of every tensor (torch's default when None).
        dtype: their dtype (torch's default when None).

    Returns:
        An AccessState of zeros, memory [B, N, W], usage [B, N], link [B, N, N],
        precedence [B, N], read_weights [B, R, N] and write_weights [B, N].
    """
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


def access_step(interface: Interface, state: AccessState,
                deallocation: bool = False) -> tuple[Tensor, AccessState, AccessInfo]:
    """One step of DNC memory access, equations in the paper's order.

    With the changes of Csordás & Schmidhuber (2019), each used when asked for:
    content look-ups through the interface's masks (`write_mask`, `read_masks`), the
    forward and backward weightings sharpened (`forward_sharpness`,
    `backward_sharpness`), and, with ``deallocation``, freed slots erased by the write.
    An `Interface` whose options' fields are None and ``deallocation=False`` give the 2016 DNC.

    Args:
        interface: this step's parsed interface (`parse_interface`), fields [B, ...].
        state: the previous step's AccessState: memory [B, N, W], usage [B, N],
            link [B, N, N], precedence [B, N], read_weights [B, R, N], write_weights [B, N].
        deallocation: erase the content of freed slots: the write acts on
            M_{t-1} o psi_t 1^T instead of M_{t-1}.

    Returns:
        (read_vectors [B, R, W], the new AccessState with the same shapes, AccessInfo of
        this step's allocation [B, N], write_content [B, N], read_content [B, R, N],
        forward [B, R, N] and backward [B, R, N]).
    """
    read_masks, write_mask = interface.read_masks, interface.write_mask
    forward_sharpness = interface.forward_sharpness
    backward_sharpness = interface.backward_sharpness
    # dynamic memory allocation
    psi = A.retention(interface.free_gates, state.read_weights)
    usage = A.update_usage(state.usage, state.write_weights, psi)
    allocation = A.allocation_weights(usage)
    # write (the write content looks up M_{t-1}, before any de-allocation)
    write_content = A.content_weights(
        state.memory, interface.write_key.unsqueeze(1), interface.write_strength.unsqueeze(1),
        mask=None if write_mask is None else write_mask.unsqueeze(1),
    ).squeeze(1)
    write_weights = A.write_weighting(
        allocation, write_content, interface.allocation_gate, interface.write_gate)
    previous = A.deallocate(state.memory, psi) if deallocation else state.memory
    memory = A.write_memory(previous, write_weights, interface.erase, interface.write_vector)
    # temporal memory linkage (the link update uses the previous precedence)
    link = A.update_link(state.link, state.precedence, write_weights)
    precedence = A.update_precedence(state.precedence, write_weights)
    # read: forward and backward are sharpened before the read modes mix them
    forward, backward = A.directional_weights(link, state.read_weights)
    if forward_sharpness is not None:
        forward = A.sharpen_links(forward, forward_sharpness)
    if backward_sharpness is not None:
        backward = A.sharpen_links(backward, backward_sharpness)
    read_content = A.content_weights(memory, interface.read_keys, interface.read_strengths,
                                     mask=read_masks)
    read_weights = A.read_weighting(backward, read_content, forward, interface.read_modes)
    read_vectors = A.read_memory(memory, read_weights)

    new_state = AccessState(memory, usage, link, precedence, read_weights, write_weights)
    info = AccessInfo(allocation, write_content, read_content, forward, backward)
    return read_vectors, new_state, info
