"""Reading a trained DNC: summaries of its traces (chapter 7).

The functions take the tensors of a trace (``model(x, return_trace=True)``) and
reduce them to numbers a reader can compare::

    read_mode_usage(trace.read_modes, batch.mask)  # [R, 3]: mean (backward, content, forward)
    link_chain(trace.link[0, t], start, length)    # slots in the order they were written
"""
from __future__ import annotations

from torch import Tensor

from memlab.validation import integer


def _check_index(name: str, value, minimum: int, maximum: int | None = None) -> int:
    """value as an int in [minimum, maximum), else ValueError naming the argument."""
    return integer(name, value, minimum, None if maximum is None else maximum - 1)


def read_mode_usage(read_modes: Tensor, mask: Tensor) -> Tensor:
    """Mean read mode of each read head over the counted steps, all samples pooled.

    Every counted step of every sample weighs the same, so a longer sequence
    contributes more steps than a short one.

    Args:
        read_modes: [B, T, R, 3], each [b, t, r] a distribution over the modes in the
            paper's order (backward, content, forward), e.g. ``trace.read_modes``.
        mask: [B, T], 1 on the steps to count and 0 elsewhere (a task's ``Batch.mask``
            counts the output phase; use ``torch.ones(B, T)`` for every step).

    Returns:
        [R, 3], row r head r's mean (backward, content, forward) weight, summing to 1.
    """
    if not isinstance(read_modes, Tensor) or read_modes.dim() != 4 or read_modes.shape[-1] != 3:
        shape = (tuple(read_modes.shape) if isinstance(read_modes, Tensor)
                 else type(read_modes).__name__)
        raise ValueError(f"read_modes must be a tensor of shape [B, T, R, 3], got {shape}")
    B, T = read_modes.shape[:2]
    if not isinstance(mask, Tensor) or tuple(mask.shape) != (B, T):
        shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise ValueError(f"mask must be a tensor of shape [B, T] = {(B, T)}, got {shape}")
    weights = mask.to(read_modes.dtype)
    counted = weights.sum()
    if counted <= 0:
        raise ValueError("mask must select at least one step (it is all zeros)")
    total = (read_modes * weights[:, :, None, None]).sum(dim=(0, 1))  # [R, 3]
    return total / counted


def link_chain(link: Tensor, start: int, length: int) -> list[int]:
    """Follow the forward links of a temporal link matrix from slot ``start``.

    The slot written after slot j is argmax_i L[i, j]. A column of zeros (a slot
    never followed by a write) leads to slot 0, the first maximum, like torch.argmax.

    Args:
        link: [N, N], L[i, j] = how much slot i was written right after slot j (as
            memlab.addressing.update_link defines it), e.g. ``trace.link[0, t]``.
        start: the first slot, in [0, N).
        length: how many slots to list, >= 1.

    Returns:
        A list of ``length`` slot indices (plain ints) beginning with ``start``; for a
        memory written in sequence, the order of the writes.
    """
    if not isinstance(link, Tensor) or link.dim() != 2 or link.shape[0] != link.shape[1]:
        shape = tuple(link.shape) if isinstance(link, Tensor) else type(link).__name__
        raise ValueError(f"link must be a square tensor of shape [N, N], got {shape}")
    N = link.shape[0]
    current = _check_index("start", start, 0, N)
    length = _check_index("length", length, 1)
    successor = link.detach().argmax(dim=0).tolist()  # successor[j] = argmax_i L[i, j]
    chain = [current]
    for _ in range(length - 1):
        current = successor[current]
        chain.append(current)
    return chain


def read_sources(read_weights: Tensor, write_weights: Tensor) -> Tensor:
    """Which write each read looks at: the step whose write weighting overlaps the read most.

    The overlap of read weighting r and the write weighting w_t of step t is sum_i r[i] w_t[i]:
    how much of what the read returns was written at step t (while no later write covered the
    same slots, as in a graph's description phase).

    Args:
        read_weights: [..., R, N], e.g. one sample's reads at every step,
            ``trace.read_weights[b]``.
        write_weights: [T, N], the write weightings of T steps, e.g. those of a graph's
            description, ``trace.write_weights[b, :E]``.

    Returns:
        [..., R], long, for each read the step t in [0, T) it overlaps most.
    """
    if read_weights.dim() < 1 or write_weights.dim() != 2 \
            or read_weights.shape[-1] != write_weights.shape[-1]:
        raise ValueError(
            f"read_weights must be [..., R, N] and write_weights [T, N] with the same N, got "
            f"{tuple(read_weights.shape)} and {tuple(write_weights.shape)}"
        )
    return (read_weights @ write_weights.T).argmax(-1)


__all__ = ["read_mode_usage", "link_chain", "read_sources"]
