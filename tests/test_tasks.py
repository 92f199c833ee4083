"""Tests of memlab.tasks: batch layouts, masks, seeding, validation and metrics."""

import dataclasses
import math

import pytest
import torch

from memlab.metrics import (
    answer_accuracy,
    answer_bits,
    bit_errors,
    bits_per_sequence,
    masked_bce,
    masked_cross_entropy,
    sequence_accuracy,
)
from memlab.tasks import (
    TASKS,
    AssociativeRecallTask,
    Batch,
    CopyTask,
    DuplicateTask,
    KeyValueTask,
    OddsFirstTask,
    RepeatCopyTask,
    ReverseTask,
    SortTask,
    make_task,
)


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def output_steps(mask_row):
    """Indices of the steps where one sample's mask is on."""
    return mask_row.nonzero().flatten().tolist()


def channel_steps(inputs_row, channel):
    return inputs_row[:, channel].nonzero().flatten().tolist()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_shapes_and_padding(name):
    task = make_task(name)
    batch = task.batch(16, seeded())
    assert isinstance(batch, Batch)
    B, T, _ = batch.inputs.shape
    assert B == 16
    assert batch.inputs.shape[-1] == task.input_size
    assert batch.targets.shape == (B, T, task.output_size)
    assert batch.mask.shape == (B, T)
    assert batch.mask.dtype == batch.inputs.dtype == batch.targets.dtype == torch.float32
    assert set(batch.mask.unique().tolist()) <= {0.0, 1.0}
    assert (batch.targets[batch.mask == 0] == 0).all()
    # the output phase is input-free (key-value answers at the query step, which holds the key
    # and the flag only; the paper's graph tasks flag their answer steps), and at least one
    # sample fills the whole time axis
    if name == "key_value":
        assert (batch.inputs[batch.mask == 1][:, task.width:2 * task.width] == 0).all()
    elif name in ("traversal", "shortest_path"):
        answers = batch.inputs[batch.mask == 1]
        assert (answers[:, :-1] == 0).all() and (answers[:, -1] == 1).all()
    else:
        assert (batch.inputs[batch.mask == 1] == 0).all()
    assert batch.mask[:, -1].any()


def test_copy_layout_per_sample():
    task = CopyTask(width=5, min_length=1, max_length=7)
    batch = task.batch(64, seeded(1))
    W = task.width
    lengths = set()
    for inputs, targets, mask in zip(*batch):
        (L,) = channel_steps(inputs, W)  # one delimiter step
        lengths.add(L)
        assert 1 <= L <= 7
        assert output_steps(mask) == list(range(L + 1, 2 * L + 1))
        assert torch.equal(targets[L + 1 : 2 * L + 1], inputs[:L, :W])
        assert (inputs[L + 1 :] == 0).all()
    assert batch.inputs.shape[1] == 2 * max(lengths) + 1
    assert len(lengths) > 1  # lengths vary within a batch


def test_repeat_copy_layout_per_sample():
    task = RepeatCopyTask(width=3, min_length=1, max_length=4, min_repeats=1, max_repeats=5)
    batch = task.batch(64, seeded(2))
    W = task.width
    seen_repeats = set()
    for inputs, targets, mask in zip(*batch):
        (L,) = channel_steps(inputs, W)
        (count_step,) = channel_steps(inputs, W + 1)
        assert count_step == L
        repeats = round(inputs[L, W + 1].item() * task.max_repeats)
        seen_repeats.add(repeats)
        assert 1 <= repeats <= 5
        end = L + 1 + repeats * L
        assert output_steps(mask) == list(range(L + 1, end + 1))
        assert torch.equal(targets[L + 1 : end, :W], inputs[:L, :W].repeat(repeats, 1))
        assert (targets[L + 1 : end, W] == 0).all()
        assert targets[end, W] == 1 and (targets[end, :W] == 0).all()
    assert len(seen_repeats) > 1


def test_associative_recall_layout_per_sample():
    task = AssociativeRecallTask(width=4, item_length=2, min_items=2, max_items=5)
    batch = task.batch(64, seeded(3))
    W, K = task.width, task.item_length
    for inputs, targets, mask in zip(*batch):
        starts = channel_steps(inputs, W)
        n = len(starts)
        assert 2 <= n <= 5 and starts == [i * (K + 1) for i in range(n)]
        items = [inputs[s + 1 : s + 1 + K, :W] for s in starts]
        open_query, close_query = channel_steps(inputs, W + 1)
        assert open_query == n * (K + 1) and close_query == open_query + K + 1
        query = inputs[open_query + 1 : close_query, :W]
        matches = [i for i, item in enumerate(items) if torch.equal(item, query)]
        assert matches and matches[0] < n - 1  # never the last item
        assert output_steps(mask) == list(range(close_query + 1, close_query + 1 + K))
        assert torch.equal(targets[close_query + 1 : close_query + 1 + K], items[matches[0] + 1])


def test_associative_recall_item_names():
    task = AssociativeRecallTask(min_items=3, max_items=4)
    assert (task.min_length, task.max_length, task.min_items, task.max_items) == (3, 4, 3, 4)
    assert task == AssociativeRecallTask(min_length=3, max_length=4)
    assert make_task("associative_recall", max_items=4, min_items=3) == task
    longer = dataclasses.replace(task, min_length=9, max_length=9)
    assert longer.max_items == 9 and longer.width == task.width


def test_sort_layout_per_sample_and_token_zero_counts():
    task = SortTask(vocab_size=5, min_length=1, max_length=6)
    batch = task.batch(64, seeded(4))
    V = task.vocab_size
    zero_targets = 0
    for inputs, targets, mask in zip(*batch):
        (L,) = channel_steps(inputs, V)
        assert (inputs[:L, :V].sum(-1) == 1).all()
        tokens = inputs[:L, :V].argmax(-1)
        assert output_steps(mask) == list(range(L + 1, 2 * L + 1))
        out = targets[L + 1 : 2 * L + 1]
        assert (out.sum(-1) == 1).all()  # a one-hot on every counted step
        assert out.argmax(-1).tolist() == sorted(tokens.tolist())
        zero_targets += int((out.argmax(-1) == 0).sum())
    assert zero_targets > 0  # token 0 is a real, counted target


@pytest.mark.parametrize("name", sorted(TASKS))
def test_fixed_length(name):
    task = make_task(name).at_length(7)
    assert task == dataclasses.replace(task, min_length=7, max_length=7)
    batch = task.batch(8, seeded())
    per_sample = batch.mask.sum(1)
    if name in ("copy", "sort", "traversal", "shortest_path", "key_value",
                "reverse", "odds_first"):
        assert (per_sample == 7).all()  # one answer per item, hop or pair
    elif name == "duplicate":
        assert (per_sample == 14).all()
    elif name == "associative_recall":
        assert batch.inputs[..., task.width].sum(1).eq(7).all()  # seven item delimiters
    else:
        assert batch.inputs[..., task.width].argmax(1).eq(7).all()  # delimiter after 7 steps


@pytest.mark.parametrize("name", sorted(TASKS))
def test_seeding(name):
    task = make_task(name)
    first, again, other = (
        task.batch(8, seeded(5)),
        task.batch(8, seeded(5)),
        task.batch(8, seeded(6)),
    )
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(first, other))
    assert task.batch(2).inputs.shape[0] == 2  # the global generator when none is given


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: CopyTask(width=0), "width"),
        (lambda: CopyTask(min_length=0), "min_length"),
        (lambda: CopyTask(min_length=5, max_length=3), "max_length"),
        (lambda: CopyTask(max_length=2.5), "max_length"),
        (lambda: RepeatCopyTask(min_repeats=0), "min_repeats"),
        (lambda: RepeatCopyTask(min_repeats=4, max_repeats=2), "max_repeats"),
        (lambda: AssociativeRecallTask(min_items=1), "min_length"),
        (lambda: AssociativeRecallTask(item_length=0), "item_length"),
        (lambda: AssociativeRecallTask(min_length=2, min_items=3), "min_items"),
        (lambda: SortTask(vocab_size=1), "vocab_size"),
        (lambda: make_task("palindrome"), "name"),
        (lambda: ReverseTask(vocab_size=0), "vocab_size"),
        (lambda: DuplicateTask(vocab_size=1), "vocab_size"),
        (lambda: OddsFirstTask(min_length=0), "min_length"),
        (lambda: ReverseTask(min_length=4, max_length=2), "max_length"),
        (lambda: CopyTask().batch(0), "batch_size"),
        (lambda: CopyTask().batch(True), "batch_size"),
        (lambda: CopyTask().batch(4, generator=0), "generator"),
        (lambda: dataclasses.replace(SortTask(), max_length=0), "max_length"),
    ],
)
def test_validation(build, argument):
    with pytest.raises(ValueError, match=argument):
        build()


def test_device_argument_on_cpu():
    task = CopyTask(width=3, max_length=4)
    for device in ("cpu", torch.device("cpu")):
        batch = task.batch(4, seeded(), device=device)
        assert all(t.device.type == "cpu" for t in batch)
    assert all(torch.equal(a, b) for a, b in zip(task.batch(4, seeded()).to("cpu"), batch))


# --- metrics --------------------------------------------------------------------------------------

# one sequence, three steps, two bits; the prediction is logit > 0
LOGITS = torch.tensor([[[2.0, -1.0], [3.0, 0.5], [-2.0, -2.0]]])
TARGETS = torch.tensor([[[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]])
MASK = torch.tensor([[1.0, 1.0, 0.0]])


def test_bit_errors_by_hand():
    assert bit_errors(LOGITS, TARGETS, MASK).tolist() == [2.0]  # one wrong bit on each counted step
    assert bit_errors(LOGITS, TARGETS, torch.tensor([[0.0, 1.0, 1.0]])).tolist() == [
        3.0
    ]  # off by one
    assert bit_errors(LOGITS, TARGETS, torch.zeros(1, 3)).tolist() == [0.0]
    assert bit_errors(torch.zeros(1, 1, 2), torch.ones(1, 1, 2), torch.ones(1, 1)).tolist() == [
        2.0
    ]  # 0.5 is 0


def test_bits_per_sequence_by_hand():
    # p = sigmoid(logit); cost of a bit = -log2 p if the target is 1, -log2(1 - p) if 0
    def bits(logit, target):
        p = 1 / (1 + math.exp(-logit))
        return -math.log2(p if target else 1 - p)

    expected = bits(2.0, 1) + bits(-1.0, 1) + bits(3.0, 0) + bits(0.5, 1)
    assert bits_per_sequence(LOGITS, TARGETS, MASK).item() == pytest.approx(expected, rel=1e-5)
    # logits of 0 cost exactly one bit per counted bit; masked steps cost nothing
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    zeros = torch.zeros(2, 4, 3)
    assert bits_per_sequence(zeros, torch.ones(2, 4, 3), mask).tolist() == pytest.approx([6.0, 3.0])
    shifted = torch.tensor([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    big = torch.full((2, 4, 3), 50.0)  # confidently 1: ~0 bits where the target is 1
    targets = torch.ones(2, 4, 3)
    targets[:, 2] = 0.0
    assert bits_per_sequence(big, targets, mask).tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert (
        bits_per_sequence(big, targets, shifted)[0].item() > 100
    )  # the off-by-one mask counts step 2


def test_masked_bce_is_nats_per_counted_bit():
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    targets = torch.randint(0, 2, (2, 4, 3), generator=seeded()).float()
    assert masked_bce(torch.zeros(2, 4, 3), targets, mask).item() == pytest.approx(math.log(2))
    logits = torch.randn(2, 4, 3, generator=seeded(1))
    summed_nats = bits_per_sequence(logits, targets, mask).sum() * math.log(2)
    assert masked_bce(logits, targets, mask).item() == pytest.approx(
        summed_nats.item() / 9, rel=1e-5
    )
    logits.requires_grad_(True)
    masked_bce(logits, targets, mask).backward()
    assert (logits.grad[mask == 0] == 0).all()  # masked-out steps never train


@pytest.mark.parametrize("metric", [bit_errors, bits_per_sequence, masked_bce])
def test_metric_validation(metric):
    with pytest.raises(ValueError, match="targets"):
        metric(LOGITS, TARGETS[:, :2], MASK)
    with pytest.raises(ValueError, match="mask"):
        metric(LOGITS, TARGETS, MASK[:, :2])
    with pytest.raises(ValueError, match="logits"):
        metric(LOGITS[0], TARGETS[0], MASK[0])


def test_key_value_format():
    task = KeyValueTask(width=3, min_length=2, max_length=5)
    assert (task.input_size, task.output_size) == (7, 3)
    batch = task.batch(64, torch.Generator().manual_seed(0))
    W = task.width
    for b in range(64):
        shown = int((batch.inputs[b, :, :2 * W].abs().sum(-1) > 0).logical_and(
            batch.inputs[b, :, 2 * W] == 0).sum())
        assert 2 <= shown <= 5
        asked = batch.mask[b].nonzero().flatten().tolist()
        assert asked == list(range(shown, 2 * shown))  # every key once, right after the pairs
        assert (batch.inputs[b, asked, 2 * W] == 1).all()  # the query flag
        assert (batch.inputs[b, asked, W:2 * W] == 0).all()  # no value shown with a query
        pairs = {tuple(batch.inputs[b, t, :W].tolist()): batch.inputs[b, t, W:2 * W]
                 for t in range(shown)}
        assert len(pairs) == shown and (0.0,) * W not in pairs  # distinct, non-zero keys
        asked_keys = [tuple(batch.inputs[b, t, :W].tolist()) for t in asked]
        assert sorted(asked_keys) == sorted(pairs)
        for t, key in zip(asked, asked_keys):
            assert torch.equal(batch.targets[b, t], pairs[key])
        assert batch.targets[b, batch.mask[b] == 0].abs().sum() == 0
    assert task.at_length(4) == KeyValueTask(width=3, min_length=4, max_length=4)
    assert make_task("key_value", width=3) == KeyValueTask(width=3)


def test_key_value_two_way_format():
    task = KeyValueTask(width=3, min_length=2, max_length=5, two_way=True)
    assert (task.input_size, task.output_size) == (7, 3)
    batch = task.batch(64, torch.Generator().manual_seed(0))
    W = task.width
    directions = set()
    for b in range(64):
        shown = int((batch.inputs[b, :, 2 * W] == 0).logical_and(
            batch.inputs[b, :, :2 * W].abs().sum(-1) > 0).sum())
        assert 2 <= shown <= 5
        asked = batch.mask[b].nonzero().flatten().tolist()
        assert asked == list(range(shown, 2 * shown))  # every pair once, right after the pairs
        assert (batch.inputs[b, asked, 2 * W] == 1).all()  # the query flag
        keys = [tuple(batch.inputs[b, t, :W].tolist()) for t in range(shown)]
        values = [tuple(batch.inputs[b, t, W:2 * W].tolist()) for t in range(shown)]
        for half in (keys, values):  # distinct and non-zero, so either half names one pair
            assert len(set(half)) == shown and (0.0,) * W not in half
        value_of, key_of = dict(zip(keys, values)), dict(zip(values, keys))
        pairs_asked = []
        for t in asked:
            key = tuple(batch.inputs[b, t, :W].tolist())
            value = tuple(batch.inputs[b, t, W:2 * W].tolist())
            target = tuple(batch.targets[b, t].tolist())
            if value == (0.0,) * W:  # by key: the value is the answer
                assert target == value_of[key]
                pairs_asked.append(key)
                directions.add("by key")
            else:  # by value: the key half is blank, the key is the answer
                assert key == (0.0,) * W and target == key_of[value]
                pairs_asked.append(key_of[value])
                directions.add("by value")
        assert sorted(pairs_asked) == sorted(keys)  # every pair asked once, by one half
        assert batch.targets[b, batch.mask[b] == 0].abs().sum() == 0
    assert directions == {"by key", "by value"}
    assert task.at_length(4) == KeyValueTask(width=3, min_length=4, max_length=4, two_way=True)
    assert make_task("key_value", width=3, two_way=True) == KeyValueTask(width=3, two_way=True)


def test_key_value_two_way_asks_by_each_half_about_as_often():
    batch = KeyValueTask(width=4, min_length=4, max_length=4, two_way=True).batch(
        500, seeded(2))
    by_value = (batch.inputs[..., :4].abs().sum(-1) == 0) & (batch.mask == 1)
    share = by_value.sum() / batch.mask.sum()
    assert 0.45 < share < 0.55


def test_key_value_one_way_is_the_default():
    """two_way=False draws exactly what KeyValueTask drew before the option existed."""
    assert KeyValueTask() == KeyValueTask(two_way=False) and not KeyValueTask().two_way
    batch = KeyValueTask(width=3, min_length=2, max_length=5).batch(64, seeded(0))
    asked = batch.mask == 1
    assert (batch.inputs[asked][:, 3:6] == 0).all()  # every query by key
    assert (batch.inputs[asked][:, :3].abs().sum(-1) > 0).all()


def test_key_value_two_way_from_the_command_line(tmp_path, monkeypatch, capsys):
    from memlab.__main__ import main as cli
    from memlab.train import load_checkpoint

    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    path = tmp_path / "kv2.pt"
    assert cli(["train", "--model", "dnc", "--task", "key_value", "--two-way", "--width", "3",
                "--max-length", "3", "--steps", "1", "--batch-size", "2", "--hidden-size", "8",
                "--memory-size", "4", "--word-size", "4", "--read-heads", "1", "--masking",
                "--out", str(path)]) == 0
    saved = load_checkpoint(path)
    assert saved.task == KeyValueTask(width=3, max_length=3, two_way=True)
    assert "--two-way" in saved.extra["command"]
    code = cli(["train", "--task", "copy", "--two-way", "--steps", "1",
                "--out", str(tmp_path / "x.pt")])
    assert code == 2 and "--two-way does not apply to task copy" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs,argument", [
    (dict(width=0), "width"), (dict(width=17), "width"), (dict(min_length=0), "min_length"),
    (dict(min_length=3, max_length=2), "max_length"), (dict(width=2, max_length=4), "max_length"),
    (dict(two_way=1), "two_way"), (dict(two_way="yes"), "two_way"),
    (dict(width=2, max_length=4, two_way=True), "max_length"),
])
def test_key_value_bad_parameters(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        KeyValueTask(**kwargs)


def _string_answers(task, batch, b):
    """Sample b's input tokens and the tokens its answer steps want, as lists."""
    V = task.vocab_size
    n = int(batch.inputs[b, :, V].argmax())
    shown = batch.inputs[b, :n, :V].argmax(-1).tolist()
    wanted = batch.targets[b][batch.mask[b].bool()].argmax(-1).tolist()
    return shown, wanted


@pytest.mark.parametrize("task_class, answer", [
    (ReverseTask, lambda x: x[::-1]),
    (DuplicateTask, lambda x: x + x),
    (OddsFirstTask, lambda x: x[0::2] + x[1::2]),  # positions 1, 3, 5, ... counted from 1
])
def test_string_tasks_per_sample(task_class, answer):
    task = task_class(vocab_size=5, min_length=1, max_length=9)
    batch = task.batch(32, seeded(3))
    assert task.categorical and task.input_size == 6 and task.output_size == 5
    lengths = set()
    for b in range(32):
        shown, wanted = _string_answers(task, batch, b)
        n = len(shown)
        lengths.add(n)
        assert batch.inputs[b, :n, :5].sum(-1).eq(1).all()  # one token per input step
        assert batch.inputs[b, n].tolist() == [0.0] * 5 + [1.0]  # the delimiter step
        assert wanted == answer(shown)
        steps = output_steps(batch.mask[b])  # the answer follows the delimiter at once
        assert steps == list(range(n + 1, n + 1 + len(wanted)))
        assert batch.targets[b][batch.mask[b].bool()].sum(-1).eq(1).all()  # one-hot targets
    assert len(lengths) > 3


def test_odds_first_by_hand():
    assert OddsFirstTask.source(torch.arange(5), torch.tensor(5)).tolist() == [0, 2, 4, 1, 3]
    assert OddsFirstTask.source(torch.arange(4), torch.tensor(4)).tolist() == [0, 2, 1, 3]
    assert ReverseTask.source(torch.arange(3), torch.tensor(3)).tolist() == [2, 1, 0]
    assert DuplicateTask.source(torch.arange(6), torch.tensor(3)).tolist() == [0, 1, 2, 0, 1, 2]


def test_string_tasks_at_long_lengths():
    """Test lengths beyond training (up to 4N) keep the format: every answer is an input token."""
    for task_class in (ReverseTask, DuplicateTask, OddsFirstTask):
        task = task_class(max_length=10).at_length(40)
        batch = task.batch(4, seeded(1))
        for b in range(4):
            shown, wanted = _string_answers(task, batch, b)
            assert len(shown) == 40 and sorted(wanted) == sorted(shown * (len(wanted) // 40))


def categorical_batch(answers, predicted, classes=5):
    """Targets and logits for the given [B, K] answers and predictions (K counted steps + 1 pad)."""
    B, K = answers.shape
    targets = torch.zeros(B, K + 1, classes)
    logits = torch.zeros(B, K + 1, classes)
    targets[:, :K].scatter_(-1, answers[..., None], 1.0)
    logits[:, :K].scatter_(-1, predicted[..., None], 3.0)
    mask = torch.zeros(B, K + 1)
    mask[:, :K] = 1
    return logits, targets, mask


def test_categorical_metrics():
    answers = torch.tensor([[1, 2, 3], [0, 0, 4]])
    predicted = torch.tensor([[1, 2, 3], [0, 1, 4]])
    logits, targets, mask = categorical_batch(answers, predicted)
    logits[:, -1] = 9.0  # the padding step counts for nothing
    assert answer_accuracy(logits, targets, mask).tolist() == pytest.approx([1.0, 2 / 3])
    assert sequence_accuracy(logits, targets, mask).tolist() == [1.0, 0.0]
    assert bit_errors(logits, targets, mask, one_hot=True).tolist() == [0.0, 2.0]
    # cross-entropy of logits 3 on the right class among 5: log(4 + e^3) - 3 nats
    per_right = math.log(4 + math.exp(3)) - 3
    per_wrong = math.log(4 + math.exp(3))
    expected = (5 * per_right + per_wrong) / 6
    assert masked_cross_entropy(logits, targets, mask).item() == pytest.approx(expected, rel=1e-5)
    assert answer_bits(logits, targets, mask)[0].item() == pytest.approx(
        3 * per_right / math.log(2), rel=1e-5)
    with pytest.raises(ValueError, match="mask"):
        answer_accuracy(logits, targets, mask[:, :2])
