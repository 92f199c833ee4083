"""The argument checks every memlab module shares: one message per kind of mistake.

Each check returns the value it accepted, so it can be used inline, and raises ValueError naming
the argument, what it should be, and what it got.
"""

from __future__ import annotations

import math
import operator
from typing import Any


def integer(name: str, value: Any, minimum: int | None = None,
            maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum] (None: unbounded), else a ValueError.

    Booleans are refused, as are floats, even integral ones.
    """
    if minimum == 1 and maximum is None:
        expected = "a positive integer"
    elif maximum is None:
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
    else:
        expected = f"an integer in [{minimum}, {maximum}]" if minimum is not None \
            else f"an integer <= {maximum}"
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be {expected}, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def positive_number(name: str, value: Any) -> float:
    """``value`` as a finite float > 0 (an int is fine; a bool is not), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)
