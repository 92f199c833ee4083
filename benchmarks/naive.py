"""A deliberately naive transcription of the DNC and NTM equations: the speed yardstick.

Same equations and sizes as memlab, written the first way that comes to mind:
nn.LSTMCell on the concatenated input, one loop over heads where the paper has
a superscript i, the output layer applied inside the time loop, identity
matrices and shift kernels rebuilt at every step. It is batched (no loop over
samples) and correct; it is only slower. `benchmarks/step_time.py` times it
beside memlab.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _content(memory, key, strength):
    # memory [B, N, W], key [B, W], strength [B, 1] -> [B, N]
    similarity = F.cosine_similarity(memory, key.unsqueeze(1).expand_as(memory), dim=-1, eps=1e-6)
    return F.softmax(strength * similarity, dim=-1)


class NaiveDNC(nn.Module):
    def __init__(self, input_size, output_size, hidden_size=64, memory_size=16, word_size=16,
                 read_heads=4):
        super().__init__()
        self.N, self.W, self.R = memory_size, word_size, read_heads
        self.cell = nn.LSTMCell(input_size + read_heads * word_size, hidden_size)
        self.interface = nn.Linear(hidden_size,
                                   word_size * read_heads + 3 * word_size + 5 * read_heads + 3)
        self.output = nn.Linear(hidden_size + read_heads * word_size, output_size)

    def forward(self, x):
        B, T, _ = x.shape
        N, W, R = self.N, self.W, self.R
        h = torch.zeros(B, self.cell.hidden_size)
        c = torch.zeros(B, self.cell.hidden_size)
        memory = torch.zeros(B, N, W)
        usage = torch.zeros(B, N)
        link = torch.zeros(B, N, N)
        precedence = torch.zeros(B, N)
        read_weights = [torch.zeros(B, N) for _ in range(R)]
        write_weights = torch.zeros(B, N)
        reads = [torch.zeros(B, W) for _ in range(R)]
        outputs = []
        for t in range(T):
            h, c = self.cell(torch.cat([x[:, t]] + reads, dim=1), (h, c))
            xi = self.interface(h)
            i = 0
            read_keys = [xi[:, i + r * W:i + (r + 1) * W] for r in range(R)]
            i += R * W
            read_strengths = [1 + F.softplus(xi[:, i + r:i + r + 1]) for r in range(R)]
            i += R
            write_key = xi[:, i:i + W]
            i += W
            write_strength = 1 + F.softplus(xi[:, i:i + 1])
            i += 1
            erase = torch.sigmoid(xi[:, i:i + W])
            i += W
            write_vector = xi[:, i:i + W]
            i += W
            free_gates = [torch.sigmoid(xi[:, i + r:i + r + 1]) for r in range(R)]
            i += R
            allocation_gate = torch.sigmoid(xi[:, i:i + 1])
            write_gate = torch.sigmoid(xi[:, i + 1:i + 2])
            i += 2
            read_modes = [F.softmax(xi[:, i + 3 * r:i + 3 * (r + 1)], dim=1) for r in range(R)]

            retention = torch.ones(B, N)
            for r in range(R):
                retention = retention * (1 - free_gates[r] * read_weights[r])
            usage = (usage + write_weights - usage * write_weights) * retention
            sorted_usage, order = torch.sort(usage, dim=1)
            product = torch.cumprod(torch.cat([torch.ones(B, 1), sorted_usage[:, :-1]], dim=1),
                                    dim=1)
            allocation = ((1 - sorted_usage) * product).gather(1, torch.argsort(order, dim=1))
            write_content = _content(memory, write_key, write_strength)
            write_weights = write_gate * (allocation_gate * allocation
                                          + (1 - allocation_gate) * write_content)
            memory = memory * (torch.ones(B, N, W) - torch.bmm(write_weights.unsqueeze(2),
                                                               erase.unsqueeze(1)))
            memory = memory + torch.bmm(write_weights.unsqueeze(2), write_vector.unsqueeze(1))
            eye = torch.eye(N).unsqueeze(0)
            scale = 1 - write_weights.unsqueeze(2) - write_weights.unsqueeze(1)
            link = (scale * link
                    + torch.bmm(write_weights.unsqueeze(2), precedence.unsqueeze(1))) * (1 - eye)
            precedence = (1 - write_weights.sum(1, keepdim=True)) * precedence + write_weights
            new_read_weights, reads = [], []
            for r in range(R):
                forward = torch.bmm(link, read_weights[r].unsqueeze(2)).squeeze(2)
                backward = torch.bmm(link.transpose(1, 2), read_weights[r].unsqueeze(2)).squeeze(2)
                content = _content(memory, read_keys[r], read_strengths[r])
                pi = read_modes[r]
                weights = pi[:, 0:1] * backward + pi[:, 1:2] * content + pi[:, 2:3] * forward
                new_read_weights.append(weights)
                reads.append(torch.bmm(weights.unsqueeze(1), memory).squeeze(1))
            read_weights = new_read_weights
            outputs.append(self.output(torch.cat([h] + reads, dim=1)))
        return torch.stack(outputs, dim=1)


class NaiveNTM(nn.Module):
    def __init__(self, input_size, output_size, hidden_size=100, memory_size=128, word_size=20,
                 shift_range=1):
        super().__init__()
        self.N, self.W, self.S = memory_size, word_size, 2 * shift_range + 1
        self.cell = nn.LSTMCell(input_size + word_size, hidden_size)
        head = word_size + self.S + 3
        self.read_head = nn.Linear(hidden_size, head)
        self.write_head = nn.Linear(hidden_size, head + 2 * word_size)
        self.output = nn.Linear(hidden_size + word_size, output_size)

    def _address(self, params, memory, previous):
        W, S = self.W, self.S
        key, strength = params[:, :W], 1 + F.softplus(params[:, W:W + 1])
        gate = torch.sigmoid(params[:, W + 1:W + 2])
        shift = F.softmax(params[:, W + 2:W + 2 + S], dim=1)
        gamma = 1 + F.softplus(params[:, W + 2 + S:W + 3 + S])
        content = _content(memory, key, strength)
        gated = gate * content + (1 - gate) * previous
        shifted = torch.zeros_like(gated)
        for s in range(S):
            shifted = shifted + shift[:, s:s + 1] * torch.roll(gated, s - S // 2, dims=1)
        powered = shifted ** gamma
        return powered / (powered.sum(1, keepdim=True) + 1e-12)

    def forward(self, x):
        B, T, _ = x.shape
        h = torch.zeros(B, self.cell.hidden_size)
        c = torch.zeros(B, self.cell.hidden_size)
        memory = torch.full((B, self.N, self.W), 1e-6)
        read_w = torch.zeros(B, self.N)
        read_w[:, 0] = 1
        write_w = read_w.clone()
        read = torch.zeros(B, self.W)
        outputs = []
        head = self.W + self.S + 3
        for t in range(T):
            h, c = self.cell(torch.cat([x[:, t], read], dim=1), (h, c))
            wp = self.write_head(h)
            write_w = self._address(wp[:, :head], memory, write_w)
            erase = torch.sigmoid(wp[:, head:head + self.W])
            add = wp[:, head + self.W:]
            memory = memory * (1 - torch.bmm(write_w.unsqueeze(2), erase.unsqueeze(1)))
            memory = memory + torch.bmm(write_w.unsqueeze(2), add.unsqueeze(1))
            read_w = self._address(self.read_head(h), memory, read_w)
            read = torch.bmm(read_w.unsqueeze(1), memory).squeeze(1)
            outputs.append(self.output(torch.cat([h, read], dim=1)))
        return torch.stack(outputs, dim=1)
