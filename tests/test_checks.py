"""The exercise checks (memlab.checks) and the chapter 7 reference functions (memlab.analysis).

Every check must pass memlab's own function and correct alternative ways of
writing it, and must reject typical wrong answers ("mutants") with a message
that names the mistake. test_kill_rate prints the table of mutants killed per
check (run with -s to see it).
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from memlab import addressing as A
from memlab import analysis, attention, checks, dnc, graphs, metrics, tasks
from memlab.models import DNC


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: threads only cost time on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CONTRACT = [
    "shift", "sharpen", "content_weights", "update_usage", "allocation_weights", "update_link",
    "oneplus", "parse_interface", "write_weighting", "read_weighting", "copy_batch",
    "bit_errors", "bits_per_sequence", "masked_bce", "read_mode_usage", "link_chain",
    "triple_channels", "read_sources", "masked_content_weights", "sharpen_links",
    "dot_product_weights", "delta_rule_update",
]


def reference_copy_batch(batch_size, length, width, generator):
    return tasks.CopyTask(width, length, length).batch(batch_size, generator=generator)


REFERENCES = {
    "shift": A.shift, "sharpen": A.sharpen, "content_weights": A.content_weights,
    "update_usage": A.update_usage, "allocation_weights": A.allocation_weights,
    "update_link": A.update_link, "oneplus": A.oneplus, "parse_interface": dnc.parse_interface,
    "write_weighting": A.write_weighting, "read_weighting": A.read_weighting,
    "copy_batch": reference_copy_batch, "bit_errors": metrics.bit_errors,
    "bits_per_sequence": metrics.bits_per_sequence, "masked_bce": metrics.masked_bce,
    "read_mode_usage": analysis.read_mode_usage, "link_chain": analysis.link_chain,
    "triple_channels": graphs.triple_channels, "read_sources": analysis.read_sources,
    "masked_content_weights": lambda m, k, b, mask: A.content_weights(m, k, b, mask),
    "sharpen_links": A.sharpen_links,
    "dot_product_weights": attention.dot_product_weights,
    "delta_rule_update": attention.delta_rule_update,
}


# =========================================================================== correct alternatives

def roll_shift(weights, shift):
    S = shift.shape[-1]
    return sum(shift[..., k:k + 1] * torch.roll(weights, k - S // 2, dims=-1) for k in range(S))


def plain_sharpen(weights, gamma):
    powered = weights ** gamma[..., None]
    return powered / powered.sum(-1, keepdim=True)


def torch_cosine_content(memory, keys, strengths):
    similarity = F.cosine_similarity(keys[:, :, None, :], memory[:, None, :, :], dim=-1, eps=1e-8)
    return torch.softmax(strengths[..., None] * similarity, dim=-1)


def loop_allocation(usage):
    out = torch.zeros_like(usage)
    for b in range(usage.shape[0]):
        product = torch.ones((), dtype=usage.dtype)
        for slot in torch.argsort(usage[b]).tolist():
            out[b, slot] = (1 - usage[b, slot]) * product
            product = product * usage[b, slot]
    return out


def outer_link(link, precedence, write_weights):
    w = write_weights
    new = (1 - w[:, :, None] - w[:, None, :]) * link + torch.einsum("bi,bj->bij", w, precedence)
    eye = torch.eye(link.shape[-1], dtype=torch.bool)
    return new.masked_fill(eye, 0.0)


def dict_interface(xi, word_size, read_heads):
    W, R = word_size, read_heads
    parts, start = {}, 0
    for name, size, _ in dnc.interface_fields(W, R):
        parts[name] = xi[:, start:start + size]
        start += size
    B = xi.shape[0]
    return dnc.Interface(
        read_keys=parts["read_keys"].view(B, R, W),
        read_strengths=1 + F.softplus(parts["read_strengths"]),
        write_key=parts["write_key"],
        write_strength=1 + F.softplus(parts["write_strength"][:, 0]),
        erase=torch.sigmoid(parts["erase"]),
        write_vector=parts["write_vector"],
        free_gates=torch.sigmoid(parts["free_gates"]),
        allocation_gate=torch.sigmoid(parts["allocation_gate"][:, 0]),
        write_gate=torch.sigmoid(parts["write_gate"][:, 0]),
        read_modes=torch.softmax(parts["read_modes"].view(B, R, 3), dim=2),
    )


def loop_copy_batch(batch_size, length, width, generator):
    L, T = length, 2 * length + 1
    bits = torch.randint(0, 2, (batch_size, L, width), generator=generator).float()
    inputs = torch.zeros(batch_size, T, width + 1)
    targets = torch.zeros(batch_size, T, width)
    mask = torch.zeros(batch_size, T)
    inputs[:, :L, :width] = bits
    inputs[:, L, width] = 1.0
    targets[:, L + 1:] = bits
    mask[:, L + 1:] = 1.0
    return inputs, targets, mask


def bool_bit_errors(logits, targets, mask):
    wrong = (logits > 0) != targets.bool()
    return (wrong & mask.bool()[..., None]).sum((1, 2)).float()


def index_read_mode_usage(read_modes, mask):
    return read_modes[mask.bool()].mean(0)


def loop_link_chain(link, start, length):
    chain = [start]
    while len(chain) < length:
        chain.append(int(torch.argmax(link[:, chain[-1]])))
    return chain


def epsilon_sharpen(weights, gamma):
    powered = (weights + 1e-6) ** gamma[..., None]
    return powered / powered.sum(-1, keepdim=True)


def bernoulli_copy_batch(batch_size, length, width, generator):
    L, T = length, 2 * length + 1
    bits = torch.bernoulli(torch.full((batch_size, L, width), 0.5), generator=generator)
    t = torch.arange(T)
    delimiter = (t == L).float().expand(batch_size, T)[..., None]
    inputs = torch.cat([F.pad(bits, (0, 0, 0, L + 1)), delimiter], -1)
    targets = F.pad(bits, (0, 0, L + 1, 0))
    return inputs, targets, ((t > L) & (t <= 2 * L)).float().expand(batch_size, T)


ALTERNATIVES = [
    ("shift", roll_shift), ("sharpen", plain_sharpen), ("sharpen", epsilon_sharpen),
    ("content_weights", torch_cosine_content), ("allocation_weights", loop_allocation),
    ("update_link", outer_link), ("oneplus", lambda x: 1 + F.softplus(x)),
    ("parse_interface", dict_interface), ("copy_batch", loop_copy_batch),
    ("copy_batch", bernoulli_copy_batch), ("bit_errors", bool_bit_errors),
    ("read_mode_usage", index_read_mode_usage), ("link_chain", loop_link_chain),
]


# =========================================================================== mutants

def no_wrap_shift(weights, shift):
    S, N = shift.shape[-1], weights.shape[-1]
    padded = F.pad(weights, (S // 2, S // 2))
    return sum(shift[..., k:k + 1] * padded[..., S - 1 - k:S - 1 - k + N] for k in range(S))


def zero_based_shift(weights, shift):  # index k read as offset k, not k - S//2
    return sum(shift[..., k:k + 1] * torch.roll(weights, k, dims=-1)
               for k in range(shift.shape[-1]))


def three_wide_shift(weights, shift):  # hard-codes S = 3
    return sum(shift[..., k:k + 1] * torch.roll(weights, k - 1, dims=-1) for k in range(3))


def in_place_shift(weights, shift):
    out = A.shift(weights, shift)
    weights.copy_(out)
    return weights


def softmax_sharpen(weights, gamma):
    return torch.softmax(gamma[..., None] * weights, dim=-1)


def heads_axis_sharpen(weights, gamma):
    powered = weights ** gamma[..., None]
    return powered / powered.sum(1, keepdim=True)


def float32_sharpen(weights, gamma):
    return A.sharpen(weights, gamma).float()


def dot_content(memory, keys, strengths):
    return torch.softmax(strengths[..., None] * keys @ memory.transpose(1, 2), dim=-1)


def no_epsilon_content(memory, keys, strengths):
    rows = memory / memory.norm(dim=-1, keepdim=True)
    cosine = (keys / keys.norm(dim=-1, keepdim=True)) @ rows.transpose(1, 2)
    return torch.softmax(strengths[..., None] * cosine, dim=-1)


def inclusive_allocation(usage):
    sorted_usage, phi = torch.sort(usage, dim=-1)
    values = (1 - sorted_usage) * torch.cumprod(sorted_usage, dim=-1)
    return values.scatter(-1, phi, values)


def unsorted_allocation(usage):
    ones = torch.ones_like(usage[..., :1])
    return (1 - usage) * torch.cumprod(torch.cat([ones, usage[..., :-1]], -1), -1)


def descending_allocation(usage):
    sorted_usage, phi = torch.sort(usage, dim=-1, descending=True)
    ones = torch.ones_like(sorted_usage[..., :1])
    values = (1 - sorted_usage) * torch.cumprod(torch.cat([ones, sorted_usage[..., :-1]], -1), -1)
    return values.scatter(-1, phi, values)


def sorted_order_allocation(usage):
    sorted_usage, _ = torch.sort(usage, dim=-1)
    ones = torch.ones_like(sorted_usage[..., :1])
    return (1 - sorted_usage) * torch.cumprod(torch.cat([ones, sorted_usage[..., :-1]], -1), -1)


def detached_allocation(usage):
    return A.allocation_weights(usage.detach()).detach()


def diagonal_link(link, precedence, w):
    return (1 - w[:, :, None] - w[:, None, :]) * link + w[:, :, None] * precedence[:, None, :]


def new_precedence_link(link, precedence, w):
    return A.update_link(link, A.update_precedence(precedence, w), w)


def transposed_link(link, precedence, w):
    return A.update_link(link, precedence, w).transpose(1, 2)


def no_decay_link(link, precedence, w):
    eye = torch.eye(link.shape[-1], dtype=link.dtype)
    return (link + w[:, :, None] * precedence[:, None, :]) * (1 - eye)


def interface_with(**changes):
    """A parse_interface that gets some fields wrong."""
    def parse(xi, word_size, read_heads):
        fields = dnc.parse_interface(xi, word_size, read_heads)._asdict()
        for name, make in changes.items():
            fields[name] = make(xi, word_size, read_heads, fields)
        return dnc.Interface(**fields)
    return parse


def _raw(xi, W, R, name, offset=0):
    where = dnc.interface_slices(W, R)[name]
    return xi[:, where.start + offset:where.stop + offset]


MUTANTS = {
    "shift": [
        ("wrong direction", lambda w, s: A.shift(w, s.flip(-1)), "backwards"),
        ("no wrap-around", no_wrap_shift, "wrap-around"),
        ("index k as offset k", zero_based_shift, "offset k - S//2"),
        ("hard-coded S = 3", three_wide_shift, "do not assume 3 entries"),
        ("changes weights in place", in_place_shift, "in place"),
    ],
    "sharpen": [
        ("no renormalisation", lambda w, g: w ** g[..., None], "does not sum to one"),
        ("softmax instead of power", softmax_sharpen, "softmax"),
        ("normalised over heads", heads_axis_sharpen, "wrong axis"),
        ("gamma ignored", lambda w, g: w / w.sum(-1, keepdim=True), "gamma is ignored"),
        ("float32 result", float32_sharpen, "dtype"),
    ],
    "content_weights": [
        ("dot product", dot_content, "dot product"),
        ("softmax over heads",
         lambda m, k, b: torch.softmax(b[..., None] * A.cosine_similarity(m, k), dim=1),
         "wrong axis"),
        ("missing strength", lambda m, k, b: torch.softmax(A.cosine_similarity(m, k), -1),
         "strength"),
        ("no epsilon in the norms", no_epsilon_content, "epsilon"),
        ("oneplus on strengths", lambda m, k, b: A.content_weights(m, k, A.oneplus(b)), "strength"),
        ("detached", lambda m, k, b: A.content_weights(m, k, b).detach(), "gradient"),
    ],
    "update_usage": [
        ("ignores retention", lambda u, w, p: u + w - u * w, "ignores retention"),
        ("no - u*w term", lambda u, w, p: (u + w) * p, "- u o w"),
        ("retention on old usage only", lambda u, w, p: u * p + w - u * w, "old usage only"),
        ("in place", lambda u, w, p: u.mul_(1 - w).add_(w).mul_(p), "in place"),
    ],
    "allocation_weights": [
        ("without sorting", unsorted_allocation, "without sorting"),
        ("inclusive product", inclusive_allocation, "inclusive"),
        ("sorted descending", descending_allocation, "wrong way"),
        ("left in sorted order", sorted_order_allocation, "sorted order"),
        ("detached", detached_allocation, "gradient"),
    ],
    "update_link": [
        ("diagonal not zeroed", diagonal_link, "diagonal is not zero"),
        ("new precedence", new_precedence_link, "precedence"),
        ("transposed", transposed_link, "transposed"),
        ("no decay", no_decay_link, "do not decay"),
    ],
    "oneplus": [
        ("softplus", F.softplus, "softplus"),
        ("1 + exp", lambda x: 1 + torch.exp(x), "1 + e^"),
        ("1 + relu", lambda x: 1 + torch.relu(x), "relu"),
        ("naive log(1 + exp)", lambda x: 1 + torch.log(1 + torch.exp(x)), "overflows"),
    ],
    "parse_interface": [
        ("overlapping slices (write_key one entry early)",
         interface_with(write_key=lambda xi, W, R, f: _raw(xi, W, R, "write_key", -1)), "overlap"),
        ("read modes softmax over heads",
         interface_with(read_modes=lambda xi, W, R, f: torch.softmax(
             _raw(xi, W, R, "read_modes").reshape(-1, R, 3), dim=1)), "wrong axis"),
        ("read modes softmax over all 3R entries",
         interface_with(read_modes=lambda xi, W, R, f: torch.softmax(
             _raw(xi, W, R, "read_modes"), dim=-1).reshape(-1, R, 3)), "all 3R"),
        ("sigmoid missing on erase",
         interface_with(erase=lambda xi, W, R, f: _raw(xi, W, R, "erase")),
         "sigmoid missing on erase"),
        ("oneplus missing on read strengths",
         interface_with(read_strengths=lambda xi, W, R, f: _raw(xi, W, R, "read_strengths")),
         "must go through oneplus"),
        ("write_strength [B, 1]",
         interface_with(write_strength=lambda xi, W, R, f: f["write_strength"][:, None]),
         "squeeze"),
        ("read keys as [B, W, R]",
         interface_with(read_keys=lambda xi, W, R, f: _raw(xi, W, R, "read_keys").reshape(-1, W, R)
                        .transpose(1, 2)), "reshaped in the wrong order"),
        ("a dict", lambda xi, W, R: dnc.parse_interface(xi, W, R)._asdict(), "has no field"),
    ],
    "write_weighting": [
        ("gates swapped", lambda a, c, ga, gw: A.write_weighting(a, c, gw, ga),
         "gates are swapped"),
        ("missing write gate",
         lambda a, c, ga, gw: A.write_weighting(a, c, ga, torch.ones_like(gw)),
         "write gate"),
        ("allocation and content swapped", lambda a, c, ga, gw: A.write_weighting(c, a, ga, gw),
         "allocation and content are swapped"),
        ("gates not unsqueezed", lambda a, c, ga, gw: gw * (ga * a + (1 - ga) * c),
         "raised RuntimeError"),
    ],
    "read_weighting": [
        ("(forward, content, backward)", lambda b, c, f, pi: A.read_weighting(f, c, b, pi),
         "wrong order"),
        ("(content, backward, forward)", lambda b, c, f, pi: A.read_weighting(c, b, f, pi),
         "wrong order"),
        ("softmax on the modes",
         lambda b, c, f, pi: A.read_weighting(b, c, f, torch.softmax(pi, -1)),
         "normalised again"),
        ("content term missing", lambda b, c, f, pi: pi[..., :1] * b + pi[..., 2:] * f,
         "selects the content weighting"),
    ],
    "copy_batch": [],  # filled below
    "bit_errors": [
        ("counts masked-out steps",
         lambda lo, t, m: ((lo > 0).float() != t).float().sum((1, 2)).to(lo.dtype), "masked-out"),
        ("probabilities thresholded at 0",
         lambda lo, t, m: metrics.bit_errors(torch.sigmoid(lo), t, m), "probabilities at 0"),
        ("logits thresholded at 0.5", lambda lo, t, m: metrics.bit_errors(lo - 0.5, t, m), "0.5"),
        ("off-by-one mask", lambda lo, t, m: metrics.bit_errors(lo, t, torch.roll(m, 1, 1)),
         "off by one"),
        ("summed over the batch", lambda lo, t, m: metrics.bit_errors(lo, t, m).sum(), "scalar"),
        ("integer counts", lambda lo, t, m: metrics.bit_errors(lo, t, m).long(), "float counts"),
    ],
    "bits_per_sequence": [
        ("nats", lambda lo, t, m: metrics.bits_per_sequence(lo, t, m) * math.log(2), "nats"),
        ("unmasked", lambda lo, t, m: metrics.bits_per_sequence(lo, t, torch.ones_like(m)),
         "mask is 0"),
        ("naive sigmoid and log", lambda lo, t, m: -(
            (t * torch.log2(torch.sigmoid(lo))
             + (1 - t) * torch.log2(1 - torch.sigmoid(lo))).sum(-1)
            * m).sum(-1), "NaN or inf"),
        ("mean over channels", lambda lo, t, m: metrics.bits_per_sequence(lo, t, m) / lo.shape[-1],
         "mean over the channels"),
    ],
    "masked_bce": [
        ("mean over all steps", lambda lo, t, m: F.binary_cross_entropy_with_logits(lo, t),
         "mean over all steps"),
        ("averaged per sequence", lambda lo, t, m: (
            (F.binary_cross_entropy_with_logits(lo, t, reduction="none").sum(-1) * m).sum(-1)
            / (m.sum(-1) * lo.shape[-1])).mean(), "averaged per sequence"),
        ("per counted step", lambda lo, t, m: metrics.masked_bce(lo, t, m) * lo.shape[-1],
         "not counted bits"),
        ("per sequence [B]", lambda lo, t, m: metrics.bits_per_sequence(lo, t, m), "scalar"),
    ],
    "read_mode_usage": [
        ("ignores the mask", lambda pi, m: pi.mean((0, 1)), "ignores the mask"),
        ("per sample, then over samples", lambda pi, m: (
            (pi * m[..., None, None]).sum(1) / m.sum(1)[:, None, None]).mean(0),
         "averaged per sample"),
        ("pooled over heads instead of time", lambda pi, m: (pi * m[..., None, None]).sum((0, 2))
         / m.sum(), "wrong shape"),
        ("divided by every step", lambda pi, m: (pi * m[..., None, None]).sum((0, 1))
         / m.numel(), "divided by every step"),
    ],
    "link_chain": [
        ("transposed link", lambda L, s, n: analysis.link_chain(L.t(), s, n), "backwards"),
        ("start left out", lambda L, s, n: analysis.link_chain(L, s, n + 1)[1:],
         "begin with the start"),
        ("one too many", lambda L, s, n: analysis.link_chain(L, s, n + 1), "one too many"),
        ("a tensor", lambda L, s, n: torch.tensor(analysis.link_chain(L, s, n)),
         "list of Python ints"),
    ],
}


def _copy_variant(kind):
    def make(batch_size, length, width, generator):
        inputs, targets, mask = reference_copy_batch(batch_size, length, width, generator)
        L = length
        if kind == "delimiter channel 0":
            inputs = torch.cat([inputs[..., width:], inputs[..., :width]], dim=-1)
        elif kind == "output one step early":
            targets = torch.roll(targets, -1, dims=1)
            mask = torch.roll(mask, -1, dims=1)
        elif kind == "mask covers the delimiter":
            mask = mask.clone()
            mask[:, L] = 1.0
        elif kind == "global random state":
            inputs, targets, mask = reference_copy_batch(batch_size, length, width, None)
        elif kind == "same bits in every sample":
            inputs = inputs[:1].expand_as(inputs).clone()
            targets = targets[:1].expand_as(targets).clone()
        elif kind == "bool mask":
            mask = mask.bool()
        return inputs, targets, mask
    return make


MUTANTS["copy_batch"] = [
    ("delimiter in channel 0", _copy_variant("delimiter channel 0"), "wrong channel"),
    ("output phase one step early", _copy_variant("output one step early"), "one step early"),
    ("mask covers the delimiter step", _copy_variant("mask covers the delimiter"),
     "covers the delimiter"),
    ("global random state", _copy_variant("global random state"), "generator"),
    ("same bits in every sample", _copy_variant("same bits in every sample"), "same bits"),
    ("bool mask", _copy_variant("bool mask"), "dtype"),
]

MUTANTS["triple_channels"] = [
    ("digits least significant first", lambda t, n, e: torch.cat([
        torch.zeros(10 * w) if p is None else torch.eye(10)[list(graphs.digits(p, w))[::-1]]
        .flatten() for p, w in zip(t, (n, e, n))]), "reversed"),
    ("a channel short", lambda t, n, e: graphs.triple_channels(t, n, e)[:-1], "wrong shape"),
    ("a blank written as 0",
     lambda t, n, e: graphs.triple_channels(tuple(0 if p is None else p for p in t), n, e),
     "blank part"),
    ("edge last", lambda t, n, e: torch.cat(
        [graphs.triple_channels((t[0], None, None), n, e)[:10 * n],
         graphs.triple_channels((None, None, t[2]), n, e)[10 * (n + e):],
         graphs.triple_channels((None, t[1], None), n, e)[10 * n:10 * (n + e)]]),
     "wrong order"),
    ("a list of digits", lambda t, n, e: [int(x) for x in graphs.triple_channels(t, n, e)],
     "torch.Tensor"),
]

MUTANTS["read_sources"] = [
    ("the slot read", lambda r, w: r.argmax(-1), "slot each head reads"),
    ("argmin", lambda r, w: (r @ w.T).argmin(-1), "argmin"),
    ("one step per sample", lambda r, w: (r @ w.T).argmax(-1)[..., :1], "expected shape"),
    ("always the last step", lambda r, w: torch.full(r.shape[:-1], w.shape[0] - 1),
     "expected steps"),
]

def _masked_loop(memory, keys, strengths, mask):
    """The masked look-up written slot by slot, head by head, from the paper."""
    out = torch.empty(keys.shape[0], keys.shape[1], memory.shape[1], dtype=memory.dtype)
    for b in range(keys.shape[0]):
        for h in range(keys.shape[1]):
            k = keys[b, h] * mask[b, h]
            scores = torch.stack([
                strengths[b, h] * (k @ (row * mask[b, h]))
                / ((k.norm() + 1e-6) * ((row * mask[b, h]).norm() + 1e-6)) for row in memory[b]])
            out[b, h] = torch.softmax(scores, 0)
    return out


def _sharpen_links_loop(weights, sharpness):
    """S(d, s)_i = d_i^s / sum_j d_j^s, head by head, with the epsilon inside the power."""
    out = torch.empty_like(weights)
    for b in range(weights.shape[0]):
        for r in range(weights.shape[1]):
            powers = (weights[b, r] + 1e-6) ** sharpness[b, r]
            out[b, r] = powers / powers.sum()
    return out


ALTERNATIVES += [("masked_content_weights", _masked_loop), ("sharpen_links", _sharpen_links_loop)]

MUTANTS["masked_content_weights"] = [
    ("mask on the key only",
     lambda m, k, b, mask: torch.softmax(A.cosine_similarity(m, k * mask) * b[..., None], -1),
     "mask both sides"),
    ("no mask", lambda m, k, b, mask: A.content_weights(m, k, b), "mask is not used"),
    ("inverted mask", lambda m, k, b, mask: A.content_weights(m, k, b, 1 - mask), "inverted"),
    ("masked dot product",
     lambda m, k, b, mask: torch.softmax(
         torch.einsum("bhw,bnw->bhn", k * mask * mask, m) * b[..., None], -1),
     "dot product"),
    ("mask squared on the key",
     lambda m, k, b, mask: A.content_weights(m, k * mask, b, mask), "wrong"),
]

MUTANTS["sharpen_links"] = [
    ("not normalised", lambda d, s: (d + 1e-6) ** s[..., None], "not normalised"),
    ("softmax of s d", lambda d, s: torch.softmax(s[..., None] * d, -1), "softmax of s * d"),
    ("power 1 / s", lambda d, s: A.sharpen_links(d, 1 / s), "1 / s"),
    ("no epsilon", lambda d, s: d ** s[..., None] / (d ** s[..., None]).sum(-1, keepdim=True),
     "NaN"),
    ("normalised over heads",
     lambda d, s: (d + 1e-6) ** s[..., None] / ((d + 1e-6) ** s[..., None]).sum(-2, keepdim=True),
     "wrong axis"),
]

def _attention_loop(memory_keys, queries):
    """softmax_i(q . K[i] / sqrt(D)), query by query, from the paper."""
    D = memory_keys.shape[-1]
    out = torch.empty(queries.shape[0], queries.shape[1], memory_keys.shape[1], dtype=queries.dtype)
    for b in range(queries.shape[0]):
        for h in range(queries.shape[1]):
            out[b, h] = torch.softmax(memory_keys[b] @ queries[b, h] / D ** 0.5, 0)
    return out


def _erase_then_write(fast_weights, key, value, beta):
    """W (I - beta k k^T) + beta v k^T: the delta rule as an erase and a write."""
    b = beta[:, None, None]
    eye = torch.eye(key.shape[-1], dtype=key.dtype)
    erased = fast_weights @ (eye - b * key[:, :, None] * key[:, None, :])
    return erased + b * value[:, :, None] * key[:, None, :]


ALTERNATIVES += [
    ("dot_product_weights", _attention_loop),
    ("dot_product_weights",
     lambda K, q: torch.einsum("bhd,bnd->bhn", q / math.sqrt(K.shape[-1]), K).softmax(-1)),
    ("delta_rule_update", _erase_then_write),
]


def _scores(K, q):
    return q @ K.transpose(1, 2)


def _delta_with(change):
    """An update W + change(W, k, v, beta)."""
    return lambda W, k, v, b: W + change(W, k, v, b)


def _outer(v, k):
    return v[:, :, None] * k[:, None, :]


def _read(W, k):
    return (W @ k[:, :, None])[..., 0]


MUTANTS["dot_product_weights"] = [
    ("no scaling", lambda K, q: torch.softmax(_scores(K, q), -1), "not scaled"),
    ("divided by D", lambda K, q: torch.softmax(_scores(K, q) / K.shape[-1], -1), "divided by D"),
    ("divided by sqrt(N)", lambda K, q: torch.softmax(_scores(K, q) / K.shape[1] ** 0.5, -1),
     "sqrt(N)"),
    ("softmax over heads", lambda K, q: torch.softmax(_scores(K, q) / K.shape[-1] ** 0.5, 1),
     "wrong axis"),
    ("cosine",
     lambda K, q: torch.softmax(F.normalize(q, dim=-1) @ F.normalize(K, dim=-1).transpose(1, 2),
                                -1),
     "cosine"),
    ("no softmax", lambda K, q: _scores(K, q) / K.shape[-1] ** 0.5, "softmax over the N positions"),
    ("detached", lambda K, q: attention.dot_product_weights(K, q).detach(), "gradient"),
]

MUTANTS["delta_rule_update"] = [
    ("sum rule", lambda W, k, v, b: attention.sum_rule_update(W, k, v), "sum rule"),
    ("no erase", _delta_with(lambda W, k, v, b: b[:, None, None] * _outer(v, k)),
     "nothing is erased"),
    ("sign flipped", _delta_with(lambda W, k, v, b: b[:, None, None] * _outer(_read(W, k) - v, k)),
     "sign"),
    ("beta on the value only",
     _delta_with(lambda W, k, v, b: _outer(b[:, None] * v - _read(W, k), k)),
     "beta multiplies the value only"),
    ("outer product transposed",
     _delta_with(lambda W, k, v, b: b[:, None, None] * _outer(k, v - _read(W, k))), "transposed"),
    ("retrieved with W^T", _delta_with(
        lambda W, k, v, b: b[:, None, None] * _outer(v - _read(W.transpose(1, 2), k), k)), "W^T k"),
    ("in place", lambda W, k, v, b: W.add_(attention.delta_rule_update(W, k, v, b) - W),
     "in place"),
]

ALL_MUTANTS = [(name, label, fn, needle) for name, rows in MUTANTS.items()
               for label, fn, needle in rows]


def run_check(name, function):
    """The AssertionError message of checks.<name>(function), or None when it passes."""
    try:
        getattr(checks, name)(function)
    except AssertionError as error:
        return str(error)
    return None


# =========================================================================== tests

def test_contract_names():
    assert sorted(checks.__all__) == sorted(CONTRACT)
    assert set(REFERENCES) == set(CONTRACT) == set(MUTANTS)


@pytest.mark.parametrize("name", CONTRACT)
def test_reference_passes(name, capsys):
    getattr(checks, name)(REFERENCES[name])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}: all ")
    assert lines[0].endswith(" checks passed")


@pytest.mark.parametrize("name,function", ALTERNATIVES,
                         ids=[f"{n}-{f.__name__}" for n, f in ALTERNATIVES])
def test_correct_alternatives_pass(name, function, capsys):
    getattr(checks, name)(function)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name,label,function,needle", ALL_MUTANTS,
                         ids=[f"{n}-{lab}" for n, lab, _, _ in ALL_MUTANTS])
def test_mutant_is_rejected(name, label, function, needle, capsys):
    message = run_check(name, function)
    assert message is not None, f"checks.{name} accepted the mutant '{label}'"
    assert message.startswith(f"{name}: ")
    assert needle.lower() in message.lower(), f"'{needle}' not in the message:\n{message}"
    assert capsys.readouterr().out == ""  # no success line


@pytest.mark.parametrize("name", CONTRACT)
def test_a_checks_docstring_begins_with_the_signature_it_checks(name):
    """The contract common to all checks is memlab.checks' docstring; each check's gives its own."""
    assert getattr(checks, name).__doc__.startswith(f"Check ``{name}(")


def test_every_check_has_three_mutants():
    """test_mutant_is_rejected runs each mutant; here only that every check has enough of them."""
    assert all(len(MUTANTS[name]) >= 3 for name in CONTRACT)
    assert sum(len(MUTANTS[name]) for name in CONTRACT) == len(ALL_MUTANTS)


def test_not_implemented_passes_through():
    def student(weights, shift):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        checks.shift(student)


def test_student_exception_is_reported_with_its_input():
    def student(usage):
        raise ValueError("boom")

    with pytest.raises(AssertionError) as info:
        checks.allocation_weights(student)
    assert "raised ValueError: boom" in str(info.value)
    assert " on " in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_wrong_return_type_and_shape_are_named():
    assert "forget the `return`" in run_check("update_usage", lambda u, w, p: None)
    message = run_check("shift", lambda w, s: A.shift(w, s).transpose(1, 2))
    assert "wrong shape" in message and "[B, H, N]" in message
    message = run_check("content_weights", lambda m, k, b: A.content_weights(m, k, b)[:, 0])
    assert "an axis is missing" in message


def test_passing_the_result_instead_of_the_function():
    with pytest.raises(TypeError, match="your function itself"):
        checks.shift(A.shift(torch.ones(1, 1, 3), torch.ones(1, 1, 3)))


def test_checks_leave_global_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    threads = torch.get_num_threads()
    for name in CONTRACT:
        getattr(checks, name)(REFERENCES[name])
    with pytest.raises(AssertionError):
        checks.copy_batch(MUTANTS["copy_batch"][3][1])
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


# --------------------------------------------------------------------------- memlab.analysis

def test_read_mode_usage_small_example():
    read_modes = torch.zeros(2, 3, 1, 3)
    read_modes[0, :, 0, 0] = 1.0  # sample 0 reads backward
    read_modes[1, :, 0, 2] = 1.0  # sample 1 reads forward
    mask = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    expected = torch.tensor([[0.25, 0.0, 0.75]])
    assert torch.allclose(analysis.read_mode_usage(read_modes, mask), expected)
    assert torch.allclose(analysis.read_mode_usage(read_modes, mask.bool()), expected)


def test_analysis_on_a_dnc_trace():
    torch.manual_seed(0)
    model = DNC(input_size=5, output_size=4, hidden_size=16, memory_size=6, word_size=4,
                read_heads=2)
    batch = tasks.CopyTask(4, 2, 3).batch(3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        _, trace = model(batch.inputs, return_trace=True)
    usage = analysis.read_mode_usage(trace.read_modes, batch.mask)
    assert usage.shape == (2, 3)
    assert torch.allclose(usage.sum(-1), torch.ones(2))
    chain = analysis.link_chain(trace.link[0, -1], 0, 4)
    assert len(chain) == 4 and chain[0] == 0 and all(type(s) is int for s in chain)


def test_link_chain_follows_the_write_order():
    N, order = 6, [4, 1, 5, 0, 2]
    link, p = torch.zeros(1, N, N), torch.zeros(1, N)
    for slot in order:
        w = F.one_hot(torch.tensor([slot]), N).float()
        link = A.update_link(link, p, w)
        p = A.update_precedence(p, w)
    assert analysis.link_chain(link[0], 4, 5) == order
    assert analysis.link_chain(link[0], 1, 1) == [1]


@pytest.mark.parametrize("call,needle", [
    (lambda: analysis.read_mode_usage(torch.ones(2, 3, 3), torch.ones(2, 3)), "read_modes"),
    (lambda: analysis.read_mode_usage(torch.ones(2, 3, 1, 4), torch.ones(2, 3)), "read_modes"),
    (lambda: analysis.read_mode_usage(torch.ones(2, 3, 1, 3), torch.ones(3, 2)), "mask"),
    (lambda: analysis.read_mode_usage(torch.ones(2, 3, 1, 3), torch.zeros(2, 3)), "mask"),
    (lambda: analysis.link_chain(torch.ones(3, 4), 0, 2), "link"),
    (lambda: analysis.link_chain(torch.ones(1, 3, 3), 0, 2), "link"),
    (lambda: analysis.link_chain(torch.ones(3, 3), 3, 2), "start"),
    (lambda: analysis.link_chain(torch.ones(3, 3), 1.0, 2), "start"),
    (lambda: analysis.link_chain(torch.ones(3, 3), 0, 0), "length"),
])
def test_analysis_validates_its_arguments(call, needle):
    with pytest.raises(ValueError, match=needle):
        call()


# --- chapter 8: graphs ---------------------------------------------------------------------------


def test_graph_checks_pass_the_references(capsys):
    checks.triple_channels(graphs.triple_channels)
    checks.read_sources(analysis.read_sources)
    out = capsys.readouterr().out
    assert "triple_channels: all" in out and "read_sources: all" in out


@pytest.mark.parametrize(
    "mutant, message",
    [
        (lambda r, w: r.argmax(-1), "slot each head reads"),
        (lambda r, w: (r @ w.T).argmin(-1), "argmin"),
        (lambda r, w: (r @ w.T).argmax(-1)[..., :1], "shape"),
        (lambda r, w: torch.full(r.shape[:-1], w.shape[0] - 1), "expected steps"),
    ],
)
def test_read_sources_mutants_are_caught(mutant, message):
    with pytest.raises(AssertionError, match=message):
        checks.read_sources(mutant)
