"""Checks of chapter 8 (notebooks/08_dnc_graphs): graph descriptions and what the reads look at."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import analysis, tasks
from .harness import F64, Mistake, checking, gen, simplex

__all__ = ["edge_rows", "read_sources"]


# =========================================================================== edge rows

def _random_edges(g: torch.Generator, nodes: int, num_ids: int, num_labels: int) -> list:
    ids = torch.randperm(num_ids, generator=g)[:nodes].tolist()
    edges = []
    for i, source in enumerate(ids):
        for label in torch.randperm(num_labels, generator=g)[: 1 + i % num_labels].tolist():
            other = ids[(i + 1 + int(torch.randint(nodes - 1, (1,), generator=g))) % nodes]
            edges.append((source, label, other))
    return edges


def _rows(edges: list, num_ids: int, num_labels: int,
          channels: Callable[[int, int, int], tuple]) -> Tensor:
    """[E, 2 num_ids + num_labels] rows, a 1 on the channels(source, label, destination) of each."""
    rows = torch.zeros(len(edges), 2 * num_ids + num_labels)
    for e, (s, label, d) in enumerate(edges):
        rows[e, list(channels(s, label, d))] = 1
    return rows


EDGE_ROWS_MISTAKES = [
    Mistake("swapped", "source and destination swapped: the source comes first",
            lambda edges, num_ids, num_labels: tasks.edge_rows(
                [(d, label, s) for s, label, d in edges], num_ids, num_labels)),
    Mistake("blocks order", "blocks in the wrong order: source | label | destination",
            lambda edges, num_ids, num_labels: _rows(
                edges, num_ids, num_labels,
                lambda s, label, d: (s, num_ids + d, 2 * num_ids + label))),
    Mistake("label at channel 0",
            "the label's one-hot starts at channel 0: it starts after the num_ids source channels",
            lambda edges, num_ids, num_labels: _rows(
                edges, num_ids, num_labels,
                lambda s, label, d: (s, label, num_ids + num_labels + d))),
]


def edge_rows(student: Callable) -> None:
    """Check ``edge_rows(edges, num_ids, num_labels) -> [E, 2*num_ids + num_labels]``.

    One row per (source, label, destination) triple: one-hot source | one-hot label | one-hot
    destination (memlab.tasks.edge_rows, the description phase of graph traversal).

    Args:
        student: your ``edge_rows``, with the arguments above in the same order.

    Returns:
        None; prints ``"edge_rows: all <n> checks passed"``.

    Raises:
        AssertionError: a property fails; the message says which, and names the known mistake
            that the result matches, if any.
    """
    with checking("edge_rows", student, ("edges", "num_ids", "num_labels")) as c:
        __tracebackhide__ = True

        def run(edges, num_ids, num_labels, on):
            __tracebackhide__ = True
            out = c.call((list(edges), num_ids, num_labels), on)
            if isinstance(out, Tensor) and out.is_floating_point():
                out = c.tensor(out, (len(edges), 2 * num_ids + num_labels),
                               "[E, 2*num_ids + num_labels]", torch.float32, on)
            if not isinstance(out, Tensor):
                c.fail(f"on {on}: expected a tensor, got {type(out).__name__}")
            return out.to(torch.float32)

        edges = [(0, 1, 2)]
        on = "edges [(0, 1, 2)] with num_ids=3, num_labels=2"
        c.compare(run(edges, 3, 2, on), tasks.edge_rows(edges, 3, 2), on, EDGE_ROWS_MISTAKES,
                  (edges, 3, 2), what="the row (source 0 | label 1 | destination 2)")
        c.passed()
        sizes = ((3, 5, 2), (6, 16, 4), (4, 4, 3), (8, 12, 6))
        for seed, (nodes, num_ids, num_labels) in enumerate(sizes, 20):
            edges = _random_edges(gen(seed), nodes, num_ids, num_labels)
            on = (f"a random graph of {nodes} nodes, {len(edges)} edges "
                  f"(num_ids={num_ids}, num_labels={num_labels})")
            inputs = (edges, num_ids, num_labels)
            c.compare(run(*inputs, on), tasks.edge_rows(*inputs), on, EDGE_ROWS_MISTAKES, inputs)
            c.passed()


# =========================================================================== read sources

def read_sources(student: Callable) -> None:
    """Check ``read_sources(read_weights [..., R, N], write_weights [T, N]) -> [..., R]``.

    For each read head, the step t whose write weighting overlaps its read weighting most,
    argmax_t sum_i r[i] w_t[i] (memlab.analysis.read_sources).

    Args:
        student: your ``read_sources``, with the arguments above in the same order.

    Returns:
        None; prints ``"read_sources: all <n> checks passed"``.

    Raises:
        AssertionError: a property fails; the message says which, and names the known mistake
            that the result matches, if any.
    """
    with checking("read_sources", student, ("read_weights", "write_weights")) as c:
        __tracebackhide__ = True

        def run(r, w, on):
            __tracebackhide__ = True
            out = c.call((r, w), on)
            if not isinstance(out, Tensor) or out.shape != r.shape[:-1]:
                shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                c.fail(f"on {on}: expected shape {list(r.shape[:-1])} (one step per read head), "
                       f"got {shape}")
            return out.long()

        def check(r, w, on):
            __tracebackhide__ = True
            got, expected = run(r, w, on), analysis.read_sources(r, w)
            if torch.equal(got, expected):
                return
            slot = r.argmax(-1)
            if torch.equal(got, slot):
                c.fail(f"on {on}: you returned the slot each head reads most ({slot.tolist()}); "
                       f"return the step that wrote there: argmax over t of w_t . r "
                       f"({expected.tolist()})")
            if torch.equal(got, (r @ w.T).argmin(-1)):
                c.fail(f"on {on}: argmin where argmax is meant: the step with the largest overlap")
            c.fail(f"on {on}: expected steps {expected.tolist()}, got {got.tolist()}")

        # three writes to slots 2, 0, 3 of N=4; head 0 reads slot 0 (written at step 1)
        w = torch.eye(4, dtype=F64)[[2, 0, 3]]
        r = torch.eye(4, dtype=F64)[[0, 3]]
        check(r, w, "writes to slots 2, 0, 3 and two heads reading slots 0 and 3")
        c.passed()
        for seed, (T, R, N) in enumerate(((5, 2, 8), (12, 3, 16), (3, 1, 6)), 30):
            g = gen(seed)
            w = torch.eye(N, dtype=F64)[torch.randperm(N, generator=g)[:T]]
            w = 0.9 * w + 0.1 * simplex(g, T, N)
            r = simplex(g, 2, R, N) ** 4
            r = r / r.sum(-1, keepdim=True)
            check(r, w, f"soft write and read weightings (T={T}, batch 2, R={R}, N={N})")
            c.passed()
