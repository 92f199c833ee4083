"""Training loop, held-out evaluation, progress bars and checkpoints."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import math
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Union

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm as auto_tqdm
from tqdm.std import tqdm as std_tqdm

from memlab.curriculum import Curriculum
from memlab.metrics import (
    answer_accuracy,
    answer_bits,
    bit_errors,
    bits_per_sequence,
    masked_bce,
    masked_cross_entropy,
    sequence_accuracy,
)
from memlab.models import build_model
from memlab.recipes import OPTIMIZERS, recipe
from memlab.tasks import Task, make_task
from memlab.validation import integer, positive_number

CHECKPOINT_FORMAT = "memlab-checkpoint"
CHECKPOINT_VERSION = 2  # 2: the history's held_out and stopped, the run's state (RunState)
READABLE_VERSIONS = (1, 2)

# stop_at is confirmed on a held-out batch of the task: max(STOP_CHECK_MIN_BATCH, 4 x the training
# batch) sequences, drawn with seed STOP_CHECK_SEED + the step (a generator apart from training's)
STOP_CHECK_SEED = 2**32
STOP_CHECK_MIN_BATCH = 64
# a curriculum's held-out lesson checks draw with this seed + the step (never the training stream)
LESSON_CHECK_SEED = 2**33

PathLike = Union[str, "os.PathLike[str]"]


# --- progress bars --------------------------------------------------------------------------------


class _TextLine(std_tqdm):
    """A tqdm bar that draws nothing while running, then prints its final state as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(file=io.StringIO(), mininterval=float("inf"), dynamic_ncols=False)
        super().__init__(*args, **kwargs)

    def close(self) -> None:
        line = None if self.disable else str(self)
        super().close()  # disables the bar, so a second close prints nothing
        if line is not None:
            print(line, flush=True)


def progress(iterable_or_total: Iterable | int | None = None, **kwargs: Any):
    """A tqdm progress bar over an iterable, or of ``total`` steps when given an int.

    MEMLAB_PROGRESS chooses how it shows: unset, ``tqdm.auto``; ``text``, one line on stdout at
    close (for static pages); ``off``, nothing.
    """
    mode = os.environ.get("MEMLAB_PROGRESS", "").strip().lower()
    bar = _TextLine if mode == "text" else auto_tqdm
    if mode == "off":
        kwargs["disable"] = True
    if isinstance(iterable_or_total, int):
        return bar(total=iterable_or_total, **kwargs)
    return bar(iterable_or_total, **kwargs)


# --- training -------------------------------------------------------------------------------------


@dataclass
class History:
    """Training curves, one entry per logged interval (means over the steps of that interval)."""

    step: list = field(default_factory=list)  #: last step of the interval
    loss: list = field(default_factory=list)  #: masked BCE, nats per counted bit
    bit_errors: list = field(default_factory=list)  #: wrong bits per sequence
    bits_per_sequence: list = field(default_factory=list)  #: cost per sequence, in bits
    seconds: list = field(default_factory=list)  #: wall time since training started
    #: curriculum level of the interval (with a curriculum)
    level: list = field(default_factory=list)
    answer_accuracy: list = field(default_factory=list)  #: right answers (categorical tasks)
    #: (step, bit errors per sequence) of each held-out check of stop_at (see train)
    held_out: list = field(default_factory=list)
    #: (step, level, fraction of answers right) of each held-out check of a curriculum lesson
    lessons: list = field(default_factory=list)
    #: why the latest run ended: "steps" (its budget), "solved" (stop_at, confirmed on held-out
    #: data), "time" (max_seconds), "SIGINT" or "SIGTERM" (saved, resumable); "" if unknown
    stopped: str = ""

    def __len__(self) -> int:
        return len(self.step)

    def first_step_below(self, threshold: float, level: int | None = None) -> int | None:
        """The first logged step whose interval mean bit errors fell below ``threshold``, or None.

        ``level``: count only the intervals trained at this curriculum level (e.g. the last).
        """
        for i, (step, errors) in enumerate(zip(self.step, self.bit_errors)):
            if errors < threshold and (level is None or self.level[i] == level):
                return step
        return None


@dataclass
class RunState:
    """What resuming a run exactly needs beyond its weights and History (``Checkpoint.run``)."""

    step: int  #: optimiser steps taken in all (the History's steps count the same way)
    seconds: float  #: wall time trained, in all
    generator: torch.Tensor  #: state of the data stream's torch.Generator (get_state(), uint8)
    optimizer: str  #: "adam" or "rmsprop"
    #: the optimiser's state_dict (None: a resumed run starts a fresh optimiser)
    optimizer_state: dict | None = None
    level: int = 0  #: curriculum level
    passed: int = 0  #: intervals in a row below the curriculum's threshold at that level
    #: sums over the steps of the unfinished log interval: loss, bit errors, bits, accuracy
    interval: list = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    count: int = 0  #: steps in the unfinished log interval


class _Signals:
    """SIGINT and SIGTERM as a request to save and stop (main thread; ignored signals stay so)."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                if previous is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._receive)
        return self

    def _receive(self, signum: int, frame: Any) -> None:
        self.received = self.received or signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global random number generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def train(
    model: nn.Module,
    task: Task,
    steps: int,
    batch_size: int | None = None,
    lr: float | None = None,
    clip: float | None = None,
    seed: int = 0,
    log_every: int = 50,
    show_progress: bool = True,
    compiled: bool = False,
    device: str | torch.device | None = None,
    stop_at: float | None = None,
    max_seconds: float | None = None,
    curriculum: Curriculum | None = None,
    resume: History | Checkpoint | None = None,
    optimizer: str | None = None,
    checkpoint: PathLike | None = None,
    save_every: int | None = None,
    checkpoint_extra: dict | None = None,
) -> History:
    """Train ``model`` in place on fresh batches of ``task`` with the task's loss.

    The loss is masked_bce, or masked_cross_entropy for a categorical task (``task.categorical``).
    The settings left out (optimizer, lr, batch_size, clip) come from ``memlab.recipes.recipe``
    (for the DNC: Adam, step size 1e-2, batch 16, gradient norm clipped at 10).

    Args:
        model: a memlab model, or any module mapping [B, T, input_size] to [B, T, output_size].
        task: the task whose batches it trains on.
        steps: optimiser steps in this run (a resumed run's earlier steps not counted).
        batch_size: B, sequences per step.
        lr: the optimiser's step size.
        clip: the largest gradient norm; ``math.inf``: no clipping.
        seed: of the data stream only (a private torch.Generator); for reproducible weights call
            seed_everything(seed) before building the model.
        log_every: one history entry per log_every steps (counted from the first run's start),
            the mean over its steps, and one for a last, shorter interval.
        show_progress: show a progress bar (see ``progress``).
        compiled: train with ``model.compile_step()``.
        device: move the model there first; batches go to the model's device.
        stop_at: stop once an interval's mean bit errors per sequence (with a curriculum: at its
            last level) fall below this and a held-out batch confirms it: ``measure`` on
            max(64, 4 x batch_size) sequences drawn with seed STOP_CHECK_SEED + the step.
            ``History.held_out`` records every check.
        max_seconds: stop once this much wall time has passed (checked at each log interval).
        curriculum: train on ``curriculum.task_at(task, level)`` from level 0, moving up once the
            interval's mean passes its threshold (with the held-out rule: a check every
            ``evaluate_every`` steps, recorded in ``History.lessons``), replaying earlier levels.
        resume: an earlier run to continue, its History or its Checkpoint: steps, seconds and
            curriculum level go on from it. A Checkpoint also loads its weights and, with a
            RunState, continues that run exactly (data stream, interval, optimiser state).
        optimizer: "adam" or "rmsprop" (momentum 0.9, decay 0.95).
        checkpoint: a file to keep the run resumable in (memlab models only), saved atomically
            every ``save_every`` steps, at the end, and on SIGINT or SIGTERM, which also stop
            training (``History.stopped`` names the signal).
        save_every: steps between saves (None: only at the end and at a signal).
        checkpoint_extra: plain values saved as the checkpoint's ``extra`` (e.g. the command).

    Returns:
        History: the logged curves, one entry per interval.
    """
    integer("steps", steps, 1)
    defaults = recipe(model)
    batch_size = defaults.batch_size if batch_size is None else batch_size
    lr = defaults.lr if lr is None else lr
    clip = defaults.clip if clip is None else clip
    optimizer = defaults.optimizer if optimizer is None else optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    integer("batch_size", batch_size, 1)
    integer("log_every", log_every, 1)
    positive_number("lr", lr)
    max_norm = None if clip is None or clip == math.inf else positive_number("clip", clip)
    if curriculum is not None:
        if not isinstance(curriculum, Curriculum):
            raise ValueError("curriculum must be a memlab Curriculum, "
                             f"got {type(curriculum).__name__}")
        curriculum.check(task)
    if save_every is not None:
        integer("save_every", save_every, 1)
        if checkpoint is None:
            raise ValueError("save_every needs a checkpoint path to save to")
    if checkpoint is not None:
        if not hasattr(model, "kind") or not hasattr(model, "config"):
            raise ValueError(f"checkpoint needs a memlab model with .kind and .config, "
                             f"got {type(model).__name__}")
        _check_plain(dict(checkpoint_extra or {}), "checkpoint_extra")
    if resume is not None and not isinstance(resume, (History, Checkpoint)):
        raise ValueError(f"resume must be a History or a Checkpoint, got {type(resume).__name__}")
    run = resume.run if isinstance(resume, Checkpoint) else None
    if run is not None and run.optimizer_state is not None and run.optimizer != optimizer:
        raise ValueError(f"resume holds the state of an {run.optimizer} optimiser, "
                         f"not of {optimizer}: pass optimizer={run.optimizer!r}")
    if isinstance(resume, Checkpoint) and model is not resume.model:
        model.load_state_dict(resume.model.state_dict())
    if device is not None:
        model.to(device)
    device = _device_of(model)
    if compiled:
        if not hasattr(model, "compile_step"):
            raise ValueError(
                f"compiled=True needs a model with a compile_step() method; "
                f"{type(model).__name__} has none"
            )
        model.compile_step()  # type: ignore[operator]  # torch: unknown attributes are Tensor | Module

    generator = torch.Generator().manual_seed(seed)
    # the fused Adam kernel (CPU and CUDA) updates all parameters in one call
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point()
                for p in model.parameters())
    optimizer_name = optimizer
    opt: torch.optim.Optimizer
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, fused=fused or None)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=lr, momentum=0.9, alpha=0.95)
    earlier = resume.history if isinstance(resume, Checkpoint) else resume
    history = History() if earlier is None else History(**dataclasses.asdict(earlier))
    step0 = history.step[-1] if history.step else 0
    seconds0 = history.seconds[-1] if history.seconds else 0.0
    categorical = getattr(task, "categorical", False)
    groups = getattr(task, "output_groups", None)
    loss_of: Callable[..., Tensor]
    cost_of: Callable[..., Tensor]
    if categorical:
        loss_of = functools.partial(masked_cross_entropy, groups=groups)
        cost_of = functools.partial(answer_bits, groups=groups)
    else:
        loss_of, cost_of = masked_bce, bits_per_sequence
    level, passed = 0, 0
    if curriculum is not None and history.level:
        level = min(int(history.level[-1]), len(curriculum) - 1)
    totals = torch.zeros(4, device=device)  # loss, bit errors, bits per sequence, accuracy
    count = 0
    if run is not None:  # continue where the saved run stood, between two steps
        step0, seconds0 = run.step, run.seconds
        generator.set_state(run.generator.cpu())
        if curriculum is not None:
            level, passed = min(run.level, len(curriculum) - 1), run.passed
        totals = torch.tensor(run.interval, dtype=totals.dtype, device=device)
        count = run.count
        if run.optimizer_state is not None:
            opt.load_state_dict(run.optimizer_state)
            for group in opt.param_groups:  # this run's step size
                group["lr"] = lr
    current = task if curriculum is None else curriculum.task_at(task, level)
    check_size = max(STOP_CHECK_MIN_BATCH, 4 * batch_size)
    history.stopped = ""
    start = time.perf_counter()

    def save(step: int) -> None:
        assert checkpoint is not None  # save_every and the signals need one
        state = RunState(
            step=step0 + step, seconds=seconds0 + time.perf_counter() - start,
            generator=generator.get_state(), optimizer=optimizer_name,
            optimizer_state=opt.state_dict(), level=level, passed=passed,
            interval=totals.tolist(), count=count,
        )
        save_checkpoint(checkpoint, model, current, history, checkpoint_extra, run=state)

    def lesson_passed(ok: bool) -> None:
        """Count a passed check of the curriculum's rule; move up a level after ``patience``."""
        nonlocal level, passed, current
        assert curriculum is not None  # called only with one
        passed = passed + 1 if ok else 0
        if passed >= curriculum.patience:
            level, passed = level + 1, 0
            current = curriculum.task_at(task, level)

    model.train()
    name = getattr(model, "kind", type(model).__name__)
    bar = progress(steps, desc=f"{name} on {task.name}", unit="step", disable=not show_progress)
    signals = _Signals() if checkpoint is not None else contextlib.nullcontext()
    with bar, signals:
        for step in range(1, steps + 1):
            if curriculum is None:
                inputs, targets, mask = current.batch(batch_size, generator, device)
            else:
                inputs, targets, mask = curriculum.batch(task, level, batch_size, generator,
                                                         device)
            logits = model(inputs)
            loss = loss_of(logits, targets, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if max_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            opt.step()

            with torch.no_grad():
                logits = logits.detach()
                totals += torch.stack(
                    [
                        loss.detach(),
                        bit_errors(logits, targets, mask, categorical, groups).mean(),
                        cost_of(logits, targets, mask).mean(),
                        answer_accuracy(logits, targets, mask, groups).mean() if categorical
                        else loss.new_zeros(()),
                    ]
                )
            count += 1
            bar.update()
            if (step0 + step) % log_every == 0 or step == steps:
                # one sync
                mean_loss, mean_errors, mean_bits, mean_accuracy = (totals / count).tolist()
                history.step.append(step0 + step)
                history.loss.append(mean_loss)
                history.bit_errors.append(mean_errors)
                history.bits_per_sequence.append(mean_bits)
                history.seconds.append(seconds0 + time.perf_counter() - start)
                if categorical:
                    history.answer_accuracy.append(mean_accuracy)
                postfix: dict[str, Any] = dict(loss=f"{mean_loss:.4f}",
                                               bit_errors=f"{mean_errors:.2f}")
                if curriculum is not None:
                    history.level.append(level)
                    postfix["level"] = level
                bar.set_postfix(**postfix)
                totals.zero_()
                count = 0
                at_last_level = curriculum is None or level == len(curriculum) - 1
                if stop_at is not None and mean_errors < stop_at and at_last_level:
                    held_out = measure(model, current, check_size, STOP_CHECK_SEED + step0 + step)
                    history.held_out.append((step0 + step, held_out["bit_errors"]))
                    if held_out["bit_errors"] < stop_at:
                        history.stopped = "solved"
                        break
                if curriculum is not None and not at_last_level and not curriculum.held_out_rule:
                    value = {"loss": mean_loss, "bit_errors": mean_errors,
                             "bits_per_sequence": mean_bits}[curriculum.metric]
                    lesson_passed(value < curriculum.threshold)
                if max_seconds is not None and history.seconds[-1] - seconds0 >= max_seconds:
                    history.stopped = "time"
                    break
            if (curriculum is not None and curriculum.held_out_rule
                    and (step0 + step) % curriculum.evaluate_every == 0
                    and level < len(curriculum) - 1):
                right = measure(model, current, curriculum.held_out,
                                LESSON_CHECK_SEED + step0 + step)["answer_accuracy"]
                history.lessons.append((step0 + step, level, right))
                lesson_passed(right >= curriculum.threshold)
            if step == steps:
                history.stopped = "steps"
            elif isinstance(signals, _Signals) and signals.received:
                history.stopped = signals.received
                break
            elif save_every is not None and (step0 + step) % save_every == 0:
                save(step)
        if checkpoint is not None:
            save(step)
    return history


# --- evaluation -----------------------------------------------------------------------------------


@torch.no_grad()
def measure(model: nn.Module, task: Task, batch_size: int = 64, seed: int = 1234) -> dict:
    """Measure ``model`` (in eval mode) on one fresh batch of ``task`` drawn with ``seed``.

    Args:
        model: the model; its training mode is restored afterwards.
        task: the task to draw the held-out batch from.
        batch_size: B, sequences in the batch.
        seed: of the batch's private generator (keep it apart from training's).

    Returns:
        dict of floats, means over the B sequences: ``bit_errors`` and ``bits_per_sequence``;
        for a categorical task also ``answer_accuracy`` (answers right) and
        ``sequence_accuracy`` (sequences all right), its bits the cross-entropy.
    """
    integer("batch_size", batch_size, 1)
    was_training = model.training
    model.eval()
    try:
        inputs, targets, mask = task.batch(
            batch_size, torch.Generator().manual_seed(seed), _device_of(model)
        )
        logits = model(inputs)
    finally:
        model.train(was_training)
    if getattr(task, "categorical", False):
        groups = getattr(task, "output_groups", None)
        figures = {
            "bit_errors": bit_errors(logits, targets, mask, True, groups),
            "bits_per_sequence": answer_bits(logits, targets, mask, groups),
            "answer_accuracy": answer_accuracy(logits, targets, mask, groups),
            "sequence_accuracy": sequence_accuracy(logits, targets, mask, groups),
        }
    else:
        figures = {"bit_errors": bit_errors(logits, targets, mask),
                   "bits_per_sequence": bits_per_sequence(logits, targets, mask)}
    means = torch.stack([value.mean() for value in figures.values()]).tolist()  # one sync
    return dict(zip(figures, means))


def evaluate(
    model: nn.Module,
    task: Task,
    lengths: Sequence[int] = (10, 20, 40),
    batch_size: int = 64,
    seed: int = 1234,
) -> list:
    """Measure ``model`` on ``task.at_length(n)`` for each length n, one held-out batch each.

    Args:
        model: the model to measure.
        task: the task (graph traversal grows its graphs to fit the length).
        lengths: positive integers.
        batch_size: sequences per length.
        seed: of every length's batch (apart from the training stream).

    Returns:
        list of dicts, one per length: ``{"length": n, **measure(...)}``.
    """
    if not lengths or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in lengths):
        raise ValueError(
            f"lengths must be a non-empty sequence of positive integers, got {lengths!r}"
        )
    rows = []
    for length in lengths:
        fixed = task.at_length(length)  # graph traversal also grows its graphs to fit
        rows.append({"length": length, **measure(model, fixed, batch_size, seed)})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of dict rows (such as evaluate's), one column per key."""
    if not rows:
        return ""
    keys = list(rows[0])
    cells = [[key.replace("_", " ") for key in keys]]
    cells += [
        [f"{row[key]:.3f}" if isinstance(row[key], float) else str(row[key]) for key in keys]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells
    )


# --- checkpoints ----------------------------------------------------------------------------------


class Checkpoint(NamedTuple):
    """What load_checkpoint rebuilds from a file saved by save_checkpoint."""

    model: nn.Module  #: rebuilt, weights loaded, in eval mode, on map_location
    task: Task | None
    history: History | None
    extra: dict
    #: where the run stood, to resume it exactly (None in checkpoints saved without one)
    run: RunState | None = None


_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value: Any, where: str) -> None:
    """Refuse what torch.load(weights_only=True) would refuse to read back."""
    if isinstance(value, (dict, list, tuple)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _check_plain(item, f"{where}[{key!r}]")
    elif type(value) not in _PLAIN and not isinstance(value, torch.Tensor):
        raise ValueError(
            f"{where} must hold only str, int, float, bool, None, tensors, lists, tuples, dicts; "
            f"got a {type(value).__name__}"
        )


def save_checkpoint(
    path: PathLike,
    model: nn.Module,
    task: Task | None = None,
    history: History | None = None,
    extra: dict | None = None,
    run: RunState | None = None,
) -> None:
    """Save a model (kind, config, weights), its task and history to ``path``, atomically.

    Only plain data and tensors are stored, so ``torch.load(weights_only=True)`` reads them.

    Args:
        path: the file to write (its folder is created).
        model: a memlab model (it has ``.kind`` and ``.config``).
        task: the task it was trained on.
        history: its training history.
        extra: plain values, e.g. the command line and the seed.
        run: the RunState of an unfinished run; its optimiser state roughly triples the file
            (a shipped model leaves it out: ``dataclasses.replace(run, optimizer_state=None)``).
    """
    if not hasattr(model, "kind") or not hasattr(model, "config"):
        raise ValueError(
            f"model must be a memlab model with .kind and .config, got {type(model).__name__}"
        )
    data: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        # torch types a module's unknown attributes as Tensor | Module
        "model": {"kind": model.kind, "config": dict(model.config)},  # type: ignore[arg-type]
        # clone, so no tensor drags a larger shared storage into the file
        "state_dict": {
            key: value.detach().cpu().clone() for key, value in model.state_dict().items()
        },
        "task": None if task is None else {"name": task.name, "params": dataclasses.asdict(task)},
        "history": None if history is None else dataclasses.asdict(history),
        "extra": dict(extra or {}),
    }
    if run is not None:
        data["run"] = dataclasses.asdict(run)
    _check_plain(data["model"]["config"], "model.config")
    _check_plain(data["extra"], "extra")
    _check_plain(data.get("run"), "run")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(data, partial)
    partial.replace(path)


def _reason(err: Exception) -> str:
    """The informative line of a torch.load error."""
    text = str(err).split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[0].split(". Please")[0] if lines else ""
    return f"{type(err).__name__}: {reason[:200]}" if reason else type(err).__name__


def load_checkpoint(path: PathLike, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model, task and history saved by save_checkpoint.

    Args:
        path: the checkpoint file.
        map_location: the device to load the weights onto.

    Returns:
        Checkpoint(model, task, history, extra, run), the model in eval mode on ``map_location``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: it is not a readable memlab checkpoint of a known version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several kinds for corrupt or foreign files
        raise ValueError(f"{path} is not a readable memlab checkpoint ({_reason(err)})") from err
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a memlab checkpoint: expected a dict with format {CHECKPOINT_FORMAT!r}"
        )
    if data.get("version") not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} has checkpoint version {data.get('version')!r}; "
            f"this memlab reads versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    try:
        spec = data["model"]
        config = dict(spec["config"])
        if spec["kind"] == "ntm":  # saved before the NTM clipped its interface by default
            config.setdefault("interface_clip", None)
        model = build_model(spec["kind"], **config)
        model.load_state_dict(data["state_dict"])
        task = (
            make_task(data["task"]["name"], **data["task"]["params"]) if data.get("task") else None
        )
        history = History(**data["history"]) if data.get("history") else None
        run = RunState(**data["run"]) if data.get("run") else None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ValueError(
            f"{path} is a damaged memlab checkpoint: {type(err).__name__}: {err}"
        ) from err
    model.to(map_location).eval()
    return Checkpoint(model, task, history, dict(data.get("extra") or {}), run)
