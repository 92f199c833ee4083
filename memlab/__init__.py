"""memlab: Neural Turing Machines and Differentiable Neural Computers, exact to the papers.

    import memlab
    model = memlab.DNC(input_size=9, output_size=8)
    logits = model(x)                       # x: [batch, time, 9] -> [batch, time, 8]
    logits, trace = model(x, return_trace=True)
    ckpt = memlab.pretrained("dnc_copy")    # a checkpoint shipped with the book
"""
from . import addressing, analysis, checks, controllers, dnc, models, ntm, tasks, train, viz
from .models import DNC, NTM, LSTMBaseline, build_model
from .pretrained import pretrained  # standard library only; torch loads with the checkpoint

__version__ = "0.1.0"

__all__ = ["addressing", "analysis", "checks", "controllers", "dnc", "ntm", "models", "tasks", "train", "viz", "DNC", "NTM", "LSTMBaseline",
           "build_model", "pretrained", "__version__"]
