"""Command line: train a model on a task and save a checkpoint, or evaluate a checkpoint.

For example::

    python -m memlab train --model dnc --task copy --steps 2000 --out checkpoints/dnc_copy.pt
    python -m memlab train --model dnc --task copy --until-step 2000 --save-every 100 \
        --out run.pt --resume          # rerun after an interruption: goes on from the last save
    python -m memlab evaluate checkpoints/dnc_copy.pt --lengths 10,20,40
    python -m memlab pretrained            # the checkpoints shipped with the book
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import shlex
import signal
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

import torch

from memlab.curriculum import METRICS as CURRICULUM_METRICS
from memlab.curriculum import Curriculum
from memlab.models import MODELS, build_model
from memlab.recipes import OPTIMIZERS
from memlab.tasks import TASKS, make_task
from memlab.train import (
    Checkpoint,
    evaluate,
    format_table,
    load_checkpoint,
    measure,
    save_checkpoint,
    seed_everything,
    train,
)
from memlab.validation import integer

DEFAULT_STEPS = 2000

# constructor arguments that have a --option; each is passed on only when given
MODEL_OPTIONS = ("hidden_size", "memory_size", "word_size", "read_heads", "write_heads",
                 "shift_range", "controller", "num_layers", "interface_clip", "d_model",
                 "num_heads", "feedforward_size", "positional")
# switches of the DNC (Csordás & Schmidhuber 2019), passed on only when given
MODEL_FLAGS = ("masking", "deallocation", "link_sharpness")
# every task parameter gets a --option, from the tasks' own fields: an integer one takes a
# number, a True/False one (TASK_FLAGS, such as key_value's two_way) is a switch
TASK_OPTIONS = tuple(dict.fromkeys(field.name for task in TASKS.values()
                                   for field in dataclasses.fields(task)))
TASK_FLAGS = tuple(dict.fromkeys(field.name for task in TASKS.values()
                                 for field in dataclasses.fields(task)
                                 if isinstance(field.default, bool)))


def _lengths(text: str) -> tuple:
    try:
        lengths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 10,20,40, got {text!r}"
        ) from None
    if any(n < 1 for n in lengths):
        raise argparse.ArgumentTypeError(f"lengths must be positive, got {text!r}")
    return lengths


def _levels(text: str) -> tuple:
    try:
        levels = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(
            f"expected a JSON list of task-parameter objects such as "
            f"'[{{\"max_length\": 5}}, {{\"max_length\": 10}}]', got {text!r} ({err.msg})"
        ) from None
    if not isinstance(levels, list) or not levels or not all(isinstance(x, dict) for x in levels):
        raise argparse.ArgumentTypeError(
            f"expected a non-empty JSON list of objects, one per level, got {text!r}"
        )
    return tuple(levels)


def build_parser() -> argparse.ArgumentParser:
    """The parser of both commands, train and evaluate."""
    parser = argparse.ArgumentParser(prog="python -m memlab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train a model on a task and save a checkpoint")
    run.add_argument("--model", choices=sorted(MODELS), default="dnc", help="default: %(default)s")
    run.add_argument("--task", choices=sorted(TASKS), default="copy", help="default: %(default)s")
    steps = run.add_mutually_exclusive_group()
    steps.add_argument("--steps", type=int, default=None,
                       help="optimiser steps of this command; with --resume, more steps after the "
                            f"checkpoint's (default: {DEFAULT_STEPS})")
    steps.add_argument("--until-step", type=int, default=None, metavar="STEP",
                       help="train until the run has taken STEP steps in all, counting those of "
                            "the checkpoint resumed; a checkpoint already there, or one that "
                            "stopped solved (--stop-at), trains no more: the same command can "
                            "be rerun until it is done")
    group = run.add_argument_group(
        "optimisation (defaults: the model's recipe, memlab.recipes; DNC: adam, 1e-2, batch 16, "
        "clip 10)")
    group.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="adam or rmsprop")
    group.add_argument("--batch-size", type=int, default=None, help="sequences per step")
    group.add_argument("--lr", type=float, default=None, help="the optimiser's step size")
    group.add_argument("--clip", type=float, default=None, help="largest gradient norm")
    run.add_argument("--seed", type=int, default=0,
                     help="of the weights and data (%(default)s; a resumed run goes on with its "
                          "checkpoint's data stream when it holds one)")
    run.add_argument("--log-every", type=int, default=50, help="history interval (%(default)s)")
    run.add_argument(
        "--stop-at",
        type=float,
        default=None,
        help="stop once an interval's mean bit errors per sequence fall below this and a "
             "held-out batch confirms it",
    )
    run.add_argument(
        "--out", default=None, help="checkpoint path (default: checkpoints/MODEL_TASK.pt)"
    )
    run.add_argument("--compile", action="store_true", help="use the model's compiled step")
    run.add_argument(
        "--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
        help="continue that checkpoint's training: its weights, history, curriculum level and, "
        "when it holds them, its optimiser's state and data stream, exactly as if never stopped "
        "(give the same --model, --task and --curriculum as the run that made it); without "
        "CHECKPOINT: the --out file if it exists, else start afresh",
    )
    run.add_argument(
        "--save-every", type=int, default=None, metavar="N",
        help="also save the run, resumable, to --out every N steps (it is always saved so at the "
             "end and on SIGINT or SIGTERM, which stop it)",
    )
    run.add_argument(
        "--keep-optimizer", action="store_true",
        help="keep the optimiser's state in the final checkpoint (about three times larger): "
             "without it, resuming a finished run starts a fresh optimiser",
    )
    group = run.add_argument_group("curriculum (the DNC paper's curriculum learning)")
    group.add_argument(
        "--curriculum", type=_levels, default=None, metavar="JSON",
        help="levels of task parameters, easiest first, e.g. "
             "'[{\"max_length\": 5}, {\"max_length\": 10}]'; the last level is the task trained on "
             "in the end and saved",
    )
    group.add_argument("--curriculum-threshold", type=float, default=0.1,
                       help="move up a level when an interval's mean error is below this "
                            "(%(default)s)")
    group.add_argument("--curriculum-metric", choices=CURRICULUM_METRICS, default="bit_errors",
                       help="the interval's mean of this curve (%(default)s)")
    group.add_argument("--curriculum-patience", type=int, default=1,
                       help="intervals in a row below the threshold (%(default)s)")
    group.add_argument("--paper-curriculum", action="store_true",
                       help="the DNC paper's rules instead: a level passes at 90%% of whole "
                            "answers right on held-out samples, checked every 100 steps, and 10%% "
                            "of each batch replays earlier levels (graph tasks)")
    group = run.add_argument_group("model (defaults: the model's own)")
    for option in MODEL_OPTIONS:
        group.add_argument(
            "--" + option.replace("_", "-"),
            type={"controller": str, "interface_clip": float, "positional": str}.get(option, int),
            default=None,
        )
    for option, what in zip(MODEL_FLAGS, ("masked content look-ups", "erase freed slots",
                                          "sharpen forward/backward weightings")):
        group.add_argument("--" + option.replace("_", "-"), action="store_true", default=None,
                           help=f"DNC: {what}")
    group = run.add_argument_group(
        "task (defaults: the task's own; lengths of associative recall count items)"
    )
    for option in TASK_OPTIONS:
        if option in TASK_FLAGS:
            group.add_argument("--" + option.replace("_", "-"), action="store_true", default=None)
        else:
            group.add_argument("--" + option.replace("_", "-"), type=int, default=None)

    check = commands.add_parser(
        "evaluate", help="bit errors and bits per sequence of a checkpoint, per length"
    )
    check.add_argument("checkpoint")
    check.add_argument(
        "--lengths", type=_lengths, default=(10, 20, 40), help="comma-separated (10,20,40)"
    )
    check.add_argument("--batch-size", type=int, default=64, help="default: %(default)s")
    check.add_argument("--seed", type=int, default=1234, help="of the held-out data (%(default)s)")
    check.add_argument(
        "--memory-size", type=int, default=None,
        help="run a DNC checkpoint with this many slots (its weights do not depend on N)",
    )

    for command in (run, check):
        command.add_argument("--threads", type=int, default=1,
                             help="CPU threads for torch (%(default)s: these small models gain "
                                  "little from more, and lose much on a busy machine)")
        command.add_argument("--device", default=None, help="e.g. cpu or cuda (default: cpu)")
    shipped = commands.add_parser("pretrained", help="list the checkpoints shipped with the book")
    shipped.add_argument(
        "--update",
        action="store_true",
        help="rewrite the registry (memlab/pretrained.json) from the repository's checkpoints/",
    )
    return parser


def _given(
    args: argparse.Namespace, options: Sequence[str], accepted: Collection[str], what: str
) -> dict:
    """The options set on the command line, refusing those that ``what`` does not take."""
    given = {
        option: getattr(args, option) for option in options if getattr(args, option) is not None
    }
    for option in given:
        if option not in accepted:
            raise ValueError(f"--{option.replace('_', '-')} does not apply to {what}")
    return given


def _setup(args: argparse.Namespace):
    """The task and the freshly seeded model that the train command asked for."""
    task_fields = [f.name for f in dataclasses.fields(TASKS[args.task])]
    task = make_task(args.task, **_given(args, TASK_OPTIONS, task_fields, f"task {args.task}"))
    curriculum = None
    if args.paper_curriculum and args.curriculum is None:
        raise ValueError("--paper-curriculum needs the levels: give --curriculum JSON")
    if args.curriculum is not None:
        if args.paper_curriculum:
            curriculum = Curriculum.paper(args.curriculum)
        else:
            curriculum = Curriculum(args.curriculum, args.curriculum_threshold,
                                    args.curriculum_metric, args.curriculum_patience)
        curriculum.check(task)
    model_options = _given(
        args, MODEL_OPTIONS + MODEL_FLAGS, inspect.signature(MODELS[args.model]).parameters,
        f"model {args.model}"
    )
    seed_everything(args.seed)
    model = build_model(
        args.model, input_size=task.input_size, output_size=task.output_size, **model_options
    )
    return task, model, curriculum


def _resumed(args: argparse.Namespace, model, out: str) -> Checkpoint | None:
    """The checkpoint to continue (refused unless same model and task); None if --out is new."""
    path = args.resume or out
    if not args.resume and not Path(path).exists():
        print(f"no checkpoint at {path} yet: starting afresh")
        return None
    checkpoint = load_checkpoint(path)
    if checkpoint.run is None and (checkpoint.history is None or not checkpoint.history.step):
        raise ValueError(f"--resume {path}: the checkpoint has no training history")
    trained_on = checkpoint.task.name if checkpoint.task is not None else "no task"
    if checkpoint.model.kind != args.model or trained_on != args.task:
        raise ValueError(
            f"--resume {path}: a {checkpoint.model.kind} on {trained_on}, "
            f"not --model {args.model} --task {args.task}"
        )
    ours = {name: tuple(p.shape) for name, p in model.named_parameters()}
    theirs = {name: tuple(p.shape) for name, p in checkpoint.model.named_parameters()}
    if ours != theirs:
        raise ValueError(f"--resume {path}: the checkpoint's model has other sizes than "
                         "the one these options build")
    return checkpoint


def _step_reached(checkpoint: Checkpoint | None) -> int:
    """The steps a checkpoint's run has taken (0 for none)."""
    if checkpoint is None:
        return 0
    if checkpoint.run is not None:
        return checkpoint.run.step
    return checkpoint.history.step[-1] if checkpoint.history is not None else 0


def _steps_to_train(args: argparse.Namespace, earlier: Checkpoint | None) -> int:
    """This command's steps: --steps, or what --until-step leaves (0: nothing left)."""
    if args.until_step is None:
        return DEFAULT_STEPS if args.steps is None else args.steps
    integer("--until-step", args.until_step, 1)
    if earlier is not None and earlier.history is not None and earlier.history.stopped == "solved":
        return 0
    return max(0, args.until_step - _step_reached(earlier))


def _run_training(args: argparse.Namespace, model, task, curriculum, earlier, steps, out, extra):
    return train(
        model,
        task,
        steps,
        batch_size=args.batch_size,
        lr=args.lr,
        clip=args.clip,
        # a resumed run keeps its optimiser unless told otherwise
        optimizer=args.optimizer or (earlier.run.optimizer if earlier and earlier.run else None),
        seed=args.seed,
        log_every=args.log_every,
        compiled=args.compile,
        stop_at=args.stop_at,
        curriculum=curriculum,
        resume=earlier,
        checkpoint=out,
        save_every=args.save_every,
        checkpoint_extra=extra,
    )


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    out = args.out or f"checkpoints/{args.model}_{args.task}.pt"
    try:
        task, model, curriculum = _setup(args)
        earlier = _resumed(args, model, out) if args.resume is not None else None
        steps = _steps_to_train(args, earlier)
    except (TypeError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if earlier is not None:
        if steps == 0:
            solved = earlier.history is not None and earlier.history.stopped == "solved"
            done = "stopped solved" if solved else "is"
            print(f"{args.resume or out} {done} at step {_step_reached(earlier)} "
                  f"(--until-step {args.until_step}): nothing to train")
            return 0
        model = earlier.model.train()
        print(f"resuming {args.resume or out} after step {_step_reached(earlier)}")
    if args.device is not None:
        model.to(args.device)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{args.model} ({parameters:,} parameters) on {task}")
    extra = {
        "command": shlex.join(["python", "-m", "memlab", *argv]),
        "seed": args.seed,
        "torch_version": str(torch.__version__),
    }
    if curriculum is not None:
        extra["curriculum"] = curriculum.to_dict()
    if earlier is not None:  # every command of the run, in order
        extra["commands"] = [*earlier.extra.get("commands", [earlier.extra.get("command", "?")]),
                             extra["command"]]

    try:
        history = _run_training(args, model, task, curriculum, earlier, steps, out, extra)
    except ValueError as err:  # a bad training argument (steps, lr, ...), named by train()
        print(f"error: {err}", file=sys.stderr)
        return 2
    run = load_checkpoint(out).run
    assert run is not None  # train() saved the run's last state there
    if history.stopped in ("SIGINT", "SIGTERM"):
        print(f"stopped by {history.stopped} after step {run.step}; saved {out}, resumable "
              f"(--resume {out})")
        return 128 + signal.Signals[history.stopped].value
    if curriculum is not None:  # the level the model ended on
        task = curriculum.task_at(task, history.level[-1])
        print(f"curriculum level {history.level[-1]} of {len(curriculum) - 1}: {task}")
    held_out = measure(model, task)
    accuracy = ""
    if "answer_accuracy" in held_out:
        accuracy = (f" | answers right {held_out['answer_accuracy']:.3f}"
                    f" | sequences right {held_out['sequence_accuracy']:.3f}")
    print(
        f"final loss {history.loss[-1]:.4f}"
        f" | held-out bit errors per sequence {held_out['bit_errors']:.2f}"
        f" | bits per sequence {held_out['bits_per_sequence']:.2f}{accuracy}"
        f" | {history.step[-1]} steps in {history.seconds[-1]:.1f} s"
    )
    extra["held_out"] = held_out
    if not args.keep_optimizer:  # small shipped files; resuming starts a fresh optimiser
        run = dataclasses.replace(run, optimizer_state=None)
    save_checkpoint(out, model, task, history, extra, run)
    print(f"saved {out}")
    return 0


def _with_memory(model, memory_size: int):
    """The same DNC (same weights) with another number of memory slots."""
    if model.kind != "dnc":
        raise ValueError(f"--memory-size applies to a DNC checkpoint, this one is a {model.kind} "
                         "(its weights depend on the memory's size)")
    bigger = build_model("dnc", **{**model.config, "memory_size": memory_size})
    bigger.load_state_dict(model.state_dict())
    return bigger.to(next(model.parameters()).device).eval()


def _evaluate(args: argparse.Namespace) -> int:
    try:
        checkpoint = load_checkpoint(args.checkpoint, map_location=args.device or "cpu")
        if checkpoint.task is None:
            raise ValueError(f"{args.checkpoint} holds no task to evaluate on")
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    model = checkpoint.model
    if args.memory_size is not None:
        try:
            model = _with_memory(model, args.memory_size)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    print(f"{model.kind} on {checkpoint.task}"
          + ("" if args.memory_size is None else f", with {args.memory_size} slots"))
    if "command" in checkpoint.extra:
        print(f"trained with: {checkpoint.extra['command']}")
    try:
        rows = evaluate(model, checkpoint.task, args.lengths, batch_size=args.batch_size,
                        seed=args.seed)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(rows))
    return 0


def _pretrained(args: argparse.Namespace) -> int:
    from memlab import shipped

    if args.update:
        try:
            changes = shipped.update()
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print("\n".join(changes) if changes else "registry unchanged")
        print(f"wrote {shipped.REGISTRY_PATH}")
        return 0
    rows = [(n[: -len(shipped.SUFFIX)], f"{e['size'] / 1e3:.0f} kB", e["description"])
            for n, e in sorted(shipped.registry().items())]
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{n:<{width}}  {s:>8}  {d}" for n, s, d in rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2: bad arguments or unreadable checkpoint)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "pretrained":
        return _pretrained(args)
    if args.threads < 1:
        parser.error(f"--threads must be positive, got {args.threads}")
    torch.set_num_threads(args.threads)
    return _train(args, argv) if args.command == "train" else _evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
