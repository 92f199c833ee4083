"""Checks of chapter 3 (notebooks/03_dnc_controller): oneplus and the interface vector."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import addressing as A
from .. import dnc
from .harness import F32, F64, Mistake, checking, close, dims, fmt, gen, randn, seeded

__all__ = ["oneplus", "parse_interface"]


# =========================================================================== oneplus

ONEPLUS_MISTAKES = [
    Mistake("softplus", "oneplus is 1 + softplus(x): you returned softplus(x) without the 1 +",
            F.softplus),
    Mistake("1 + exp", "that is 1 + e^x: oneplus is 1 + log(1 + e^x)", lambda x: 1 + torch.exp(x)),
    Mistake("1 + relu", "that is 1 + relu(x): oneplus is 1 + log(1 + e^x), smooth at 0",
            lambda x: 1 + torch.relu(x)),
]


def oneplus(student: Callable) -> None:
    """Check ``oneplus(x) -> the shape of x``: 1 + log(1 + e^x) (DNC, Graves et al. 2016)."""
    with checking("oneplus", student, ("x",)) as c:
        __tracebackhide__ = True

        def run(x, on):
            __tracebackhide__ = True
            out = c.call((x,), on)
            return c.tensor(out, x.shape, "the shape of x " + dims(x.shape), x.dtype, on)

        x = torch.tensor([0.0], dtype=F64)
        on = "x = [0.]"
        out = run(x, on)
        value = float(out[0])
        if abs(value - (1 + math.log(2))) > 1e-9:
            known = {math.log(2): "that is softplus(0) = ln 2: oneplus is 1 + softplus(x), "
                                  "you left out the 1 +",
                     2.0: "that is 1 + e^0: oneplus is 1 + log(1 + e^x)",
                     1.0: "that is 1 + relu(0) (or 1 + 0): oneplus is 1 + log(1 + e^x)"}
            hint = next((h for v, h in known.items() if abs(value - v) < 1e-9),
                        "oneplus(x) = 1 + log(1 + e^x)")
            c.fail(f"oneplus(0) must be 1 + ln 2 = 1.6931, got {value:.4g}: {hint}")
        c.passed()

        x = torch.linspace(-20, 20, 41, dtype=F64)
        on = "x = -20, -19, ..., 20"
        out = run(x, on)
        if float(out.min()) < 1 - 1e-12:
            c.fail(f"oneplus must be >= 1 everywhere (it maps to [1, inf)), got "
                   f"{float(out.min()):.4g} at x = {float(x[int(out.argmin())]):g}: did you "
                   f"forget the 1 + ?")
        c.compare(out, A.oneplus(x), on, ONEPLUS_MISTAKES, (x,))
        c.passed()

        x = torch.tensor([-100.0, -30.0, 30.0, 100.0], dtype=F32)
        on = "large float32 inputs x = [-100, -30, 30, 100]"
        out = c.call((x,), on)
        if isinstance(out, Tensor) and out.shape == x.shape and not bool(torch.isfinite(out).all()):
            c.fail(f"oneplus overflows for large x (got {fmt(out)} for x = [-100, -30, 30, 100] "
                   f"in float32: e^100 is inf): use torch.nn.functional.softplus, which computes "
                   f"log(1 + e^x) without overflow")
        c.compare(c.tensor(out, x.shape, "[4]", F32, on), A.oneplus(x), on, atol=1e-5, rtol=1e-6)
        c.passed()

        for seed, shape in enumerate(((7,), (2, 3), (2, 3, 4), ()), 10):
            x = 3 * randn(gen(seed), *shape)
            on = f"random float64 x of shape {dims(shape)} (seed {seed})"
            c.compare(run(x, on), A.oneplus(x), on)
        c.passed()
        c.grad((x,), on)
        c.passed()


# =========================================================================== parse_interface

_ACTIVATIONS = {"none": lambda v: v, "sigmoid": torch.sigmoid, "oneplus": A.oneplus,
                "softplus": F.softplus, "softmax": lambda v: torch.softmax(v, dim=-1)}
_ACTIVATION_NAMES = {"none": "no activation", "sigmoid": "a sigmoid", "oneplus": "oneplus",
                     "softplus": "softplus (without the 1 +)", "softmax": "a softmax"}


def _field_shapes(B: int, W: int, R: int) -> dict:
    """Each field's shape, and its shape in words."""
    return {"read_keys": ((B, R, W), "[B, R, W]"), "read_strengths": ((B, R), "[B, R]"),
            "write_key": ((B, W), "[B, W]"), "write_strength": ((B,), "[B]"),
            "erase": ((B, W), "[B, W]"), "write_vector": ((B, W), "[B, W]"),
            "free_gates": ((B, R), "[B, R]"), "allocation_gate": ((B,), "[B]"),
            "write_gate": ((B,), "[B]"), "read_modes": ((B, R, 3), "[B, R, 3]")}


def field_mistakes(name: str, word_size: int, read_heads: int) -> list[Mistake]:
    """The wrong parses (slice, activation, shape) of field name, as functions of xi [B, size]."""
    W, R = word_size, read_heads
    where = dnc.interface_slices(W, R)[name]
    act = {field: activation for field, _, activation in dnc.interface_fields(W, R)}[name]
    length, size = where.stop - where.start, dnc.interface_size(W, R)
    order = ", ".join(field for field, _, _ in dnc.interface_fields(W, R))

    def shape(xi: Tensor) -> tuple:
        return _field_shapes(xi.shape[0], W, R)[name][0]

    def activated(v: Tensor) -> Tensor:  # the field's activation on a slice of its length
        if act == "softmax":
            return torch.softmax(v.reshape(v.shape[0], R, 3), dim=-1)
        return _ACTIVATIONS[act](v)

    found = []
    if name == "read_modes":
        found += [
            Mistake("modes over heads",
                    "softmax over the wrong axis: each head's 3 read modes must sum to 1 "
                    "(reshape to [B, R, 3], then softmax over the last axis)",
                    lambda xi: torch.softmax(xi[:, where].reshape(-1, R, 3), dim=1)),
            Mistake("modes as [B, 3, R]",
                    "read_modes reshaped in the wrong order: the last 3R entries of xi hold "
                    "head 1's three modes, then head 2's, ...: reshape to [B, R, 3], not "
                    "[B, 3, R]",
                    lambda xi: torch.softmax(xi[:, where].reshape(-1, 3, R).transpose(1, 2),
                                             dim=-1)),
            Mistake("modes over 3R",
                    "softmax over all 3R read-mode entries at once: reshape to [B, R, 3] first, "
                    "then take the softmax over the last axis (3 modes per head)",
                    lambda xi: torch.softmax(xi[:, where], dim=-1).reshape(-1, R, 3)),
        ]
    if name == "read_keys":
        found.append(Mistake(
            "keys as [B, W, R]",
            "read_keys reshaped in the wrong order: key i is xi[:, i*W:(i+1)*W], so "
            "reshape to [B, R, W], not [B, W, R]",
            lambda xi: xi[:, where].reshape(-1, W, R).transpose(1, 2)))

    def other_activation(other: str) -> Callable[[Tensor], Tensor]:
        def result(xi: Tensor):
            value = _ACTIVATIONS[other](xi[:, where])
            return value.reshape(shape(xi)) if value.numel() == math.prod(shape(xi)) else None
        return result

    for other in _ACTIVATIONS:
        if other != act:
            found.append(Mistake(
                f"{other} instead of {act}",
                f"{name} must go through {_ACTIVATION_NAMES[act]}, yours went through "
                f"{_ACTIVATION_NAMES[other]}"
                + (f" (sigmoid missing on {name})" if act == "sigmoid" and other == "none" else ""),
                other_activation(other)))

    def read_at(start: int) -> Callable[[Tensor], Tensor]:
        return lambda xi: activated(xi[:, start:start + length]).reshape(shape(xi))

    for start in range(0, size - length + 1):
        if start != where.start:
            found.append(Mistake(
                f"read at {start}",
                f"{name} is read from xi[:, {start}:{start + length}], it lies at "
                f"xi[:, {where.start}:{where.stop}]: the fields overlap or are out of "
                f"order (the paper's order is {order}, sizes RW, R, W, 1, W, W, R, "
                f"1, 1, 3R)", read_at(start)))
    return found


def _interface_inputs(g: torch.Generator, dtype: torch.dtype, B: int, W: int, R: int):
    return 2 * randn(g, B, dnc.interface_size(W, R), dtype=dtype), W, R


def parse_interface(student: Callable) -> None:
    """Check ``parse_interface(xi [B, W*R+3W+5R+3], word_size, read_heads) -> Interface``.

    Each field of the result (a memlab.dnc.Interface, or any object with its attribute names):
    where it lies in xi, its shape and its activation (DNC, Graves et al. 2016, Methods).
    """
    names = [name for name, _, _ in dnc.interface_fields(1, 1)]
    order = ", ".join(names)
    with checking("parse_interface", student, ("xi", "word_size", "read_heads")) as c:
        __tracebackhide__ = True

        def get_fields(result, on):
            __tracebackhide__ = True
            missing = [n for n in names if not hasattr(result, n)]
            if missing:
                c.fail(f"the result has no field(s) {', '.join(missing)}: return "
                       f"memlab.dnc.Interface(...) (or an object with the attributes {order}); "
                       f"got {type(result).__name__}\n  on {on}")
            return [getattr(result, n) for n in names]

        def check_config(xi, W, R, on):
            __tracebackhide__ = True
            result = c.call((xi, W, R), on)
            got = dict(zip(names, get_fields(result, on)))
            expected = dnc.parse_interface(xi, W, R)._asdict()
            for name in names:
                shape, dims_text = _field_shapes(xi.shape[0], W, R)[name]
                value = got[name]
                if isinstance(value, Tensor) and tuple(value.shape) != shape \
                        and value.numel() == math.prod(shape) and value.dim() == len(shape) + 1:
                    c.fail(f"wrong shape of {name}: expected {dims_text} = {dims(shape)}, got "
                           f"{dims(value.shape)}: squeeze the size-1 axis "
                           f"(e.g. xi[:, k] instead of xi[:, k:k+1])\n  on {on}")
                c.tensor(value, shape, dims_text, xi.dtype, on, what=name)
                if not close(value, expected[name], 1e-8, 1e-6):
                    c.compare(value, expected[name], on + f", field {name}",
                              field_mistakes(name, W, R), (xi,), what=f"{name}")

        for inputs, on in seeded(_interface_inputs, "B W R",
                                 ((3, 4, 2), (2, 3, 1), (1, 5, 3), (4, 2, 4))):
            xi, W, R = inputs
            check_config(xi, W, R, on)
            c.passed()

        (inputs, on), = seeded(_interface_inputs, "B W R", [(2, 3, 2)], dtypes=(F32,),
                               first_seed=20)
        xi = inputs[0]
        result = c.call(inputs, on)
        got = get_fields(result, on)
        parsed = dnc.parse_interface(*inputs)
        for name, value in zip(names, got):
            expected = getattr(parsed, name)
            c.tensor(value, expected.shape, dims(expected.shape), F32, on, what=name)
            c.compare(value, expected, on, atol=1e-6, rtol=1e-5, what=name)
        c.passed()
        c.grad((xi, 3, 2), on, outputs=lambda r: get_fields(r, on))
        c.passed()
