"""Length generalisation: train on short strings, score on longer ones (Delétang et al. 2023).

    python benchmarks/generalisation.py        # the whole table: 3 tasks x 7 models x 3 seeds
    python benchmarks/generalisation.py --tasks reverse --models dnc,transformer_alibi --seeds 1
    python benchmarks/generalisation.py --save-dir checkpoints   # also keep every trained model

The protocol of Delétang et al. (ICLR 2023), at CPU scale. Every model is trained on inputs of
1 to N tokens (N = --train-length, 10) over an alphabet of --vocab-size tokens (8), with its
recipe (memlab.recipes) and the same step budget (--steps), stopping early once training is
solved (--stop-at bit errors per sequence, where a wrong answer step counts 2). It is then scored
on every length from N + 1 to 4N: the fraction of answer steps right (per-step accuracy), on
--eval-batch held-out strings per length drawn from a seed training never used, averaged over
the lengths. As the paper does, the table reports the best seed; it reports the median too.
Training runs for the whole budget by default (--stop-at 0): in trials a DNC stopped as soon as
its training batches were solved generalised much less far than one trained on.

Models (sizes chosen so that each has 30-70 thousand parameters, printed with the table):

  dnc                     DNC, LSTM controller of 64, N = 64 slots of W = 16, 2 read heads
                          (the memory holds the longest test string, 4N = 40 tokens)
  dnc_s                   the same DNC with link sharpness (Csordás & Schmidhuber 2019, ch. 9)
  ntm                     NTM, LSTM controller of 64, 64 slots of 16, one read and one write head
  lstm                    LSTM of 80 units
  transformer_sinusoidal  Transformer encoder, 2 pre-norm layers, d = 48, 4 heads, sinusoidal
  transformer_rope        the same with rotary (relative) positions
  transformer_alibi       the same with ALiBi (relative) positions

Writes one CSV row per (task, model, seed, length) with the training steps and seconds, and
prints the table (score over N+1..4N, best and median seed; in-distribution accuracy beside it).
With --save-dir, each model is saved as <task>_<model>_seed<k>.pt with the command that made it.
"""
from __future__ import annotations

import argparse
import csv
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from learning import seeds_of  # noqa: E402  (the same '1-3' or '1,4' syntax)
from memlab.models import build_model  # noqa: E402
from memlab.tasks import make_task  # noqa: E402
from memlab.train import evaluate, save_checkpoint, seed_everything, train  # noqa: E402

TASKS = ("reverse", "duplicate", "odds_first")

MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "dnc": ("dnc", dict(hidden_size=64, memory_size=64, word_size=16, read_heads=2)),
    "dnc_s": ("dnc", dict(hidden_size=64, memory_size=64, word_size=16, read_heads=2,
                          link_sharpness=True)),
    "ntm": ("ntm", dict(hidden_size=64, memory_size=64, word_size=16)),
    "lstm": ("lstm", dict(hidden_size=80)),
    "transformer_sinusoidal": ("transformer", dict(positional="sinusoidal")),
    "transformer_rope": ("transformer", dict(positional="rope")),
    "transformer_alibi": ("transformer", dict(positional="alibi")),
}

FIELDS = ("task", "model", "seed", "length", "accuracy", "steps", "seconds", "parameters")


def names(text: str, known) -> list:
    """'a,b' -> ['a', 'b'], each checked against ``known``."""
    chosen = [part for part in text.split(",") if part]
    unknown = [name for name in chosen if name not in known]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(known)}; got {text!r}")
    return chosen


def test_lengths(train_length: int) -> list:
    """The lengths a model is scored on: N + 1 to 4N."""
    return list(range(train_length + 1, 4 * train_length + 1))


def build(model_name: str, task):
    """The model ``model_name`` (a key of MODELS) sized for ``task``."""
    kind, options = MODELS[model_name]
    return build_model(kind, input_size=task.input_size, output_size=task.output_size, **options)


def run(task_name: str, model_name: str, seed: int, args, command: str) -> list:
    """Train one model from one seed, score it, optionally save it; one dict per length."""
    task = make_task(task_name, vocab_size=args.vocab_size, min_length=1,
                     max_length=args.train_length)
    seed_everything(seed)
    model = build(model_name, task)
    start = time.perf_counter()
    history = train(model, task, args.steps, seed=seed, stop_at=args.stop_at or None,
                    log_every=args.log_every, show_progress=False)
    seconds = time.perf_counter() - start
    lengths = [args.train_length] + test_lengths(args.train_length)
    rows = evaluate(model, task, lengths, batch_size=args.eval_batch, seed=args.eval_seed)
    parameters = sum(p.numel() for p in model.parameters())
    if args.save_dir is not None:
        path = Path(args.save_dir) / f"{task_name}_{model_name}_seed{seed}.pt"
        extra = {"command": command, "seed": seed, "torch_version": str(torch.__version__),
                 "held_out": {str(row["length"]): row["answer_accuracy"] for row in rows}}
        save_checkpoint(path, model, task, history, extra)
    return [dict(task=task_name, model=model_name, seed=seed, length=row["length"],
                 accuracy=row["answer_accuracy"], steps=history.step[-1],
                 seconds=round(seconds, 1), parameters=parameters) for row in rows]


def summary(rows: list, train_length: int) -> str:
    """The table: per task and model, the score of the best and the median seed."""
    lines = [f"{'task':11s} {'model':23s} {'params':>7s} {'seeds':>5s} {'best':>6s} {'median':>6s}"
             f" {'at N':>6s} {'steps':>6s} {'s/run':>6s}"]
    keys = dict.fromkeys((row["task"], row["model"]) for row in rows)
    for task, model in keys:
        mine = [row for row in rows if (row["task"], row["model"]) == (task, model)]
        seeds = sorted({row["seed"] for row in mine})
        scores = [statistics.mean(row["accuracy"] for row in mine
                                  if row["seed"] == s and row["length"] > train_length)
                  for s in seeds]
        at_n = statistics.median(row["accuracy"] for row in mine if row["length"] == train_length)
        steps = statistics.median(row["steps"] for row in mine if row["length"] == train_length)
        seconds = statistics.median(row["seconds"] for row in mine if row["length"] == train_length)
        lines.append(f"{task:11s} {model:23s} {mine[0]['parameters']:7d} {len(seeds):5d} "
                     f"{max(scores):6.3f} {statistics.median(scores):6.3f} {at_n:6.3f} "
                     f"{steps:6.0f} {seconds:6.0f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=lambda t: names(t, TASKS), default=list(TASKS))
    parser.add_argument("--models", type=lambda t: names(t, MODELS), default=list(MODELS))
    parser.add_argument("--seeds", type=seeds_of, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=3000, help="budget per run (%(default)s)")
    parser.add_argument("--stop-at", type=float, default=0.0,
                        help="stop once training bit errors per sequence fall below this "
                             "(%(default)s: never, train for the whole budget)")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--train-length", type=int, default=10, help="N (%(default)s)")
    parser.add_argument("--vocab-size", type=int, default=8, help="tokens (%(default)s)")
    parser.add_argument("--eval-batch", type=int, default=32, help="strings per length")
    parser.add_argument("--eval-seed", type=int, default=2023)
    parser.add_argument("--csv", default="generalisation.csv", help="output (%(default)s)")
    parser.add_argument("--save-dir", default=None, help="keep every model there")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rows = []
    with open(args.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for task_name in args.tasks:
            for model_name in args.models:
                for seed in args.seeds:
                    # the command that makes this one checkpoint, recorded inside it
                    command = shlex.join(["python", "benchmarks/generalisation.py", "--tasks",
                                          task_name, "--models", model_name, "--seeds",
                                          str(seed), *_strip(argv)])
                    new = run(task_name, model_name, seed, args, command)
                    writer.writerows(new)
                    handle.flush()
                    rows.extend(new)
                    print(f"{task_name} {model_name} seed {seed}: {new[0]['steps']} steps, "
                          f"{new[0]['seconds']:.0f} s, at N {new[0]['accuracy']:.3f}, "
                          f"N+1..4N {statistics.mean(r['accuracy'] for r in new[1:]):.3f}",
                          flush=True)
    print(summary(rows, args.train_length))
    print(f"wrote {args.csv}")
    return 0


def _strip(argv: list) -> list:
    """argv without --tasks/--models/--seeds and their values (one run's command adds its own)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--tasks", "--models", "--seeds"):
            skip = True
            continue
        if arg.startswith(("--tasks=", "--models=", "--seeds=")):
            continue
        kept.append(arg)
    return kept


if __name__ == "__main__":
    sys.exit(main())
