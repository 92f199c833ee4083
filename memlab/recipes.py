"""Recommended training settings, one recipe per model, each chosen by measurement.

``train()`` and ``python -m memlab train`` take every setting they are not given from the recipe
of the model they train, so there is one place that says how each model is best trained. The
figures quoted with each recipe were measured with ``benchmarks/learning.py`` on one CPU thread
(see benchmarks/README.md); rerun it after changing a recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

from memlab.validation import integer, positive_number

OPTIMIZERS = ("adam", "rmsprop")


@dataclass(frozen=True)
class Recipe:
    """How to train one kind of model.

    Args:
        optimizer: "adam" (Kingma & Ba 2015) or "rmsprop" (with momentum 0.9, as the NTM and DNC
            papers train).
        lr: the optimiser's step size.
        batch_size: sequences per step.
        clip: the largest gradient norm (None: no clipping).
        measured: what the recipe was chosen on, in a sentence.
    """

    optimizer: str = "adam"
    lr: float = 1e-2
    batch_size: int = 16
    clip: float | None = 10.0
    measured: str = ""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        positive_number("lr", self.lr)
        integer("batch_size", self.batch_size, 1)
        if self.clip is not None:
            positive_number("clip", self.clip)


#: One recipe for the recurrent models, measured on each of them.
RECURRENT = Recipe(
    "adam", 1e-2, 16, 10.0,
    measured="DNC, copy of lengths 1-10: 20 of 20 seeds below 0.1 bit errors per sequence within "
             "400 steps (median 250). NTM, copy of lengths 1-20 with its controller outputs "
             "clipped to ±20 (its default): 9 of 10 seeds below 0.1 within 3,000 steps (median "
             "625, slowest 2,775); RMSProp at 3e-4 (momentum 0.9) was about as reliable and "
             "slower, Adam at 3e-3 or 5e-3 and batches of 32 less reliable, and a curriculum on "
             "length (5, 10, 20) worse (benchmarks/README.md). The LSTM baseline is trained as "
             "the DNC is, so that the two compare like for like.",
)

RECIPES = {
    "dnc": RECURRENT,
    "ntm": RECURRENT,
    "lstm": RECURRENT,
    "transformer": Recipe(
        "adam", 1e-3, 16, 1.0,
        measured="reverse, 8 tokens, lengths 1-10, sinusoidal positions, 1,500 steps: step size "
                 "1e-3 reached 0.997 of the answer steps right on training batches, 3e-3 0.979; "
                 "1e-2 (the DNC's) is too large for attention trained without warm-up.",
    ),
}


def recipe(model_or_kind: str | object) -> Recipe:
    """The recipe of a model kind ("dnc", "ntm", "lstm", "transformer") or of a model (``.kind``).

    A model of no known kind gets the recurrent models' (Adam, 1e-2, batch 16, clip 10).
    """
    kind = model_or_kind if isinstance(model_or_kind, str) else getattr(model_or_kind, "kind", "")
    return RECIPES.get(kind, RECURRENT)
