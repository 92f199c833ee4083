"""memlab.ntm against the paper's equations, and the NTM trace read by the meaning of its fields."""

import pytest
import torch

import paper_reference as P
from memlab import addressing as A
from memlab import ntm
from memlab.models import NTM, NTMTrace
from memlab.tasks import CopyTask

F64 = torch.float64


def head_params(g, B, H, W, S):
    shift = torch.softmax(torch.randn(B, H, S, generator=g, dtype=F64), -1)
    return ntm.HeadParams(key=torch.randn(B, H, W, generator=g, dtype=F64),
                          strength=1 + 4 * torch.rand(B, H, generator=g, dtype=F64),
                          gate=torch.rand(B, H, generator=g, dtype=F64), shift=shift,
                          gamma=1 + 3 * torch.rand(B, H, generator=g, dtype=F64))


@pytest.mark.parametrize("B,H,N,W,S", [(2, 1, 6, 4, 3), (1, 3, 8, 5, 5)])
def test_address_is_the_paper_pipeline(B, H, N, W, S):
    g = torch.Generator().manual_seed(B * 10 + H)
    memory = torch.randn(B, N, W, generator=g, dtype=F64)
    params = head_params(g, B, H, W, S)
    previous = torch.softmax(torch.randn(B, H, N, generator=g, dtype=F64), -1)
    weights, content = ntm.address(memory, params, previous)
    ref_weights, ref_content = P.ntm_address(memory, *params, previous)
    torch.testing.assert_close(content, ref_content)
    torch.testing.assert_close(weights, ref_weights)


def test_address_gradcheck():
    g = torch.Generator().manual_seed(3)
    memory = torch.randn(1, 5, 3, generator=g, dtype=F64, requires_grad=True)
    params = [p.detach().requires_grad_() for p in head_params(g, 1, 2, 3, 3)]
    previous = torch.softmax(torch.randn(1, 2, 5, generator=g, dtype=F64), -1).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda m, *rest: ntm.address(m, ntm.HeadParams(*rest[:5]), rest[5])[0],
        (memory, *params, previous))


@pytest.mark.parametrize("R,Hw", [(1, 1), (2, 3)])
def test_memory_step_writes_then_reads_as_the_paper(R, Hw):
    g = torch.Generator().manual_seed(R + 7 * Hw)
    B, N, W, S = 2, 7, 4, 3
    state = ntm.NTMState(torch.randn(B, N, W, generator=g, dtype=F64),
                         torch.softmax(torch.randn(B, R, N, generator=g, dtype=F64), -1),
                         torch.softmax(torch.randn(B, Hw, N, generator=g, dtype=F64), -1))
    read, write = head_params(g, B, R, W, S), head_params(g, B, Hw, W, S)
    erase = torch.rand(B, Hw, W, generator=g, dtype=F64)
    add = torch.randn(B, Hw, W, generator=g, dtype=F64)
    vectors, new, info = ntm.memory_step(read, write, erase, add, state)
    write_weights, _ = P.ntm_address(state.memory, *write, state.write_weights)
    memory = P.ntm_write(state.memory, write_weights, erase, add)
    read_weights, read_content = P.ntm_address(memory, *read, state.read_weights)  # reads M_t
    torch.testing.assert_close(new.write_weights, write_weights)
    torch.testing.assert_close(new.memory, memory)
    torch.testing.assert_close(new.read_weights, read_weights)
    torch.testing.assert_close(info.read_content, read_content)
    torch.testing.assert_close(vectors, P.read_memory(memory, read_weights))


def test_trace_fields_mean_what_their_names_say():
    """Each field of NTMTrace is recomputed from the others by the paper's equations, so two
    fields of the same shape swapped (read/write weights, gates, shifts, gammas) fail here.
    """
    assert NTMTrace._fields == (
        "read_weights", "write_weights", "memory", "read_vectors", "read_content",
        "write_content", "erase", "add", "read_gate", "write_gate", "read_shift", "write_shift",
        "read_gamma", "write_gamma")
    torch.manual_seed(0)
    model = NTM(6, 5, hidden_size=16, memory_size=8, word_size=4).double()
    batch = CopyTask(width=5, min_length=3, max_length=3).batch(2, torch.Generator().manual_seed(1))
    with torch.no_grad():
        _, trace = model(batch.inputs.double(), return_trace=True)
    start = ntm.initial_state(2, 8, 4, 1, 1, dtype=F64)
    previous_memory, previous_read, previous_write = start
    for t in range(batch.inputs.shape[1]):
        # the write: previous write weighting -> this step's, then erase and add
        gated = A.interpolate(trace.write_content[:, t], previous_write, trace.write_gate[:, t])
        write = A.sharpen(A.shift(gated, trace.write_shift[:, t]), trace.write_gamma[:, t])
        torch.testing.assert_close(trace.write_weights[:, t], write)
        memory = P.ntm_write(previous_memory, write, trace.erase[:, t], trace.add[:, t])
        torch.testing.assert_close(trace.memory[:, t], memory)
        # the read, on the memory just written
        gated = A.interpolate(trace.read_content[:, t], previous_read, trace.read_gate[:, t])
        read = A.sharpen(A.shift(gated, trace.read_shift[:, t]), trace.read_gamma[:, t])
        torch.testing.assert_close(trace.read_weights[:, t], read)
        torch.testing.assert_close(trace.read_vectors[:, t], P.read_memory(memory, read))
        previous_memory, previous_read, previous_write = memory, read, write
