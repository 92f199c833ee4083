"""Milliseconds per training step (forward + backward + Adam) on one CPU thread.

    python benchmarks/step_time.py             # everything (a few minutes)
    python benchmarks/step_time.py --no-compile --no-learn
    python benchmarks/step_time.py --public-ntm ../pytorch-ntm   # with the public NTM

Configurations (batch 32, sequence length 21, copy-sized input 9 and output 8):
  (a) DNC hidden 64, N=16, W=16, R=4
  (b) NTM hidden 100, N=128, W=20, one read and one write head
memlab is timed beside benchmarks/naive.py (the same equations written naively),
interleaved step by step in the same run so that machine noise hits both alike.
If the public PyTorch DNC is installed (`pip install dnc==1.1.0 --no-deps`, the
package of github.com/ixaxaar/pytorch-dnc), it is timed on (a) in the same run too;
given a clone of the public PyTorch NTM (github.com/loudinthecloud/pytorch-ntm, not
on PyPI) with --public-ntm PATH, its EncapsulatedNTM is timed on (b).
Then, unless --no-learn: wall time for memlab's DNC, with memlab's training
defaults, to reach <= 0.1 bit errors per sequence on copy (8-bit, lengths 1-10).
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import memlab  # noqa: E402
from memlab.tasks import CopyTask  # noqa: E402
from memlab.train import measure, train  # noqa: E402
from naive import NaiveDNC, NaiveNTM  # noqa: E402

BATCH, LENGTH, INPUT, OUTPUT = 32, 21, 9, 8


def make_step(model, fused: bool, forward=None, loss=F.binary_cross_entropy_with_logits):
    """One training step on a fixed random batch; `forward(x)` defaults to `model(x)`.

    `loss(forward(x), y)` is binary cross-entropy on logits unless told otherwise.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True if fused else None)
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, 2, (BATCH, LENGTH, INPUT), generator=generator).float()
    y = torch.randint(0, 2, (BATCH, LENGTH, OUTPUT), generator=generator).float()
    forward = forward or model

    def step():
        value = loss(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()

    return step


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def compare(name: str, variants: dict, repeats: int, warmup: int) -> dict:
    for step in variants.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(repeats):  # interleaved: each round times every variant once
        for label, step in variants.items():
            times[label].append(timed(step))
    medians = {label: statistics.median(t) for label, t in times.items()}
    base = medians["naive"]
    public = next((ms for label, ms in medians.items() if label.startswith("public")), None)
    print(f"\n{name}")
    print(f"  {'implementation':<26}{'median ms/step':>16}{'speed-up vs naive':>20}"
          + (f"{'vs public':>12}" if public else ""))
    for label, ms in medians.items():
        print(f"  {label:<26}{ms:>16.1f}{base / ms:>19.2f}x"
              + (f"{public / ms:>11.2f}x" if public else ""))
    return medians


def compiled_step(model):
    model.compile_step()
    step = make_step(model, fused=True)
    start = time.perf_counter()
    step()  # the first call compiles forward and backward
    return step, time.perf_counter() - start


def public_dnc_step():
    """A training step of the public PyTorch DNC (package `dnc` 1.1.0) on config (a), or None.

    Only its dense DNC is loaded: the package's __init__ also imports its sparse
    variants, which need pyflann. Its output has input_size features, so a linear
    layer maps them to the 8 outputs, as memlab's output layer does.
    """
    spec = importlib.util.find_spec("dnc")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = types.ModuleType("dnc")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["dnc"] = package
    from dnc.dnc import DNC as PublicDNC

    dnc = PublicDNC(input_size=INPUT, hidden_size=64, rnn_type="lstm", num_layers=1, nr_cells=16,
                    cell_size=16, read_heads=4, batch_first=True, gpu_id=-1)
    output = torch.nn.Linear(INPUT, OUTPUT)

    def forward(x):
        y, _ = dnc(x, (None, None, None), reset_experience=True, pass_through_memory=True)
        return output(y)

    return make_step(torch.nn.ModuleList([dnc, output]), fused=False, forward=forward)


PUBLIC_NTM = "github.com/loudinthecloud/pytorch-ntm"


def public_ntm_package(path: str) -> Path:
    """The `ntm/` package of a clone of the public NTM at `path`; ValueError if there is none."""
    package_dir = Path(path).expanduser() / "ntm"
    if not (package_dir / "aio.py").is_file():
        raise ValueError(f"--public-ntm: {path} is not a clone of {PUBLIC_NTM} "
                         "(no ntm/aio.py there)")
    return package_dir


def public_ntm_step(path: str):
    """A training step of the public PyTorch NTM on config (b), from a clone at `path`.

    `path` is a clone of github.com/loudinthecloud/pytorch-ntm (not on PyPI); its
    package `ntm/` is loaded under the name `pytorch_ntm`, so that it cannot be
    mistaken for memlab.ntm. Its EncapsulatedNTM with one head pair (a read and a
    write head) keeps its memory and recurrent state in the module:
    `init_sequence(batch)` resets both at the start of every sequence, and each
    call then runs one time step on [B, input] and returns the sigmoid output
    [B, output]. The loss is binary cross-entropy on those probabilities, as in
    its own training script.
    """
    package_dir = public_ntm_package(path)
    for name in [name for name in sys.modules if name.split(".")[0] == "pytorch_ntm"]:
        del sys.modules[name]  # a clone loaded before, perhaps another one
    spec = importlib.util.spec_from_file_location(
        "pytorch_ntm", package_dir / "__init__.py", submodule_search_locations=[str(package_dir)])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["pytorch_ntm"] = package
    spec.loader.exec_module(package)
    from pytorch_ntm.aio import EncapsulatedNTM

    net = EncapsulatedNTM(INPUT, OUTPUT, controller_size=100, controller_layers=1, num_heads=1,
                          N=128, M=20)

    def forward(x):
        net.init_sequence(x.shape[0])
        return torch.stack([net(x_t)[0] for x_t in x.unbind(1)], dim=1)

    return make_step(net, fused=False, forward=forward, loss=F.binary_cross_entropy)


def commit_of(path: str) -> str:
    """The commit a clone is at, for the record ("commit unknown" outside git)."""
    try:
        done = subprocess.run(["git", "-C", str(path), "log", "-1", "--format=commit %h, %cs"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "commit unknown"


def learn_copy(seconds: float, seeds: list[int]) -> None:
    print(f"\nDNC learning copy (8-bit, lengths 1-10) with memlab's training defaults, one thread "
          f"(target <= 0.1 bit errors per sequence within {seconds:.0f} s):")
    task = CopyTask(width=8, min_length=1, max_length=10)
    for seed in seeds:
        torch.manual_seed(seed)
        model = memlab.DNC(task.input_size, task.output_size)
        history = train(model, task, steps=100_000, seed=seed, stop_at=0.1, max_seconds=seconds,
                        show_progress=False)
        held_out = measure(model, task, batch_size=1000, seed=4321)
        # reached: within the time, in training and on held-out data alike
        reached = (history.bit_errors[-1] <= 0.1 and history.seconds[-1] <= seconds
                   and held_out["bit_errors"] <= 0.1)
        print(f"  seed {seed}: {'reached' if reached else 'NOT reached'} "
              f"after {history.step[-1]} steps, "
              f"{history.seconds[-1]:.1f} s; training bit errors/seq {history.bit_errors[-1]:.3f}, "
              f"held-out (1000 sequences) {held_out['bit_errors']:.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile path")
    parser.add_argument("--no-learn", action="store_true", help="skip the learning-speed run")
    parser.add_argument("--learn-seconds", type=float, default=30.0)
    parser.add_argument("--learn-seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("--no-public", action="store_true",
                        help="skip the public DNC even if installed, and the public NTM")
    parser.add_argument("--public-ntm", metavar="PATH",
                        help="a clone of github.com/loudinthecloud/pytorch-ntm: "
                             "time its NTM on (b)")
    args = parser.parse_args(argv)
    if args.public_ntm and not args.no_public:
        try:
            public_ntm_package(args.public_ntm)
        except ValueError as error:
            parser.error(str(error))
    torch.set_num_threads(1)
    # Time torch.compile from scratch: otherwise a second run reuses the kernels torch caches
    # on disk and reports seconds instead of the minute a first compile takes.
    torch.compiler.config.force_disable_caches = True
    # torch.compile's own deprecation notices say nothing about the timings
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\._inductor")
    warnings.filterwarnings("ignore", message="dynamo_pgo force disabled")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, batch {BATCH}, "
          f"length {LENGTH}")

    for name, make_memlab, make_naive in [
        ("(a) DNC hidden 64, N=16, W=16, R=4",
         lambda: memlab.DNC(INPUT, OUTPUT, hidden_size=64, memory_size=16, word_size=16,
                            read_heads=4),
         lambda: NaiveDNC(INPUT, OUTPUT, hidden_size=64, memory_size=16, word_size=16,
                          read_heads=4)),
        ("(b) NTM hidden 100, N=128, W=20, 1 read + 1 write head",
         lambda: memlab.NTM(INPUT, OUTPUT, hidden_size=100, memory_size=128, word_size=20),
         lambda: NaiveNTM(INPUT, OUTPUT, hidden_size=100, memory_size=128, word_size=20)),
    ]:
        torch.manual_seed(0)
        variants = {"naive": make_step(make_naive(), fused=False),
                    "memlab eager": make_step(make_memlab(), fused=True)}
        if name.startswith("(a)") and not args.no_public:
            public = public_dnc_step()
            if public is None:
                print("\n(the public DNC is not installed: pip install dnc==1.1.0 --no-deps)")
            else:
                variants["public DNC (dnc 1.1.0)"] = public
        if name.startswith("(b)") and not args.no_public:
            if args.public_ntm is None:
                print(f"\n(the public NTM is not timed: git clone https://{PUBLIC_NTM} "
                      f"and pass --public-ntm PATH)")
            else:
                print(f"\n(b): the public NTM from {args.public_ntm} "
                      f"({commit_of(args.public_ntm)})")
                variants["public NTM (pytorch-ntm)"] = public_ntm_step(args.public_ntm)
        if not args.no_compile:
            step, seconds = compiled_step(make_memlab())
            print(f"\n{name}: torch.compile took {seconds:.1f} s (one-off)")
            variants["memlab compiled"] = step
        compare(name, variants, args.repeats, args.warmup)

    if not args.no_learn:
        learn_copy(args.learn_seconds, [int(seed) for seed in args.learn_seeds.split(",")])


if __name__ == "__main__":
    main()
