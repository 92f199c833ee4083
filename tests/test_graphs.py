"""Tests of memlab.graphs: the DNC paper's graph tasks, their encoding and their metrics."""

import itertools

import pytest
import torch

from memlab.graphs import (
    BASE,
    HOP_READS,
    METRO_LINES,
    PHASES,
    ShortestPathTask,
    TraversalTask,
    digits,
    hop_reads,
    metro,
    number,
    path_accuracy,
    random_route,
    route_queries,
    shortest_paths,
    walk,
    walker_chance,
)
from memlab.metrics import answer_accuracy, masked_cross_entropy, sequence_accuracy
from memlab.tasks import make_task


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_digits_round_trip():
    assert digits(42, 3) == (0, 4, 2) and digits(0, 1) == (0,) and digits(999, 3) == (9, 9, 9)
    for value in range(0, 1000, 37):
        assert number(digits(value, 3)) == value
    with pytest.raises(ValueError, match="number"):
        digits(100, 2)
    with pytest.raises(ValueError, match="number"):
        digits(-1, 2)


@pytest.mark.parametrize("node_digits, edge_digits", [(1, 1), (2, 1), (3, 2)])
def test_triples_round_trip_through_their_channels(node_digits, edge_digits):
    task = TraversalTask(node_digits=node_digits, edge_digits=edge_digits)
    assert task.output_groups == (BASE,) * (2 * node_digits + edge_digits)
    assert task.input_size == task.output_size + len(PHASES)
    g = generator()
    for _ in range(50):
        triple = tuple(int(torch.randint(BASE**w, (1,), generator=g))
                       for w in (node_digits, edge_digits, node_digits))
        row = task.triple_channels(triple)
        assert row.sum() == len(task.output_groups)  # one hot digit per group
        assert row.reshape(-1, BASE).sum(-1).eq(1).all()
        assert task.read_triple(row) == triple
    blank = task.triple_channels((None, 3, None))  # a blank part is all zeros
    assert blank.sum() == edge_digits


def test_walk_and_its_errors():
    edges = [(10, 1, 20), (20, 2, 30), (20, 1, 10)]
    assert walk(edges, 10, (1, 2)) == ((10, 1, 20), (20, 2, 30))
    with pytest.raises(ValueError, match=r"labels\[1\]"):
        walk(edges, 10, (1, 3))


def test_traversal_samples_follow_their_graph():
    task = TraversalTask(min_nodes=6, max_nodes=12, min_degree=1, max_degree=3, max_length=5)
    g = generator(1)
    for _ in range(100):
        sample = task.sample(g)
        labels = tuple(step[1] for step in sample.query)
        start = sample.query[0][0]
        assert sample.answers == walk(sample.edges, start, labels)
        assert 1 <= len(sample.answers) <= 5
        visited = [start] + [answer[2] for answer in sample.answers]
        assert len(set(visited)) == len(visited)  # distinct nodes
        # the query: (start, edge, _), then (_, edge, _)
        assert sample.query[0][2] is None
        assert all(step[0] is None and step[2] is None for step in sample.query[1:])
        nodes = {u for u, _, _ in sample.edges}
        assert 6 <= len(nodes) <= 12
        out = {}
        for u, label, v in sample.edges:
            out.setdefault(u, []).append((label, v))
        for u, pairs in out.items():  # distinct labels, distinct targets, no self-loop
            assert 1 <= len(pairs) <= 3
            assert len({label for label, _ in pairs}) == len(pairs)
            assert len({v for _, v in pairs}) == len(pairs) and u not in {v for _, v in pairs}
        assert all(0 <= x < 100 for u, _, v in sample.edges for x in (u, v))


def test_encoding_of_a_hand_made_query():
    task = TraversalTask(min_nodes=3, max_nodes=3, max_length=2)
    edges = ((7, 3, 42), (42, 5, 9), (9, 3, 7))
    query = task.query(edges, 7, (3, 5))
    assert query.answers == ((7, 3, 42), (42, 5, 9))
    batch = task.encode([query])
    flags = {phase: task.output_size + i for i, phase in enumerate(PHASES)}
    T = len(edges) + 2 + 2
    assert batch.inputs.shape == (1, T, task.input_size)
    for t, edge in enumerate(edges):
        assert task.read_triple(batch.inputs[0, t, : task.output_size]) == edge
        assert batch.inputs[0, t, flags["describe"]] == 1
    assert torch.equal(batch.inputs[0, 3, : task.output_size], task.triple_channels((7, 3, None)))
    assert torch.equal(batch.inputs[0, 4, : task.output_size],
                       task.triple_channels((None, 5, None)))
    assert batch.inputs[0, 3:5, flags["query"]].eq(1).all()
    assert batch.inputs[0, 5:, : task.output_size].eq(0).all()  # answers: no input
    assert batch.inputs[0, 5:, flags["answer"]].eq(1).all()
    assert batch.mask[0].tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert [task.read_triple(batch.targets[0, t]) for t in (5, 6)] == list(query.answers)
    assert batch.targets[0, :5].eq(0).all()
    assert batch.inputs[0].sum(-1).gt(0).all()  # every step carries its phase flag


def brute_force_shortest(edges, source, destination, limit):
    """All paths of fewest hops from source to destination, by enumerating walks."""
    out = {}
    for u, label, v in edges:
        out.setdefault(u, []).append((label, v))
    for hops in range(1, limit + 1):
        found = []
        for choice in itertools.product(range(10), repeat=hops):
            node, path = source, []
            for label in choice:
                nxt = dict(out.get(node, ())).get(label)
                if nxt is None:
                    break
                path.append((node, label, nxt))
                node = nxt
            else:
                if node == destination:
                    found.append(tuple(path))
        if found:
            return found
    return []


def test_shortest_paths_are_unique_and_right():
    task = ShortestPathTask(min_nodes=6, max_nodes=8, min_degree=1, max_degree=3, min_length=2,
                            max_length=3, planning_steps=4)
    g = generator(2)
    for _ in range(40):
        sample = task.sample(g)
        (source, blank, destination), = sample.query
        assert blank is None and sample.planning == 4
        paths = brute_force_shortest(sample.edges, source, destination, 3)
        assert paths == [sample.answers]  # the one path of fewest hops
        assert 2 <= len(sample.answers) <= 3


def test_shortest_path_layout_and_planning_steps():
    task = ShortestPathTask(min_nodes=5, max_nodes=5, max_length=2, planning_steps=3)
    query = task.sample(generator(3))
    batch = task.encode([query])
    E, K = len(query.edges), len(query.answers)
    flags = {phase: task.output_size + i for i, phase in enumerate(PHASES)}
    assert batch.inputs.shape[1] == E + 1 + 3 + K
    assert batch.inputs[0, E, flags["query"]] == 1
    plan = batch.inputs[0, E + 1: E + 4]
    assert plan[:, flags["plan"]].eq(1).all() and plan.sum() == 3
    assert batch.mask[0, E + 4:].eq(1).all() and batch.mask[0].sum() == K


def test_shortest_path_refuses_ambiguous_or_missing_targets():
    task = ShortestPathTask(min_nodes=4, max_nodes=4)
    square = ((1, 0, 2), (1, 1, 3), (2, 0, 4), (3, 0, 4))  # two routes of 2 hops
    with pytest.raises(ValueError, match="2 shortest paths"):
        task.query(square, 1, 4)
    with pytest.raises(ValueError, match="cannot be reached"):
        task.query(square, 4, 1)
    distance, count = shortest_paths(square, 1)
    assert distance == {1: 0, 2: 1, 3: 1, 4: 2} and count[4] == 2


@pytest.mark.parametrize(
    "cls, kwargs, argument",
    [
        (TraversalTask, dict(min_nodes=4, max_nodes=6, max_degree=2, max_length=4),
         "min_nodes"),  # more hops than nodes
        (TraversalTask, dict(node_digits=1, min_nodes=5, max_nodes=11), "node_digits"),
        (TraversalTask, dict(edge_digits=1, min_nodes=12, max_nodes=12, max_degree=11),
         "edge_digits"),
        (TraversalTask, dict(min_nodes=3, max_nodes=3, max_degree=3), "max_degree"),
        (TraversalTask, dict(min_length=0), "min_length"),
        (ShortestPathTask, dict(planning_steps=-1), "planning_steps"),
        (TraversalTask, dict(node_labels=4, max_nodes=5), "node_labels"),  # fewer than nodes
        (TraversalTask, dict(node_labels=101), "node_labels"),  # more than two digits write
        (ShortestPathTask, dict(node_digits=0), "node_digits"),
    ],
)
def test_bad_parameters_name_the_argument(cls, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        cls(**kwargs)


def test_registered_seeded_and_at_length():
    assert isinstance(make_task("traversal"), TraversalTask)
    assert isinstance(make_task("shortest_path", planning_steps=2), ShortestPathTask)
    task = TraversalTask(min_nodes=4, max_nodes=6, max_length=2)
    a, b = task.batch(8, generator(5)), task.batch(8, generator(5))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    long = task.at_length(7)
    assert long.min_nodes == long.max_nodes == 8 and long.min_length == long.max_length == 7
    assert long.batch(4, generator()).mask.sum(1).eq(7).all()
    with pytest.raises(ValueError, match="samples"):
        task.encode([])


def test_grouped_metrics_against_a_loop():
    task = TraversalTask(min_nodes=4, max_nodes=6, max_length=3)
    batch = task.batch(16, generator(6))
    logits = torch.randn(batch.targets.shape, generator=generator(7))
    logits = logits + 6 * batch.targets * (torch.rand(batch.targets.shape[:2])[..., None] > 0.3)
    groups = task.output_groups
    right_steps, cross_entropy, paths = 0, 0.0, []
    for b in range(16):
        path_right = True
        for t in range(batch.mask.shape[1]):
            if batch.mask[b, t] == 0:
                continue
            ok = True
            for g in range(len(groups)):
                part = slice(g * BASE, (g + 1) * BASE)
                target = int(batch.targets[b, t, part].argmax())
                ok &= int(logits[b, t, part].argmax()) == target
                cross_entropy -= float(torch.log_softmax(logits[b, t, part], -1)[target])
            right_steps += ok
            path_right &= ok
        paths.append(float(path_right))
    counted = float(batch.mask.sum())
    loss = masked_cross_entropy(logits, batch.targets, batch.mask, groups)
    assert loss.item() == pytest.approx(cross_entropy / counted, rel=1e-5)
    per_sample = answer_accuracy(logits, batch.targets, batch.mask, groups)
    assert (per_sample * batch.mask.sum(1)).sum().item() == pytest.approx(right_steps)
    assert sequence_accuracy(logits, batch.targets, batch.mask, groups).tolist() == paths
    with pytest.raises(ValueError, match="groups"):
        answer_accuracy(logits, batch.targets, batch.mask, (10, 10))


def test_the_metro_is_a_bigger_graph_than_training_sees():
    graph = metro()
    stations = {name for line in METRO_LINES.values() for name in line}
    assert len(graph.numbers) == len(stations) >= 20 and len(METRO_LINES) >= 4
    links = sum(len(line) - 1 for line in METRO_LINES.values())
    assert len(graph.edges) == 2 * links
    by_number = {number: name for name, number in graph.numbers.items()}
    for i, (line, names) in enumerate(METRO_LINES.items()):
        for a, b in zip(names[:-1], names[1:]):  # both directions, on the line's two labels
            assert (graph.numbers[a], 2 * i, graph.numbers[b]) in graph.edges
            assert (graph.numbers[b], 2 * i + 1, graph.numbers[a]) in graph.edges
        assert graph.label_names[2 * i] == f"{line} to {names[-1]}"
    degree = {}
    for u, _, _ in graph.edges:
        degree[by_number[u]] = degree.get(by_number[u], 0) + 1
    assert max(degree.values()) == 4 and degree["Market"] == 4  # an interchange
    assert metro(seed=0) == graph and metro(seed=1).numbers != graph.numbers
    with pytest.raises(ValueError, match="lines"):
        metro({str(i): ("a", "b") for i in range(6)})


def test_random_routes_visit_distinct_nodes():
    graph, g = metro(), generator(8)
    task = TraversalTask()
    for hops in range(1, 7):
        route = None
        while route is None:
            route = random_route(graph.edges, hops, g)
        answers = task.query(graph.edges, *route).answers
        visited = [route[0]] + [v for _, _, v in answers]
        assert len(answers) == hops and len(set(visited)) == hops + 1
    assert random_route(((1, 0, 2),), 2, g) is None  # stuck at node 2


def test_route_queries_reshuffle_the_graph_and_keep_their_paths():
    graph, task = metro(), TraversalTask()
    queries = route_queries(task, graph.edges, 3, 20, generator(12))
    assert len(queries) == 20
    orders = {q.edges for q in queries}
    assert len(orders) == 20 and all(sorted(o) == sorted(graph.edges) for o in orders)
    for q in queries:
        start, labels = q.query[0][0], [label for _, label, _ in q.query]
        assert q.answers == walk(graph.edges, start, labels) and len(q.answers) == 3
    assert route_queries(task, graph.edges, 3, 4, generator(1)) == \
        route_queries(task, graph.edges, 3, 4, generator(1))
    with pytest.raises(ValueError, match="hops"):
        route_queries(task, ((1, 0, 2), (2, 0, 3)), 3, 1, generator(1))
    with pytest.raises(ValueError, match="count"):
        route_queries(task, graph.edges, 1, 0)


def test_node_labels_narrow_the_labels_drawn():
    task = TraversalTask(node_labels=12, min_nodes=5, max_nodes=8, max_length=3)
    g = generator(9)
    seen = {x for _ in range(50) for u, _, v in task.sample(g).edges for x in (u, v)}
    assert seen <= set(range(12)) and len(seen) == 12
    assert task.input_size == TraversalTask().input_size  # the digits stay: same channels


def test_hop_reads_sorts_each_read_by_its_source():
    task = TraversalTask(min_nodes=3, max_nodes=3, max_length=2)
    edges = ((7, 3, 42), (42, 5, 9), (9, 3, 7))
    sample = task.query(edges, 7, (3, 5))  # answers (7, 3, 42) then (42, 5, 9)
    T = task.encode([sample]).inputs.shape[1]  # 3 edges, 2 query steps, 2 answers
    write = torch.eye(T)[None]  # step t writes slot t
    read = torch.zeros(1, T, 3, T)
    # head 0 reads each hop's edge; head 1 the query step of the hop; head 2 the other edge
    # at hop 0 and the previous hop's edge at hop 1
    for k, (edge, other) in enumerate(((0, 2), (1, 0))):
        read[0, 5 + k, 0, edge] = 1
        read[0, 5 + k, 1, 3 + k] = 1
        read[0, 5 + k, 2, other] = 1
    fractions = hop_reads([sample], read, write)
    assert fractions.shape == (len(HOP_READS), 3)
    expected = {0: {0: 1.0}, 1: {3: 1.0}, 2: {2: 0.5, 1: 0.5}}
    for head, kinds in expected.items():
        assert fractions[:, head].tolist() == [kinds.get(i, 0.0) for i in range(len(HOP_READS))]
    with pytest.raises(ValueError, match="samples"):
        hop_reads([sample, sample], read, write)


class Oracle(torch.nn.Module):
    """Answers the queries right, but the first hop of samples >= ``good``; with feedback, a
    later hop is right only when the previous answer fed to it is right.
    """

    def __init__(self, task, queries, good):
        super().__init__()
        self.queries, self.good = queries, good
        self.n_out, self.targets = task.output_size, task.encode(queries).targets
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        logits = self.targets.clone() * 10
        for b, q in enumerate(self.queries):
            first = len(q.edges) + len(q.query) + q.planning
            if b >= self.good:
                logits[b, first] = logits[b, first].roll(1)
            for t in range(first + 1, first + len(q.answers)):
                if q.feedback and not torch.equal(x[b, t, :self.n_out], self.targets[b, t - 1]):
                    logits[b, t] = logits[b, t].roll(1)
        return logits


def test_path_accuracy_counts_whole_paths_and_answers():
    task = TraversalTask(min_nodes=5, max_nodes=6, max_length=3)
    queries = [task.sample(generator(20 + i)) for i in range(6)]
    assert path_accuracy(Oracle(task, queries, 6), task, queries) == (1.0, 1.0)
    paths, answers = path_accuracy(Oracle(task, queries, 4), task, queries)
    # answers right: the mean over the samples of each one's fraction
    expected = sum(1 - (b >= 4) / len(q.answers) for b, q in enumerate(queries)) / 6
    assert paths == pytest.approx(4 / 6) and answers == pytest.approx(expected)


def test_feedback_gives_each_later_answer_step_the_previous_answer():
    plain = ShortestPathTask(min_nodes=6, max_nodes=6, min_length=3, max_length=3,
                             planning_steps=2)
    fed = ShortestPathTask(**{**plain.__dict__, "feedback": True})
    query = fed.sample(generator(5))
    assert query.feedback and not plain.sample(generator(5)).feedback
    with_feedback, without = fed.encode([query]), plain.encode([query._replace(feedback=False)])
    first = len(query.edges) + 1 + 2
    n_out = fed.output_size
    assert torch.equal(with_feedback.targets, without.targets)
    assert torch.equal(with_feedback.inputs[0, :first + 1], without.inputs[0, :first + 1])
    for k in range(1, 3):
        step = with_feedback.inputs[0, first + k]
        assert fed.read_triple(step[:n_out]) == query.answers[k - 1]
        assert step[n_out + PHASES.index("answer")] == 1 and step.sum() == 5 + 1
        assert without.inputs[0, first + k, :n_out].sum() == 0


def test_own_answers_keep_whole_paths_and_carry_a_mistake_forward():
    task = ShortestPathTask(min_nodes=6, max_nodes=7, min_length=3, max_length=3,
                            planning_steps=1, feedback=True)
    queries = [task.sample(generator(40 + i)) for i in range(6)]
    teacher, own = path_accuracy(Oracle(task, queries, 4), task, queries), path_accuracy(
        Oracle(task, queries, 4), task, queries, own_answers=True)
    assert teacher[0] == own[0] == pytest.approx(4 / 6)
    assert teacher[1] == pytest.approx((4 + 2 * 2 / 3) / 6) and own[1] == pytest.approx(4 / 6)
    assert path_accuracy(Oracle(task, queries, 6), task, queries, own_answers=True) == (1.0, 1.0)


def test_walker_chance_by_hand_and_by_simulation():
    # 1 -> 2 -> 4 is the shortest path; 1 has out-edges to 2 and 3, 2 to 4 and 3
    edges = ((1, 0, 2), (1, 1, 3), (2, 0, 4), (2, 1, 3), (3, 0, 1))
    query = ShortestPathTask(min_nodes=4, max_nodes=4, max_length=2).query(edges, 1, 4)
    assert query.answers == ((1, 0, 2), (2, 0, 4))
    assert walker_chance([query]) == pytest.approx(1 / 2)  # the last hop is given
    three = ShortestPathTask(min_nodes=4, max_nodes=4, max_length=3).query(
        edges + ((4, 0, 5),), 1, 5)
    assert walker_chance([query, three]) == pytest.approx((1 / 2 + 1 / 4) / 2)
    # a walker simulated on drawn queries agrees with the formula
    task = ShortestPathTask(min_nodes=6, max_nodes=8, min_length=2, max_length=3,
                            max_degree=3, feedback=True)
    queries = [task.sample(generator(70 + i)) for i in range(40)]
    rng = torch.Generator().manual_seed(0)
    right = 0
    for _ in range(50):
        for q in queries:
            out = {}
            for s, e, d in q.edges:
                out.setdefault(s, []).append((s, e, d))
            ok = all(out[s][int(torch.randint(len(out[s]), (1,), generator=rng))] == (s, e, d)
                     for s, e, d in q.answers[:-1])
            right += ok
    assert right / (50 * len(queries)) == pytest.approx(walker_chance(queries), abs=0.04)
    with pytest.raises(ValueError, match="queries"):
        walker_chance([])
