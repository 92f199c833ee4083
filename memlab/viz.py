"""The pictures the chapters show: sequences, attention over time, memory, links, curves.

Every function takes plain tensors (one sample, no batch axis unless stated), draws on the
matplotlib Axes ``ax`` (a new figure when None) and returns it, so a chapter can combine them
into its own figure. Time runs left to right and memory slots top to bottom in every heat map.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib import animation
from torch import Tensor


def _numpy(x):
    if isinstance(x, Tensor):
        return x.detach().float().cpu().numpy()
    return x


def _axes(ax, figsize=(6, 3)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def heatmap(values: Tensor, ax=None, title: str = "", xlabel: str = "time step",
            ylabel: str = "", cmap: str = "viridis", vmin=None, vmax=None, colorbar: bool = True):
    """Draw a 2-D tensor as an image on ``ax`` and return the Axes.

    Args:
        values: [rows, columns], a tensor or array.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        xlabel: the label of the columns.
        ylabel: the label of the rows.
        cmap: a matplotlib colour map.
        vmin: the bottom of the colour scale (None: the smallest value).
        vmax: its top (None: the largest value).
        colorbar: draw a colour bar beside the image.
    """
    ax = _axes(ax)
    image = ax.imshow(_numpy(values), aspect="auto", interpolation="nearest", cmap=cmap,
                      vmin=vmin, vmax=vmax, origin="upper")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    return ax


def plot_sequence(values: Tensor, ax=None, title: str = "", ylabel: str = "channel", **kwargs):
    """Draw a sequence as a heat map, channels top to bottom, and return the Axes.

    Args:
        values: [T, channels], e.g. one sample's ``batch.inputs[b]``.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        ylabel: the label of the channels.
        **kwargs: passed to `heatmap` (cmap, vmin and vmax default to gray_r, 0 and 1).
    """
    return heatmap(torch.as_tensor(values).T, ax=ax, title=title, ylabel=ylabel,
                   cmap=kwargs.pop("cmap", "gray_r"), vmin=kwargs.pop("vmin", 0),
                   vmax=kwargs.pop("vmax", 1), **kwargs)


def plot_weightings(weights: Tensor, ax=None, title: str = "", **kwargs):
    """Draw attention over memory through time, slots x time, and return the Axes.

    Args:
        weights: [T, N], one weighting per step, e.g. ``trace.write_weights[b]``.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        **kwargs: passed to `heatmap` (vmin and vmax default to 0 and 1).
    """
    return heatmap(torch.as_tensor(weights).T, ax=ax, title=title, ylabel="memory slot",
                   vmin=kwargs.pop("vmin", 0), vmax=kwargs.pop("vmax", 1), **kwargs)


def plot_memory(memory: Tensor, ax=None, title: str = "memory", **kwargs):
    """Draw the memory, one row per slot, and return the Axes.

    Args:
        memory: [N, W], e.g. ``trace.memory[b, t]``.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        **kwargs: passed to `heatmap` (cmap defaults to RdBu_r).
    """
    return heatmap(memory, ax=ax, title=title, xlabel="word dimension", ylabel="memory slot",
                   cmap=kwargs.pop("cmap", "RdBu_r"), **kwargs)


def plot_link(link: Tensor, ax=None, title: str = "temporal link L", **kwargs):
    """Draw the link matrix and return the Axes: L[i, j], slot i written right after slot j.

    Args:
        link: [N, N], e.g. ``trace.link[b, t]``.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        **kwargs: passed to `heatmap` (vmin and vmax default to 0 and 1).
    """
    return heatmap(link, ax=ax, title=title, xlabel="from slot j (written before)",
                   ylabel="to slot i (written after)", vmin=kwargs.pop("vmin", 0),
                   vmax=kwargs.pop("vmax", 1), **kwargs)


def plot_read_modes(read_modes: Tensor, ax=None, head: int = 0, title: str = ""):
    """Draw one head's read modes as stacked areas (backward, content, forward); return the Axes.

    Args:
        read_modes: [T, R, 3], e.g. ``trace.read_modes[b]``.
        ax: the Axes to draw on (None: a new figure).
        head: the read head to show, in [0, R).
        title: the title ("read modes, head <head>" when empty).
    """
    ax = _axes(ax)
    modes = _numpy(read_modes)[:, head, :]
    steps = range(modes.shape[0])
    ax.stackplot(steps, modes.T, labels=["backward", "content", "forward"],
                 colors=["#d95f02", "#7570b3", "#1b9e77"], alpha=0.85)
    ax.set_xlim(0, modes.shape[0] - 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time step")
    ax.set_ylabel("read mode")
    ax.set_title(title or f"read modes, head {head}")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.8)
    return ax


def plot_curves(curves: dict[str, tuple[Sequence, Sequence]], ax=None, title: str = "",
                xlabel: str = "training step", ylabel: str = "bit errors per sequence",
                logy: bool = False):
    """Draw several learning curves, one line each, and return the Axes.

    Args:
        curves: {label: (steps, values)}, two sequences of the same length per curve.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        xlabel: the label of the steps.
        ylabel: the label of the values.
        logy: a logarithmic value axis.
    """
    ax = _axes(ax, figsize=(6, 3.5))
    for label, (x, y) in curves.items():
        ax.plot(list(x), list(y), label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_seed_curves(runs: dict, ax=None, metric: str = "bit_errors", title: str = "",
                     xlabel: str = "training step", ylabel: str = "bit errors per sequence",
                     logy: bool = False):
    """Draw each run's mean over seeds, banded from its best to its worst seed; return the Axes.

    Args:
        runs: {label: [History, ...]}, one History (memlab.train) per seed.
        ax: the Axes to draw on (None: a new figure).
        metric: the History curve to draw, e.g. "bit_errors" or "loss".
        title: the title.
        xlabel: the label of the steps.
        ylabel: the label of the values.
        logy: a logarithmic value axis.
    """
    import pandas as pd  # seaborn's own dependency
    import seaborn as sns

    if not runs or not all(len(histories) for histories in runs.values()):
        raise ValueError("runs must map each label to a non-empty list of histories")
    table = pd.DataFrame(
        [{"run": label, "seed": seed, "step": step, metric: value}
         for label, histories in runs.items() for seed, history in enumerate(histories)
         for step, value in zip(history.step, getattr(history, metric))])
    ax = _axes(ax, figsize=(6, 3.5))
    sns.lineplot(table, x="step", y=metric, hue="run", estimator="mean", errorbar=("pi", 100),
                 ax=ax)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(title=None, fontsize=8)
    return ax


def plot_io(inputs: Tensor, targets: Tensor, outputs: Tensor | None = None,
            mask: Tensor | None = None,
            title: str = ""):
    """A new Figure of one sample's input, target and (optionally) output, stacked.

    Args:
        inputs: [T, input_size].
        targets: [T, output_size].
        outputs: [T, output_size], probabilities (e.g. ``torch.sigmoid(logits[b])``), or None.
        mask: [T], or None; when given, the steps that count are shaded.
        title: the figure's title.
    """
    rows = 3 if outputs is not None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(7, 1.4 * rows + 1.2), sharex=True)
    plot_sequence(inputs, ax=axes[0], title="input", colorbar=False)
    plot_sequence(targets, ax=axes[1], title="target", colorbar=False)
    if outputs is not None:
        plot_sequence(outputs, ax=axes[2], title="output (probability)", colorbar=False)
    if mask is not None:
        steps = _numpy(mask).nonzero()[0]
        if len(steps):
            for ax in axes[1:]:
                ax.axvspan(steps[0] - 0.5, steps[-1] + 0.5, color="tab:orange", alpha=0.12)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ntm_trace(inputs: Tensor, outputs: Tensor, trace, sample: int = 0, head: int = 0,
                   mask: Tensor | None = None, title: str = ""):
    """A new Figure of an NTM run: input, write and read weightings, output, on one time axis.

    Args:
        inputs: [B, T, I].
        outputs: [B, T, O], probabilities (e.g. ``torch.sigmoid(logits)``).
        trace: the memlab.models.NTMTrace of the run.
        sample: which sample of the batch to show.
        head: which read head and which write head to show.
        mask: [B, T] or None; when given, the output is shown on the counted steps only.
        title: the figure's title.
    """
    shown = outputs[sample] if mask is None else outputs[sample] * mask[sample, :, None]
    fig, axes = plt.subplots(4, 1, figsize=(7, 8), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.6, 1.6, 1]})
    plot_sequence(inputs[sample], ax=axes[0], title="input", colorbar=False)
    plot_weightings(trace.write_weights[sample, :, head], ax=axes[1], title="write weighting",
                    colorbar=False)
    plot_weightings(trace.read_weights[sample, :, head], ax=axes[2], title="read weighting",
                    colorbar=False)
    plot_sequence(shown, ax=axes[3], colorbar=False, title="output (probability)"
                  + ("" if mask is None else " on the answer steps"))
    for ax in axes[:-1]:
        ax.set_xlabel("")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_dnc_trace(inputs: Tensor, outputs: Tensor, trace, sample: int = 0, head: int = 0):
    """A new Figure of a DNC run: input, output, write and read weightings, usage and gates.

    Args:
        inputs: [B, T, I].
        outputs: [B, T, O], probabilities (e.g. ``torch.sigmoid(logits)``).
        trace: the memlab.models.DNCTrace of the run.
        sample: which sample of the batch to show.
        head: which read head (its read weighting and free gate) to show.
    """
    fig, axes = plt.subplots(3, 2, figsize=(11, 8), sharex=True)
    plot_sequence(inputs[sample], ax=axes[0, 0], title="input", colorbar=False)
    plot_sequence(outputs[sample], ax=axes[0, 1], title="output (probability)", colorbar=False)
    plot_weightings(trace.write_weights[sample], ax=axes[1, 0], title="write weighting")
    plot_weightings(trace.read_weights[sample, :, head], ax=axes[1, 1],
                    title=f"read weighting, head {head}")
    plot_weightings(trace.usage[sample], ax=axes[2, 0], title="usage")
    ax = axes[2, 1]
    steps = range(trace.write_gate.shape[1])
    ax.plot(steps, _numpy(trace.write_gate[sample]), label="write gate $g^w$")
    ax.plot(steps, _numpy(trace.allocation_gate[sample]), label="allocation gate $g^a$")
    ax.plot(steps, _numpy(trace.free_gates[sample, :, head]), label=f"free gate $f^{head}$")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("time step")
    ax.set_ylabel("gate value")
    ax.set_title("gates")
    ax.legend(fontsize="small", loc="center left")
    fig.tight_layout()
    return fig


# the icons of matplotlib's animation controls, as text: its HTML asks a CDN for Font Awesome
_BUTTON_SYMBOLS = {"fa-minus": "\u2212", "fa-plus": "+", "fa-fast-backward": "\u23ee",
                   "fa-step-backward": "\u2502\u25c0", "fa-play": "\u25b6", "fa-pause": "\u23f8",
                   "fa-step-forward": "\u25b6\u2502", "fa-fast-forward": "\u23ed"}


def animation_html(anim, alt: str = "") -> str:
    """``anim.to_jshtml()`` for ``IPython.display.HTML``, with no Font Awesome fetched from a CDN.

    Each button icon becomes a text symbol, so the player works in a book read offline; ``alt``
    is the frames' alternative text, for a reader who cannot see them.
    """
    import re

    def symbol(match):
        icon, flipped = match.group(1), match.group(2)
        if flipped and icon == "fa-play":
            return "\u25c0"  # play backwards
        return _BUTTON_SYMBOLS.get(icon, match.group(0))

    page = re.sub(r"<link[^>]*font-awesome[^>]*>", "", anim.to_jshtml(), flags=re.S)
    if alt:
        text = html.escape(alt, quote=True)
        page = re.sub(r'<img id="(_anim_img\w*)"',
                      lambda m: f'<img id="{m.group(1)}" alt="{text}"', page)
    return re.sub(r'<i class="fa (fa-[a-z-]+)( fa-flip-horizontal)?"></i>', symbol, page)


def animate_dnc(trace, sample: int = 0, head: int = 0, interval: int = 400):
    """Animate one DNC run step by step: memory, usage, link matrix and weightings.

    Show it with ``IPython.display.HTML(viz.animation_html(anim))``, which also plays in the book.

    Args:
        trace: the memlab.models.DNCTrace of the run (memory [B, T, N, W], usage [B, T, N],
            link [B, T, N, N], write_weights [B, T, N], read_weights [B, T, R, N]).
        sample: which sample of the batch to show.
        head: which read head's weighting to show.
        interval: milliseconds between frames.

    Returns:
        A FuncAnimation of T frames (its figure closed, so it is not shown twice).
    """
    memory, usage = _numpy(trace.memory[sample]), _numpy(trace.usage[sample])
    link = _numpy(trace.link[sample])
    write, read = _numpy(trace.write_weights[sample]), _numpy(trace.read_weights[sample, :, head])
    steps, slots = usage.shape
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), gridspec_kw={"width_ratios": [3, 1.6, 3]})
    limit = max(abs(memory).max(), 1e-6)
    mem_image = axes[0].imshow(memory[0], aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0].set(title="memory M", xlabel="word dimension", ylabel="memory slot")
    bars = axes[1].barh(range(slots), usage[0], color="tab:gray", label="usage")
    write_dots, = axes[1].plot(write[0], range(slots), "o", color="tab:red", label="write w")
    read_dots, = axes[1].plot(read[0], range(slots), "s", color="tab:blue", label="read w")
    axes[1].set(xlim=(0, 1.05), ylim=(slots - 0.5, -0.5), title="usage & weightings",
                xlabel="value")
    axes[1].legend(fontsize="x-small", loc="lower right")
    link_image = axes[2].imshow(link[0], aspect="auto", cmap="viridis", vmin=0, vmax=1)
    axes[2].set(title="link L", xlabel="from slot j", ylabel="to slot i")
    title = fig.suptitle("")
    fig.tight_layout()

    def draw(t):
        mem_image.set_data(memory[t])
        for bar, value in zip(bars, usage[t]):
            bar.set_width(value)
        write_dots.set_xdata(write[t])
        read_dots.set_xdata(read[t])
        link_image.set_data(link[t])
        title.set_text(f"step {t}")
        return [mem_image, write_dots, read_dots, link_image, title, *bars]

    anim = animation.FuncAnimation(fig, draw, frames=steps, interval=interval, blit=False)
    plt.close(fig)
    return anim


def plot_read_mode_usage(usage: Tensor, ax=None, title: str = "mean read mode"):
    """Draw each head's mean read mode as bars (backward, content, forward); return the Axes.

    Args:
        usage: [R, 3], each row a distribution over the modes, e.g. from
            memlab.analysis.read_mode_usage(trace.read_modes, mask).
        ax: the Axes to draw on (None: a new figure).
        title: the title.
    """
    values = _numpy(usage)
    ax = _axes(ax, figsize=(5, 0.45 * values.shape[0] + 1.2))
    left = values[:, 0] * 0
    for k, (mode, color) in enumerate(zip(["backward", "content", "forward"],
                                          ["#d95f02", "#7570b3", "#1b9e77"])):
        ax.barh(range(values.shape[0]), values[:, k], left=left, color=color, label=mode)
        left = left + values[:, k]
    ax.set_xlim(0, 1)
    ax.set_yticks(range(values.shape[0]))
    ax.set_xlabel("mean read mode")
    ax.set_ylabel("read head")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="lower right", framealpha=0.8)
    return ax


def plot_graph(edges, ax=None, title: str = "", names=None, label_names=None, positions=None,
               route=None, label_colors=None):
    """Draw a directed graph with labelled edges (networkx), optionally a route in bold.

    Args:
        edges: (source, label, destination) triples of ints.
        ax: the Axes to draw on (None: a new figure).
        title: the title.
        names: {node: text} (default the id).
        label_names: {label: text} (default "label <label>").
        positions: {node: (x, y)} (default a seeded spring layout).
        route: the nodes of a path, start first; its hops are drawn thick.
        label_colors: {label: a matplotlib colour} (default the tab10 palette).

    Returns:
        {node: (x, y)}, the positions used, for a second picture to reuse.
    """
    import networkx as nx  # only the graph pictures need it

    ax = _axes(ax, (5, 4))
    graph = nx.MultiDiGraph()
    graph.add_edges_from((s, d, {"label": label}) for s, label, d in edges)
    if positions is None:
        positions = nx.spring_layout(nx.Graph(graph), seed=0)
    palette = plt.get_cmap("tab10")

    def colour(label):
        return label_colors[label] if label_colors else palette(label % 10)

    hops = set(zip(route[:-1], route[1:])) if route is not None else set()
    nx.draw_networkx_nodes(graph, positions, ax=ax, node_color="#f4f1ea", edgecolors="#444",
                           node_size=520)
    nx.draw_networkx_labels(graph, positions, ax=ax, font_size=8,
                            labels={n: (names or {}).get(n, str(n)) for n in graph.nodes})
    for s, d, data in graph.edges(data=True):
        on_route = (s, d) in hops
        nx.draw_networkx_edges(graph, positions, edgelist=[(s, d)], ax=ax, node_size=520,
                               edge_color=[colour(data["label"])], width=3.5 if on_route else 1.2,
                               alpha=1.0 if on_route or not hops else 0.45, arrowsize=12,
                               connectionstyle="arc3,rad=0.12")
    used = sorted({label for _, label, _ in edges})
    handles = [plt.Line2D([], [], color=colour(label), lw=2,
                          label=(label_names or {}).get(label, f"label {label}")) for label in used]
    ax.legend(handles=handles, fontsize=7, loc="best", frameon=False)
    ax.set_title(title)
    ax.set_axis_off()
    return positions
