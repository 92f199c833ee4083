"""Curriculum learning: raise a task's difficulty level by level as the model masters it.

The DNC paper trains its graph tasks with a curriculum (Graves et al. 2016, Methods, "Curriculum
learning"): a sequence of lessons of growing complexity, moving on to the next lesson once the
network's performance on the current one passes a threshold. Here a lesson (a *level*) is a set of
task parameters, applied to the base task with ``dataclasses.replace``; ``train(...,
curriculum=...)`` moves up a level when an interval's mean error falls below ``threshold``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memlab.validation import integer, positive_number

METRICS = ("bit_errors", "loss", "bits_per_sequence")


@dataclass(frozen=True)
class Curriculum:
    """Levels of task parameters and the rule to climb them.

    Args:
        levels: one dict of task parameters per level, easiest first, e.g.
            ``({"max_length": 5}, {"max_length": 10}, {"max_length": 20})``.
        threshold: move up a level when the training interval's mean ``metric`` is below this.
        metric: a History curve: "bit_errors" (per sequence), "loss" or "bits_per_sequence".
        patience: how many intervals in a row must be below the threshold.
    """

    levels: tuple
    threshold: float
    metric: str = "bit_errors"
    patience: int = 1

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
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        integer("patience", self.patience, 1)

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
            A dict of plain values (levels, threshold, metric, patience); `from_dict` reads it
            back.
        """
        return {"levels": [dict(level) for level in self.levels],
                "threshold": float(self.threshold),
                "metric": self.metric, "patience": self.patience}

    @classmethod
    def from_dict(cls, data: dict) -> Curriculum:
        """The Curriculum that `to_dict` wrote.

        Args:
            data: the dict of `to_dict` ("metric" and "patience" may be missing).

        Returns:
            The Curriculum.
        """
        return cls(tuple(data["levels"]), data["threshold"], data.get("metric", "bit_errors"),
                   data.get("patience", 1))


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value)
