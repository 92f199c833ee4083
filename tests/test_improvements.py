"""The DNC options of Csordás & Schmidhuber (2019): masking, deallocation, link_sharpness.

The equations themselves are tested in `tests/test_addressing.py`; here: the interface layout
the options add, `memlab.dnc.access_step` with the options against the paper reference over many
steps, the model with all options off being the 2016 DNC, training with the options on, and the
options travelling through a checkpoint and the command line.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.testing import assert_close

import memlab
from memlab import addressing, dnc
from memlab.__main__ import main
from memlab.models import build_model
from memlab.train import load_checkpoint, save_checkpoint

try:  # tests/ as a package, or as a plain directory on sys.path
    from . import test_addressing as ta
except ImportError:
    import test_addressing as ta

F64 = torch.float64
SMALL = dict(input_size=5, output_size=4, hidden_size=16, memory_size=6, word_size=5, read_heads=2)
OPTIONS = ("masking", "deallocation", "link_sharpness")
ALL_ON = dict.fromkeys(OPTIONS, True)
COMBINATIONS = [dict(zip(OPTIONS, flags)) for flags in itertools.product([False, True], repeat=3)]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def make(dtype=torch.float32, **options):
    torch.manual_seed(0)
    return memlab.DNC(**SMALL, **options).to(dtype)


def name_of(options: dict) -> str:
    return "+".join(name for name, on in options.items() if on) or "2016"


# --- the interface layout ---------------------------------------------------------------------


@pytest.mark.parametrize("W, R", [(16, 4), (5, 2), (1, 1), (3, 7)])
def test_each_option_adds_its_fields_at_the_end(W, R):
    plain = dnc.interface_table(W, R)
    assert [name for name, _, _ in plain] + list(dnc.IMPROVEMENT_FIELDS) == list(
        dnc.Interface._fields)
    assert dnc.interface_size(W, R) == W * R + 3 * W + 5 * R + 3
    added = {"masking": R * W + W, "link_sharpness": 2 * R}
    for masking, sharpness in itertools.product([False, True], repeat=2):
        table = dnc.interface_table(W, R, masking=masking, link_sharpness=sharpness)
        assert table[:len(plain)] == plain  # the 2016 layout never moves
        size = dnc.interface_size(W, R, masking=masking, link_sharpness=sharpness)
        assert size == (dnc.interface_size(W, R) + masking * added["masking"]
                        + sharpness * added["link_sharpness"])
        slices = dnc.interface_slices(W, R, masking=masking, link_sharpness=sharpness)
        assert list(slices) == [name for name, _, _ in table]
        assert slices[table[0][0]].start == 0 and max(s.stop for s in slices.values()) == size
        ordered = list(slices.values())
        assert all(a.stop == b.start for a, b in zip(ordered, ordered[1:])), "gaps or overlaps"
    table = dict((name, (shape, act)) for name, shape, act in dnc.interface_table(W, R, True, True))
    assert table["read_masks"] == ((R, W), "sigmoid") and table["write_mask"] == ((W,), "sigmoid")
    assert table["forward_sharpness"] == ((R,), "oneplus") == table["backward_sharpness"]


@pytest.mark.parametrize("options", [dict(masking=True), dict(link_sharpness=True),
                                     dict(masking=True, link_sharpness=True)], ids=name_of)
def test_parse_interface_with_options(options):
    W, R, B = 4, 3, 5
    xi = 3 * torch.randn(B, dnc.interface_size(W, R, **options),
                         generator=torch.Generator().manual_seed(0))
    parsed = dnc.parse_interface(xi, W, R, **options)
    slices = dnc.interface_slices(W, R, **options)
    assert isinstance(parsed, dnc.Interface)
    # the 2016 fields are parsed exactly as without the options
    plain = dnc.parse_interface(xi[:, :dnc.interface_size(W, R)], W, R)
    assert type(plain) is dnc.Interface
    for name in dnc.Interface._fields:
        if name not in dnc.IMPROVEMENT_FIELDS:
            assert torch.equal(getattr(parsed, name), getattr(plain, name)), name
        else:
            assert getattr(plain, name) is None, name
    if options.get("masking"):
        assert_close(parsed.read_masks, torch.sigmoid(xi[:, slices["read_masks"]]).reshape(B, R, W))
        assert_close(parsed.write_mask, torch.sigmoid(xi[:, slices["write_mask"]]))
    else:
        assert parsed.read_masks is None and parsed.write_mask is None
    if options.get("link_sharpness"):
        assert_close(parsed.forward_sharpness,
                     addressing.oneplus(xi[:, slices["forward_sharpness"]]))
        assert_close(parsed.backward_sharpness,
                     addressing.oneplus(xi[:, slices["backward_sharpness"]]))
    else:
        assert parsed.forward_sharpness is None and parsed.backward_sharpness is None
    # every entry of xi is read by exactly one field, the one whose slice holds it
    xi = xi.clone().requires_grad_(True)
    parsed = dnc.parse_interface(xi, W, R, **options)
    for name, value in parsed._asdict().items():
        if value is None:
            continue
        (grad,) = torch.autograd.grad((value * torch.randn_like(value)).sum(), xi,
                                      retain_graph=True)
        reads = grad.abs().sum(0).nonzero().flatten().tolist()
        assert reads == list(range(slices[name].start, slices[name].stop)), name


# --- access_step ----------------------------------------------------------------------------------


def improved_interface(xi: dict, write_mask, read_masks, forward,
                       backward) -> dnc.Interface:
    """One step of `test_addressing.interface_sequence` as the memory's parsed interface."""
    return dnc.Interface(
        **{**xi, "write_key": xi["write_key"][:, 0], "write_strength": xi["write_strength"][:, 0]},
        read_masks=read_masks, write_mask=write_mask[:, 0],
        forward_sharpness=forward, backward_sharpness=backward,
    )


def test_access_step_with_every_option_matches_the_paper_reference():
    B, N, W, R = 2, 5, 3, 2
    gen = ta.generator("access-step-improved")
    d = ta.Draw(gen)
    start = ta.random_state(gen, B, N, W, R)
    interfaces = ta.interface_sequence(gen, 15, B, N, W, R)
    masks = [(d.rand(B, 1, W), d.rand(B, R, W)) for _ in interfaces]
    sharpness = [(d.strength(B, R), d.strength(B, R)) for _ in interfaces]
    expected = ta.improved_rollout("reference", start, interfaces, masks, sharpness)

    state = dnc.AccessState(**{name: start[name] for name in dnc.AccessState._fields})
    got = []
    for xi, mask, sharp in zip(interfaces, masks, sharpness):
        reads, state, info = dnc.access_step(improved_interface(xi, *mask, *sharp), state,
                                             deallocation=True)
        got.append({**state._asdict(), **info._asdict(), "read_vectors": reads})
    ta.assert_steps_match(got, expected)


def test_access_step_with_the_options_off_is_the_2016_step():
    B, N, W, R = 3, 6, 4, 2
    gen = ta.generator("access-step-off")
    state = dnc.AccessState(**ta.random_state(gen, B, N, W, R))
    xi = dnc.parse_interface(2 * torch.randn(B, dnc.interface_size(W, R), generator=gen, dtype=F64),
                             W, R)
    plain = dnc.access_step(xi, state)
    empty = dnc.access_step(dnc.Interface(*xi), state, deallocation=False)
    for a, b in zip(plain, empty):
        for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            assert torch.equal(x, y)


def test_deallocation_erases_a_freed_slot_that_the_2016_dnc_keeps():
    N, W, R = 4, 3, 1
    state = dnc.initial_state(1, N, W, R, dtype=F64)
    memory = torch.arange(1.0, N * W + 1, dtype=F64).reshape(1, N, W)
    read = torch.zeros(1, R, N, dtype=F64)
    read[0, 0, 2] = 1.0  # the last step read slot 2
    state = state._replace(memory=memory, usage=torch.ones(1, N, dtype=F64), read_weights=read)
    one, zero = torch.ones(1, dtype=F64), torch.zeros(1, dtype=F64)
    xi = dnc.Interface(
        read_keys=torch.ones(1, R, W, dtype=F64), read_strengths=torch.ones(1, R, dtype=F64),
        write_key=torch.ones(1, W, dtype=F64), write_strength=one,
        erase=torch.ones(1, W, dtype=F64),
        write_vector=torch.ones(1, W, dtype=F64), free_gates=torch.ones(1, R, dtype=F64),
        allocation_gate=one, write_gate=zero,  # free slot 2, write nothing
        read_modes=torch.tensor([[[0.0, 1.0, 0.0]]], dtype=F64),
    )
    _, kept, _ = dnc.access_step(xi, state)
    _, freed, _ = dnc.access_step(xi, state, deallocation=True)
    assert kept.usage[0, 2] == 0 and freed.usage[0, 2] == 0  # both free the slot ...
    assert torch.equal(kept.memory, memory)  # ... the 2016 DNC keeps its content
    expected = memory.clone()
    expected[0, 2] = 0.0
    assert torch.equal(freed.memory, expected)


# --- the model ----------------------------------------------------------------------------------


def test_a_dnc_with_the_options_off_has_the_2016_parameters():
    plain = memlab.DNC(**SMALL)
    off = memlab.DNC(**SMALL, masking=False, deallocation=False, link_sharpness=False)
    shapes = {name: p.shape for name, p in plain.state_dict().items()}
    assert shapes == {name: p.shape for name, p in off.state_dict().items()}
    assert shapes["interface.weight"] == (dnc.interface_size(5, 2), 16)
    assert plain.config == off.config


def test_a_seeded_dnc_gives_the_outputs_it_gave_before_the_options_existed():
    # The sums below were computed by the DNC before the options were added (float64, seed 0).
    model = make(F64)
    x = torch.randn(3, 7, 5, generator=torch.Generator().manual_seed(1), dtype=F64)
    logits = model(x)
    position = torch.arange(logits.numel(), dtype=F64).reshape(logits.shape) / logits.numel()
    got = torch.stack([logits.sum(), (logits ** 2).sum(), (logits * position).sum()])
    before = torch.tensor([-4.938880930888569, 0.8931270347898788, -2.0224975447892817], dtype=F64)
    assert_close(got, before, rtol=1e-9, atol=1e-9)


def test_an_old_checkpoint_loads_with_the_options_off(tmp_path):
    model = make()
    path = tmp_path / "old.pt"
    save_checkpoint(path, model)
    data = torch.load(path, weights_only=True)
    for option in OPTIONS:  # as saved before the options existed
        del data["model"]["config"][option]
    torch.save(data, path)
    loaded = load_checkpoint(path).model
    assert all(loaded.config[option] is False for option in OPTIONS)
    x = torch.randn(2, 5, 5)
    assert torch.equal(loaded(x), model.eval()(x))


def test_options_travel_through_a_checkpoint(tmp_path):
    model = make(**ALL_ON)
    save_checkpoint(tmp_path / "all.pt", model)
    loaded = load_checkpoint(tmp_path / "all.pt").model
    assert all(loaded.config[option] is True for option in OPTIONS)
    x = torch.randn(2, 5, 5)
    assert torch.equal(loaded(x), model.eval()(x))


@pytest.mark.parametrize("options", COMBINATIONS, ids=name_of)
def test_trace_and_interface_size_of_every_combination(options):
    model = make(**options)
    W, R, N = SMALL["word_size"], SMALL["read_heads"], SMALL["memory_size"]
    expected = (dnc.interface_size(W, R) + options["masking"] * (R * W + W)
                + options["link_sharpness"] * 2 * R)
    assert model.interface.out_features == expected
    logits, trace = model(torch.randn(3, 4, 5), return_trace=True)
    assert torch.isfinite(logits).all()
    shapes = {"read_masks": (R, W), "write_mask": (W,), "forward_sharpness": (R,),
              "backward_sharpness": (R,)}
    owner = {"read_masks": "masking", "write_mask": "masking",
             "forward_sharpness": "link_sharpness", "backward_sharpness": "link_sharpness"}
    for name in dnc.IMPROVEMENT_FIELDS:
        value = getattr(trace, name)
        if options[owner[name]]:
            assert value.shape == (3, 4, *shapes[name]), name
        else:
            assert value is None, name
    if options["link_sharpness"]:  # sharpened: a distribution, even before any link exists
        assert_close(trace.forward.sum(-1), torch.ones(3, 4, R))
        assert_close(trace.backward.sum(-1), torch.ones(3, 4, R))
        assert (trace.forward_sharpness >= 1).all() and (trace.backward_sharpness >= 1).all()
    assert trace.link.shape == (3, 4, N, N)


@pytest.mark.parametrize("options", [dict(masking=True), dict(deallocation=True),
                                     dict(link_sharpness=True), ALL_ON], ids=name_of)
def test_each_option_changes_the_outputs(options):
    x = torch.randn(3, 9, 5, generator=torch.Generator().manual_seed(2))
    plain = make()
    changed = make(**options)
    # the same weights for the 2016 part of the interface, so only the option differs
    state = {k: v.clone() for k, v in plain.state_dict().items()}
    rows = plain.interface.out_features
    state["interface.weight"] = torch.cat([state["interface.weight"],
                                           changed.interface.weight[rows:].detach()])
    state["interface.bias"] = torch.cat([state["interface.bias"],
                                         changed.interface.bias[rows:].detach()])
    changed.load_state_dict(state)
    assert not torch.allclose(plain(x), changed(x))


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_training_with_every_option_reaches_every_interface_field(controller):
    model = make(**ALL_ON, controller=controller)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(4, 8, 5), torch.rand(4, 8, 4).round()
    losses = []
    for step in range(3):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(loss)
        if step == 0:
            grad = model.interface.weight.grad
            for name, rows in dnc.interface_slices(5, 2, masking=True, link_sharpness=True).items():
                assert torch.isfinite(grad[rows]).all() and grad[rows].abs().sum() > 0, name
            for name, p in model.named_parameters():
                assert torch.isfinite(p.grad).all(), name
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_gradcheck_through_time_with_every_option():
    torch.manual_seed(0)
    model = memlab.DNC(5, 4, hidden_size=4, memory_size=3, word_size=2, read_heads=2,
                       **ALL_ON).double()
    x = torch.randn(1, 4, 5, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: model(inp), (x,), eps=1e-6, atol=1e-5,
                                    fast_mode=True)


@pytest.mark.parametrize("device", DEVICES)
def test_options_follow_the_input_device_and_dtype(device):
    model = make(**ALL_ON).to(device=device, dtype=F64)
    logits = model(torch.randn(2, 3, 5, device=device, dtype=F64))
    assert logits.device.type == device and logits.dtype == F64


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("value", [1, "yes", None])
def test_bad_option_values_are_rejected(option, value):
    with pytest.raises(ValueError, match=option):
        memlab.DNC(**SMALL, **{option: value})


# --- the command line ---------------------------------------------------------------------------

TINY = ["--task", "copy", "--steps", "2", "--batch-size", "2", "--max-length", "3",
        "--hidden-size", "8", "--memory-size", "4", "--word-size", "4", "--read-heads", "1",
        "--log-every", "1"]


def test_command_line_flags_round_trip_through_a_checkpoint(tmp_path, capsys):
    path = tmp_path / "all.pt"
    assert main(["train", "--model", "dnc", *TINY, "--masking", "--deallocation",
                 "--link-sharpness", "--out", str(path)]) == 0
    loaded = load_checkpoint(path)
    assert all(loaded.model.config[option] is True for option in OPTIONS)
    assert "--link-sharpness" in loaded.extra["command"]
    assert main(["train", "--model", "dnc", *TINY, "--masking",
                 "--out", str(tmp_path / "m.pt")]) == 0
    config = load_checkpoint(tmp_path / "m.pt").model.config
    flags = (config["masking"], config["deallocation"], config["link_sharpness"])
    assert flags == (True, False, False)
    assert main(["evaluate", str(path), "--lengths", "2"]) == 0


def test_command_line_refuses_a_flag_the_model_does_not_take(tmp_path, capsys):
    code = main(["train", "--model", "lstm", "--task", "copy", "--steps", "1", "--masking",
                 "--out", str(tmp_path / "x.pt")])
    assert code == 2
    assert "--masking does not apply to model lstm" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_build_model_takes_the_options_by_name():
    model = build_model("dnc", **SMALL, deallocation=True)
    assert model.config["deallocation"] is True
    assert model.interface.out_features == dnc.interface_size(5, 2)
