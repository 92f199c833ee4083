"""The graph tasks of chapter 8 measured on held-out samples, more of them than the chapter uses.

    python benchmarks/graph_tasks.py                      # every shipped graph checkpoint
    python benchmarks/graph_tasks.py --checkpoints checkpoints/runs/traversal_dnc.pt
    python benchmarks/graph_tasks.py --samples 200 --out-csv graph_tasks.csv

For each checkpoint (a .pt file saved by ``python -m memlab train`` on the task ``traversal`` or
``shortest_path``), the fraction of whole paths right (every digit of every answer triple) and of
answers right, on --samples held-out samples per path length, drawn with a fixed seed apart from
training's: traversal at 1-10 hops on graphs of the final lesson (grown to fit the longer
paths; a run that stalled in its curriculum, whose checkpoint holds an easier lesson, is measured
on the final lesson of a run of the same task that reached it), shortest path at the lengths of
its final lesson (answers right also with the model's own answers fed back, and the chance of a
walker without a plan, `graphs.walker_chance`); and, for traversal, on routes of 1-6 hops on
the metro map of
memlab.graphs.metro (21 stations, 44 edges: larger than any training graph). Prints one table
per checkpoint, with its size, steps and training time, and writes the rows to --out-csv when
given.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import torch

from memlab import graphs
from memlab.train import History, evaluate, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("traversal_dnc", "traversal_dnc_s", "traversal_lstm", "traversal_no_curriculum",
           "shortest_path_dnc")


def metro_rows(model, task, samples: int, hops=range(1, 7), seed: int = 2024) -> list:
    """Whole routes and answers right on the metro map, per number of hops."""
    metro, rows = graphs.metro(), []
    for n in hops:
        queries = graphs.route_queries(task, metro.edges, n, samples,
                                       torch.Generator().manual_seed(seed + n))
        paths, answers = graphs.path_accuracy(model, task, queries)
        rows.append({"test": "metro", "length": n, "sequence_accuracy": paths,
                     "answer_accuracy": answers})
    return rows


def load_run(path: Path) -> tuple[Any, Any, History]:
    """(checkpoint, its task, its history) of a graph run, refusing a file without them."""
    run = load_checkpoint(path)
    if run.task is None or run.history is None:
        raise ValueError(f"{path}: a checkpoint without its task or training history")
    return run, run.task, run.history


def at_final_lesson(run) -> bool:
    """Whether a checkpoint's saved task is its final one (a run saves the lesson it is on)."""
    curriculum = run.extra.get("curriculum")
    return not curriculum or max(run.history.level) == len(curriculum["levels"]) - 1


def measure_checkpoint(path: Path, run, samples: int, task=None) -> list:
    """The rows of ``run``, loaded from ``path``, on ``task`` (default its own).

    Random graphs per length, and the metro for traversal.
    """
    task = task or run.task
    if task.name == "traversal":
        lengths = list(range(1, 11))
    elif task.name == "shortest_path":
        lengths = list(range(task.min_length, task.max_length + 1))
    else:
        raise ValueError(f"{path}: not a graph task checkpoint ({task.name})")
    if task.name == "shortest_path":
        rows = []
        for n in lengths:
            generator = torch.Generator().manual_seed(2024 + n)
            queries = [task.at_length(n).sample(generator) for _ in range(samples)]
            paths, answers = graphs.path_accuracy(run.model, task, queries)
            own_paths, own_answers = graphs.path_accuracy(run.model, task, queries,
                                                          own_answers=True)
            rows.append({"test": "random graphs", "length": n, "sequence_accuracy": paths,
                         "answer_accuracy": answers, "own_paths": own_paths,
                         "own_answers": own_answers, "walker": graphs.walker_chance(queries)})
        return [{"checkpoint": path.stem, **row} for row in rows]
    rows = [{"test": "random graphs", **{k: row[k] for k in
                                         ("length", "sequence_accuracy", "answer_accuracy")}}
            for row in evaluate(run.model, task, lengths=lengths, batch_size=samples,
                                seed=2024)]
    rows += metro_rows(run.model, task, samples)
    return [{"checkpoint": path.stem, **row} for row in rows]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", nargs="*", type=Path,
                        help="checkpoint files (default: the shipped graph checkpoints found in "
                             "checkpoints/)")
    parser.add_argument("--samples", type=int, default=1000,
                        help="held-out samples per length (1000)")
    parser.add_argument("--out-csv", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    paths = args.checkpoints or [ROOT / "checkpoints" / f"{name}.pt" for name in SHIPPED
                                 if (ROOT / "checkpoints" / f"{name}.pt").exists()]
    if not paths:
        parser.error("no graph checkpoint found; give --checkpoints")
    # a run that stalled in its curriculum saved an easier lesson's task: measure every
    # checkpoint on the final lesson, as saved by a run of the same task that reached it
    runs = {path: load_run(path) for path in paths}  # each file read once
    final: dict[str, Any] = {}
    for run, task, _ in runs.values():
        if at_final_lesson(run):
            final.setdefault(task.name, task)
    rows = []
    for path, (run, task, history) in runs.items():
        start = time.perf_counter()
        task = final.get(task.name, task)
        found = measure_checkpoint(path, run, args.samples, task)
        size = path.stat().st_size / 2**20
        weights = sum(p.numel() for p in run.model.parameters())
        print(f"\n{path.name}: {size:.2f} MB, {weights:,} weights, "
              f"{history.step[-1]:,} steps, {history.seconds[-1] / 60:.0f} min of training, "
              f"last lesson {max(history.level) if history.level else '-'}; "
              f"measured in {time.perf_counter() - start:.0f} s on {task}")
        for test in ("random graphs", "metro"):
            mine = [row for row in found if row["test"] == test]
            if mine:
                for label, key in (("hops", "length"), ("paths", "sequence_accuracy"),
                                   ("answers", "answer_accuracy"), ("own paths", "own_paths"),
                                   ("own answers", "own_answers"), ("walker", "walker")):
                    if key in mine[0]:
                        print(f"  {test if label == 'hops' else '':13s} {label:11s} "
                              + " ".join(f"{r[key]:6d}" if key == "length" else
                                         f"{r[key]:6.3f}" for r in mine))
        rows += found
    if args.out_csv:
        with open(args.out_csv, "w", newline="") as f:
            fields = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
