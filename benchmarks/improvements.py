"""The DNC's improvements of Csordás & Schmidhuber (ICLR 2019), variant against variant, over seeds.

    python benchmarks/improvements.py --experiment reuse --seeds 1-5 --checkpoints checkpoints
    python benchmarks/improvements.py --experiment recall --seeds 1-5 --checkpoints checkpoints
    python benchmarks/improvements.py --experiment reuse --variants dnc,dnc_d --seeds 1
    python benchmarks/improvements.py --summary-of improvements_reuse.csv more.csv  # no training

Experiments (chapter 9; every variant of an experiment has the same controller and memory
sizes, the same data stream per seed and the same step budget, with no early stop):

  reuse   copy rounds (memlab.tasks.CopyRoundsTask): 3 copies of 3-6 vectors of 6 bits in one
          sequence, N = 6 slots: the longest round fits, the 9-18 vectors of a sample never do,
          so the slots of finished rounds must be freed and written again (the paper's repeated
          copy, its showcase of de-allocation, Fig. 4). LSTM controller of 32 (as in the
          authors' code for this task), W = 16, one read head. Variants dnc, dnc_d, dnc_md, and
          dnc_s, dnc_mds for link sharpness. Also measured on 6 rounds, twice the number trained
          on ("longer").
  recall  associative recall (NTM paper, 4.3): 2-6 items of 2 vectors of 6 bits, N = 24 slots
          (one per input step), LSTM controller of 64, W = 16, one read head (the paper's Fig.
          3a, its showcase of masking). Variants dnc, dnc_m.

Variants: dnc (the 2016 DNC), dnc_m (masking), dnc_d (de-allocation), dnc_md, dnc_s (link
sharpness), dnc_mds (all three): the switches of memlab.DNC.

For each variant and seed: seed everything, build the DNC, train it with its recipe
(memlab.recipes: Adam 1e-2, batch 16, clip 10) on one CPU thread for --steps steps, logging the
mean training bit errors per sequence every --log-every steps (the learning curve); then measure
the bit errors per sequence on --eval-batch held-out sequences drawn with a fixed seed (the same
sequences for every variant and seed), and on the longer task where there is one. Steps to
threshold: the first logged interval whose mean training bit errors fell below the experiment's
threshold (History.first_step_below). With the recipe's step size the training error of a solved
run still spikes now and then, so the CSV also gives late_training_errors, the median of the
last 10 logged intervals, beside the errors at the last step.

Writes one CSV row per run (--out-csv, default improvements_<experiment>.csv) and the learning
curves in long format beside it (<out-csv stem>_curves.csv); with --checkpoints DIR, saves each
model as DIR/<task>_<variant>_seed<k>.pt with the command that makes it. Prints, per variant,
the median and interquartile range over seeds, and a two-sided Mann-Whitney U test
(scipy.stats.mannwhitneyu) of each variant against dnc on held-out errors and on steps to
threshold (a run that never reaches it counts as steps + 1, ranked last).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from learning import seeds_of  # noqa: E402  (the same '1-5' or '1,4' syntax)
from memlab.models import build_model  # noqa: E402
from memlab.tasks import AssociativeRecallTask, CopyRoundsTask, Task  # noqa: E402
from memlab.train import measure, save_checkpoint, seed_everything, train  # noqa: E402

#: the switches of each variant (memlab.DNC's options)
VARIANTS: dict[str, dict[str, bool]] = {
    "dnc": {},
    "dnc_m": dict(masking=True),
    "dnc_d": dict(deallocation=True),
    "dnc_md": dict(masking=True, deallocation=True),
    "dnc_s": dict(link_sharpness=True),
    "dnc_mds": dict(masking=True, deallocation=True, link_sharpness=True),
}

EVAL_SEED = 2019  # the held-out sequences: the same for every variant and seed
LATE = 10  # late_training_errors: the median of the last LATE logged intervals


@dataclass(frozen=True)
class Experiment:
    """One comparison: a task, the variants compared on it, their common size and budget."""

    task: Task
    variants: tuple  # the default variants, dnc first
    model: dict  # hidden_size, memory_size, word_size, read_heads: the same for every variant
    steps: int  # the budget of every run
    threshold: float  # bit errors per sequence, for steps to threshold
    longer: Task | None = None  # also measured on this task (None: not)
    log_every: int = 25
    eval_batch: int = 256


REUSE_TASK = CopyRoundsTask(width=6, min_length=3, max_length=6, min_rounds=3, max_rounds=3)
SMOKE_REUSE = CopyRoundsTask(width=3, min_length=2, max_length=2, min_rounds=2, max_rounds=2)
TINY = dict(hidden_size=8, word_size=4, read_heads=1)

EXPERIMENTS = {
    "reuse": Experiment(
        REUSE_TASK, ("dnc", "dnc_d", "dnc_md", "dnc_s", "dnc_mds"),
        dict(hidden_size=32, memory_size=6, word_size=16, read_heads=1), steps=1500,
        threshold=1.0,
        longer=dataclasses.replace(REUSE_TASK, min_rounds=6, max_rounds=6)),
    "recall": Experiment(
        AssociativeRecallTask(width=6, item_length=2, min_items=2, max_items=6), ("dnc", "dnc_m"),
        dict(hidden_size=64, memory_size=24, word_size=16, read_heads=1), steps=2000,
        threshold=1.0),
}
#: --smoke: the same code paths in seconds
SMOKE = {
    "reuse": Experiment(SMOKE_REUSE, EXPERIMENTS["reuse"].variants, dict(TINY, memory_size=3),
                        steps=4, threshold=1.0, log_every=2, eval_batch=8,
                        longer=dataclasses.replace(SMOKE_REUSE, min_rounds=3, max_rounds=3)),
    "recall": Experiment(AssociativeRecallTask(width=3, item_length=1, min_items=2, max_items=3),
                         EXPERIMENTS["recall"].variants, dict(TINY, memory_size=4), steps=4,
                         threshold=1.0, log_every=2, eval_batch=8),
}

FIELDS = ("experiment", "task", "variant", "seed", "steps", "steps_to_threshold",
          "held_out_errors", "longer_errors", "final_training_errors", "late_training_errors",
          "seconds", "cpu_seconds", "parameters", "finite")
CURVE_FIELDS = ("experiment", "task", "variant", "seed", "step", "bit_errors", "loss", "seconds")


def variant_names(text: str) -> list:
    """'dnc,dnc_d' -> ['dnc', 'dnc_d'], each checked against VARIANTS."""
    chosen = [part for part in text.split(",") if part]
    unknown = [name for name in chosen if name not in VARIANTS]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(VARIANTS)}; got {text!r}")
    return chosen


def build(experiment: Experiment, variant: str):
    """The DNC of ``variant`` at the experiment's size, for its task."""
    task = experiment.task
    return build_model("dnc", input_size=task.input_size, output_size=task.output_size,
                       **experiment.model, **VARIANTS[variant])


def command_of(args, variant: str, seed: int) -> str:
    """The command that makes the one run (variant, seed) of this invocation."""
    words = ["python", "benchmarks/improvements.py", "--experiment", args.experiment,
             "--variants", variant, "--seeds", str(seed), "--steps", str(args.steps)]
    if args.smoke:
        words.append("--smoke")
    if args.checkpoints is not None:
        words += ["--checkpoints", str(args.checkpoints)]
    return shlex.join(words)


def run(name: str, experiment: Experiment, variant: str, seed: int, steps: int,
        checkpoints: Path | None = None, command: str = "") -> tuple[dict, list]:
    """Train one variant from one seed for ``steps`` steps; its CSV row and learning curve."""
    task = experiment.task
    seed_everything(seed)
    model = build(experiment, variant)
    start, cpu_start = time.perf_counter(), time.process_time()
    history = train(model, task, steps, seed=seed, log_every=experiment.log_every,
                    show_progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    held_out = measure(model, task, experiment.eval_batch, EVAL_SEED)["bit_errors"]
    late = statistics.median(history.bit_errors[-LATE:])
    longer = math.nan
    if experiment.longer is not None:
        longer = measure(model, experiment.longer, experiment.eval_batch, EVAL_SEED)["bit_errors"]
    reached = history.first_step_below(experiment.threshold)
    row = dict(experiment=name, task=task.name, variant=variant, seed=seed, steps=steps,
               steps_to_threshold="" if reached is None else reached,
               held_out_errors=round(held_out, 4), longer_errors=round(longer, 4),
               final_training_errors=round(history.bit_errors[-1], 4),
               late_training_errors=round(late, 4),
               seconds=round(seconds, 1), cpu_seconds=round(cpu_seconds, 1),
               parameters=sum(p.numel() for p in model.parameters()),
               finite=all(math.isfinite(loss) for loss in history.loss))
    curve = [dict(experiment=name, task=task.name, variant=variant, seed=seed, step=step,
                  bit_errors=round(errors, 4), loss=round(loss, 5), seconds=round(at, 1))
             for step, errors, loss, at in zip(history.step, history.bit_errors, history.loss,
                                               history.seconds)]
    if checkpoints is not None:
        extra: dict[str, Any] = {
            "command": command, "seed": seed, "variant": variant, "experiment": name,
            "torch_version": str(torch.__version__), "eval_seed": EVAL_SEED,
            "held_out_errors": held_out, "steps_to_threshold": reached,
            "threshold": experiment.threshold}
        if experiment.longer is not None:
            extra["longer_errors"] = longer
        path = Path(checkpoints) / f"{task.name}_{variant}_seed{seed}.pt"
        save_checkpoint(path, model, task, history, extra)
    return row, curve


def _quartiles(values: list) -> tuple:
    """(median, first quartile, third quartile) of values (one value: itself thrice)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q1, q3


def _steps(row: dict) -> float:
    """Steps to threshold; a run that never reached it counts as its budget + 1."""
    value = row["steps_to_threshold"]
    return float(row["steps"]) + 1 if value in ("", None) else float(value)


def compare(a: list, b: list) -> str:
    """The two-sided Mann-Whitney U test of a against b, as 'U = .., p = ..'."""
    if len(set(a) | set(b)) == 1:
        return "all equal, p = 1"
    result = mannwhitneyu(a, b, alternative="two-sided")
    return f"U = {result.statistic:4.1f}, p = {result.pvalue:.3f}"


def summary(rows: list) -> str:
    """Per experiment and variant: median [IQR] over seeds, and each variant's test against dnc."""
    lines = []
    for name in dict.fromkeys(row["experiment"] for row in rows):
        mine = [row for row in rows if row["experiment"] == name]
        variants = list(dict.fromkeys(row["variant"] for row in mine))
        by = {v: sorted((r for r in mine if r["variant"] == v), key=lambda r: int(r["seed"]))
              for v in variants}
        has_longer = any(not math.isnan(float(r["longer_errors"])) for r in mine)
        lines.append(f"{name} ({mine[0]['task']}): median [interquartile range] over seeds")
        lines.append(f"  {'variant':8s} {'seeds':>5s} {'reached':>7s} {'steps to threshold':>22s}"
                     f" {'held-out errors':>22s}"
                     + (f" {'longer errors':>22s}" if has_longer else "") + f" {'s/run':>6s}")
        for v in variants:
            runs = by[v]
            reached = sum(r["steps_to_threshold"] not in ("", None) for r in runs)
            columns = [([_steps(r) for r in runs], ".0f"),
                       ([float(r["held_out_errors"]) for r in runs], ".2f")]
            if has_longer:
                columns.append(([float(r["longer_errors"]) for r in runs], ".2f"))
            cells = []
            for values, form in columns:
                median, q1, q3 = _quartiles(values)
                cells.append(f"{median:8{form}} [{q1:7{form}}, {q3:7{form}}]".rjust(22))
            seconds = statistics.median(float(r["seconds"]) for r in runs)
            lines.append(f"  {v:8s} {len(runs):5d} {reached:3d}/{len(runs):<3d} "
                         + " ".join(cells) + f" {seconds:6.0f}")
        lines.append("  seeds: " + "; ".join(
            f"{v} {','.join(str(r['seed']) for r in by[v])}" for v in variants))
        if "dnc" in by:
            lines.append("  against dnc, two-sided Mann-Whitney U (scipy.stats.mannwhitneyu); "
                         "steps: unreached = budget + 1")
            base = by["dnc"]
            for v in variants:
                if v == "dnc":
                    continue
                held = compare([float(r["held_out_errors"]) for r in by[v]],
                               [float(r["held_out_errors"]) for r in base])
                steps = compare([_steps(r) for r in by[v]], [_steps(r) for r in base])
                line = f"  {v:8s} held-out errors: {held}; steps to threshold: {steps}"
                if has_longer:
                    line += "; longer: " + compare([float(r["longer_errors"]) for r in by[v]],
                                                   [float(r["longer_errors"]) for r in base])
                lines.append(line)
    return "\n".join(lines)


def read_rows(paths) -> list:
    """The rows of result CSVs written by this script."""
    rows: list = []
    for path in paths:
        with open(path, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default="reuse")
    parser.add_argument("--variants", type=variant_names, default=None,
                        help="comma-separated (default: the experiment's)")
    parser.add_argument("--seeds", type=seeds_of, default=seeds_of("1-5"),
                        help="e.g. 1-5 or 1,2,5 (default 1-5)")
    parser.add_argument("--steps", type=int, default=None,
                        help="the budget of every run (default: the experiment's)")
    parser.add_argument("--out-csv", type=Path, default=None,
                        help="one row per run (default improvements_<experiment>.csv); the "
                             "learning curves go to <stem>_curves.csv beside it")
    parser.add_argument("--checkpoints", type=Path, default=None,
                        help="save every model there as <task>_<variant>_seed<k>.pt")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and budgets: seconds")
    parser.add_argument("--summary-of", type=Path, nargs="+", default=None, metavar="CSV",
                        help="print the summary of result CSVs written earlier; train nothing")
    args = parser.parse_args(argv)
    if args.summary_of is not None:
        print(summary(read_rows(args.summary_of)))
        return 0
    torch.set_num_threads(1)
    experiment = (SMOKE if args.smoke else EXPERIMENTS)[args.experiment]
    args.steps = experiment.steps if args.steps is None else args.steps
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    variants = args.variants or list(experiment.variants)
    out = args.out_csv or Path(f"improvements_{args.experiment}.csv")
    curves = out.with_name(out.stem + "_curves.csv")
    print(f"{args.experiment}: {experiment.task}; DNC {experiment.model}; {args.steps} steps; "
          f"threshold {experiment.threshold} bit errors per sequence; one CPU thread, "
          f"torch {torch.__version__}", flush=True)

    rows = []
    with open(out, "w", newline="") as handle, open(curves, "w", newline="") as curve_handle:
        writer = csv.DictWriter(handle, FIELDS)
        curve_writer = csv.DictWriter(curve_handle, CURVE_FIELDS)
        writer.writeheader()
        curve_writer.writeheader()
        for seed in args.seeds:  # seed by seed, so that a cut-short sweep is balanced
            for variant in variants:
                row, curve = run(args.experiment, experiment, variant, seed, args.steps,
                                 args.checkpoints, command_of(args, variant, seed))
                writer.writerow(row)
                curve_writer.writerows(curve)
                handle.flush()
                curve_handle.flush()
                rows.append(row)
                print(f"  {variant:8s} seed {seed:3d}: {row['seconds']:6.1f} s "
                      f"({row['cpu_seconds']:.1f} s of CPU), "
                      f"threshold at {row['steps_to_threshold'] or '-'}, "
                      f"training {row['final_training_errors']:.3f}, "
                      f"held-out {row['held_out_errors']:.3f}"
                      + ("" if math.isnan(row["longer_errors"])
                         else f", longer {row['longer_errors']:.3f}"), flush=True)
    print(summary(rows))
    print(f"wrote {out} and {curves}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
