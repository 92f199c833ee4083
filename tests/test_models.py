"""Model-level behaviour of memlab.DNC, memlab.NTM and memlab.LSTMBaseline."""
import pytest
import torch

import memlab
from memlab import dnc, ntm
from memlab.metrics import bit_errors, masked_bce
from memlab.models import DNCTrace, build_model
from memlab.tasks import CopyTask

SMALL = {
    "dnc": dict(input_size=5, output_size=4, hidden_size=16, memory_size=6, word_size=5,
                read_heads=2),
    "ntm": dict(input_size=5, output_size=4, hidden_size=16, memory_size=8, word_size=5,
                read_heads=2, write_heads=2, shift_range=1),
    "lstm": dict(input_size=5, output_size=4, hidden_size=16, num_layers=2),
}
KINDS = sorted(SMALL)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def make(kind, **overrides):
    torch.manual_seed(0)
    return build_model(kind, **{**SMALL[kind], **overrides})


@pytest.mark.parametrize("kind", KINDS)
def test_output_shape_and_trace(kind):
    model = make(kind)
    x = torch.randn(3, 7, 5)
    logits = model(x)
    assert logits.shape == (3, 7, 4)
    traced, trace = model(x, return_trace=True)
    torch.testing.assert_close(traced, logits)
    for name in trace._fields:
        value = getattr(trace, name)
        if value is None:  # a field of a DNC option that is off
            assert kind == "dnc" and name in dnc.IMPROVEMENT_FIELDS, name
            continue
        assert value.shape[:2] == (3, 7), f"{name}: {tuple(value.shape)}"


def test_dnc_trace_fields_follow_the_step():
    assert DNCTrace._fields == (dnc.Interface._fields + dnc.AccessState._fields
                                + dnc.AccessInfo._fields + ("read_vectors",))
    # the interface's fields are the layout's, in its order, the options' fields last
    layout = [name for name, _, _ in dnc.interface_table(4, 2, masking=True, link_sharpness=True)]
    assert list(dnc.Interface._fields) == layout
    assert dnc.IMPROVEMENT_FIELDS == tuple(layout[len(dnc.interface_table(4, 2)):])
    model = make("dnc")
    _, trace = model(torch.randn(2, 4, 5), return_trace=True)
    assert trace.link.shape == (2, 4, 6, 6)
    assert trace.read_modes.shape == (2, 4, 2, 3)
    torch.testing.assert_close(trace.read_modes.sum(-1), torch.ones(2, 4, 2))
    # the recorded read vectors are the memory read with the recorded weights
    torch.testing.assert_close(trace.read_vectors, trace.read_weights @ trace.memory)


@pytest.mark.parametrize("kind", KINDS)
def test_samples_of_a_batch_are_independent(kind):
    model = make(kind)
    x = torch.randn(4, 9, 5)
    before = model(x)
    x2 = x.clone()
    x2[0] += torch.randn(9, 5)
    after = model(x2)
    assert not torch.allclose(before[0], after[0])
    torch.testing.assert_close(after[1:], before[1:], rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_output_does_not_depend_on_the_batch_it_runs_in(kind):
    model = make(kind)
    x = torch.randn(4, 6, 5)
    together = model(x)
    alone = torch.cat([model(x[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_consecutive_optimiser_steps(kind):
    model = make(kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(3, 6, 5), torch.rand(3, 6, 4).round()
    losses = []
    for _ in range(4):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_gradients_reach_every_dnc_interface_field(controller):
    model = make("dnc", controller=controller)
    x = torch.randn(4, 8, 5)
    model(x).pow(2).sum().backward()
    grad = model.interface.weight.grad
    for name, rows in dnc.interface_slices(5, 2).items():
        assert grad[rows].abs().sum() > 0, f"no gradient reaches interface field {name}"
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient for {name}"


def test_gradients_reach_every_ntm_head_parameter():
    model = make("ntm")
    model(torch.randn(4, 8, 5)).pow(2).sum().backward()
    grad = model.interface.weight.grad
    heads = 4  # 2 read + 2 write
    per_head = grad[: heads * model.head_size].reshape(heads, model.head_size, -1)
    names = ["key"] * 5 + ["strength", "gate"] + ["shift"] * 3 + ["gamma"]
    for h in range(heads):
        for row, name in enumerate(names):
            assert per_head[h, row].abs().sum() > 0, f"head {h}: no gradient for {name}"
    assert grad[heads * model.head_size:].abs().sum(dim=1).gt(0).all(), "erase/add rows"


def test_interface_layout():
    for W, R in [(16, 4), (5, 2), (1, 1)]:
        slices = dnc.interface_slices(W, R)
        assert list(slices) == [name for name, _, _ in dnc.interface_fields(W, R)]
        size = dnc.interface_size(W, R)
        assert max(s.stop for s in slices.values()) == size == W * R + 3 * W + 5 * R + 3
        starts = sorted((s.start, s.stop) for s in slices.values())
        assert all(a[1] == b[0] for a, b in zip(starts, starts[1:])), "slices overlap or leave gaps"


def test_parse_interface_ranges_and_order():
    torch.manual_seed(0)
    W, R = 5, 3
    xi = torch.randn(4, dnc.interface_size(W, R)) * 3
    parsed = dnc.parse_interface(xi, W, R)
    slices = dnc.interface_slices(W, R)
    torch.testing.assert_close(parsed.read_keys, xi[:, slices["read_keys"]].reshape(4, R, W))
    torch.testing.assert_close(parsed.write_vector, xi[:, slices["write_vector"]])
    torch.testing.assert_close(parsed.erase, torch.sigmoid(xi[:, slices["erase"]]))
    torch.testing.assert_close(parsed.free_gates, torch.sigmoid(xi[:, slices["free_gates"]]))
    torch.testing.assert_close(parsed.allocation_gate,
                               torch.sigmoid(xi[:, slices["allocation_gate"]]).squeeze(-1))
    torch.testing.assert_close(parsed.write_gate,
                               torch.sigmoid(xi[:, slices["write_gate"]]).squeeze(-1))
    torch.testing.assert_close(parsed.read_strengths,
                               1 + torch.nn.functional.softplus(xi[:, slices["read_strengths"]]))
    assert (parsed.write_strength >= 1).all()
    torch.testing.assert_close(parsed.read_modes.sum(-1), torch.ones(4, R))
    torch.testing.assert_close(parsed.read_modes,
                               torch.softmax(xi[:, slices["read_modes"]].reshape(4, R, 3), dim=-1))


def test_ntm_multi_head_write_matches_the_paper():
    torch.manual_seed(0)
    B, H, N, W = 2, 3, 5, 4
    memory = torch.randn(B, N, W, dtype=torch.float64)
    weights = torch.softmax(torch.randn(B, H, N, dtype=torch.float64), -1)
    erase = torch.rand(B, H, W, dtype=torch.float64)
    add = torch.randn(B, H, W, dtype=torch.float64)
    expected = memory.clone()
    for h in range(H):  # erase with every head, then add with every head (NTM eqs. 3-4)
        expected = expected * (1 - weights[:, h, :, None] * erase[:, h, None, :])
    for h in range(H):
        expected = expected + weights[:, h, :, None] * add[:, h, None, :]
    torch.testing.assert_close(ntm.write_heads(memory, weights, erase, add), expected)
    one = ntm.write_heads(memory, weights[:, :1], erase[:, :1], add[:, :1])
    torch.testing.assert_close(one,
                               memlab.addressing.write_memory(memory, weights[:, 0], erase[:, 0],
                                                              add[:, 0]))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_names_the_argument_and_shape(kind):
    model = make(kind)
    with pytest.raises(ValueError, match=r"x must have shape \[batch, time, 5\]"):
        model(torch.randn(6, 5))
    with pytest.raises(ValueError, match=r"last dim 4 != input_size 5"):
        model(torch.randn(2, 6, 4))
    with pytest.raises(ValueError, match="floating-point"):
        model(torch.ones(2, 6, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="torch.Tensor"):
        model([[0.0] * 5])
    with pytest.raises(ValueError, match="at least one"):
        model(torch.randn(2, 0, 5))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("argument", ["input_size", "output_size", "hidden_size"])
@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_bad_sizes_are_rejected(kind, argument, value):
    with pytest.raises(ValueError, match=argument):
        make(kind, **{argument: value})


@pytest.mark.parametrize("argument", ["memory_size", "word_size", "read_heads"])
def test_bad_memory_sizes_are_rejected(argument):
    for kind in ("dnc", "ntm"):
        with pytest.raises(ValueError, match=argument):
            make(kind, **{argument: 0})
    with pytest.raises(ValueError, match="shift_range"):
        make("ntm", memory_size=2, shift_range=1)
    with pytest.raises(ValueError, match="controller"):
        make("dnc", controller="gru")
    with pytest.raises(ValueError, match="model kind"):
        build_model("gru")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("device", DEVICES)
def test_state_follows_the_input_device_and_dtype(kind, device):
    model = make(kind).to(device=device, dtype=torch.float64)
    logits = model(torch.randn(2, 3, 5, device=device, dtype=torch.float64))
    assert logits.device.type == device and logits.dtype == torch.float64


def test_dnc_gradcheck_through_time():
    torch.manual_seed(0)
    model = make("dnc", hidden_size=4, memory_size=3, word_size=2).double()
    x = torch.randn(1, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: model(inp), (x,), eps=1e-6, atol=1e-5,
                                    fast_mode=True)


def test_ntm_gradcheck_through_time():
    torch.manual_seed(0)
    model = make("ntm", hidden_size=4, memory_size=4, word_size=2, read_heads=1,
                 write_heads=1).double()
    x = torch.randn(1, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: model(inp), (x,), eps=1e-6, atol=1e-5,
                                    fast_mode=True)


def test_dnc_learns_copy_in_bounded_steps():
    """memlab's DNC learns short copies: under 0.5 bit errors per sequence within 600 steps."""
    torch.manual_seed(0)
    task = CopyTask(width=4, min_length=1, max_length=3)
    model = memlab.DNC(task.input_size, task.output_size, hidden_size=32, memory_size=8,
                       word_size=8, read_heads=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(600):
        batch = task.batch(16, generator)
        loss = masked_bce(model(batch.inputs), batch.targets, batch.mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
    held_out = task.batch(128, torch.Generator().manual_seed(99))
    with torch.no_grad():
        errors = bit_errors(model(held_out.inputs), held_out.targets, held_out.mask).mean().item()
    assert errors < 0.5, f"{errors:.2f} bit errors per sequence after 600 steps"


@pytest.mark.parametrize("kind", ["dnc"])
def test_compiled_step_gives_the_same_outputs(kind):
    pytest.importorskip("torch._inductor")
    model = make(kind)
    x = torch.randn(3, 5, 5)
    eager = model(x)
    model.compile_step()
    compiled = model(x)
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    compiled.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


# --------------------------------------------------------------------------- Transformer baseline

from memlab.models import (  # noqa: E402
    POSITIONAL_ENCODINGS,
    alibi_bias,
    alibi_slopes,
    encoder_block,
    rotary_angles,
    rotate,
    sinusoidal_positions,
)

TINY_TRANSFORMER = dict(input_size=5, output_size=4, d_model=8, num_layers=2, num_heads=2,
                        feedforward_size=16)


def transformer(positional="sinusoidal", **overrides):
    torch.manual_seed(0)
    return build_model("transformer", **{**TINY_TRANSFORMER, "positional": positional,
                                         **overrides})


@pytest.mark.parametrize("positional", POSITIONAL_ENCODINGS)
def test_transformer_shapes_and_trace(positional):
    model = transformer(positional)
    x = torch.randn(3, 7, 5)
    logits = model(x)
    assert logits.shape == (3, 7, 4)
    traced, trace = model(x, return_trace=True)
    torch.testing.assert_close(traced, logits)
    assert trace.attention.shape == (3, 2, 2, 7, 7)  # [B, layers, heads, T, T]
    torch.testing.assert_close(trace.attention.sum(-1), torch.ones(3, 2, 2, 7))


@pytest.mark.parametrize("positional", POSITIONAL_ENCODINGS)
def test_transformer_is_not_causal_and_keeps_samples_apart(positional):
    """Every output step sees every input step, later ones included; samples stay apart."""
    model = transformer(positional)
    x = torch.randn(2, 6, 5)
    before = model(x)
    changed = x.clone()
    changed[0, -1] += 1.0  # the last step of sample 0 only
    after = model(changed)
    assert (after[0, 0] - before[0, 0]).abs().max() > 1e-4  # the first step sees the last
    torch.testing.assert_close(after[1], before[1])


@pytest.mark.parametrize("positional", POSITIONAL_ENCODINGS)
def test_transformer_tells_positions_apart(positional):
    """The same token at two steps gives two outputs: the model knows where it is.

    Relative encodings know only distances, so one other token (at step 0) is the landmark.
    """
    model = transformer(positional)
    x = torch.zeros(1, 6, 5)
    x[..., 0] = 1.0  # the same token everywhere ...
    x[0, 0] = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])  # ... but at step 0
    logits = model(x)[0]
    assert (logits[2] - logits[4]).abs().max() > 1e-4


@pytest.mark.parametrize("positional", POSITIONAL_ENCODINGS)
def test_transformer_runs_past_the_training_lengths(positional):
    """No table of positions to run out of: any length runs, the same in eval and train mode."""
    model = transformer(positional)
    x = torch.randn(2, 130, 5)
    trained_mode = model(x)
    model.eval()
    with torch.no_grad():
        eval_mode = model(x)
    torch.testing.assert_close(eval_mode, trained_mode, atol=1e-5, rtol=1e-4)


def test_encoder_block_is_the_torch_layer():
    torch.manual_seed(1)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                             norm_first=True)
    h = torch.randn(3, 5, 8)
    bias = alibi_bias(5, alibi_slopes(2).float())  # [heads, T, T]
    for mask, torch_mask in ((None, None), (bias, bias.repeat(3, 1, 1))):
        ours, weights = encoder_block(layer, h, mask)
        torch.testing.assert_close(ours, layer(h, src_mask=torch_mask))
        assert weights.shape == (3, 2, 5, 5)
        _, torch_weights = layer.self_attn(*[layer.norm1(h)] * 3, attn_mask=torch_mask,
                                           average_attn_weights=False)
        torch.testing.assert_close(weights, torch_weights)


def test_rope_scores_depend_on_distance_only():
    torch.manual_seed(2)
    cos, sin = rotary_angles(12, 6, dtype=torch.float64)
    q, k = torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    turned_q, turned_k = rotate(q.expand(12, 6), cos, sin), rotate(k.expand(12, 6), cos, sin)
    scores = turned_q @ turned_k.T  # [12, 12]: query at s, key at t
    for distance in (-3, 0, 2, 5):
        diagonal = scores.diagonal(distance)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal))
    torch.testing.assert_close(turned_q.norm(dim=-1), q.norm().expand(12))  # a rotation
    torch.testing.assert_close(scores[0, 0], q @ k)  # position 0 is not turned


def test_sinusoidal_positions_and_alibi_by_hand():
    codes = sinusoidal_positions(3, 4)
    t = torch.arange(3.0)
    torch.testing.assert_close(codes[:, 0], torch.sin(t))
    torch.testing.assert_close(codes[:, 1], torch.cos(t))
    torch.testing.assert_close(codes[:, 2], torch.sin(t / 100.0))
    torch.testing.assert_close(codes[:, 3], torch.cos(t / 100.0))
    slopes = alibi_slopes(4)
    torch.testing.assert_close(slopes, torch.tensor([2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8],
                                                    dtype=torch.float64))
    bias = alibi_bias(3, slopes)
    assert bias.shape == (4, 3, 3)
    assert bias[1, 0, 2] == bias[1, 2, 0] == -2 * 2 ** -4 and (bias.diagonal(0, 1, 2) == 0).all()


@pytest.mark.parametrize("overrides, argument", [
    (dict(positional="rope2"), "positional"),
    (dict(positional=None), "positional"),
    (dict(d_model=9, num_heads=2), "d_model"),
    (dict(d_model=6, num_heads=2, positional="rope"), "d_model"),
    (dict(d_model=0), "d_model"),
    (dict(num_layers=0), "num_layers"),
    (dict(num_heads=-1), "num_heads"),
    (dict(feedforward_size=2.5), "feedforward_size"),
])
def test_transformer_bad_arguments(overrides, argument):
    with pytest.raises(ValueError, match=argument):
        transformer(**overrides)


def test_transformer_bad_input_names_the_shape():
    with pytest.raises(ValueError, match=r"x must have shape \[batch, time, 5\]"):
        transformer()(torch.randn(6, 5))


@pytest.mark.parametrize("device", DEVICES)
def test_transformer_follows_the_input_device_and_dtype(device):
    for positional in POSITIONAL_ENCODINGS:
        model = transformer(positional).to(device=device, dtype=torch.float64)
        logits = model(torch.randn(2, 3, 5, device=device, dtype=torch.float64))
        assert logits.device.type == device and logits.dtype == torch.float64


def test_transformer_checkpoint_round_trip(tmp_path):
    from memlab.tasks import ReverseTask
    from memlab.train import load_checkpoint, save_checkpoint

    task = ReverseTask(vocab_size=4, max_length=5)
    model = transformer("alibi", input_size=task.input_size, output_size=task.output_size)
    save_checkpoint(tmp_path / "t.pt", model, task)
    loaded = load_checkpoint(tmp_path / "t.pt")
    assert loaded.model.config == model.config and loaded.task == task
    x = task.batch(2, torch.Generator().manual_seed(0)).inputs
    model.eval()
    torch.testing.assert_close(loaded.model(x), model(x))
