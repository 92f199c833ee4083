"""The metrics of the tasks.

Bit errors, the NTM paper's cost in bits, the training losses, and the answer accuracies of
categorical tasks (one class per output step, or per group of channels, such as the triples of
graph traversal).

Every metric takes ``logits`` and ``targets`` of shape [B, T, O] and the ``mask`` [B, T] of the
:class:`memlab.tasks.Batch` they belong to, and counts the masked steps only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

Groups = Optional[Sequence[int]]  # the sizes of an answer step's one-hot groups


def _check_metric_args(logits: Tensor, targets: Tensor, mask: Tensor) -> None:
    if logits.dim() != 3:
        raise ValueError(f"logits must have shape [B, T, O], got {tuple(logits.shape)}")
    if targets.shape != logits.shape:
        raise ValueError(
            f"targets must have the shape of logits {tuple(logits.shape)}, "
            f"got {tuple(targets.shape)}"
        )
    if mask.shape != logits.shape[:2]:
        raise ValueError(
            f"mask must have shape [B, T] = {tuple(logits.shape[:2])}, got {tuple(mask.shape)}"
        )


def bit_errors(logits: Tensor, targets: Tensor, mask: Tensor, one_hot: bool = False,
               groups: Groups = None) -> Tensor:
    """Wrong bits per sequence, thresholding logits at 0 (probability 0.5), on masked steps only.

    Args:
        logits: [B, T, O], the model's outputs before the sigmoid or softmax.
        targets: [B, T, O], 0/1 bits.
        mask: [B, T], 1.0 on the steps that count.
        one_hot: decode each step as a one-hot of its largest logit instead (categorical
            tasks), so a wrong answer counts 2 bits.
        groups: with one_hot, the sizes of the step's one-hot groups (``task.output_groups``),
            each decoded on its own; None: one group of O.

    Returns:
        [B], the wrong bits of each sequence as float counts.
    """
    _check_metric_args(logits, targets, mask)
    decoded = decode_one_hot(logits, groups) if one_hot else (logits > 0).float()
    wrong = (decoded != targets).float()
    return (wrong.sum(-1) * mask).sum(-1)


def _bce_per_step(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Binary cross-entropy in nats summed over channels, zero off the mask -> [B, T]."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return bce.sum(-1) * mask


def bits_per_sequence(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Cost per sequence of the NTM paper: summed binary cross-entropy in bits over masked steps.

    Args:
        logits: [B, T, O], the model's outputs before the sigmoid or softmax.
        targets: [B, T, O], 0/1 bits.
        mask: [B, T], 1.0 on the steps that count.

    Returns:
        [B], the binary cross-entropy of each sequence in bits, summed over its counted steps
        and channels.
    """
    _check_metric_args(logits, targets, mask)
    return _bce_per_step(logits, targets, mask).sum(-1) / math.log(2)


def masked_bce(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Training loss: binary cross-entropy in nats per counted target bit.

    That is the mean over sequences of each sequence's summed masked BCE, divided by the mean
    number of counted bits per sequence (masked steps x output channels), so the loss does not
    scale with sequence length and reads ln 2 ~ 0.693 for a model that always answers 0.5.

    Args:
        logits: [B, T, O], the model's outputs before the sigmoid or softmax.
        targets: [B, T, O], 0/1 bits.
        mask: [B, T], 1.0 on the steps that count.

    Returns:
        [] (a scalar), the loss to backpropagate.
    """
    _check_metric_args(logits, targets, mask)
    counted_bits = (mask.sum() * logits.shape[-1]).clamp_min(1.0)
    return _bce_per_step(logits, targets, mask).sum() / counted_bits


# --- metrics of categorical tasks: one class per group of channels of an answer step --------------


def _split(tensor: Tensor, groups: Groups) -> tuple:
    """The channel groups of ``tensor`` [B, T, O]: one group of O when groups is None."""
    if groups is None:
        return (tensor,)
    sizes = [int(size) for size in groups]
    if not sizes or min(sizes) < 1 or sum(sizes) != tensor.shape[-1]:
        raise ValueError(f"groups must be positive sizes that add up to O = {tensor.shape[-1]}, "
                         f"got {tuple(groups)}")
    return tensor.split(sizes, -1)


def decode_one_hot(logits: Tensor, groups: Groups = None) -> Tensor:
    """The decoded answer of each step: a one-hot of the largest logit of each group.

    Args:
        logits: [B, T, O].
        groups: the sizes of the one-hot groups of a step (summing to O); None: one group.

    Returns:
        [B, T, O], one-hot within each group, in the dtype of logits.
    """
    return torch.cat([F.one_hot(part.argmax(-1), part.shape[-1]).to(logits.dtype)
                      for part in _split(logits, groups)], -1)


def _cross_entropy(logits: Tensor, targets: Tensor, mask: Tensor, groups: Groups) -> Tensor:
    """Cross-entropy in nats of each step, summed over its groups, zero off the mask -> [B, T]."""
    parts = zip(_split(logits, groups), _split(targets, groups))
    return sum(-(t * F.log_softmax(part, dim=-1)).sum(-1) for part, t in parts) * mask


def _right_answers(logits: Tensor, targets: Tensor, mask: Tensor, groups: Groups) -> Tensor:
    """1.0 where the step counts and every group's largest logit is its target class -> [B, T]."""
    parts = zip(_split(logits, groups), _split(targets, groups))
    right = torch.stack([part.argmax(-1) == t.argmax(-1) for part, t in parts], -1).all(-1)
    return right.to(mask.dtype) * mask


def masked_cross_entropy(logits: Tensor, targets: Tensor, mask: Tensor,
                         groups: Groups = None) -> Tensor:
    """Training loss of categorical tasks: cross-entropy in nats per counted answer step.

    Args:
        logits: [B, T, O], the model's outputs before the softmax.
        targets: [B, T, O], one-hot within each group on the counted steps.
        mask: [B, T], 1.0 on the steps that count.
        groups: the sizes of a step's one-hot groups (``task.output_groups``); a softmax over
            each, their cross-entropies summed. None: one softmax over the O classes.

    Returns:
        [] (a scalar), the mean cross-entropy of a counted step.
    """
    _check_metric_args(logits, targets, mask)
    return _cross_entropy(logits, targets, mask, groups).sum() / mask.sum().clamp_min(1.0)


def answer_bits(logits: Tensor, targets: Tensor, mask: Tensor, groups: Groups = None) -> Tensor:
    """Cross-entropy in bits summed over the counted answers of each sequence.

    Args:
        logits: [B, T, O], the model's outputs before the softmax.
        targets: [B, T, O], one-hot within each group on the counted steps.
        mask: [B, T], 1.0 on the steps that count.
        groups: as for masked_cross_entropy.

    Returns:
        [B], each sequence's cross-entropy in bits.
    """
    _check_metric_args(logits, targets, mask)
    return _cross_entropy(logits, targets, mask, groups).sum(-1) / math.log(2)


def answer_accuracy(logits: Tensor, targets: Tensor, mask: Tensor,
                    groups: Groups = None) -> Tensor:
    """Fraction of each sequence's counted answers (e.g. hops) that are right.

    Args:
        logits: [B, T, O], the model's outputs before the softmax.
        targets: [B, T, O], one-hot within each group on the counted steps.
        mask: [B, T], 1.0 on the steps that count.
        groups: as for masked_cross_entropy; a step is right when every group is (a whole
            triple of a graph task).

    Returns:
        [B], in [0, 1].
    """
    _check_metric_args(logits, targets, mask)
    right = _right_answers(logits, targets, mask, groups)
    return right.sum(-1) / mask.sum(-1).clamp_min(1.0)


def sequence_accuracy(logits: Tensor, targets: Tensor, mask: Tensor,
                      groups: Groups = None) -> Tensor:
    """1.0 for a sequence whose counted answers are all right (e.g. a whole path), else 0.

    Args:
        logits: [B, T, O], the model's outputs before the softmax.
        targets: [B, T, O], one-hot within each group on the counted steps.
        mask: [B, T], 1.0 on the steps that count.
        groups: as for answer_accuracy.

    Returns:
        [B], 1.0 or 0.0 per sequence.
    """
    _check_metric_args(logits, targets, mask)
    right = _right_answers(logits, targets, mask, groups).sum(-1)
    return (right == mask.sum(-1)).to(logits.dtype)


__all__ = ['bit_errors', 'bits_per_sequence', 'masked_bce', 'decode_one_hot',
           'masked_cross_entropy', 'answer_bits', 'answer_accuracy', 'sequence_accuracy']
