"""memlab: Neural Turing Machines and Differentiable Neural Computers, exact to the papers.

    import memlab
    model = memlab.DNC(input_size=9, output_size=8)
    logits = model(x)                       # x: [batch, time, 9] -> [batch, time, 8]
    logits, trace = model(x, return_trace=True)
    ckpt = memlab.pretrained("dnc_copy")    # a checkpoint shipped with the book

``import memlab`` loads the equations (``addressing``, ``attention``), the models,
tasks and training only; ``memlab.viz`` (matplotlib), ``memlab.checks``,
``memlab.analysis`` and ``memlab.assign`` load on first use, as attributes or
with ``from memlab import checks``.
"""
import importlib

from . import addressing, attention, controllers, dnc, models, ntm, recipes, tasks, train
from .models import DNC, NTM, LSTMBaseline, build_model
from .shipped import pretrained  # the module memlab.shipped; memlab.pretrained is the function

__version__ = "0.1.0"

_LAZY = ("analysis", "assign", "checks", "viz")  # submodules loaded on first use

__all__ = ["addressing", "analysis", "attention", "checks", "controllers", "dnc", "ntm", "models",
           "recipes", "tasks", "train", "viz", "DNC", "NTM", "LSTMBaseline", "build_model",
           "pretrained",
           "__version__"]


def __getattr__(name: str):
    """Load a lazy submodule on first access (PEP 562); importing it sets the attribute."""
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
