"""Graph tasks as the DNC paper poses them (Graves et al. 2016, Methods, "Graph tasks").

Nodes and edges are labelled with numbers written in decimal digits, one one-hot group of ten
channels per digit, so a graph of any size can be described and no label is learned in the
weights. Every step carries one triple (source, edge, destination), each part in its digits
(a part left blank is all zeros), and four flags that name the phase:

- description: the graph's edges, one triple per step, in random order;
- query: what is asked, as triples with blank parts;
- planning: steps with no input but their flag (shortest path);
- answer: steps with no input but their flag; the target of each is a whole triple. With
  ``feedback`` (shortest path), answer step k > 0 also carries answer k - 1's triple.

A batch has inputs [B, T, 10 * G + 4] and targets [B, T, 10 * G] with G = 2 * node_digits +
edge_digits digit groups (``output_groups``); an answer is right when every group is.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
from torch import Tensor

from memlab.tasks import Batch, _check_range, _Task
from memlab.validation import integer

BASE = 10  #: a digit is one of BASE classes
PHASES = ("describe", "query", "plan", "answer")  #: the flags after the triple's channels

Triple = tuple  # (source, edge, destination); None for a blank part


class GraphQuery(NamedTuple):
    """One sample of a graph task, as plain numbers."""

    edges: tuple  #: the graph: (source, edge, destination) triples, in the order presented
    query: tuple  #: the query steps, triples with None for each blank part
    answers: tuple  #: the answer steps, whole triples
    planning: int = 0  #: blank planning steps between the query and the answer
    feedback: bool = False  #: each answer step after the first carries the previous answer


def digits(number: int, width: int) -> tuple:
    """The decimal digits of ``number``, ``width`` of them, most significant first.

    For example ``digits(42, 3) == (0, 4, 2)``.

    Raises:
        ValueError: a number below 0 or with more than ``width`` digits.
    """
    if not 0 <= number < BASE**width:
        raise ValueError(f"number must be in [0, {BASE**width}) to fit {width} digits, "
                         f"got {number}")
    return tuple(number // BASE**power % BASE for power in reversed(range(width)))


def number(digits_: Sequence[int]) -> int:
    """The number whose decimal digits these are, most significant first (inverse of `digits`)."""
    value = 0
    for digit in digits_:
        value = value * BASE + int(digit)
    return value


def walk(edges, start: int, labels) -> tuple:
    """The triples of the path from ``start`` that follows ``labels``, one hop each.

    Args:
        edges: (source, edge, destination) triples.
        start: the first node.
        labels: the edge label of each hop.

    Returns:
        One (source, edge, destination) triple per hop.

    Raises:
        ValueError: a node on the way has no out-edge with the next label.
    """
    table = {(source, label): destination for source, label, destination in edges}
    node, path = start, []
    for hop, label in enumerate(labels):
        if (node, label) not in table:
            raise ValueError(f"labels[{hop}] = {label}: node {node} has no out-edge with it")
        path.append((node, label, table[(node, label)]))
        node = table[(node, label)]
    return tuple(path)


def shortest_paths(edges, source: int) -> tuple:
    """Breadth-first search: the hops to every node and how many shortest paths reach it.

    Args:
        edges: (source, edge, destination) triples.
        source: the node to start from.

    Returns:
        (distance, count): dicts from each node reached to its hops from ``source`` and to its
        number of distinct shortest paths (counted exactly).
    """
    out: dict = {}
    for u, _, v in edges:
        out.setdefault(u, []).append(v)
    distance, count, queue = {source: 0}, {source: 1}, deque([source])
    while queue:
        u = queue.popleft()
        for v in out.get(u, ()):
            if v not in distance:
                distance[v], count[v] = distance[u] + 1, 0
                queue.append(v)
            if distance[v] == distance[u] + 1:
                count[v] += count[u]
    return distance, count


def _hot(triple: Triple, node_digits: int, edge_digits: int) -> list:
    """The channels set to 1 by the digits of ``triple`` (a None part sets none)."""
    hot, group = [], 0
    for part, width in zip(triple, (node_digits, edge_digits, node_digits)):
        if part is not None:
            hot += [(group + i) * BASE + d for i, d in enumerate(digits(part, width))]
        group += width
    return hot


def triple_channels(triple: Triple, node_digits: int = 2, edge_digits: int = 1) -> Tensor:
    """A triple as the graph tasks write it: one one-hot group of ten per digit.

    The source's ``node_digits`` digits, then the edge's ``edge_digits``, then the
    destination's, most significant first; a part that is None (blank) stays all zeros.
    For example ``triple_channels((42, 3, None))`` sets channels 4, 12 and 23.

    Args:
        triple: (source, edge, destination), numbers or None.
        node_digits: digits of a node label.
        edge_digits: digits of an edge label.

    Returns:
        [10 * (2 * node_digits + edge_digits)], 0.0 and 1.0.
    """
    if not isinstance(triple, (tuple, list)) or len(triple) != 3:
        raise ValueError(f"triple must be (source, edge, destination), got {triple!r}")
    integer("node_digits", node_digits, 1)
    integer("edge_digits", edge_digits, 1)
    row = torch.zeros(BASE * (2 * node_digits + edge_digits))
    row[_hot(triple, node_digits, edge_digits)] = 1
    return row


@dataclass(frozen=True)
class _GraphTask(_Task):
    """Shared encoding and graph drawing of the graph tasks (see the module's docstring).

    Args:
        node_digits: digits of a node label.
        node_labels: node labels are drawn from [0, node_labels) (default 10 ** node_digits);
            a curriculum can start with few distinct labels and widen them.
        edge_digits: digits of an edge label; labels are drawn from [0, 10 ** edge_digits).
        min_nodes: the fewest nodes of a graph, at least max_length + 1.
        max_nodes: the most nodes, at least min_nodes.
        min_degree: the fewest out-edges of a node, at least 1.
        max_degree: the most out-edges, at most min_nodes - 1 (each to a different node).
        min_length: the fewest hops of a path, at least 1.
        max_length: the most hops, at least min_length.
    """

    node_digits: int = 2
    edge_digits: int = 1
    node_labels: int | None = None
    min_nodes: int = 3
    max_nodes: int = 5
    min_degree: int = 1
    max_degree: int = 2
    min_length: int = 1
    max_length: int = 1
    categorical: ClassVar[bool] = True

    def __post_init__(self) -> None:
        integer("node_digits", self.node_digits, 1)
        integer("edge_digits", self.edge_digits, 1)
        _check_range("min_nodes", self.min_nodes, "max_nodes", self.max_nodes, 2)
        _check_range("min_degree", self.min_degree, "max_degree", self.max_degree, 1)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)
        if BASE**self.node_digits < self.max_nodes:
            raise ValueError(f"node_digits = {self.node_digits} gives {BASE**self.node_digits} "
                             f"labels, too few for max_nodes = {self.max_nodes} distinct nodes")
        if self.node_labels is not None:
            integer("node_labels", self.node_labels, self.max_nodes)
            if self.node_labels > BASE**self.node_digits:
                raise ValueError(f"node_labels must be <= 10 ** node_digits = "
                                 f"{BASE**self.node_digits}, got {self.node_labels}")
        if BASE**self.edge_digits < self.max_degree:
            raise ValueError(f"edge_digits = {self.edge_digits} gives {BASE**self.edge_digits} "
                             f"labels, too few for max_degree = {self.max_degree} distinct "
                             "out-edges")
        if self.max_degree > self.min_nodes - 1:
            raise ValueError(f"max_degree must be <= min_nodes - 1 = {self.min_nodes - 1}: each "
                             f"out-edge goes to a different node, got {self.max_degree}")
        if self.min_nodes < self.max_length + 1:
            raise ValueError(f"min_nodes must be >= max_length + 1 = {self.max_length + 1}: a "
                             f"path of {self.max_length} hops visits that many distinct nodes, "
                             f"got {self.min_nodes}")

    @property
    def output_groups(self) -> tuple:
        """The one-hot groups of an answer step: one of 10 per digit of the triple."""
        return (BASE,) * (2 * self.node_digits + self.edge_digits)

    @property
    def output_size(self) -> int:
        """Channels of a target step, 10 per digit of a triple."""
        return sum(self.output_groups)

    @property
    def input_size(self) -> int:
        """Channels of an input step: a triple's digits, then the four phase flags."""
        return self.output_size + len(PHASES)

    def at_length(self, length: int):
        """The task with paths of exactly ``length`` hops (graphs grown to fit when needed)."""
        nodes = max(self.min_nodes, length + 1)
        return dataclasses.replace(self, min_length=length, max_length=length, min_nodes=nodes,
                                   max_nodes=max(self.max_nodes, nodes))

    def _hot(self, triple: Triple) -> list:
        """The channels set to 1 by the digits of ``triple`` (a None part sets none)."""
        return _hot(triple, self.node_digits, self.edge_digits)

    def triple_channels(self, triple: Triple):
        """The one-hot digits of ``triple`` [output_size] (see `triple_channels`)."""
        return triple_channels(triple, self.node_digits, self.edge_digits)

    def read_triple(self, row) -> tuple:
        """The triple whose digits are the largest channel of each group of ``row`` [output_size].

        The inverse of ``triple_channels`` for whole triples; works on logits too.
        """
        values = row.reshape(-1, BASE).argmax(-1).tolist()
        ends = itertools.accumulate((self.node_digits, self.edge_digits, self.node_digits))
        starts = (0, self.node_digits, self.node_digits + self.edge_digits)
        return tuple(number(values[a:b]) for a, b in zip(starts, ends))

    def encode(self, samples) -> Batch:
        """The batch of the given GraphQuery samples, padded with zeros to the longest.

        Sample b takes len(edges) description steps, then its query, planning and answer steps.

        Args:
            samples: one or more GraphQuery.

        Returns:
            A Batch on the CPU: inputs [B, T, input_size], targets [B, T, output_size], mask
            [B, T] (1.0 on the answer steps).

        Raises:
            ValueError: no sample, or a label that does not fit its digits.
        """
        samples = list(samples)
        if not samples:
            raise ValueError("samples must hold at least one GraphQuery")
        T = max(len(s.edges) + len(s.query) + s.planning + len(s.answers) for s in samples)
        n_in, n_out = self.input_size, self.output_size
        flag = {phase: n_out + i for i, phase in enumerate(PHASES)}
        hot_inputs, hot_targets, answer_steps = [], [], []  # flat indices into each tensor
        for b, sample in enumerate(samples):
            t = b * T  # sample b's first step, counted over the batch
            for phase, triples in (("describe", sample.edges), ("query", sample.query)):
                for triple in triples:
                    hot_inputs += [t * n_in + c for c in self._hot(triple) + [flag[phase]]]
                    t += 1
            hot_inputs += [(t + i) * n_in + flag["plan"] for i in range(sample.planning)]
            t += sample.planning
            for k, triple in enumerate(sample.answers):
                hot_inputs.append(t * n_in + flag["answer"])
                if sample.feedback and k > 0:
                    hot_inputs += [t * n_in + c for c in self._hot(sample.answers[k - 1])]
                hot_targets += [t * n_out + c for c in self._hot(triple)]
                answer_steps.append(t)
                t += 1
        B = len(samples)
        inputs, targets, mask = torch.zeros(B, T, n_in), torch.zeros(B, T, n_out), torch.zeros(B, T)
        inputs.view(-1)[hot_inputs] = 1
        targets.view(-1)[hot_targets] = 1
        mask.view(-1)[answer_steps] = 1
        return Batch(inputs, targets, mask)

    def _draw(self, rng: random.Random) -> tuple:
        """A random directed graph: (labels of its nodes, its edges as label triples).

        Each node gets min_degree to max_degree out-edges to distinct other nodes, their edge
        labels distinct; node labels are distinct. The edges come in random order.
        """
        n = rng.randint(self.min_nodes, self.max_nodes)
        names = rng.sample(range(self.node_labels or BASE**self.node_digits), n)
        edges = []
        for u in range(n):
            degree = rng.randint(self.min_degree, self.max_degree)
            targets = rng.sample([v for v in range(n) if v != u], degree)
            labels = rng.sample(range(BASE**self.edge_digits), degree)
            edges += [(names[u], label, names[v]) for label, v in zip(labels, targets)]
        rng.shuffle(edges)
        return names, edges

    def _generate(self, batch_size: int, generator, device) -> Batch:
        return self.encode([self.sample(generator) for _ in range(batch_size)])

    def sample(self, generator: torch.Generator | None = None) -> GraphQuery:
        raise NotImplementedError


def _rng(generator: torch.Generator | None) -> random.Random:
    """A Python random stream seeded from ``generator``: one draw from torch per sample."""
    device = generator.device if generator is not None else None
    return random.Random(int(torch.randint(2**62, (1,), generator=generator, device=device)))


@dataclass(frozen=True)
class TraversalTask(_GraphTask):
    """Traversal (DNC paper, Fig. 3): follow a sequence of edge labels from a start node.

    The query gives the start node with the first label, (start, edge, _), then one label per
    step, (_, edge, _); the answer is the path, one (source, edge, destination) triple per hop.
    The path is planted through distinct nodes of a random graph (see ``_GraphTask``).
    """

    name: ClassVar[str] = "traversal"

    def query(self, edges, start: int, labels) -> GraphQuery:
        """The GraphQuery that asks for the path from ``start`` along ``labels`` on ``edges``.

        Args:
            edges: the graph's (source, edge, destination) triples, any graph (e.g. a map).
            start: the start node.
            labels: the edge label of each hop.

        Returns:
            The GraphQuery; its answers are ``walk(edges, start, labels)``.
        """
        labels = tuple(labels)
        if not labels:
            raise ValueError("labels must hold at least one edge label")
        query = ((start, labels[0], None),) + tuple((None, label, None) for label in labels[1:])
        return GraphQuery(tuple(edges), query, walk(edges, start, labels))

    def sample(self, generator: torch.Generator | None = None) -> GraphQuery:
        """One random graph with a traversal query whose path visits distinct nodes."""
        rng = _rng(generator)
        hops = rng.randint(self.min_length, self.max_length)
        while True:
            _, edges = self._draw(rng)
            route = _route(edges, hops, rng)
            if route is not None:
                return self.query(edges, *route)


def random_route(edges, hops: int, generator: torch.Generator | None = None):
    """A random walk of ``hops`` hops through distinct nodes of ``edges``, as (start, labels).

    Args:
        edges: (source, edge, destination) triples.
        hops: the hops of the walk, at least 1.
        generator: the source of randomness.

    Returns:
        (start, labels), or None if the walk from the drawn start got stuck.
    """
    return _route(edges, hops, _rng(generator))


def route_queries(task: TraversalTask, edges, hops: int, count: int,
                  generator: torch.Generator | None = None) -> list:
    """``count`` traversal queries of ``hops`` hops on one graph (e.g. a map), for ``task``.

    Each query is a random walk through distinct nodes (`random_route`), with the graph's edges
    shown in a fresh random order, as in training.

    Args:
        task: the TraversalTask whose query format to use.
        edges: the graph's (source, edge, destination) triples.
        hops: the hops of every query, at least 1.
        count: how many queries, at least 1.
        generator: the source of randomness.

    Returns:
        A list of ``count`` GraphQuery.

    Raises:
        ValueError: no walk of ``hops`` hops through distinct nodes in 1,000 tries.
    """
    integer("hops", hops, 1)
    integer("count", count, 1)
    rng, edges, queries = _rng(generator), list(edges), []
    for _ in range(1000 * count):
        route = _route(edges, hops, rng)
        if route is not None:
            queries.append(task.query(rng.sample(edges, len(edges)), *route))
            if len(queries) == count:
                return queries
    raise ValueError(f"hops = {hops}: too few walks of that many hops through distinct nodes "
                     f"of the graph's {len(edges)} edges")


def path_accuracy(model, task: _GraphTask, queries, own_answers: bool = False) -> tuple:
    """(paths all right, answers right) of ``model`` on ``queries``: means over the queries.

    A query counts 1 for "paths" when every digit of every answer is right; for "answers",
    the fraction of its answer steps that are.

    Args:
        model: a memlab model taking [B, T, task.input_size]; run without gradients.
        task: the graph task whose encoding the model was trained on.
        queries: one or more GraphQuery (e.g. from `route_queries`).
        own_answers: with queries that feed the previous answer back, feed the model's own
            answer (the largest digit of each group) instead of the target's.
    """
    from memlab.metrics import answer_accuracy, sequence_accuracy

    batch = task.encode(queries)
    device = next(model.parameters()).device
    inputs, groups = batch.inputs.to(device), task.output_groups
    fed = (batch.mask[:, 1:] * batch.mask[:, :-1]).bool().to(device)  # answer after an answer
    with torch.no_grad():
        logits = model(inputs)
        for _ in range(int(fed.sum(1).max()) if own_answers else 0):
            own = torch.zeros_like(logits[:, :-1])
            own.view(-1, BASE).scatter_(1, logits[:, :-1].reshape(-1, BASE).argmax(1, True), 1)
            inputs = inputs.clone()
            inputs[:, 1:, :task.output_size][fed] = own[fed]
            logits = model(inputs)
    logits = logits.cpu()
    paths = sequence_accuracy(logits, batch.targets, batch.mask, groups).mean()
    answers = answer_accuracy(logits, batch.targets, batch.mask, groups).mean()
    return paths.item(), answers.item()


def walker_chance(queries) -> float:
    """The chance that a walker without a plan answers a whole shortest path right, on average.

    The walker is told the node it is at (``feedback``) and takes a random out-edge at every hop
    but the last, where it takes the edge into the destination: it is right on a query with
    probability prod_k 1 / (out-edges of hop k's source) over the hops before the last. A model
    above this has learned to plan, not just to end at the destination.

    Args:
        queries: one or more shortest-path GraphQuery.
    """
    chances = []
    for query in queries:
        degree: dict = {}
        for source, _, _ in query.edges:
            degree[source] = degree.get(source, 0) + 1
        chance = 1.0
        for source, _, _ in query.answers[:-1]:
            chance /= degree[source]
        chances.append(chance)
    if not chances:
        raise ValueError("queries must hold at least one GraphQuery")
    return sum(chances) / len(chances)


def _route(edges, hops: int, rng: random.Random):
    out: dict = {}
    for u, label, v in edges:
        out.setdefault(u, []).append((label, v))
    start = rng.choice(sorted(out))
    path, labels = [start], []  # type: list[int], list[int]
    while len(labels) < hops:
        choices = [(label, v) for label, v in out.get(path[-1], ()) if v not in path]
        if not choices:
            return None
        label, v = rng.choice(choices)
        labels.append(label)
        path.append(v)
    return start, tuple(labels)


@dataclass(frozen=True)
class ShortestPathTask(_GraphTask):
    """Shortest path (DNC paper, Fig. 3): the path of fewest hops between two nodes.

    The query is one step, (source, _, destination); then ``planning_steps`` steps with no input
    (the paper gives 10); then one answer step per hop of the shortest path, whose target is
    that hop's triple. Graphs and queries are drawn so that the shortest path is unique, so the
    target is exact.

    With ``feedback`` each answer step after the first is given the previous hop's triple, as
    the paper's training gives the network its previous move (teacher forcing). A whole path is
    right under feedback exactly when it is right with the model's own answers fed back: while
    every answer is right the two inputs are the same.

    Args:
        planning_steps: blank steps between the query and the answer, at least 0.
        feedback: give answer step k > 0 the triple of answer k - 1.
        (the rest as for the graph tasks; see ``_GraphTask``)
    """

    planning_steps: int = 10
    feedback: bool = False
    name: ClassVar[str] = "shortest_path"

    def __post_init__(self) -> None:
        super().__post_init__()
        integer("planning_steps", self.planning_steps, 0)

    def query(self, edges, source: int, destination: int) -> GraphQuery:
        """The GraphQuery for the shortest path from ``source`` to ``destination`` on ``edges``.

        Raises:
            ValueError: no path, or more than one of the fewest hops.
        """
        distance, count = shortest_paths(edges, source)
        if destination not in distance or destination == source:
            raise ValueError(f"destination {destination} cannot be reached from {source}")
        if count[destination] != 1:
            raise ValueError(f"{count[destination]} shortest paths lead from {source} to "
                             f"{destination}; the target must be unique")
        into = {v: (u, label) for u, label, v in edges
                if v in distance and distance.get(u, -2) == distance[v] - 1}
        path, node = [], destination
        while node != source:
            u, label = into[node]
            path.append((u, label, node))
            node = u
        return GraphQuery(tuple(edges), ((source, None, destination),), tuple(reversed(path)),
                          self.planning_steps, self.feedback)

    def sample(self, generator: torch.Generator | None = None) -> GraphQuery:
        """One random graph with a query whose shortest path is unique and of the task's length.

        Raises:
            RuntimeError: no such query in 1,000 graphs (a degree too high for the lengths).
        """
        rng = _rng(generator)
        hops = rng.randint(self.min_length, self.max_length)
        for _ in range(1000):
            names, edges = self._draw(rng)
            source = rng.choice(names)
            distance, count = shortest_paths(edges, source)
            ends = [v for v in distance if distance[v] == hops and count[v] == 1]
            if ends:
                return self.query(edges, source, rng.choice(ends))
        raise RuntimeError(f"no unique shortest path of {hops} hops in 1,000 graphs of {self}")


GRAPH_TASKS = (TraversalTask, ShortestPathTask)

#: What a read head looks at during hop k of the answer (`hop_reads`)
HOP_READS = ("the hop's edge", "the previous hop's edge", "another edge",
             "the hop's query step", "another query step", "elsewhere")


def hop_reads(samples, read_weights: Tensor, write_weights: Tensor) -> Tensor:
    """Where each read head reads at each answer step of graph samples (the paper's Fig. 3).

    A read's source is the step whose write its weighting overlaps most
    (`memlab.analysis.read_sources`). At answer step k (hop k) it is sorted into HOP_READS:
    the description step that holds hop k's edge (a content look-up of the edge), the one of
    hop k - 1's edge, another edge, the query step that named hop k's label (the stored
    query, e.g. followed along the temporal links), another query step, or elsewhere.

    Args:
        samples: the B GraphQuery samples of the batch (as encoded: description, query, ...).
        read_weights: [B, T, R, N], ``trace.read_weights``.
        write_weights: [B, T, N], ``trace.write_weights``.

    Returns:
        [len(HOP_READS), R], the fraction of all answer steps of each kind, per read head.
    """
    samples = list(samples)
    B, T, R, _ = read_weights.shape
    if len(samples) != B or write_weights.shape[:2] != (B, T):
        raise ValueError(f"samples ({len(samples)}), read_weights [B, T, R, N] = "
                         f"{tuple(read_weights.shape)} and write_weights [B, T, N] = "
                         f"{tuple(write_weights.shape)} must agree on B and T")
    from memlab.analysis import read_sources  # imported here: memlab stays light

    counts = torch.zeros(len(HOP_READS), R)
    for b, sample in enumerate(samples):
        E, Q = len(sample.edges), len(sample.query)
        first = E + Q + sample.planning
        sources = read_sources(read_weights[b, first: first + len(sample.answers)],
                               write_weights[b, :first])  # [K, R]
        for k, answer in enumerate(sample.answers):
            edge, query = sample.edges.index(answer), E + min(k, Q - 1)
            previous = sample.edges.index(sample.answers[k - 1]) if k else -1
            for r, step in enumerate(sources[k].tolist()):
                kind = (0 if step == edge else 1 if step == previous else 2 if step < E
                        else 3 if step == query else 4 if step < E + Q else 5)
                counts[kind, r] += 1
    return counts / counts.sum(0).clamp_min(1)


#: A fictional metro (chapter 8's transfer test): four lines, each its stations in order; five
#: stations are interchanges. 21 stations and 44 directed edges: larger than any training graph.
METRO_LINES = {
    "Red": ("Harbour", "Mill Lane", "Castle", "Market", "University", "Observatory", "Airport"),
    "Blue": ("Riverside", "Old Town", "Market", "Cathedral", "Park", "Zoo", "Hilltop"),
    "Green": ("Stadium", "Castle", "Cathedral", "Library", "Hospital", "Lakeside"),
    "Yellow": ("Docks", "Library", "University", "Museum", "Gardens", "Quarry"),
}


class Metro(NamedTuple):
    """A metro map as a graph task sees it: numbered stations, one edge label per direction."""

    edges: tuple  #: (station, label, station) triples, both directions of every link
    numbers: dict  #: station name -> its number
    label_names: dict  #: edge label -> "<line> to <terminus>"


def metro(lines: dict | None = None, node_digits: int = 2, seed: int = 0) -> Metro:
    """The graph of a metro map: line i's trains run on label 2i outbound and 2i + 1 inbound.

    Args:
        lines: {line name: its stations in order} (default METRO_LINES).
        node_digits: the digits of a station number; stations get distinct random numbers.
        seed: of the station numbers.

    Returns:
        The Metro: its edges in a random order (the seed's), the numbers and the label names.
    """
    lines = METRO_LINES if lines is None else lines
    names = sorted({station for stations in lines.values() for station in stations})
    if 2 * len(lines) > BASE:
        raise ValueError(f"lines must be at most {BASE // 2} (two labels each), got {len(lines)}")
    rng = random.Random(seed)
    numbers = dict(zip(names, rng.sample(range(BASE**node_digits), len(names))))
    edges, label_names = [], {}
    for i, (line, stations) in enumerate(lines.items()):
        label_names[2 * i], label_names[2 * i + 1] = f"{line} to {stations[-1]}", \
            f"{line} to {stations[0]}"
        for a, b in zip(stations[:-1], stations[1:]):
            edges += [(numbers[a], 2 * i, numbers[b]), (numbers[b], 2 * i + 1, numbers[a])]
    rng.shuffle(edges)
    return Metro(tuple(edges), numbers, label_names)
