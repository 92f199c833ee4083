"""The copy-rounds task (memory reuse) and benchmarks/improvements.py, run end to end (smoke).

The task's layout is checked sample by sample against a construction in plain Python, its
capacity arithmetic against the rounds it draws; the benchmark runs with --smoke for each
experiment and its CSVs, checkpoints (with their commands) and statistics are checked.
"""
import csv
import dataclasses
import shlex
import sys
from pathlib import Path

import pytest
import torch
from scipy.stats import mannwhitneyu

from memlab.__main__ import main as cli
from memlab.tasks import CopyRoundsTask, make_task
from memlab.train import load_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import improvements  # noqa: E402


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def rounds_of(inputs, width):
    """The rounds of one sample, read off its inputs: a list of [L, width] tensors."""
    rounds, start = [], 0
    delimiters = inputs[:, width].nonzero().flatten().tolist()
    for delimiter in delimiters:
        rounds.append(inputs[start:delimiter, :width])
        start = delimiter + (delimiter - start) + 1  # the copy back takes L steps
    return rounds


def construct(rounds, width, steps):
    """The sample of these rounds, built step by step in plain Python, padded to ``steps``."""
    inputs, targets, mask = [], [], []
    for vectors in rounds:
        rows = [[float(bit) for bit in vector] for vector in vectors.tolist()]
        for row in rows:  # the vectors, shown
            inputs.append(row + [0.0])
            targets.append([0.0] * width)
            mask.append(0.0)
        inputs.append([0.0] * width + [1.0])  # the delimiter
        targets.append([0.0] * width)
        mask.append(0.0)
        for row in rows:  # the copy, asked for on blank steps
            inputs.append([0.0] * (width + 1))
            targets.append(row)
            mask.append(1.0)
    pad = steps - len(mask)
    inputs += [[0.0] * (width + 1)] * pad
    targets += [[0.0] * width] * pad
    mask += [0.0] * pad
    return inputs, targets, mask


# --- the task -----------------------------------------------------------------------------------


def test_copy_rounds_layout_per_sample():
    task = CopyRoundsTask(width=4, min_length=1, max_length=5, min_rounds=1, max_rounds=4)
    batch = task.batch(64, seeded(1))
    T = batch.inputs.shape[1]
    seen_rounds, seen_lengths, totals = set(), set(), []
    for inputs, targets, mask in zip(*batch):
        rounds = rounds_of(inputs, task.width)
        seen_rounds.add(len(rounds))
        seen_lengths.update(len(vectors) for vectors in rounds)
        assert task.min_rounds <= len(rounds) <= task.max_rounds
        assert all(task.min_length <= len(vectors) <= task.max_length for vectors in rounds)
        expected = construct(rounds, task.width, T)
        assert inputs.tolist() == expected[0]
        assert targets.tolist() == expected[1]
        assert mask.tolist() == expected[2]
        totals.append(sum(2 * len(vectors) + 1 for vectors in rounds))
    assert T == max(totals)  # the longest sample fills the time axis
    assert seen_rounds == {1, 2, 3, 4} and seen_lengths == {1, 2, 3, 4, 5}
    assert batch.inputs[..., :task.width].sum() > 0  # random bits, not all zero


def test_copy_rounds_each_round_draws_its_own_vectors():
    task = CopyRoundsTask(width=8, min_length=4, max_length=4, min_rounds=3, max_rounds=3)
    for inputs in task.batch(16, seeded(2)).inputs:
        first, second, third = rounds_of(inputs, task.width)
        assert not torch.equal(first, second) and not torch.equal(second, third)


def test_copy_rounds_masks_count_every_vector_once():
    task = CopyRoundsTask(width=3, min_length=2, max_length=6, min_rounds=2, max_rounds=5)
    batch = task.batch(32, seeded(3))
    for inputs, mask in zip(batch.inputs, batch.mask):
        rounds = rounds_of(inputs, task.width)
        assert mask.sum() == sum(len(vectors) for vectors in rounds)
        assert (inputs[mask == 1] == 0).all()  # the output steps are blank


def test_copy_rounds_at_length_fixes_every_round():
    task = CopyRoundsTask(min_rounds=2, max_rounds=4).at_length(5)
    assert (task.min_length, task.max_length, task.min_rounds, task.max_rounds) == (5, 5, 2, 4)
    for inputs in task.batch(16, seeded(4)).inputs:
        assert [len(vectors) for vectors in rounds_of(inputs, task.width)] in (
            [5] * 2, [5] * 3, [5] * 4)


def test_copy_rounds_capacity_arithmetic():
    task = CopyRoundsTask(width=6, min_length=3, max_length=6, min_rounds=3, max_rounds=4)
    assert task.items_per_round == 6
    assert (task.min_total_items, task.max_total_items) == (9, 24)
    # N holds one round but never a whole sample: from 6 slots (the longest round) to 8
    assert [n for n in range(1, 30) if task.forces_reuse(n)] == [6, 7, 8]
    # what the batches hold agrees: no round longer than items_per_round, and every sample
    # writes from min_total_items to max_total_items vectors in all
    batch = task.batch(256, seeded(5))
    written = [sum(len(vectors) for vectors in rounds_of(inputs, task.width))
               for inputs in batch.inputs]
    assert min(written) >= task.min_total_items and max(written) <= task.max_total_items
    assert (batch.mask.sum(1) == torch.tensor(written, dtype=torch.float32)).all()
    # one round of up to max_length at a time: never reuse when a sample fits whole
    assert not CopyRoundsTask(min_length=1, max_length=2, min_rounds=1, max_rounds=2) \
        .forces_reuse(4)
    assert not task.forces_reuse(5)  # the longest round does not fit


def test_the_reuse_experiment_forces_reuse():
    for table in (improvements.EXPERIMENTS, improvements.SMOKE):
        experiment = table["reuse"]
        memory_size = experiment.model["memory_size"]
        assert experiment.task.forces_reuse(memory_size)
        assert experiment.longer.forces_reuse(memory_size)
        assert experiment.longer.min_rounds > experiment.task.max_rounds  # more rounds


def test_copy_rounds_seeding_and_registry():
    task = make_task("copy_rounds", width=3, max_length=4)
    assert task == CopyRoundsTask(width=3, max_length=4)
    first, again = task.batch(8, seeded(6)), task.batch(8, seeded(6))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    other = task.batch(8, seeded(7))
    assert not all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(first, other))


def test_copy_rounds_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    path = tmp_path / "rounds.pt"
    assert cli(["train", "--model", "dnc", "--task", "copy_rounds", "--width", "3",
                "--min-length", "2", "--max-length", "2", "--min-rounds", "2", "--max-rounds", "3",
                "--steps", "1", "--batch-size", "2", "--hidden-size", "8", "--memory-size", "2",
                "--word-size", "4", "--read-heads", "1", "--deallocation",
                "--out", str(path)]) == 0
    saved = load_checkpoint(path)
    assert saved.task == CopyRoundsTask(width=3, min_length=2, max_length=2, min_rounds=2,
                                        max_rounds=3)
    assert saved.model.config["deallocation"] is True
    code = cli(["train", "--task", "copy", "--min-rounds", "2", "--steps", "1",
                "--out", str(tmp_path / "x.pt")])
    assert code == 2 and "--min-rounds does not apply to task copy" in capsys.readouterr().err


@pytest.mark.parametrize("build, argument", [
    (lambda: CopyRoundsTask(width=0), "width"),
    (lambda: CopyRoundsTask(min_length=0), "min_length"),
    (lambda: CopyRoundsTask(min_length=5, max_length=4), "max_length"),
    (lambda: CopyRoundsTask(min_rounds=0), "min_rounds"),
    (lambda: CopyRoundsTask(min_rounds=3, max_rounds=2), "max_rounds"),
    (lambda: CopyRoundsTask(max_rounds=2.0), "max_rounds"),
    (lambda: dataclasses.replace(CopyRoundsTask(), min_rounds=True), "min_rounds"),
    (lambda: CopyRoundsTask().forces_reuse(0), "memory_size"),
])
def test_copy_rounds_bad_arguments(build, argument):
    with pytest.raises(ValueError, match=argument):
        build()


# --- the benchmark ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def restore_threads():
    """main() sets torch to one thread: undo it."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("experiment", sorted(improvements.EXPERIMENTS))
def test_smoke_run_writes_rows_curves_and_checkpoints(experiment, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    out = tmp_path / "results.csv"
    assert improvements.main(["--experiment", experiment, "--smoke", "--seeds", "1-2",
                              "--out-csv", str(out), "--checkpoints", str(tmp_path / "ck")]) == 0
    smoke = improvements.SMOKE[experiment]
    variants = list(smoke.variants)
    rows = read(out)
    assert list(rows[0]) == list(improvements.FIELDS)
    assert [(row["variant"], row["seed"]) for row in rows] == [
        (variant, seed) for seed in ("1", "2") for variant in variants]
    for row in rows:
        assert row["task"] == smoke.task.name and row["steps"] == str(smoke.steps)
        assert float(row["held_out_errors"]) >= 0 and row["finite"] == "True"
    curves = read(tmp_path / "results_curves.csv")
    assert [int(row["step"]) for row in curves if row["variant"] == "dnc" and row["seed"] == "1"] \
        == list(range(smoke.log_every, smoke.steps + 1, smoke.log_every))
    # every variant has the same size but for the fields its switches add
    sizes = {row["variant"]: int(row["parameters"]) for row in rows}
    assert sizes["dnc"] == sizes.get("dnc_d", sizes["dnc"])
    # one checkpoint per run, named <task>_<variant>_seed<k>.pt, with the command that made it
    names = sorted(path.name for path in (tmp_path / "ck").iterdir())
    assert names == sorted(f"{smoke.task.name}_{v}_seed{s}.pt" for v in variants for s in (1, 2))
    variant = variants[-1]
    saved = load_checkpoint(tmp_path / "ck" / f"{smoke.task.name}_{variant}_seed2.pt")
    command = shlex.split(saved.extra["command"])
    assert command[:2] == ["python", "benchmarks/improvements.py"]
    assert command[2:] == ["--experiment", experiment, "--variants", variant, "--seeds", "2",
                           "--steps", str(smoke.steps), "--smoke",
                           "--checkpoints", str(tmp_path / "ck")]
    assert saved.extra["seed"] == 2 and saved.extra["variant"] == variant
    assert saved.task == smoke.task
    assert {k: saved.model.config[k] for k in smoke.model} == smoke.model
    for switch, on in improvements.VARIANTS[variant].items():
        assert saved.model.config[switch] is on
    assert saved.extra["held_out_errors"] == pytest.approx(float(rows[-1]["held_out_errors"]),
                                                           abs=1e-4)
    printed = capsys.readouterr().out
    assert "Mann-Whitney" in printed and f"{variants[1]:8s} held-out errors:" in printed


def test_summary_tests_each_variant_against_dnc(tmp_path, capsys):
    rows = []
    errors = {"dnc": [3.0, 2.5, 4.0, 3.5, 2.0], "dnc_d": [0.1, 0.0, 0.3, 0.2, 0.05]}
    reached = {"dnc": ["", "", 900, "", ""], "dnc_d": [300, 250, 400, 350, 300]}
    for variant in errors:
        for seed, (held, at) in enumerate(zip(errors[variant], reached[variant]), 1):
            rows.append(dict(experiment="reuse", task="copy_rounds", variant=variant, seed=seed,
                             steps=1000, steps_to_threshold=at, held_out_errors=held,
                             longer_errors="nan", final_training_errors=held,
                             late_training_errors=held, seconds=1.0,
                             cpu_seconds=1.0, parameters=1, finite=True))
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, improvements.FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    assert improvements.main(["--summary-of", str(path)]) == 0
    printed = capsys.readouterr().out
    held = mannwhitneyu(errors["dnc_d"], errors["dnc"], alternative="two-sided")
    steps = mannwhitneyu([300, 250, 400, 350, 300], [1001, 1001, 900, 1001, 1001],
                         alternative="two-sided")
    assert f"held-out errors: U = {held.statistic:4.1f}, p = {held.pvalue:.3f}" in printed
    assert f"steps to threshold: U = {steps.statistic:4.1f}, p = {steps.pvalue:.3f}" in printed
    assert "dnc          5   1/5" in printed and "dnc_d        5   5/5" in printed
    assert "longer" not in printed.split("against dnc")[0]  # no longer column without data
    assert improvements.compare([0.0, 0.0], [0.0, 0.0]) == "all equal, p = 1"


def test_bad_variant_is_refused(capsys):
    with pytest.raises(SystemExit):
        improvements.main(["--variants", "dnc,dnc_x", "--smoke"])
    assert "choose from dnc, dnc_m" in capsys.readouterr().err
