"""Models: a controller plus a memory, unrolled over a sequence; an LSTM and a Transformer baseline.

Every model maps x [B, T, input_size] to logits [B, T, output_size] (one logit
per output bit). `forward(x, return_trace=True)` also returns a per-step record
of every weighting, gate and memory, stacked along time, for the pictures.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import dnc, ntm
from .controllers import make_controller
from .validation import integer, positive_number


def _check_size(name: str, value) -> int:
    return integer(name, value, 1)


def _check_input(x, input_size: int) -> None:
    expected = f"[batch, time, {input_size}]"
    if not isinstance(x, Tensor):
        raise ValueError(f"x must be a torch.Tensor of shape {expected}, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor of shape {expected}, "
                         f"got dtype {x.dtype}")
    if x.dim() != 3:
        raise ValueError(f"x must have shape {expected}, got {tuple(x.shape)} ({x.dim()} dims)")
    if x.shape[-1] != input_size:
        raise ValueError(f"x must have shape {expected}, got {tuple(x.shape)} "
                         f"(last dim {x.shape[-1]} != input_size {input_size})")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have at least one sample and one time step, got {tuple(x.shape)}")


def _stack(records: list[NamedTuple], kind):
    """Stack a list over time of `kind` records [B, ...] by field into one [B, T, ...]."""
    return kind(**{name: None if values[0] is None else torch.stack(values, dim=1)
                   for name, values in zip(kind._fields, zip(*records))})


class _Unrolled(nn.Module):
    """The time loop of the memory models; a subclass gives initial_state and _step."""

    kind = ""
    # what each subclass sets (declared for the type checker)
    Trace: Any
    config: dict[str, Any]
    controller: Any  # LSTMController or FeedForwardController, each given back its own state
    output: nn.Linear
    initial_state: Callable[..., Any]
    _step: Callable[..., tuple]  # (projected, state) -> (hidden, reads [B, R * W], state, record)

    def _check_common(self, input_size, output_size, hidden_size, controller):
        _check_size("input_size", input_size)
        _check_size("output_size", output_size)
        _check_size("hidden_size", hidden_size)
        if controller not in ("lstm", "feedforward"):
            raise ValueError(f"controller must be 'lstm' or 'feedforward', got {controller!r}")

    def compile_step(self, **options) -> _Unrolled:
        """Compile the per-step function with ``torch.compile`` and return the model.

        The first call compiles; traces (``return_trace=True``) stay eager.

        Args:
            **options: passed to ``torch.compile`` (e.g. ``mode``).
        """
        self._compiled_step = torch.compile(self._step, dynamic=False, **options)
        return self

    def forward(self, x: Tensor, return_trace: bool = False):
        """Run the model over whole sequences.

        Args:
            x: [B, T, input_size], the input sequences.
            return_trace: also return everything the memory did at every step.

        Returns:
            logits [B, T, output_size], one per output bit; with ``return_trace``,
            (logits, trace), the trace a ``DNCTrace`` or ``NTMTrace`` of fields [B, T, ...].
        """
        _check_input(x, self.config["input_size"])
        batch, steps, _ = x.shape
        step = self._step if return_trace else getattr(self, "_compiled_step", self._step)
        projected = self.controller.project_input(x)
        state = self.initial_state(batch, device=x.device, dtype=x.dtype)
        hiddens, reads, records = [], [], []
        for projected_t in projected.unbind(1):
            hidden, read, state, record = step(projected_t, state)
            hiddens.append(hidden)
            reads.append(read)
            if return_trace:
                records.append(record)
        logits = self.output(torch.cat([torch.stack(hiddens, 1), torch.stack(reads, 1)], dim=-1))
        if return_trace:
            return logits, _stack(records, self.Trace)
        return logits


# --------------------------------------------------------------------------- DNC

class DNCState(NamedTuple):
    """The DNC model between two time steps."""

    controller: NamedTuple     #: the controller's own state
    read_vectors: Tensor       #: [B, R * W], r_{t-1} flattened
    access: dnc.AccessState    #: memory, usage, links, precedence and weightings


class DNCTrace(NamedTuple):
    """Everything the DNC did, per step: every tensor is [B, T, ...].

    The fields of an option that is off (masks, sharpnesses) are None.
    """

    # interface (after activations)
    read_keys: Tensor        #: [B, T, R, W]
    read_strengths: Tensor   #: [B, T, R]
    write_key: Tensor        #: [B, T, W]
    write_strength: Tensor   #: [B, T]
    erase: Tensor            #: [B, T, W]
    write_vector: Tensor     #: [B, T, W]
    free_gates: Tensor       #: [B, T, R]
    allocation_gate: Tensor  #: [B, T]
    write_gate: Tensor       #: [B, T]
    read_modes: Tensor       #: [B, T, R, 3] (backward, content, forward)
    read_masks: Tensor | None          #: [B, T, R, W] with masking, else None
    write_mask: Tensor | None          #: [B, T, W] with masking, else None
    forward_sharpness: Tensor | None   #: [B, T, R] with link_sharpness, else None
    backward_sharpness: Tensor | None  #: [B, T, R] with link_sharpness, else None
    # memory state after the step
    memory: Tensor           #: [B, T, N, W]
    usage: Tensor            #: [B, T, N]
    link: Tensor             #: [B, T, N, N]
    precedence: Tensor       #: [B, T, N]
    read_weights: Tensor     #: [B, T, R, N]
    write_weights: Tensor    #: [B, T, N]
    # intermediate weightings
    allocation: Tensor       #: [B, T, N]
    write_content: Tensor    #: [B, T, N]
    read_content: Tensor     #: [B, T, R, N]
    forward: Tensor          #: [B, T, R, N] (sharpened with link_sharpness)
    backward: Tensor         #: [B, T, R, N] (sharpened with link_sharpness)
    read_vectors: Tensor     #: [B, T, R, W]


class DNC(_Unrolled):
    """Differentiable Neural Computer (Graves et al. 2016).

    The controller sees [x_t; r_{t-1}] and emits the interface vector xi_t; the memory access
    runs one step; the output is y_t = W_y [h_t; r_t]. The three options are the changes of
    Csordás & Schmidhuber (2019); all off (the default), this is the 2016 DNC.

    Args:
        input_size: channels of x_t.
        output_size: channels of y_t.
        hidden_size: units of the controller.
        memory_size: N, the number of slots.
        word_size: W, the width of a slot.
        read_heads: R.
        controller: "lstm" or "feedforward".
        masking: masked content look-ups; the interface gains a mask per read head [R, W] and
            one for the write [W] (sigmoid).
        deallocation: freed slots are erased (M_{t-1} o psi_t 1^T before the write).
        link_sharpness: the forward and backward weightings are sharpened; the interface gains
            two sharpnesses per read head (oneplus).
    """

    kind = "dnc"
    Trace = DNCTrace

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 64,
                 memory_size: int = 16, word_size: int = 16, read_heads: int = 4,
                 controller: str = "lstm", masking: bool = False, deallocation: bool = False,
                 link_sharpness: bool = False):
        super().__init__()
        self._check_common(input_size, output_size, hidden_size, controller)
        _check_size("memory_size", memory_size)
        _check_size("word_size", word_size)
        _check_size("read_heads", read_heads)
        for name, value in (("masking", masking), ("deallocation", deallocation),
                            ("link_sharpness", link_sharpness)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        self.config = dict(input_size=input_size, output_size=output_size, hidden_size=hidden_size,
                           memory_size=memory_size, word_size=word_size, read_heads=read_heads,
                           controller=controller, masking=masking, deallocation=deallocation,
                           link_sharpness=link_sharpness)
        read_size = read_heads * word_size
        self.controller = make_controller(controller, input_size, read_size, hidden_size)
        self.interface = nn.Linear(hidden_size, dnc.interface_size(
            word_size, read_heads, masking=masking, link_sharpness=link_sharpness))
        self.output = nn.Linear(hidden_size + read_size, output_size)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> DNCState:
        """The state before the first step: zero memory, usage, links and read vectors.

        Args:
            batch_size: B.
            device: of every tensor.
            dtype: of every tensor.

        Returns:
            DNCState: the controller's zero state, read_vectors [B, R * W] and
            ``dnc.initial_state``'s AccessState.
        """
        c = self.config
        access = dnc.initial_state(batch_size, c["memory_size"], c["word_size"], c["read_heads"],
                                   device=device, dtype=dtype)
        reads = torch.zeros(batch_size, c["read_heads"] * c["word_size"], device=device,
                            dtype=dtype)
        return DNCState(self.controller.initial_state(batch_size, device, dtype), reads, access)

    def _step(self, projected: Tensor, state: DNCState):
        c = self.config
        hidden, controller_state = self.controller.step(projected, state.read_vectors,
                                                        state.controller)
        interface = dnc.parse_interface(self.interface(hidden), c["word_size"], c["read_heads"],
                                        masking=c["masking"], link_sharpness=c["link_sharpness"])
        read_vectors, access, info = dnc.access_step(interface, state.access,
                                                     deallocation=c["deallocation"])
        reads = read_vectors.flatten(1)
        record = DNCTrace(*interface, *access, *info, read_vectors)
        return hidden, reads, DNCState(controller_state, reads, access), record


# --------------------------------------------------------------------------- NTM

class NTMModelState(NamedTuple):
    """The NTM model between two time steps."""

    controller: NamedTuple  #: the controller's own state
    read_vectors: Tensor  #: [B, R * W], r_{t-1} flattened
    memory: ntm.NTMState  #: memory and the heads' last weightings


class NTMTrace(NamedTuple):
    """Everything the NTM did, per step: every tensor is [B, T, ...]."""

    read_weights: Tensor     #: [B, T, R, N]
    write_weights: Tensor    #: [B, T, Hw, N]
    memory: Tensor           #: [B, T, N, W]
    read_vectors: Tensor     #: [B, T, R, W]
    read_content: Tensor     #: [B, T, R, N]
    write_content: Tensor    #: [B, T, Hw, N]
    erase: Tensor            #: [B, T, Hw, W]
    add: Tensor              #: [B, T, Hw, W]
    read_gate: Tensor        #: [B, T, R]
    write_gate: Tensor       #: [B, T, Hw]
    read_shift: Tensor       #: [B, T, R, S]
    write_shift: Tensor      #: [B, T, Hw, S]
    read_gamma: Tensor       #: [B, T, R]
    write_gamma: Tensor      #: [B, T, Hw]


INTERFACE_CLIP = 20.0
"""The NTM clips its controller's outputs, the heads' raw parameters, to [-20, 20] (Collier & Beel
2018): it keeps the sharpening and the key strengths from saturating early in training."""


class NTM(_Unrolled):
    """Neural Turing Machine (Graves et al. 2014) with any number of read and write heads.

    Args:
        input_size: channels of x_t.
        output_size: channels of y_t.
        hidden_size: units of the controller.
        memory_size: N, the number of slots.
        word_size: W, the width of a slot (the NTM paper's M).
        read_heads: R.
        write_heads: Hw; all write, erases first, then adds.
        shift_range: k, shifts -k..k are allowed (S = 2k + 1 offsets).
        controller: "lstm" or "feedforward".
        interface_clip: the controller's outputs (the heads' parameters before their squashing
            functions) are clipped to [-interface_clip, interface_clip] (None: not clipped).
    """

    kind = "ntm"
    Trace = NTMTrace

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 100,
                 memory_size: int = 128, word_size: int = 20, read_heads: int = 1,
                 write_heads: int = 1, shift_range: int = 1, controller: str = "lstm",
                 interface_clip: float | None = INTERFACE_CLIP):
        super().__init__()
        self._check_common(input_size, output_size, hidden_size, controller)
        _check_size("memory_size", memory_size)
        _check_size("word_size", word_size)
        _check_size("read_heads", read_heads)
        _check_size("write_heads", write_heads)
        _check_size("shift_range", shift_range)
        if 2 * shift_range + 1 > memory_size:
            raise ValueError(f"shift_range must satisfy 2 * shift_range + 1 <= memory_size "
                             f"({memory_size}), got {shift_range}")
        if interface_clip is not None:
            positive_number("interface_clip", interface_clip)
        self.config = dict(input_size=input_size, output_size=output_size, hidden_size=hidden_size,
                           memory_size=memory_size, word_size=word_size, read_heads=read_heads,
                           write_heads=write_heads, shift_range=shift_range, controller=controller,
                           interface_clip=interface_clip)
        self.shift_width = 2 * shift_range + 1
        self.head_size = ntm.head_size(word_size, self.shift_width)
        read_size = read_heads * word_size
        heads_size = (read_heads + write_heads) * self.head_size + write_heads * 2 * word_size
        self.controller = make_controller(controller, input_size, read_size, hidden_size)
        self.interface = nn.Linear(hidden_size, heads_size)
        self.output = nn.Linear(hidden_size + read_size, output_size)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> NTMModelState:
        """The state before the first step: memory at ``ntm.MEMORY_INIT``, heads on slot 0.

        Args:
            batch_size: B.
            device: of every tensor.
            dtype: of every tensor.

        Returns:
            NTMModelState: the controller's zero state, zero read_vectors [B, R * W] and
            ``ntm.initial_state``'s NTMState.
        """
        c = self.config
        memory = ntm.initial_state(batch_size, c["memory_size"], c["word_size"], c["read_heads"],
                                   c["write_heads"], device=device, dtype=dtype)
        reads = torch.zeros(batch_size, c["read_heads"] * c["word_size"], device=device,
                            dtype=dtype)
        return NTMModelState(self.controller.initial_state(batch_size, device, dtype), reads,
                             memory)

    def _step(self, projected: Tensor, state: NTMModelState):
        c = self.config
        R, Hw, W, S = c["read_heads"], c["write_heads"], c["word_size"], self.shift_width
        hidden, controller_state = self.controller.step(projected, state.read_vectors,
                                                        state.controller)
        raw = self.interface(hidden)
        if c["interface_clip"] is not None:
            raw = raw.clamp(-c["interface_clip"], c["interface_clip"])
        read_raw, write_raw, erase_add = torch.split(
            raw, [R * self.head_size, Hw * self.head_size, Hw * 2 * W], dim=-1)
        read = ntm.parse_heads(read_raw, R, W, S)
        write = ntm.parse_heads(write_raw, Hw, W, S)
        erase, add = erase_add.reshape(-1, Hw, 2 * W).split(W, dim=-1)
        read_vectors, memory, info = ntm.memory_step(read, write, torch.sigmoid(erase), add,
                                                     state.memory)
        reads = read_vectors.flatten(1)
        record = NTMTrace(
            read_weights=memory.read_weights, write_weights=memory.write_weights,
            memory=memory.memory, read_vectors=read_vectors, read_content=info.read_content,
            write_content=info.write_content, erase=info.erase, add=info.add,
            read_gate=read.gate, write_gate=write.gate, read_shift=read.shift,
            write_shift=write.shift, read_gamma=read.gamma, write_gamma=write.gamma)
        return hidden, reads, NTMModelState(controller_state, reads, memory), record


# --------------------------------------------------------------------------- LSTM baseline

class LSTMTrace(NamedTuple):
    """What the LSTM baseline did, per step."""

    hidden: Tensor  #: [B, T, hidden_size], the top layer's output


class LSTMBaseline(nn.Module):
    """A stacked LSTM with a linear read-out: the baseline without external memory.

    Args:
        input_size: channels of x_t.
        output_size: channels of y_t.
        hidden_size: units per layer.
        num_layers: stacked LSTM layers.
    """

    kind = "lstm"

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 256,
                 num_layers: int = 1):
        super().__init__()
        _check_size("input_size", input_size)
        _check_size("output_size", output_size)
        _check_size("hidden_size", hidden_size)
        _check_size("num_layers", num_layers)
        self.config = dict(input_size=input_size, output_size=output_size,
                           hidden_size=hidden_size, num_layers=num_layers)
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.output = nn.Linear(hidden_size, output_size)

    def compile_step(self, **options) -> LSTMBaseline:
        """The LSTM is one fused operator already: nothing to compile."""
        return self

    def forward(self, x: Tensor, return_trace: bool = False):
        """Run the LSTM over whole sequences.

        Args:
            x: [B, T, input_size].
            return_trace: also return the top layer's outputs.

        Returns:
            logits [B, T, output_size]; with ``return_trace``, (logits, LSTMTrace).
        """
        _check_input(x, self.config["input_size"])
        hidden, _ = self.lstm(x)
        logits = self.output(hidden)
        return (logits, LSTMTrace(hidden)) if return_trace else logits


# --------------------------------------------------------------------------- Transformer baseline

POSITIONAL_ENCODINGS = ("sinusoidal", "rope", "alibi")


def sinusoidal_positions(steps: int, d_model: int, device=None, dtype=None) -> Tensor:
    """The sinusoidal position codes of Vaswani et al. (2017), added to the inputs.

    PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i + 1] = cos(t / 10000^(2i/d)).

    Args:
        steps: T, the number of positions.
        d_model: d, the width of a code (even).
        device: of the codes.
        dtype: of the codes (None: torch's default).

    Returns:
        [T, d_model].
    """
    position = torch.arange(steps, device=device, dtype=torch.float64)[:, None]
    channel = torch.arange(0, d_model, 2, device=device, dtype=torch.float64)  # 2i
    frequency = 10000.0 ** (-channel / d_model)
    codes = torch.zeros(steps, d_model, device=device, dtype=torch.float64)
    codes[:, 0::2] = torch.sin(position * frequency)
    codes[:, 1::2] = torch.cos(position * frequency)
    return codes.to(dtype or torch.get_default_dtype())


def alibi_slopes(num_heads: int) -> Tensor:
    """ALiBi's slope per head (Press, Smith & Lewis 2022): 2^(-8h/H) for h = 1..H -> [H]."""
    return 2.0 ** (-8.0 * torch.arange(1, num_heads + 1, dtype=torch.float64) / num_heads)


def alibi_bias(steps: int, slopes: Tensor) -> Tensor:
    """ALiBi's attention bias ``-slope_h * |i - j|``, added to the scores of head h.

    Symmetric, as the encoder reads the whole sequence (the paper's causal form has j <= i).

    Args:
        steps: T.
        slopes: [H], from ``alibi_slopes``.

    Returns:
        [H, T, T], in the dtype of slopes.
    """
    t = torch.arange(steps, device=slopes.device, dtype=slopes.dtype)
    return -slopes[:, None, None] * (t[None, :, None] - t[None, None, :]).abs()


def rotary_angles(steps: int, head_size: int, device=None, dtype=None) -> tuple:
    """RoPE's rotation angles (Su et al. 2024): position t turns channel pair i by t * theta_i.

    theta_i = 10000^(-2i / head_size), as for the sinusoidal codes.

    Args:
        steps: T.
        head_size: the width of one head's query and key (even).
        device: of the angles.
        dtype: of the angles (None: float64).

    Returns:
        (cos, sin), each [T, head_size / 2].
    """
    angles = sinusoidal_positions(steps, head_size, device, torch.float64)  # sin, cos interleaved
    return angles[:, 1::2].to(dtype), angles[:, 0::2].to(dtype)


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Turn each channel pair (x_2i, x_2i+1) of x [..., T, D] by its angle (cos, sin [T, D/2]).

    A query at s and a key at t then meet as q R_{t-s} k: their product depends on t - s only.
    """
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


def encoder_block(layer: nn.TransformerEncoderLayer, h: Tensor, bias: Tensor | None = None,
                  rotary: tuple | None = None):
    """One pre-norm encoder layer: h + SelfAttention(LN(h)), then h + FeedForward(LN(h)).

    The attention softmax(q k^T / sqrt(d) + bias) v is written out with the layer's own weights:
    without ``rotary`` it is ``layer(h, src_mask=bias)`` in training mode (dropout 0), and it can
    turn queries and keys (RoPE) and return the weights.

    Args:
        layer: a ``nn.TransformerEncoderLayer`` with ``norm_first=True``, ``batch_first=True``.
        h: [B, T, d_model].
        bias: [heads, T, T], added to the attention scores of every sample (None: no bias).
        rotary: (cos, sin) of ``rotary_angles`` to turn queries and keys by (None: no turn).

    Returns:
        (h [B, T, d_model], weights [B, heads, T, T]).
    """
    attention = layer.self_attn
    B, T, d = h.shape
    H = attention.num_heads
    q, k, v = F.linear(layer.norm1(h), attention.in_proj_weight,
                       attention.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (x.view(B, T, H, d // H).transpose(1, 2) for x in (q, k, v))  # [B, H, T, d/H]
    if rotary is not None:
        q, k = rotate(q, *rotary), rotate(k, *rotary)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d // H)  # [B, H, T, T]
    if bias is not None:
        scores = scores + bias
    weights = torch.softmax(scores, dim=-1)
    h = h + attention.out_proj((weights @ v).transpose(1, 2).reshape(B, T, d))
    h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
    return h, weights


class TransformerTrace(NamedTuple):
    """What the Transformer baseline attended to."""

    attention: Tensor  #: [B, layers, heads, T, T], row i: how position i weighs every position j


class TransformerBaseline(nn.Module):
    """A Transformer encoder with a linear read-out: attention as the only memory.

    As Delétang et al. (2023) run theirs, it reads the whole sequence at once and every position
    attends to every other (not causal). Layers are pre-norm ``nn.TransformerEncoderLayer`` with
    no dropout, run by ``encoder_block``; a last layer norm precedes the read-out y_t = Theta_y h_t.

    Args:
        input_size: channels of x_t.
        output_size: channels of y_t.
        d_model: the width of every position's vector.
        num_layers: encoder layers.
        num_heads: attention heads per layer (d_model divisible by it).
        feedforward_size: the hidden width of each layer's feed-forward block.
        positional: one of POSITIONAL_ENCODINGS: ``"sinusoidal"`` (absolute codes added to the
            inputs, Vaswani et al. 2017), or the relative ``"rope"`` (queries and keys turned by
            position, Su et al. 2024) or ``"alibi"`` (a bias falling with ``|i - j|``, Press et
            al. 2022).
    """

    kind = "transformer"
    config: dict[str, Any]
    slopes: Tensor  # a buffer (register_buffer), declared for the type checker

    def __init__(self, input_size: int, output_size: int, d_model: int = 48,
                 num_layers: int = 2, num_heads: int = 4, feedforward_size: int = 96,
                 positional: str = "sinusoidal"):
        super().__init__()
        for name, value in (("input_size", input_size), ("output_size", output_size),
                            ("d_model", d_model), ("num_layers", num_layers),
                            ("num_heads", num_heads), ("feedforward_size", feedforward_size)):
            _check_size(name, value)
        if d_model % num_heads:
            raise ValueError(f"d_model must be divisible by num_heads ({num_heads}), got {d_model}")
        if positional not in POSITIONAL_ENCODINGS:
            raise ValueError(f"positional must be one of {POSITIONAL_ENCODINGS}, "
                             f"got {positional!r}")
        if positional == "sinusoidal" and d_model % 2:
            raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
        if positional == "rope" and (d_model // num_heads) % 2:
            raise ValueError(f"d_model / num_heads must be even for rope, got d_model {d_model}")
        self.config = dict(input_size=input_size, output_size=output_size, d_model=d_model,
                           num_layers=num_layers, num_heads=num_heads,
                           feedforward_size=feedforward_size, positional=positional)
        self.embed = nn.Linear(input_size, d_model)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, num_heads, feedforward_size, dropout=0.0,
                                       batch_first=True, norm_first=True)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.output = nn.Linear(d_model, output_size)
        self.register_buffer("slopes", alibi_slopes(num_heads).float(), persistent=False)

    def compile_step(self, **options) -> TransformerBaseline:
        """A Transformer has no time loop, so nothing per step to compile."""
        return self

    def forward(self, x: Tensor, return_trace: bool = False):
        """Read whole sequences at once.

        Args:
            x: [B, T, input_size].
            return_trace: also return every layer's attention weights.

        Returns:
            logits [B, T, output_size]; with ``return_trace``, (logits, TransformerTrace).
        """
        _check_input(x, self.config["input_size"])
        batch, steps, _ = x.shape
        h = self.embed(x)
        c = self.config
        bias = rotary = None
        if c["positional"] == "sinusoidal":
            h = h + sinusoidal_positions(steps, c["d_model"], x.device, h.dtype)
        elif c["positional"] == "rope":
            rotary = rotary_angles(steps, c["d_model"] // c["num_heads"], x.device, h.dtype)
        else:
            bias = alibi_bias(steps, self.slopes.to(h.dtype))
        attention = []
        for layer in self.layers:
            # nn.ModuleList is not generic: its items are typed as nn.Module
            h, weights = encoder_block(layer, h, bias, rotary)  # type: ignore[arg-type]
            attention.append(weights)
        logits = self.output(self.norm(h))
        if return_trace:
            return logits, TransformerTrace(torch.stack(attention, dim=1))
        return logits


MODELS = {"dnc": DNC, "ntm": NTM, "lstm": LSTMBaseline, "transformer": TransformerBaseline}


def build_model(kind: str, **config) -> nn.Module:
    """Build a model by kind from its constructor arguments.

    Args:
        kind: "dnc", "ntm", "lstm" or "transformer".
        **config: the model's constructor arguments (e.g. a checkpoint's ``model.config``).

    Returns:
        The new model, with fresh weights from torch's global generator.
    """
    if kind not in MODELS:
        raise ValueError(f"model kind must be one of {sorted(MODELS)}, got {kind!r}")
    return MODELS[kind](**config)
