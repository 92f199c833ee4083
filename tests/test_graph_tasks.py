"""Tests of the graph traversal task (memlab.tasks.GraphTraversalTask) and categorical metrics."""

import math

import pytest
import torch

from memlab.metrics import (
    answer_accuracy,
    answer_bits,
    bit_errors,
    masked_cross_entropy,
    sequence_accuracy,
)
from memlab.tasks import GraphTraversalTask, Traversal, follow, make_task


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def decode(task, inputs_row, mask_row):
    """Read one sample back from its input rows: edges, start, labels (a test-side decoder)."""
    c = task.channels()
    edges, start, labels = [], None, []
    for step in inputs_row:
        if step[c["describe"]].item() == 1:
            edges.append((int(step[c["source"]].argmax()), int(step[c["label"]].argmax()),
                          int(step[c["destination"]].argmax())))
        elif step[c["query"]].item() == 1:
            if step[c["source"]].any():
                start = int(step[c["source"]].argmax())
            else:
                labels.append(int(step[c["label"]].argmax()))
    return edges, start, labels


def test_layout_matches_the_graph_it_came_from():
    task = GraphTraversalTask(num_ids=12, num_labels=3, min_nodes=4, max_nodes=7, min_degree=1,
                              max_degree=3, min_length=1, max_length=3)
    batch = task.batch(64, seeded(3))
    B, T, C = batch.inputs.shape
    assert C == task.input_size == 2 * 12 + 3 + 2 and batch.targets.shape[-1] == 12
    c = task.channels()
    for inputs, targets, mask in zip(*batch):
        edges, start, labels = decode(task, inputs, mask)
        E, K = len(edges), len(labels)
        assert 1 <= K <= 3
        nodes = {s for s, _, _ in edges}
        assert 4 <= len(nodes) <= 7 and start in nodes
        # a (node, label) pair leads to one node, and each node has 1..3 out-edges
        assert len({(s, label) for s, label, _ in edges}) == E
        assert all(1 <= sum(1 for s, _, _ in edges if s == n) <= 3 for n in nodes)
        assert all(s != d for s, _, d in edges)  # no self-loops
        # phases in order: description, query (start + one label per hop), answers
        assert inputs[:E, c["describe"]].eq(1).all() and inputs[E:, c["describe"]].eq(0).all()
        assert inputs[E:E + 1 + K, c["query"]].eq(1).all()
        assert mask.nonzero().flatten().tolist() == list(range(E + 1 + K, E + 1 + 2 * K))
        assert inputs[mask == 1].eq(0).all() and inputs[E + 1 + 2 * K:].eq(0).all()
        # targets: the node after each hop, found by following the labels
        answers = follow(edges, start, labels)
        assert targets[mask == 1].argmax(-1).tolist() == list(answers)
        assert targets[mask == 1].sum(-1).eq(1).all() and targets[mask == 0].eq(0).all()
        # the planted path visits distinct nodes
        assert len({start, *answers}) == K + 1


def test_node_names_are_random_and_edges_shuffled():
    task = GraphTraversalTask(num_ids=16, min_nodes=5, max_nodes=5)
    names = [frozenset(s for s, _, _ in task.sample(seeded(seed)).edges) for seed in range(40)]
    assert len(set(names)) > 30  # not a fixed set of ids
    sources = [task.sample(seeded(seed)).edges[0][0] for seed in range(40)]
    assert len(set(sources)) > 5


def test_sample_and_encode_agree_with_batch():
    task = GraphTraversalTask()
    queries = [task.sample(seeded(seed)) for seed in range(3)]
    batch = task.encode(queries)
    for b, query in enumerate(queries):
        edges, start, labels = decode(task, batch.inputs[b], batch.mask[b])
        assert (tuple(edges), start, tuple(labels)) == query[:3]


def test_encode_a_hand_made_graph():
    task = GraphTraversalTask(num_ids=6, num_labels=2, min_nodes=3, max_nodes=6, max_length=2)
    edges = ((0, 0, 1), (1, 1, 2), (2, 0, 0))
    query = Traversal(edges, 0, (0, 1), follow(edges, 0, (0, 1)))
    assert query.answers == (1, 2)
    batch = task.encode([query])
    assert batch.inputs.shape == (1, 3 + 1 + 2 + 2, task.input_size)
    assert batch.targets[0, 6:].argmax(-1).tolist() == [1, 2]
    with pytest.raises(ValueError, match="answers"):
        task.encode([query._replace(answers=(1, 0))])
    with pytest.raises(ValueError, match="num_ids"):
        task.encode([query._replace(start=9)])
    with pytest.raises(ValueError, match="labels"):
        task.encode([Traversal(((0, 5, 1),), 0, (5,), (1,))])
    with pytest.raises(ValueError, match="at least one"):
        task.encode([])
    with pytest.raises(ValueError, match=r"labels\[1\] = 0: node 1 has no out-edge"):
        follow(edges, 0, (0, 0))


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(num_labels=0), "num_labels"),
        (dict(min_nodes=1), "min_nodes"),
        (dict(num_ids=4, max_nodes=6), "num_ids"),
        (dict(max_degree=5, num_labels=4), "max_degree"),
        (dict(min_degree=0), "min_degree"),
        (dict(min_degree=3, max_degree=2), "max_degree"),
        (dict(min_nodes=3, max_nodes=4, max_length=3), "min_nodes"),
        (dict(min_length=0), "min_length"),
        (dict(min_length=2, max_length=1), "max_length"),
        (dict(num_ids=2.5), "num_ids"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        GraphTraversalTask(**kwargs)


def test_at_length_grows_the_graph_to_fit():
    task = GraphTraversalTask(num_ids=6, min_nodes=4, max_nodes=5, max_length=2)
    longer = task.at_length(7)
    assert (longer.min_length, longer.max_length) == (7, 7)
    assert longer.min_nodes == 8 and longer.max_nodes == 8 and longer.num_ids == 8
    assert task.at_length(2).min_nodes == 4
    assert longer.batch(4, seeded()).mask.sum(1).eq(7).all()


def test_registered_with_make_task():
    assert isinstance(make_task("id_traversal", max_nodes=5), GraphTraversalTask)


def test_seeded_and_on_a_device_generator():
    task = GraphTraversalTask()
    first, again = task.batch(8, seeded(5)), task.batch(8, seeded(5))
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def categorical(answers, predicted, classes=5):
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
    logits, targets, mask = categorical(answers, predicted)
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
