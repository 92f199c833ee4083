"""How reliably each model learns its tasks: the fraction of seeds that get there, and how fast.

    python benchmarks/learning.py                        # the four standard settings, 10 seeds
    python benchmarks/learning.py --only ntm-copy --seeds 0-19 --steps 3000

For each setting (a model, a task, a bit-error threshold and a step budget) and each seed, the
model is built with its defaults and trained from that seed with its recipe (memlab.recipes,
which `train()` follows unless told otherwise; --optimizer, --lr, --batch-size and --clip
override it, --interface-clip the NTM's) on one CPU thread, until the threshold is reached on
held-out data or the step budget runs out: `train(stop_at=threshold)` stops once an interval's
mean training bit errors per sequence fall below the threshold *and* a held-out batch confirms it
(the seed is *reached*; History.held_out records the checks). Each model is then measured on 256
fresh sequences from a seed neither training nor that check used, and, for NTM copy, on 64
sequences of length 40, twice the longest trained on (the DNC's default 16 slots hold no more
than 16 vectors, so its copy is not measured longer). The table gives the seeds
reached, the median and worst steps and seconds among them, the worst held-out bit errors among
them (at the trained lengths and, for NTM copy, at length 40), and whether any run produced a
non-finite loss.

Settings:
  dnc-copy     DNC (memlab defaults) on copy, 8 bits, lengths 1-10, < 0.1 bits, 400 steps
  ntm-copy     NTM (memlab defaults) on copy, 8 bits, lengths 1-20, < 0.1 bits, 3000 steps
  ntm-repeat   NTM on repeat copy, 8 bits, lengths 1-10, 1-10 repeats, < 0.5 bits, 3000 steps
  dnc-recall   DNC on associative recall, 2-6 items of 3 vectors, < 0.1 bits, 3000 steps
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import memlab  # noqa: E402
from memlab.tasks import AssociativeRecallTask, CopyTask, RepeatCopyTask, Task  # noqa: E402
from memlab.train import measure, seed_everything, train  # noqa: E402


@dataclass(frozen=True)
class Setting:
    model: str
    task: Task
    threshold: float
    steps: int
    longer: int = 0  # also measure the reached models at this length (0: not)


SETTINGS = {
    "dnc-copy": Setting("dnc", CopyTask(width=8, min_length=1, max_length=10), 0.1, 400),
    "ntm-copy": Setting("ntm", CopyTask(width=8, min_length=1, max_length=20), 0.1, 3000, 40),
    "ntm-repeat": Setting("ntm", RepeatCopyTask(width=8, min_length=1, max_length=10,
                                                min_repeats=1, max_repeats=10), 0.5, 3000),
    "dnc-recall": Setting("dnc", AssociativeRecallTask(), 0.1, 3000),
}


def seeds_of(text: str) -> list[int]:
    """'0-9' or '1,4,7' -> a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds")
    return seeds


def run(setting: Setting, seed: int, log_every: int = 25, model_options: dict | None = None,
        **overrides) -> dict:
    """One training run from `seed`: reached or not, steps, seconds, final errors, finite.

    model_options: extra constructor arguments; overrides: train() arguments (e.g. lr) that
    replace the model's recipe.
    """
    seed_everything(seed)
    task = setting.task
    model = memlab.models.build_model(setting.model, input_size=task.input_size,
                                      output_size=task.output_size, **(model_options or {}))
    start = time.perf_counter()
    history = train(model, task, setting.steps, seed=seed, log_every=log_every, show_progress=False,
                    stop_at=setting.threshold, **overrides)
    seconds = time.perf_counter() - start
    held_out = measure(model, task, batch_size=256, seed=10_000 + seed)["bit_errors"]
    reached = history.stopped == "solved"  # below the threshold in training and held out
    longer = math.nan
    if reached and setting.longer:
        longer = measure(model, task.at_length(setting.longer), batch_size=64,
                         seed=20_000 + seed)["bit_errors"]
    return dict(seed=seed, reached=reached, steps=history.step[-1], seconds=seconds,
                training=history.bit_errors[-1], held_out=held_out, longer=longer,
                finite=all(math.isfinite(loss) for loss in history.loss))


def summary(name: str, setting: Setting, results: list[dict]) -> str:
    reached = [r for r in results if r["reached"]]
    line = f"{name:11s} {len(reached):3d} / {len(results):<3d}"
    if reached:
        steps = [r["steps"] for r in reached]
        seconds = [r["seconds"] for r in reached]
        line += (f" {statistics.median(steps):8.0f} {max(steps):7d}"
                 f" {statistics.median(seconds):9.1f} {max(seconds):8.1f}"
                 f" {max(r['held_out'] for r in reached):9.3f}")
        line += (f" {max(r['longer'] for r in reached):8.3f}" if setting.longer
                 else f" {'-':>8}")
    else:
        line += f" {'-':>8} {'-':>7} {'-':>9} {'-':>8} {'-':>9} {'-':>8}"
    line += "   yes" if all(r["finite"] for r in results) else "   NO"
    return line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(SETTINGS), action="append",
                        help="run only this setting (repeatable)")
    parser.add_argument("--seeds", type=seeds_of, default=seeds_of("0-9"),
                        help="e.g. 0-9 or 1,2,5 (default 0-9)")
    parser.add_argument("--steps", type=int, default=None, help="override every step budget")
    group = parser.add_argument_group("instead of the model's recipe (memlab.recipes)")
    group.add_argument("--optimizer", choices=memlab.recipes.OPTIMIZERS, default=None)
    group.add_argument("--lr", type=float, default=None)
    group.add_argument("--batch-size", type=int, default=None)
    group.add_argument("--clip", type=float, default=None, help="largest gradient norm")
    group.add_argument("--interface-clip", type=float, default=None,
                       help="the NTM's clip of its controller outputs (0: none)")
    args = parser.parse_args(argv)
    overrides = {key: getattr(args, key) for key in ("optimizer", "lr", "batch_size", "clip")
                 if getattr(args, key) is not None}
    model_options = {}
    if args.interface_clip is not None:
        model_options["interface_clip"] = args.interface_clip or None
    torch.set_num_threads(1)
    names = args.only or list(SETTINGS)
    print(f"seeds {args.seeds[0]}..{args.seeds[-1]} ({len(args.seeds)}), one CPU thread, "
          f"torch {torch.__version__}")
    header = (f"{'setting':11s} {'reached':>9} {'median':>8} {'worst':>7} {'median':>9} "
              f"{'worst':>8} {'worst':>9} {'worst':>8}   finite\n{'':11s} {'':>9} {'steps':>8} "
              f"{'steps':>7} {'seconds':>9} {'seconds':>8} {'held-out':>9} {'longer':>8}   losses")
    lines = []
    for name in names:
        setting = SETTINGS[name]
        if args.steps is not None:
            setting = dataclasses.replace(setting, steps=args.steps)
        chosen = dataclasses.replace(memlab.recipes.recipe(setting.model), **overrides)
        print(f"{name}: {setting.model} on {setting.task}, below {setting.threshold} bit errors "
              f"per sequence within {setting.steps} steps; {chosen.optimizer}, lr {chosen.lr:g}, "
              f"batch {chosen.batch_size}, clip {chosen.clip}"
              + "".join(f", {key} {value}" for key, value in model_options.items()))
        results = []
        for seed in args.seeds:
            result = run(setting, seed, model_options=model_options, **overrides)
            results.append(result)
            state = "reached" if result["reached"] else "NOT reached"
            print(f"  seed {seed:3d}: {state} at step {result['steps']:5d}, "
                  f"{result['seconds']:6.1f} s,"
                  f" training {result['training']:.3f}, held-out {result['held_out']:.3f}"
                  + (f", length {setting.longer} {result['longer']:.3f}"
                     if result["reached"] and setting.longer else ""),
                  flush=True)
        lines.append(summary(name, setting, results))
    print(header)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
