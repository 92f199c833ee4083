"""benchmarks/step_time.py runs end to end (a smoke test: its figures are not checked here)."""
import sys
import warnings
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import step_time  # noqa: E402


@pytest.fixture(autouse=True)
def restore_global_settings():
    """main() sets threads, turns torch's compile cache off and filters warnings: undo it."""
    threads, caches_off = torch.get_num_threads(), torch.compiler.config.force_disable_caches
    with warnings.catch_warnings():
        yield
    torch.set_num_threads(threads)
    torch.compiler.config.force_disable_caches = caches_off


def test_step_time_prints_both_tables_and_a_learning_line(capsys, monkeypatch):
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    step_time.main(["--no-compile", "--no-public", "--repeats", "1", "--warmup", "0",
                    "--learn-seconds", "0.1", "--learn-seeds", "0"])
    out = capsys.readouterr().out
    assert out.count("memlab eager") == 2 and out.count("naive") >= 2
    # 0.1 s is far too short to learn copy: the line must say so rather than claim success
    assert "seed 0: NOT reached after 50 steps" in out


# Stands in for a clone of the public NTM: the constructor, init_sequence and one call per time
# step of its EncapsulatedNTM, recording how the benchmark drives them.
FAKE_PUBLIC_NTM = """
import torch
from torch import nn

CALLS = []


class EncapsulatedNTM(nn.Module):
    def __init__(self, num_inputs, num_outputs, controller_size, controller_layers, num_heads,
                 N, M):
        super().__init__()
        CALLS.append(("new", num_inputs, num_outputs, controller_size, controller_layers,
                      num_heads, N, M))
        self.fc = nn.Linear(num_inputs, num_outputs)

    def init_sequence(self, batch_size):
        CALLS.append(("sequence", batch_size))

    def forward(self, x=None):
        CALLS.append(("step", tuple(x.shape)))
        return torch.sigmoid(self.fc(x)), None
"""


def test_step_time_times_a_clone_of_the_public_ntm_on_the_ntm_configuration(capsys, tmp_path):
    (tmp_path / "ntm").mkdir()
    (tmp_path / "ntm" / "__init__.py").write_text("")
    (tmp_path / "ntm" / "aio.py").write_text(FAKE_PUBLIC_NTM)
    step_time.main(["--no-compile", "--no-learn", "--repeats", "2", "--warmup", "0",
                    "--public-ntm", str(tmp_path)])
    out = capsys.readouterr().out
    dnc_part, ntm_part = out[:out.index("(b)")], out[out.index("(b)"):]
    assert "public NTM" not in dnc_part
    ntm_table = ntm_part[ntm_part.index("(b) NTM"):]
    assert "public NTM (pytorch-ntm)" in ntm_table and "vs public" in ntm_table
    calls = sys.modules["pytorch_ntm.aio"].CALLS
    # hidden 100, one LSTM layer, one read + one write head, N=128, W=20
    assert calls[0] == ("new", 9, 8, 100, 1, 1, 128, 20)
    # every training step: a new sequence of 32, then one call per time step, 21 of them
    assert calls[1:] == 2 * ([("sequence", 32)] + 21 * [("step", (32, 9))])


def test_step_time_refuses_a_path_that_is_not_a_clone_of_the_public_ntm(capsys, tmp_path):
    with pytest.raises(SystemExit):
        step_time.main(["--no-compile", "--no-learn", "--public-ntm", str(tmp_path)])
    assert "is not a clone of github.com/loudinthecloud/pytorch-ntm" in capsys.readouterr().err


def test_learning_prints_a_table_and_says_when_a_seed_fails(capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import learning

    assert learning.seeds_of("0-2,5") == [0, 1, 2, 5]
    learning.main(["--only", "dnc-copy", "--seeds", "0", "--steps", "2"])
    out = capsys.readouterr().out
    assert "seed   0: NOT reached at step     2" in out  # 2 steps cannot learn copy
    assert "dnc-copy      0 / 1" in out and out.rstrip().endswith("yes")


def test_generalisation_writes_the_table_and_the_checkpoints(tmp_path, capsys):
    """A tiny run of the length-generalisation benchmark: every model, one task, one seed."""
    import csv

    import generalisation
    from memlab.train import load_checkpoint

    out = tmp_path / "table.csv"
    generalisation.main([
        "--tasks", "duplicate", "--seeds", "4", "--steps", "2", "--train-length", "2",
        "--eval-batch", "2", "--csv", str(out), "--save-dir", str(tmp_path / "ckpt"),
    ])
    rows = list(csv.DictReader(out.open()))
    models = list(generalisation.MODELS)
    # one row per task, model, seed and length: N = 2, then N + 1 .. 4N = 3 .. 8
    assert len(rows) == len(models) * 7
    assert {row["model"] for row in rows} == set(models)
    assert sorted({int(row["length"]) for row in rows}) == list(range(2, 9))
    assert all(0.0 <= float(row["accuracy"]) <= 1.0 and row["steps"] == "2" for row in rows)
    table = capsys.readouterr().out
    assert "transformer_alibi" in table and "best" in table and "median" in table

    path = tmp_path / "ckpt" / "duplicate_transformer_rope_seed4.pt"
    checkpoint = load_checkpoint(path)
    assert checkpoint.model.config["positional"] == "rope"
    assert checkpoint.task.name == "duplicate" and checkpoint.task.max_length == 2
    assert checkpoint.extra["command"].startswith(
        "python benchmarks/generalisation.py --tasks duplicate --models transformer_rope "
        "--seeds 4 --steps 2")
    dnc = load_checkpoint(tmp_path / "ckpt" / "duplicate_dnc_s_seed4.pt").model
    assert dnc.config["link_sharpness"]
    assert dnc.config["memory_size"] >= 4 * 10  # holds the longest test string of N = 10


def test_generalisation_parameter_counts_are_comparable():
    """The models of the table have 25-75 thousand parameters each (stated in the chapter)."""
    import generalisation
    from memlab.tasks import ReverseTask

    counts = {name: sum(p.numel() for p in generalisation.build(name, ReverseTask()).parameters())
              for name in generalisation.MODELS}
    assert all(25_000 <= n <= 75_000 for n in counts.values()), counts


def test_shipped_generalisation_checkpoints_have_their_commands():
    """Each <task>_<model>_seed<k>.pt of chapter 10 was made by the command it records, and
    that command is listed in checkpoints/COMMANDS.md.
    """
    import generalisation
    from memlab.train import load_checkpoint

    root = Path(__file__).resolve().parents[1]
    listed = (root / "checkpoints" / "COMMANDS.md").read_text(encoding="utf-8")
    found = 0
    for task in generalisation.TASKS:
        for model in generalisation.MODELS:
            for path in sorted((root / "checkpoints").glob(f"{task}_{model}_seed[0-9].pt")):
                seed = path.stem.rsplit("seed", 1)[1]
                command = load_checkpoint(path).extra["command"]
                assert command in listed, f"{path.name}: its command is not in COMMANDS.md"
                assert f"--tasks {task} --models {model} --seeds {seed} " in command + " "
                found += 1
    assert found == len(generalisation.TASKS) * len(generalisation.MODELS) * 3


def tiny_graph_checkpoint(path, task, level=None):
    """An untrained tiny DNC on ``task`` saved at ``path`` with a one-step history."""
    from memlab.models import build_model
    from memlab.train import History, save_checkpoint

    model = build_model("dnc", input_size=task.input_size, output_size=task.output_size,
                        hidden_size=8, memory_size=50, word_size=4, read_heads=1)
    history = History(step=[1], seconds=[1.0], level=[] if level is None else [level])
    save_checkpoint(path, model, task, history)
    return path


def test_graph_tasks_measures_a_traversal_checkpoint(tmp_path, capsys):
    """graph_tasks.py on a tiny untrained traversal DNC: one row per length and per metro hop."""
    import csv

    import graph_tasks
    from memlab.graphs import TraversalTask

    path = tiny_graph_checkpoint(tmp_path / "traversal_tiny.pt",
                                 TraversalTask(min_nodes=4, max_nodes=5, max_length=3), level=0)
    out = tmp_path / "rows.csv"
    graph_tasks.main(["--checkpoints", str(path), "--samples", "3", "--out-csv", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [int(r["length"]) for r in rows if r["test"] == "random graphs"] == list(range(1, 11))
    assert [int(r["length"]) for r in rows if r["test"] == "metro"] == list(range(1, 7))
    assert all(0 <= float(r["sequence_accuracy"]) <= float(r["answer_accuracy"]) <= 1
               for r in rows)
    printed = capsys.readouterr().out
    assert "traversal_tiny.pt" in printed and "metro" in printed


def test_graph_tasks_measures_a_shortest_path_checkpoint(tmp_path, capsys):
    """graph_tasks.py on a tiny untrained shortest-path DNC: paths, own answers and the walker."""
    import csv

    import graph_tasks
    from memlab.graphs import ShortestPathTask

    path = tiny_graph_checkpoint(tmp_path / "shortest_path_tiny.pt",
                                 ShortestPathTask(min_nodes=5, max_nodes=6, min_length=2,
                                                  max_length=3, planning_steps=2, feedback=True))
    out = tmp_path / "rows.csv"
    graph_tasks.main(["--checkpoints", str(path), "--samples", "4", "--out-csv", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [int(r["length"]) for r in rows] == [2, 3]
    for row in rows:
        assert float(row["own_paths"]) == float(row["sequence_accuracy"])
        assert 0 < float(row["walker"]) <= 1
    printed = capsys.readouterr().out
    assert "own answers" in printed and "walker" in printed
