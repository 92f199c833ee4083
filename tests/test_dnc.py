"""`memlab.dnc.access_step`, the DNC's memory access, against the paper's loop reference.

`tests/test_addressing.py` checks each equation on its own, and its `rollout` chains them in the
order of Graves et al. (2016, Methods); `rollout(EpsilonReference(), ...)` built from the loop
functions of `tests/paper_reference.py` is the reference for a whole step. Here the step memlab
runs, `dnc.access_step`, is compared with that reference field by field for many steps, so a
step done out of order in memlab (a link updated with the new precedence, a read of the memory
before the write) fails. The options of Csordás & Schmidhuber (2019) are tested the same way in
`tests/test_improvements.py`.
"""

from __future__ import annotations

import torch

from memlab import dnc

try:  # tests/ as a package, or as a plain directory on sys.path
    from . import test_addressing as ta
except ImportError:
    import test_addressing as ta

F64 = torch.float64
NOT_RETURNED = {"retention"}  # psi_t feeds the usage; access_step keeps it to itself


def interface(xi: dict) -> dnc.Interface:
    """One step of `test_addressing.interface_sequence` as the memory's parsed interface."""
    return dnc.Interface(**{**xi, "write_key": xi["write_key"][:, 0],
                            "write_strength": xi["write_strength"][:, 0]})


def access_rollout(state: dict, interfaces: list) -> list:
    """`dnc.access_step` run over interfaces from state: per step, a dict of every state field,
    every AccessInfo field and the read vectors, under the names `rollout` uses.
    """
    access = dnc.AccessState(**{name: state[name] for name in dnc.AccessState._fields})
    history = []
    for xi in interfaces:
        read_vectors, access, info = dnc.access_step(interface(xi), access)
        history.append({**access._asdict(), **info._asdict(), "read_vectors": read_vectors})
    return history


def test_access_step_matches_the_paper_reference_step_by_step():
    # Random distinct initial usage: with ties (e.g. all-zero usage) the slot allocated first
    # depends on how the sort breaks them, which the paper leaves open.
    B, N, W, R = 2, 5, 3, 2
    gen = ta.generator("access-step-reference")
    start = ta.random_state(gen, B, N, W, R)
    interfaces = ta.interface_sequence(gen, 20, B, N, W, R)
    expected = ta.rollout(ta.EpsilonReference(), start, interfaces)
    got_history = access_rollout(start, interfaces)
    assert len(got_history) == len(expected) == 20
    for got, want in zip(got_history, expected):
        assert set(got) == set(want) - NOT_RETURNED, (
            "access_step returns other fields than the reference")
        assert all(value.dtype == F64 for value in got.values())
    ta.assert_steps_match(got_history, expected)


def test_initial_state_is_an_empty_memory():
    B, N, W, R = 2, 5, 3, 2
    state = dnc.initial_state(B, N, W, R, dtype=F64)
    assert state._fields == dnc.AccessState._fields
    zeros = ta.zero_state(B, N, W, R)
    for name, value in state._asdict().items():
        assert torch.equal(value, zeros[name]), name
