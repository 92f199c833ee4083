"""Tests of memlab.curriculum and of train() with a curriculum."""

import json

import pytest
import torch

import memlab
from memlab.__main__ import main
from memlab.curriculum import Curriculum
from memlab.graphs import TraversalTask
from memlab.tasks import CopyTask, ReverseTask
from memlab.train import load_checkpoint, seed_everything, train


def test_levels_apply_to_the_task():
    task = CopyTask(width=4, min_length=1, max_length=20)
    curriculum = Curriculum.lengths((2, 5, 20), threshold=0.5)
    assert len(curriculum) == 3
    assert curriculum.task_at(task, 0) == CopyTask(width=4, min_length=1, max_length=2)
    assert curriculum.task_at(task, 2).max_length == 20
    with pytest.raises(ValueError, match="level"):
        curriculum.task_at(task, 3)
    assert Curriculum.from_dict(json.loads(json.dumps(curriculum.to_dict()))) == curriculum


@pytest.mark.parametrize(
    "args, argument",
    [
        (((), 0.5), "levels"),
        (([{}], 0.5), "levels"),
        (([{"max_length": 2}], 0), "threshold"),
        (([{"max_length": 2}], 0.5, "accuracy"), "metric"),
        (([{"max_length": 2}], 0.5, "loss", 0), "patience"),
    ],
)
def test_bad_curricula(args, argument):
    with pytest.raises(ValueError, match=argument):
        Curriculum(*args)


def test_a_level_that_does_not_fit_the_task_is_refused_before_training():
    model = memlab.DNC(5, 4, hidden_size=8, memory_size=4, word_size=4, read_heads=1)
    task = CopyTask(width=4)
    with pytest.raises(ValueError, match=r"levels\[1\]"):
        train(model, task, steps=2, curriculum=Curriculum(({"max_length": 2}, {"nodes": 3}), 1.0))
    with pytest.raises(ValueError, match="max_length"):  # max_length < min_length
        train(model, CopyTask(width=4, min_length=3),
              steps=2, curriculum=Curriculum.lengths((2,), 1.0))
    with pytest.raises(ValueError, match="curriculum"):
        train(model, task, steps=2, curriculum=[{"max_length": 2}])


class Recorder(torch.nn.Module):
    """A stand-in model that outputs zeros and records the longest batch it was given."""

    kind = "recorder"

    def __init__(self, output_size):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(output_size))
        self.lengths = []

    def forward(self, x):
        self.lengths.append(x.shape[1])
        return self.bias.expand(x.shape[0], x.shape[1], -1)


def test_levels_rise_when_the_interval_error_is_below_threshold():
    task = CopyTask(width=2, min_length=1, max_length=9)
    model = Recorder(task.output_size)
    # an untrained model errs on about half the bits: 1 bit per step on average; a threshold
    # above every level's error climbs one level per interval, one below never climbs
    climbing = train(model, task, steps=12, log_every=3, show_progress=False,
                     curriculum=Curriculum.lengths((1, 3, 9), threshold=100.0))
    assert climbing.level == [0, 1, 2, 2]
    assert max(model.lengths[:3]) == 2 * 1 + 1  # level 0: length 1
    assert max(model.lengths[3:6]) <= 2 * 3 + 1 and max(model.lengths[6:]) > 7
    model.lengths.clear()
    stuck = train(model, task, steps=6, log_every=3, show_progress=False,
                  curriculum=Curriculum.lengths((1, 3, 9), threshold=1e-6))
    assert stuck.level == [0, 0] and max(model.lengths) == 3
    patient = train(model, task, steps=12, log_every=3, show_progress=False,
                    curriculum=Curriculum.lengths((1, 3, 9), threshold=100.0, patience=2))
    assert patient.level == [0, 0, 1, 1]


def test_stop_at_waits_for_the_last_level():
    task = CopyTask(width=2, min_length=1, max_length=4)
    history = train(Recorder(2), task, steps=30, log_every=3, show_progress=False, stop_at=100.0,
                    curriculum=Curriculum.lengths((1, 2, 4), threshold=100.0))
    assert history.level == [0, 1, 2] and history.step[-1] == 9


def test_no_curriculum_records_no_level():
    history = train(Recorder(2), CopyTask(width=2, max_length=3), steps=4, log_every=2,
                    show_progress=False)
    assert history.level == [] and history.answer_accuracy == []


def test_graph_task_trains_with_cross_entropy_and_records_accuracy():
    seed_everything(0)
    task = TraversalTask(node_digits=1, min_nodes=3, max_nodes=4, max_degree=2)
    model = memlab.DNC(task.input_size, task.output_size, hidden_size=16, memory_size=8,
                       word_size=8, read_heads=1)
    history = train(model, task, steps=4, batch_size=4, log_every=2, show_progress=False,
                    curriculum=Curriculum(({"max_nodes": 3}, {"max_nodes": 4}), threshold=50.0))
    assert history.level == [0, 1]
    assert all(0 <= a <= 1 for a in history.answer_accuracy) and len(history.answer_accuracy) == 2
    # cross-entropy summed over the triple's three digit groups: at the start, a guess among 10
    assert history.loss[0] == pytest.approx(3 * torch.log(torch.tensor(10.0)).item(), rel=0.2)


def test_command_line_curriculum_round_trip(tmp_path, capsys):
    out = tmp_path / "traversal.pt"
    levels = '[{"max_nodes": 3, "min_nodes": 3}, {"max_nodes": 5}]'
    code = main(["train", "--model", "dnc", "--task", "traversal", "--steps", "4",
                 "--log-every", "2", "--batch-size", "2", "--hidden-size", "8",
                 "--node-digits", "1",
                 "--curriculum", levels, "--curriculum-threshold", "50", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "answers right" in printed and "curriculum level 1 of 1" in printed
    checkpoint = load_checkpoint(out)
    assert checkpoint.task == TraversalTask(node_digits=1, max_nodes=5)
    assert checkpoint.history.level == [0, 1]
    assert checkpoint.extra["curriculum"]["levels"][0] == {"max_nodes": 3, "min_nodes": 3}
    assert main(["evaluate", str(out), "--lengths", "1,3"]) == 0
    table = capsys.readouterr().out
    assert "answer accuracy" in table and "sequence accuracy" in table


@pytest.mark.parametrize("text", ["[{", "{}", "[]", "[1]"])
def test_command_line_bad_curriculum(text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--task", "copy", "--steps", "2", "--curriculum", text])
    assert exit_info.value.code == 2
    assert "--curriculum" in capsys.readouterr().err


def test_command_line_curriculum_that_does_not_fit(capsys):
    code = main(["train", "--task", "copy", "--steps", "2", "--curriculum", '[{"nodes": 2}]'])
    assert code == 2
    assert "levels[0]" in capsys.readouterr().err


def test_resume_continues_steps_seconds_and_level():
    seed_everything(0)
    task = CopyTask(width=4, min_length=1, max_length=4)
    model = memlab.DNC(task.input_size, task.output_size, hidden_size=8, memory_size=4, word_size=4,
                       read_heads=1)
    curriculum = Curriculum.lengths((2, 3, 4), threshold=100.0)  # every interval passes
    first = train(model, task, 4, batch_size=2, log_every=2, show_progress=False,
                  curriculum=curriculum)
    assert first.level == [0, 1]
    second = train(model, task, 4, batch_size=2, log_every=2, show_progress=False,
                   curriculum=curriculum, resume=first)
    assert second.step == [2, 4, 6, 8]
    assert second.level == [0, 1, 1, 2]  # starts at the first run's last recorded level
    assert second.seconds[2] >= first.seconds[-1]
    assert first.step == [2, 4]  # the earlier history is copied, not changed


def test_command_line_resume(tmp_path, capsys):
    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    common = ["train", "--model", "dnc", "--task", "copy", "--max-length", "4", "--log-every", "2",
              "--batch-size", "2", "--hidden-size", "8", "--memory-size", "4", "--word-size", "4",
              "--read-heads", "1", "--curriculum", '[{"max_length": 2}, {"max_length": 4}]',
              "--curriculum-threshold", "100"]
    assert main([*common, "--steps", "2", "--out", str(first)]) == 0
    assert main([*common, "--steps", "4", "--resume", str(first), "--out", str(second)]) == 0
    assert "resuming" in capsys.readouterr().out
    checkpoint = load_checkpoint(second)
    assert checkpoint.history.step == [2, 4, 6]
    # the first run climbed to level 1 after its interval: its saved state goes on from there
    assert checkpoint.history.level == [0, 1, 1]
    assert len(checkpoint.extra["commands"]) == 2 and "--resume" in checkpoint.extra["commands"][1]
    # another model, another size, a missing file: one error line each
    assert main([*common, "--model", "ntm", "--steps", "2", "--resume", str(first)]) == 2
    assert "not --model ntm" in capsys.readouterr().err
    bigger = [a if a != "8" else "16" for a in common]
    assert main([*bigger, "--steps", "2", "--resume", str(first)]) == 2
    assert "other sizes" in capsys.readouterr().err
    assert main([*common, "--steps", "2", "--resume", str(tmp_path / "none.pt")]) == 2
    assert "no checkpoint file" in capsys.readouterr().err


def test_paper_rules():
    curriculum = Curriculum.paper(({"max_length": 1}, {"max_length": 2}))
    assert (curriculum.threshold, curriculum.metric, curriculum.replay,
            curriculum.evaluate_every) == (0.9, "answer_accuracy", 0.1, 100)
    assert curriculum.held_out_rule
    assert Curriculum.from_dict(json.loads(json.dumps(curriculum.to_dict()))) == curriculum
    for bad, argument in ((dict(replay=1.0), "replay"), (dict(replay=-0.1), "replay"),
                          (dict(threshold=90), "threshold"), (dict(evaluate_every=0),
                                                              "evaluate_every"),
                          (dict(held_out=0), "held_out")):
        with pytest.raises(ValueError, match=argument):
            Curriculum.paper(({"max_length": 1},), **bad)


def test_replay_draws_a_tenth_of_each_batch_from_earlier_levels():
    task = CopyTask(width=2)
    levels = tuple({"min_length": n, "max_length": n} for n in (1, 2, 3, 4))
    curriculum = Curriculum.paper(levels)
    g = torch.Generator().manual_seed(0)
    seen = torch.zeros(5)
    for _ in range(20):
        batch = curriculum.batch(task, 3, 30, g)
        lengths = batch.mask.sum(1)  # copy: the answer is as long as the sequence
        assert batch.inputs.shape[0] == 30 and lengths[:27].eq(4).all()
        assert lengths[27:].lt(4).all()  # round(0.1 x 30) = 3 from the earlier levels
        seen += torch.bincount(lengths.long(), minlength=5)
    assert seen[1] > 0 and seen[2] > 0 and seen[3] > 0  # each earlier level drawn
    first = curriculum.batch(task, 0, 30, g)  # nothing earlier to replay
    assert first.mask.sum(1).eq(1).all()


def test_held_out_checks_decide_the_lessons():
    # a model that always answers the first of two symbols gets about half the answers right
    task = ReverseTask(vocab_size=2, max_length=4)
    levels = ({"max_length": 2}, {"max_length": 4})
    model = Recorder(task.output_size)
    never = train(model, task, steps=6, log_every=3, show_progress=False,
                  curriculum=Curriculum.paper(levels, evaluate_every=2, held_out=16))
    assert [check[:2] for check in never.lessons] == [(2, 0), (4, 0), (6, 0)]
    assert all(0.1 < check[2] < 0.9 for check in never.lessons) and never.level == [0, 0]
    # a threshold it passes: the first check moves up, and the last level is not checked
    easy = train(model, task, steps=6, log_every=3, show_progress=False,
                 curriculum=Curriculum.paper(levels, evaluate_every=2, held_out=16,
                                             threshold=0.1))
    assert [check[:2] for check in easy.lessons] == [(2, 0)] and easy.level == [1, 1]
    assert max(model.lengths[-4:]) > 2 * 2 + 1  # trains on level 1 after the check


def test_command_line_paper_curriculum(tmp_path, capsys):
    out = tmp_path / "run.pt"
    levels = '[{"max_length": 1}, {"max_length": 2}]'
    code = main(["train", "--model", "dnc", "--task", "traversal", "--steps", "4",
                 "--min-nodes", "3", "--max-nodes", "4", "--max-length", "2",
                 "--hidden-size", "8", "--memory-size", "12", "--word-size", "4",
                 "--batch-size", "2", "--paper-curriculum", "--curriculum", levels,
                 "--out", str(out)])
    assert code == 0
    saved = load_checkpoint(out).extra["curriculum"]
    assert saved["metric"] == "answer_accuracy" and saved["replay"] == 0.1
    assert main(["train", "--task", "traversal", "--steps", "1", "--paper-curriculum",
                 "--out", str(out)]) != 0
    assert "--curriculum" in capsys.readouterr().err
