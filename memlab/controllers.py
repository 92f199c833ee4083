"""Controllers: the neural network that reads the input and drives the memory.

At each step a controller sees the input x_t and the previous read vectors r_{t-1} (the
feedback). Its input projection runs on the whole sequence before the time loop, so that only
the feedback and the recurrent part are computed step by step.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn


class LSTMState(NamedTuple):
    """The LSTM controller's state between two time steps."""

    hidden: Tensor  #: [B, hidden_size]
    cell: Tensor    #: [B, hidden_size]


class LSTMController(nn.Module):
    """A single-layer LSTM (Hochreiter & Schmidhuber 1997) over [x_t; r_{t-1}].

    Gates are ordered (input, forget, output, candidate); the forget gate's bias starts at 1.

    Args:
        input_size: features of x_t.
        feedback_size: features of r_{t-1} (R * W).
        hidden_size: LSTM units.
    """

    def __init__(self, input_size: int, feedback_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.input_weights = nn.Linear(input_size, 4 * hidden_size)
        self.recurrent_weights = nn.Linear(feedback_size + hidden_size, 4 * hidden_size, bias=False)
        with torch.no_grad():  # forget-gate bias 1: remember by default
            self.input_weights.bias[hidden_size:2 * hidden_size].fill_(1.0)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> LSTMState:
        """Zero hidden and cell states.

        Args:
            batch_size: B.
            device: of the tensors (None: torch's default).
            dtype: of the tensors (None: torch's default).

        Returns:
            LSTMState of hidden and cell [B, hidden_size].
        """
        zeros = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        return LSTMState(zeros, zeros)

    def project_input(self, x: Tensor) -> Tensor:
        """The input part of the gates, for the whole sequence at once.

        Args:
            x: [B, T, input_size].

        Returns:
            [B, T, 4 * hidden_size], the input weights times x_t plus the gate biases.
        """
        return self.input_weights(x)

    def step(self, projected: Tensor, feedback: Tensor,
             state: LSTMState) -> tuple[Tensor, LSTMState]:
        """One LSTM step.

        Args:
            projected: [B, 4 * hidden_size], this step's slice of `project_input`.
            feedback: [B, feedback_size], r_{t-1}.
            state: the previous LSTMState, hidden and cell [B, hidden_size].

        Returns:
            (hidden [B, hidden_size], the new LSTMState).
        """
        recurrent = torch.cat([feedback, state.hidden], dim=-1)
        gates = torch.addmm(projected, recurrent, self.recurrent_weights.weight.t())
        sigmoid_part, tanh_part = gates.split([3 * self.hidden_size, self.hidden_size], dim=-1)
        input_gate, forget_gate, output_gate = torch.sigmoid(sigmoid_part).chunk(3, dim=-1)
        candidate = torch.tanh(tanh_part)
        cell = forget_gate * state.cell + input_gate * candidate
        hidden = output_gate * torch.tanh(cell)
        return hidden, LSTMState(hidden, cell)


class FeedForwardState(NamedTuple):
    """A feed-forward controller keeps no state of its own: memory is its only recurrence."""


class FeedForwardController(nn.Module):
    """One tanh layer over [x_t; r_{t-1}]: all recurrence goes through the memory.

    Args:
        input_size: features of x_t.
        feedback_size: features of r_{t-1} (R * W).
        hidden_size: units of the layer.
    """

    def __init__(self, input_size: int, feedback_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.input_weights = nn.Linear(input_size, hidden_size)
        self.recurrent_weights = nn.Linear(feedback_size, hidden_size, bias=False)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> FeedForwardState:
        """The empty FeedForwardState() (the arguments are `LSTMController.initial_state`'s)."""
        return FeedForwardState()

    def project_input(self, x: Tensor) -> Tensor:
        """The input part of the layer, for the whole sequence at once.

        Args:
            x: [B, T, input_size].

        Returns:
            [B, T, hidden_size].
        """
        return self.input_weights(x)

    def step(self, projected: Tensor, feedback: Tensor,
             state: FeedForwardState) -> tuple[Tensor, FeedForwardState]:
        """One step: tanh(projected + W_r r_{t-1}).

        Args:
            projected: [B, hidden_size], this step's slice of `project_input`.
            feedback: [B, feedback_size], r_{t-1}.
            state: FeedForwardState(), passed through.

        Returns:
            (hidden [B, hidden_size], the same state).
        """
        hidden = torch.tanh(torch.addmm(projected, feedback, self.recurrent_weights.weight.t()))
        return hidden, state


CONTROLLERS = {"lstm": LSTMController, "feedforward": FeedForwardController}


def make_controller(kind: str, input_size: int, feedback_size: int, hidden_size: int) -> nn.Module:
    """Build a controller by kind: "lstm" (LSTMController, the default) or "feedforward"."""
    if kind not in CONTROLLERS:
        raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}, got {kind!r}")
    return CONTROLLERS[kind](input_size, feedback_size, hidden_size)
