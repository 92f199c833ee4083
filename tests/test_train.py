"""Tests of memlab.train and the command line: training, evaluation, checkpoints, progress."""

import dataclasses
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

import memlab
from memlab.__main__ import main
from memlab.tasks import AssociativeRecallTask, CopyTask, SortTask
from memlab.train import (
    History,
    evaluate,
    format_table,
    load_checkpoint,
    measure,
    progress,
    save_checkpoint,
    seed_everything,
    train,
)

TINY = {
    "dnc": dict(hidden_size=8, memory_size=4, word_size=4, read_heads=1),
    "ntm": dict(hidden_size=8, memory_size=8, word_size=4),
    "lstm": dict(hidden_size=8),
}


class StandIn(nn.Module):
    """An LSTM and a linear read-out: the models' interface without kind, config, compile_step."""

    def __init__(self, input_size, output_size, hidden_size=8):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.output(self.lstm(x)[0])


@pytest.fixture(autouse=True)
def quiet_single_thread(monkeypatch):
    """No progress bars; one thread, the fastest for these small models on a busy machine."""
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_short_training_reduces_loss():
    task = CopyTask(width=4, min_length=1, max_length=2)
    seed_everything(0)
    model = memlab.LSTMBaseline(task.input_size, task.output_size, hidden_size=32)
    history = train(model, task, steps=200, batch_size=16, lr=1e-2, log_every=50)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.bit_errors[-1] < 0.5 * history.bit_errors[0]


def test_history_lengths_and_stop_at():
    task = CopyTask(width=3, max_length=3)
    history = train(StandIn(4, 3), task, steps=25, batch_size=4, log_every=10)
    assert history.step == [10, 20, 25]
    for curve in (history.loss, history.bit_errors, history.bits_per_sequence, history.seconds):
        assert len(curve) == len(history) == 3 and all(isinstance(v, float) for v in curve)
    assert history.seconds == sorted(history.seconds)
    stopped = train(StandIn(4, 3), task, steps=25, batch_size=4, log_every=5, stop_at=1e9)
    assert stopped.step == [5]


def test_training_is_seeded():
    task = SortTask(vocab_size=4, max_length=3)
    runs = []
    for _ in range(2):
        seed_everything(3)
        runs.append(train(StandIn(5, 4), task, steps=6, batch_size=4, seed=3, log_every=3).loss)
    assert runs[0] == runs[1]


def test_train_arguments():
    task, model = CopyTask(width=3), StandIn(4, 3)
    with pytest.raises(ValueError, match="steps"):
        train(model, task, steps=0)
    with pytest.raises(ValueError, match="lr"):
        train(model, task, steps=1, lr=-1.0)
    with pytest.raises(ValueError, match="compile_step"):
        train(model, task, steps=1, compiled=True)
    lstm = memlab.LSTMBaseline(4, 3, hidden_size=4)
    assert len(train(lstm, task, steps=1, batch_size=2, compiled=True, device="cpu")) == 1


def test_evaluate_and_table():
    task = AssociativeRecallTask(width=3, item_length=2)
    model = memlab.LSTMBaseline(task.input_size, task.output_size, hidden_size=8)
    rows = evaluate(model, task, lengths=(2, 5), batch_size=8)
    assert [row["length"] for row in rows] == [2, 5]
    assert rows[0] == {
        "length": 2,
        **measure(model, AssociativeRecallTask(3, 2, 2, 2), batch_size=8),
    }
    assert rows == evaluate(
        model, task, lengths=(2, 5), batch_size=8
    )  # held-out batches are seeded
    assert model.training  # evaluation restores the mode
    lines = format_table(rows).splitlines()
    assert len(lines) == 3 and lines[0].split() == [
        "length",
        "bit",
        "errors",
        "bits",
        "per",
        "sequence",
    ]
    assert lines[2].split()[0] == "5"
    with pytest.raises(ValueError, match="lengths"):
        evaluate(model, task, lengths=())


@pytest.mark.parametrize("kind", sorted(TINY))
def test_checkpoint_round_trip(tmp_path, kind):
    task = CopyTask(width=4, max_length=3)
    model = memlab.build_model(
        kind, input_size=task.input_size, output_size=task.output_size, **TINY[kind]
    )
    history = train(model, task, steps=2, batch_size=2, log_every=1)
    path = tmp_path / "sub" / f"{kind}.pt"
    save_checkpoint(
        path, model, task, history, extra={"command": "python -m memlab train", "seed": 0}
    )
    assert path.stat().st_size < 2_000_000

    loaded = load_checkpoint(path)
    assert type(loaded.model) is type(model) and loaded.model.config == model.config
    assert loaded.task == task and loaded.history == history
    assert loaded.extra == {"command": "python -m memlab train", "seed": 0}
    x = task.batch(3, torch.Generator().manual_seed(0)).inputs
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))


def test_checkpoint_without_task_or_history(tmp_path):
    model = memlab.LSTMBaseline(3, 2, hidden_size=4)
    save_checkpoint(tmp_path / "bare.pt", model)
    loaded = load_checkpoint(tmp_path / "bare.pt")
    assert loaded.task is None and loaded.history is None and loaded.extra == {}


def test_save_checkpoint_refuses_what_cannot_load(tmp_path):
    with pytest.raises(ValueError, match="memlab model"):
        save_checkpoint(tmp_path / "x.pt", StandIn(3, 2))
    with pytest.raises(ValueError, match=r"extra\['when'\]"):
        save_checkpoint(
            tmp_path / "x.pt", memlab.LSTMBaseline(3, 2, hidden_size=4), extra={"when": object()}
        )
    assert not (tmp_path / "x.pt").exists()


def _good_checkpoint(path):
    model = memlab.LSTMBaseline(3, 2, hidden_size=4)
    save_checkpoint(path, model, CopyTask(width=2))
    return torch.load(path, weights_only=True)


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")

    (tmp_path / "random.pt").write_bytes(os.urandom(2048))
    with pytest.raises(ValueError, match=r"random\.pt is not a readable memlab checkpoint"):
        load_checkpoint(tmp_path / "random.pt")

    data = _good_checkpoint(tmp_path / "good.pt")
    blob = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match=r"cut\.pt is not a readable memlab checkpoint"):
        load_checkpoint(tmp_path / "cut.pt")

    torch.save({"state_dict": data["state_dict"]}, tmp_path / "weights.pt")
    with pytest.raises(ValueError, match=r"weights\.pt is not a memlab checkpoint"):
        load_checkpoint(tmp_path / "weights.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list\.pt is not a memlab checkpoint"):
        load_checkpoint(tmp_path / "list.pt")
    torch.save({**data, "version": 99}, tmp_path / "future.pt")
    with pytest.raises(ValueError, match="version 99"):
        load_checkpoint(tmp_path / "future.pt")
    torch.save({**data, "state_dict": {}}, tmp_path / "empty.pt")
    with pytest.raises(ValueError, match=r"empty\.pt is a damaged memlab checkpoint"):
        load_checkpoint(tmp_path / "empty.pt")
    torch.save({**data, "extra": {"when": torch.nn.Linear(1, 1)}}, tmp_path / "pickled.pt")
    with pytest.raises(ValueError, match=r"pickled\.pt is not a readable memlab checkpoint"):
        load_checkpoint(tmp_path / "pickled.pt")


def test_progress_text_prints_one_line(monkeypatch, capsys):
    monkeypatch.setenv("MEMLAB_PROGRESS", "text")
    with progress(10, desc="counting") as bar:
        for _ in range(10):
            bar.update()
        bar.set_postfix(bit_errors="0.50")
    assert sum(1 for _ in progress(range(5))) == 5
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert (
        lines[0].startswith("counting: 100%")
        and "10/10" in lines[0]
        and "bit_errors=0.50" in lines[0]
    )
    assert "\r" not in out and "5/5" in lines[1]

    train(StandIn(4, 3), CopyTask(width=3, max_length=2), steps=4, batch_size=2, log_every=2)
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and "4/4" in out and "bit_errors=" in out and err == ""
    train(StandIn(4, 3), CopyTask(width=3, max_length=2), steps=2, batch_size=2,
          show_progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_off_prints_nothing(capsys):
    with progress(3) as bar:
        bar.update(3)
    assert capsys.readouterr() == ("", "")


def test_command_line_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "dnc_copy.pt"
    argv = [
        "train",
        "--model",
        "dnc",
        "--task",
        "copy",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--width",
        "4",
        "--max-length",
        "3",
        "--hidden-size",
        "8",
        "--memory-size",
        "4",
        "--word-size",
        "4",
        "--read-heads",
        "1",
        "--seed",
        "7",
        "--log-every",
        "2",
        "--threads",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "final loss" in printed and "bit errors per sequence" in printed and str(out) in printed

    checkpoint = load_checkpoint(out)
    assert checkpoint.extra["command"] == "python -m memlab " + " ".join(argv)
    assert checkpoint.extra["seed"] == 7
    assert checkpoint.model.config["memory_size"] == 4 and checkpoint.task == CopyTask(
        width=4, max_length=3
    )
    assert checkpoint.history.step == [2, 3]

    assert main(["evaluate", str(out), "--lengths", "2,4", "--batch-size", "8"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-3].split()[0] == "length" and [line.split()[0] for line in table[-2:]] == [
        "2",
        "4",
    ]


def test_command_line_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing.pt")]) == 2
    assert "nothing.pt" in capsys.readouterr().err
    assert main(["train", "--model", "lstm", "--task", "sort", "--width", "3"]) == 2
    assert "--width does not apply to task sort" in capsys.readouterr().err
    assert main(["train", "--model", "lstm", "--memory-size", "3"]) == 2
    assert "--memory-size does not apply to model lstm" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "x.pt", "--lengths", "ten"])


@pytest.mark.parametrize("option,value,needle", [
    ("--steps", "-3", "steps must be a positive"), ("--lr", "0", "lr must be a positive"),
    ("--clip", "-1", "clip must be a positive"), ("--batch-size", "0", "batch_size"),
    ("--log-every", "0", "log_every"),
])
def test_command_line_training_arguments_end_in_one_error_line(option, value, needle, capsys):
    assert main(["train", "--model", "lstm", "--hidden-size", "4", option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


def test_command_line_evaluate_with_a_larger_memory(tmp_path, capsys):
    out = tmp_path / "dnc.pt"
    assert main(["train", "--model", "dnc", "--task", "copy", "--max-length", "3", "--steps", "2",
                 "--batch-size", "2", "--hidden-size", "8", "--memory-size", "4",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--lengths", "6", "--memory-size", "12"]) == 0
    assert "with 12 slots" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--memory-size", "0"]) == 2
    assert "memory_size" in capsys.readouterr().err
    lstm = tmp_path / "lstm.pt"
    assert main(["train", "--model", "lstm", "--max-length", "3", "--steps", "1",
                 "--hidden-size", "4",
                 "--out", str(lstm)]) == 0
    assert main(["evaluate", str(lstm), "--memory-size", "8"]) == 2
    assert "applies to a DNC checkpoint" in capsys.readouterr().err


def test_python_dash_m_with_text_progress(tmp_path):
    out = tmp_path / "lstm_sort.pt"
    env = {**os.environ, "MEMLAB_PROGRESS": "text"}
    command = [
        sys.executable,
        "-m",
        "memlab",
        "train",
        "--model",
        "lstm",
        "--task",
        "sort",
        "--steps",
        "5",
        "--batch-size",
        "4",
        "--hidden-size",
        "8",
        "--max-length",
        "3",
        "--threads",
        "1",
        "--out",
        str(out),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    bar_lines = [line for line in result.stdout.splitlines() if "5/5" in line]
    assert len(bar_lines) == 1 and "\r" not in result.stdout and result.stderr == ""
    assert out.exists()


@pytest.mark.slow
def test_dnc_learns_copy_with_the_training_defaults():
    """The default DNC and train()'s defaults learn 8-bit copy of lengths 1-10 in a few hundred
    steps (benchmarks/step_time.py times the same run: about 20 s on one CPU thread).
    """
    seed_everything(0)
    task = CopyTask(width=8, min_length=1, max_length=10)
    model = memlab.DNC(task.input_size, task.output_size)
    history = train(model, task, steps=800, stop_at=0.05, show_progress=False)
    held_out = measure(model, task, batch_size=500, seed=4321)
    assert held_out["bit_errors"] <= 0.1, (
        f"{held_out['bit_errors']:.3f} held-out bit errors per sequence "
        f"after {history.step[-1]} steps")


def test_history_first_step_below():
    history = History(step=[10, 20, 30, 40], bit_errors=[3.0, 0.4, 0.2, 0.1], level=[0, 0, 1, 1])
    assert history.first_step_below(0.5) == 20
    assert history.first_step_below(0.5, level=1) == 30  # the last level only
    assert history.first_step_below(0.05) is None


class _Recorded(Exception):
    pass


@pytest.mark.parametrize("kind", ["dnc", "ntm", "lstm"])
def test_train_follows_the_models_recipe_unless_told_otherwise(kind, monkeypatch):
    from memlab import recipes

    seen = []

    def spy(name):
        real = getattr(torch.optim, name)

        def make(params, lr, **options):
            seen.append((name, lr))
            return real(params, lr=lr, **options)
        return make

    monkeypatch.setattr(torch.optim, "Adam", spy("Adam"))
    monkeypatch.setattr(torch.optim, "RMSprop", spy("RMSprop"))
    task = CopyTask(width=4, max_length=3)
    model = memlab.build_model(kind, input_size=task.input_size, output_size=task.output_size)
    monkeypatch.setitem(recipes.RECIPES, kind, recipes.Recipe("rmsprop", 3e-4, 2, 1.0))
    history = train(model, task, 1, show_progress=False)
    assert seen == [("RMSprop", 3e-4)] and len(history) == 1
    seen.clear()
    train(model, task, 1, show_progress=False, optimizer="adam", lr=2e-3, batch_size=3,
          clip=math.inf)
    assert seen == [("Adam", 2e-3)]


def test_recipes_are_valid_and_documented():
    from memlab import recipes

    assert set(recipes.RECIPES) == set(memlab.models.MODELS)
    for kind, recipe in recipes.RECIPES.items():
        assert recipe.measured, kind
        assert recipes.recipe(kind) is recipe
    assert recipes.recipe(memlab.NTM(3, 2)) is recipes.RECIPES["ntm"]
    with pytest.raises(ValueError, match="optimizer must be one of"):
        recipes.Recipe("sgd")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train(memlab.NTM(5, 4), CopyTask(width=4), 1, show_progress=False, optimizer="sgd")


def test_ntm_clips_its_interface_and_old_checkpoints_keep_their_behaviour(tmp_path):
    from memlab.models import INTERFACE_CLIP

    task = CopyTask(width=4, max_length=3)
    torch.manual_seed(0)
    clipped = memlab.NTM(task.input_size, task.output_size, hidden_size=8, memory_size=8,
                         word_size=4)
    assert clipped.config["interface_clip"] == INTERFACE_CLIP == 20.0
    with torch.no_grad():  # huge interface outputs: clipping must change what the heads do
        clipped.interface.weight.mul_(1e3)
    unclipped = memlab.NTM(**{**clipped.config, "interface_clip": None})
    unclipped.load_state_dict(clipped.state_dict())
    x = task.batch(2, torch.Generator().manual_seed(1))[0]
    _, trace = clipped(x, return_trace=True)
    _, raw = unclipped(x, return_trace=True)
    gamma_max = 1 + torch.nn.functional.softplus(torch.tensor(INTERFACE_CLIP))
    assert trace.write_gamma.max() <= gamma_max + 1e-4 < raw.write_gamma.max()
    # a checkpoint saved before the clip existed loads without it
    path = tmp_path / "old.pt"
    save_checkpoint(path, unclipped, task)
    data = torch.load(path, weights_only=True)
    del data["model"]["config"]["interface_clip"]
    torch.save(data, path)
    assert load_checkpoint(path).model.config["interface_clip"] is None
    with pytest.raises(ValueError, match="interface_clip must be a positive number"):
        memlab.NTM(3, 2, interface_clip=0)


# --- stop_at confirmed on held-out data -----------------------------------------------------------


def test_stop_at_is_confirmed_on_a_held_out_batch(monkeypatch):
    """Training stops at an interval below stop_at only if a held-out batch is below it too."""
    from memlab import train as training

    verdicts, calls = [2e9, 0.5], []

    def fake_measure(model, task, batch_size, seed):
        calls.append((task, batch_size, seed))
        return {"bit_errors": verdicts[len(calls) - 1], "bits_per_sequence": 0.0}

    monkeypatch.setattr(training, "measure", fake_measure)
    task = CopyTask(width=3, max_length=3)
    history = train(StandIn(4, 3), task, steps=20, batch_size=4, log_every=2, stop_at=1e9)
    assert history.step == [2, 4] and history.stopped == "solved"  # the first check failed
    assert history.held_out == [(2, 2e9), (4, 0.5)]
    assert [batch for _, batch, _ in calls] == [64, 64]  # max(64, 4 x 4)
    seeds = [seed for _, _, seed in calls]
    assert seeds == [training.STOP_CHECK_SEED + 2, training.STOP_CHECK_SEED + 4]  # fresh each
    calls.clear()
    verdicts[:] = [0.5]
    curriculum = memlab.curriculum.Curriculum.lengths((2, 3), threshold=100.0)
    history = train(StandIn(4, 3), task, steps=20, batch_size=32, log_every=2, stop_at=1e9,
                    curriculum=curriculum)
    assert history.level == [0, 1] and history.held_out == [(4, 0.5)]  # the last level only
    assert calls[0][:2] == (curriculum.task_at(task, 1), 128)


def test_stop_at_records_its_held_out_checks():
    task = CopyTask(width=3, max_length=3)
    history = train(StandIn(4, 3), task, steps=6, batch_size=4, log_every=2, stop_at=1e9)
    assert history.step == [2] and history.stopped == "solved"
    assert len(history.held_out) == 1 and isinstance(history.held_out[0][1], float)
    never = train(StandIn(4, 3), task, steps=6, batch_size=4, log_every=2, stop_at=1e-9)
    assert never.step == [2, 4, 6] and never.held_out == [] and never.stopped == "steps"


# --- resumable checkpoints ------------------------------------------------------------------------


def _tiny_dnc(task, seed=0):
    seed_everything(seed)
    return memlab.build_model("dnc", input_size=task.input_size, output_size=task.output_size,
                              **TINY["dnc"])


def test_train_saves_a_resumable_checkpoint_every_n_steps(tmp_path, monkeypatch):
    from memlab import train as training

    saved = []
    real_save = training.save_checkpoint

    def spy(path, model, task, history, extra, run):
        saved.append((run.step, run.count, len(history)))
        real_save(path, model, task, history, extra, run)

    monkeypatch.setattr(training, "save_checkpoint", spy)
    task = CopyTask(width=4, max_length=3)
    path = tmp_path / "run.pt"
    history = train(_tiny_dnc(task), task, 10, batch_size=2, log_every=4, checkpoint=path,
                    save_every=3, checkpoint_extra={"command": "test"})
    # every 3 steps (with the unfinished interval's step count) and at the end
    assert saved == [(3, 3, 0), (6, 2, 1), (9, 1, 2), (10, 0, 3)]
    data = torch.load(path, weights_only=True)  # plain data and tensors only
    assert data["run"]["generator"].dtype == torch.uint8 and data["extra"] == {"command": "test"}
    loaded = load_checkpoint(path)
    assert loaded.history == history and loaded.history.stopped == "steps"
    assert loaded.run.step == 10 and loaded.run.optimizer == "adam"
    assert len(loaded.run.optimizer_state["state"]) == len(list(loaded.model.parameters()))
    with pytest.raises(ValueError, match="save_every needs a checkpoint"):
        train(_tiny_dnc(task), task, 2, save_every=1)
    with pytest.raises(ValueError, match="memlab model"):
        train(StandIn(5, 4), task, 2, checkpoint=path)


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_optimiser_state_round_trip(name, tmp_path, monkeypatch):
    """The optimiser's state_dict saved with the run is the one a resumed run starts from."""
    made = []
    real = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[name]

    def spy(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(torch.optim, real.__name__, spy)
    task = CopyTask(width=4, max_length=3)
    path = tmp_path / "run.pt"
    train(_tiny_dnc(task), task, 3, batch_size=2, optimizer=name, checkpoint=path)
    saved = made[0].state_dict()
    loaded = load_checkpoint(path).run.optimizer_state
    assert loaded["param_groups"] == saved["param_groups"]
    assert loaded["state"].keys() == saved["state"].keys()
    for index, state in saved["state"].items():
        assert loaded["state"][index].keys() == state.keys()
        for key, value in state.items():
            assert torch.equal(loaded["state"][index][key], value), (index, key)

    checkpoint = load_checkpoint(path)
    train(checkpoint.model, task, 2, batch_size=2, optimizer=name, lr=1e-3, resume=checkpoint)
    resumed = made[1]
    assert resumed.param_groups[0]["lr"] == 1e-3  # this run's step size, the saved state
    first = resumed.state[next(iter(resumed.state))]
    assert float(first["step"]) == 5  # 3 saved steps and 2 more
    other = "rmsprop" if name == "adam" else "adam"
    with pytest.raises(ValueError, match=f"optimizer={name!r}"):
        train(checkpoint.model, task, 1, optimizer=other, resume=checkpoint)


@pytest.fixture
def caught_signals():
    """SIGINT or SIGTERM reaching the test (not caught by train) fails it, not the session."""

    def unexpected(signum, frame):
        raise RuntimeError(f"{signal.Signals(signum).name} was not caught by train()")

    previous = {s: signal.signal(s, unexpected) for s in (signal.SIGINT, signal.SIGTERM)}
    yield unexpected
    for s, handler in previous.items():
        signal.signal(s, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_and_stops_and_the_run_resumes_exactly(signum, tmp_path, monkeypatch,
                                                              caught_signals):
    task = CopyTask(width=4, min_length=1, max_length=3)
    curriculum = memlab.curriculum.Curriculum.lengths((2, 3), threshold=100.0, patience=2)
    options = dict(batch_size=2, log_every=3, curriculum=curriculum, seed=5)
    reference = _tiny_dnc(task)
    whole = train(reference, task, 12, **options)

    real_batch, calls = CopyTask.batch, []

    def batch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # the signal arrives during step 5
            signal.raise_signal(signum)
        return real_batch(self, *args, **kwargs)

    monkeypatch.setattr(CopyTask, "batch", batch)
    path = tmp_path / "run.pt"
    stopped = train(_tiny_dnc(task), task, 12, checkpoint=path, **options)
    monkeypatch.setattr(CopyTask, "batch", real_batch)
    assert signal.getsignal(signum) is caught_signals  # the handlers are put back
    assert stopped.stopped == signal.Signals(signum).name and stopped.step == [3]
    checkpoint = load_checkpoint(path)
    run = checkpoint.run  # 1 of the 2 intervals that climb a level passed, 2 steps into the next
    assert (run.step, run.count, run.level, run.passed) == (5, 2, 0, 1)

    other_start = _tiny_dnc(task, seed=1)  # its weights are replaced by the checkpoint's
    rest = train(other_start, task, 7, resume=checkpoint, **{**options, "seed": 99})
    for key, value in reference.state_dict().items():
        assert torch.equal(other_start.state_dict()[key], value), key
    assert dataclasses.replace(rest, seconds=[]) == dataclasses.replace(whole, seconds=[])

    # without the optimiser's state it is another run
    fresh = checkpoint._replace(run=dataclasses.replace(checkpoint.run, optimizer_state=None))
    restarted = _tiny_dnc(task)
    train(restarted, task, 7, resume=fresh, **options)
    assert any(not torch.equal(a, b)
               for a, b in zip(restarted.parameters(), reference.parameters()))


def test_checkpoints_without_the_new_fields_still_load(tmp_path, capsys):
    """Checkpoints saved before RunState, held_out and stopped (version 1) load and resume."""
    task = CopyTask(width=4, max_length=3)
    model = _tiny_dnc(task)
    path = tmp_path / "old.pt"
    save_checkpoint(path, model, task, train(model, task, 2, batch_size=2, log_every=1))
    data = torch.load(path, weights_only=True)
    for key in ("held_out", "stopped"):
        del data["history"][key]
    torch.save({**data, "version": 1}, path)
    old = load_checkpoint(path)
    assert old.run is None and old.history.held_out == [] and old.history.stopped == ""
    assert train(old.model, task, 2, batch_size=2, log_every=1, resume=old).step == [1, 2, 3, 4]
    common = ["train", "--model", "dnc", "--task", "copy", "--width", "4", "--max-length", "3",
              "--hidden-size", "8", "--memory-size", "4", "--word-size", "4", "--read-heads", "1",
              "--batch-size", "2", "--log-every", "1"]
    assert main([*common, "--steps", "1", "--resume", str(path), "--out", str(path)]) == 0
    assert "resuming" in capsys.readouterr().out
    assert load_checkpoint(path).history.step == [1, 2, 3]


# --- the command line: --until-step, --resume, --save-every, --keep-optimizer ---------------------


TINY_DNC_COPY = ["train", "--model", "dnc", "--task", "copy", "--width", "4", "--max-length", "3",
                 "--hidden-size", "8", "--memory-size", "4", "--word-size", "4",
                 "--read-heads", "1",
                 "--batch-size", "2", "--seed", "3", "--threads", "1"]
TINY_RUN = [*TINY_DNC_COPY, "--log-every", "2"]


def test_command_line_until_step_resumes_until_done(tmp_path, capsys):
    out = tmp_path / "run.pt"
    command = [*TINY_RUN, "--until-step", "4", "--out", str(out), "--resume"]
    assert main(command) == 0  # a bare --resume with no file yet starts afresh
    assert "starting afresh" in capsys.readouterr().out
    finished = load_checkpoint(out)
    assert finished.history.step == [2, 4] and finished.run.step == 4
    assert finished.run.optimizer_state is None  # a finished run's file stays small
    before = out.read_bytes()
    assert main(command) == 0  # done: the same command again changes nothing
    assert "nothing to train" in capsys.readouterr().out and out.read_bytes() == before
    longer = [*TINY_RUN, "--until-step", "6", "--resume", str(out), "--out", str(out),
              "--keep-optimizer"]
    assert main(longer) == 0
    assert "resuming" in capsys.readouterr().out
    kept = load_checkpoint(out)
    assert kept.history.step == [2, 4, 6] and kept.run.optimizer_state is not None
    assert out.stat().st_size > 1.5 * len(before)
    assert len(kept.extra["commands"]) == 2

    solved = tmp_path / "solved.pt"
    assert main([*TINY_RUN, "--until-step", "50", "--stop-at", "1e9", "--out", str(solved)]) == 0
    assert load_checkpoint(solved).history.stopped == "solved"
    assert main([*TINY_RUN, "--until-step", "50", "--stop-at", "1e9", "--out", str(solved),
                 "--resume"]) == 0
    assert "stopped solved at step 2" in capsys.readouterr().out

    with pytest.raises(SystemExit):
        main([*TINY_RUN, "--steps", "2", "--until-step", "4"])
    assert main([*TINY_RUN, "--until-step", "0", "--out", str(tmp_path / "x.pt")]) == 2
    assert main([*TINY_RUN, "--steps", "2", "--save-every", "0",
                 "--out", str(tmp_path / "x.pt")]) == 2
    assert "save_every" in capsys.readouterr().err


KILLED_STEPS = 120


def _default_signals():
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _run_command(out, *more):
    """python -m memlab train: a tiny DNC on copy, until step KILLED_STEPS, saved to ``out``."""
    return [sys.executable, "-m", "memlab", *TINY_DNC_COPY, "--log-every", "10",
            "--until-step", str(KILLED_STEPS), "--out", str(out), *more]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The run the interrupted ones must match, in this process (one thread, same seed)."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run.pt"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEMLAB_PROGRESS", "off")
        threads = torch.get_num_threads()
        assert main(_run_command(out)[3:]) == 0
        torch.set_num_threads(threads)
    return load_checkpoint(out)


@pytest.mark.parametrize("signum,resume", [(signal.SIGTERM, "path"), (signal.SIGINT, "bare")])
def test_python_dash_m_killed_and_resumed_matches_an_uninterrupted_run(signum, resume, tmp_path,
                                                                       uninterrupted):
    out = tmp_path / "run.pt"
    env = {**os.environ, "MEMLAB_PROGRESS": "off"}
    # as from a shell: a pytest-xdist worker may ignore SIGINT, and its children would inherit
    # that (memlab leaves an ignored signal ignored)
    child = subprocess.Popen(_run_command(out, "--save-every", "3"), env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        child.send_signal(signum)  # after its first save
        stdout, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + signum, (
        f"exit {child.returncode}: the run ended before it was interrupted?\n{stdout}\n{stderr}")
    name = signal.Signals(signum).name
    assert f"stopped by {name}" in stdout and "Traceback" not in stderr
    killed = load_checkpoint(out)
    assert killed.history.stopped == name and 3 <= killed.run.step < KILLED_STEPS
    assert killed.run.optimizer_state is not None

    again = _run_command(out, "--resume", *([str(out)] if resume == "path" else []))
    result = subprocess.run(again, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"resuming {out} after step {killed.run.step}" in result.stdout
    finished = load_checkpoint(out)
    for key, value in uninterrupted.model.state_dict().items():
        assert torch.equal(finished.model.state_dict()[key], value), key
    assert finished.history.loss == uninterrupted.history.loss
    assert (dataclasses.replace(finished.history, seconds=[])
            == dataclasses.replace(uninterrupted.history, seconds=[]))
    assert torch.equal(finished.run.generator, uninterrupted.run.generator)


def test_command_line_takes_every_parameter_of_every_task(tmp_path):
    from memlab.__main__ import main
    from memlab.tasks import TASKS

    for name, task in TASKS.items():
        defaults = dataclasses.asdict(task())
        given = {k: v for k, v in defaults.items() if v is not None}
        options = []
        for k, v in given.items():  # a True/False option is a switch: given when True
            flag = f"--{k.replace('_', '-')}"
            options += ([flag] if v else []) if isinstance(v, bool) else [flag, str(v)]
        out = tmp_path / f"{name}.pt"
        assert main(["train", "--model", "lstm", "--task", name, "--steps", "1",
                     "--batch-size", "2", "--hidden-size", "4", "--out", str(out), *options]) == 0
        assert load_checkpoint(out).task == task(**given), name
