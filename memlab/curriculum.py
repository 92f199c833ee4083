"""Curriculum learning: raise a task's difficulty level by level as the model masters it.

The DNC paper trains its graph tasks with a curriculum (Graves et al. 2016, Methods, "Curriculum
learning"): a sequence of lessons of growing complexity, moving on to the next lesson once the
network's performance on the current one passes a threshold. Here a lesson (a *level*) is a set of
task parameters, applied to the base task with ``dataclasses.replace``; ``train(...,
curriculum=...)`` moves up a level when an interval's mean error falls below ``threshold``, or,
under the paper's rules (``Curriculum.paper``), when 90% of the answers on held-out samples
are right, checked every 100 batches, while 10% of every batch replays earlier lessons.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from memlab.tasks import Batch, stack_batches
from memlab.validation import integer, positive_number

#: curves of the training interval, passed when below the threshold
METRICS = ("bit_errors", "loss", "bits_per_sequence")
#: measured on held-out samples every ``evaluate_every`` batches, passed when at or above it
HELD_OUT_METRICS = ("answer_accuracy",)


@dataclass(frozen=True)
class Curriculum:
    """Levels of task parameters and the rule to climb them.

    Args:
        levels: one dict of task parameters per level, easiest first, e.g.
            ``({"max_length": 5}, {"max_length": 10}, {"max_length": 20})``.
        threshold: move up a level when the training interval's mean ``metric`` is below this.
        metric: a History curve: "bit_errors" (per sequence), "loss" or "bits_per_sequence";
            or "answer_accuracy", the fraction of whole answers right (every group of an
            answer step) on ``held_out`` fresh samples of the level, measured every
            ``evaluate_every`` batches, which passes at or above the threshold.
        patience: how many intervals (or checks) in a row must pass.
        replay: the fraction of each batch drawn from the earlier levels (uniformly among
            them), so that earlier lessons are not forgotten.
        evaluate_every: batches between held-out checks ("answer_accuracy" only).
        held_out: samples per held-out check.
    """

    levels: tuple
    threshold: float
    metric: str = "bit_errors"
    patience: int = 1
    replay: float = 0.0
    evaluate_every: int = 100
    held_out: int = 64

    def __post_init__(self) -> None:
        levels = tuple(dict(level) for level in self.levels) if _is_sequence(self.levels) else ()
        if not levels:
            raise ValueError(f"levels must be a non-empty sequence of dicts, got {self.levels!r}")
        for i, level in enumerate(levels):
            if not level or not all(isinstance(key, str) for key in level):
                raise ValueError(f"levels[{i}] must be a non-empty dict of task parameters, "
                                 f"got {level!r}")
        object.__setattr__(self, "levels", levels)
        positive_number("threshold", self.threshold)
        if self.metric not in METRICS + HELD_OUT_METRICS:
            raise ValueError(f"metric must be one of {METRICS + HELD_OUT_METRICS}, "
                             f"got {self.metric!r}")
        if self.held_out_rule and self.threshold > 1:
            raise ValueError(f"threshold must be a fraction <= 1 for {self.metric}, "
                             f"got {self.threshold}")
        integer("patience", self.patience, 1)
        if isinstance(self.replay, bool) or not isinstance(self.replay, (int, float)) \
                or not 0 <= self.replay < 1:
            raise ValueError(f"replay must be a fraction in [0, 1), got {self.replay!r}")
        integer("evaluate_every", self.evaluate_every, 1)
        integer("held_out", self.held_out, 1)

    @classmethod
    def paper(cls, levels: Sequence[dict], **options: Any) -> Curriculum:
        """The DNC paper's rules (Methods, "Curriculum learning") over ``levels``.

        A lesson passes when 90% of the whole answers on held-out samples are right, checked
        every 100 batches; 10% of every batch is drawn from the earlier lessons.

        Args:
            levels: as for the constructor.
            **options: any field to set otherwise (e.g. ``held_out=128``).

        Returns:
            The Curriculum.
        """
        rules: dict[str, Any] = dict(threshold=0.9, metric="answer_accuracy", replay=0.1,
                                     evaluate_every=100)
        return cls(tuple(levels), **{**rules, **options})

    @property
    def held_out_rule(self) -> bool:
        """Whether a lesson passes on held-out checks (else on the training curve)."""
        return self.metric in HELD_OUT_METRICS

    def batch(self, task, level: int, batch_size: int, generator: torch.Generator | None,
              device: Any = None) -> Batch:
        """A training batch at ``level``: round(replay x batch_size) samples from earlier levels.

        Args:
            task: the base task.
            level: the current level.
            batch_size: B.
            generator: the data stream.
            device: where the batch goes.

        Returns:
            A Batch of B samples, the earlier levels' after the current one's, padded to the
            longest.
        """
        earlier = round(self.replay * batch_size) if level > 0 else 0
        if earlier == 0:
            return self.task_at(task, level).batch(batch_size, generator, device)
        levels = torch.randint(level, (earlier,), generator=generator).tolist()
        parts = [self.task_at(task, level).batch(batch_size - earlier, generator, device)]
        parts += [self.task_at(task, lesson).batch(levels.count(lesson), generator, device)
                  for lesson in sorted(set(levels))]
        return stack_batches(parts)

    @classmethod
    def lengths(cls, lengths: Sequence[int], threshold: float, **options: Any) -> Curriculum:
        """Levels that raise ``max_length`` through ``lengths`` (e.g. copy: 5, 10, 20).

        Args:
            lengths: the ``max_length`` of each level, easiest first.
            threshold: as for the constructor.
            **options: ``metric`` and ``patience``, as for the constructor.

        Returns:
            The Curriculum with one level ``{"max_length": n}`` per length.
        """
        return cls(tuple({"max_length": int(n)} for n in lengths), threshold, **options)

    def __len__(self) -> int:
        """The number of levels."""
        return len(self.levels)

    def task_at(self, task, level: int):
        """``task`` with the parameters of ``level`` (0 is the easiest).

        Args:
            task: a task of memlab.tasks, e.g. ``CopyTask()``.
            level: in [0, len(self)).

        Returns:
            A copy of ``task`` with the level's parameters (``dataclasses.replace``).

        Raises:
            ValueError: a level out of range, or parameters the task does not take or accept.
        """
        integer("level", level, 0, len(self) - 1)
        try:
            return dataclasses.replace(task, **self.levels[level])
        except (TypeError, ValueError) as err:
            raise ValueError(f"levels[{level}] does not fit task {task.name}: {err}") from err

    def check(self, task) -> None:
        """Raise ValueError unless every level makes a valid ``task``.

        Args:
            task: the base task the levels apply to.

        Returns:
            None.
        """
        for level in range(len(self)):
            self.task_at(task, level)

    def to_dict(self) -> dict:
        """Plain values, for a checkpoint's ``extra``.

        Returns:
            A dict of plain values (the levels and the rules); `from_dict` reads it back.
        """
        return {"levels": [dict(level) for level in self.levels],
                "threshold": float(self.threshold), "metric": self.metric,
                "patience": self.patience, "replay": float(self.replay),
                "evaluate_every": self.evaluate_every, "held_out": self.held_out}

    @classmethod
    def from_dict(cls, data: dict) -> Curriculum:
        """The Curriculum that `to_dict` wrote.

        Args:
            data: the dict of `to_dict` (the rules after "threshold" may be missing).

        Returns:
            The Curriculum.
        """
        options = {key: data[key] for key in ("metric", "patience", "replay", "evaluate_every",
                                              "held_out") if key in data}
        return cls(tuple(data["levels"]), data["threshold"], **options)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value)
