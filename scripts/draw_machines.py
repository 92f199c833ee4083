#!/usr/bin/env python3
"""Draw the introduction's figure: the NTM and the DNC side by side.

    python scripts/draw_machines.py                  # writes book/images/machines.svg
    python scripts/draw_machines.py --out FILE.svg

Both machines share the same frame: a controller that reads the input x_t and the
last read vectors, emits the output y_t and the heads' parameters, and a memory
matrix of N slots of width W. What differs is how the heads find their slots, and
the figure says it in the boxes between the controller and the memory. The SVG is
committed; run this again after changing the drawing. Text stays text in the SVG
(matplotlib's ``svg.fonttype = none``), so the file is small and readable.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "images" / "machines.svg"

CONTROLLER = "#dbe8f6"
HEAD = "#fbe3c8"
DNC_EXTRA = "#dff0d8"
EDGE = "#3b4a5a"


def box(ax, x, y, w, h, text, color, size=9.5, weight="normal"):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=EDGE, linewidth=1.1))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size,
            weight=weight, color="#1d2733", linespacing=1.35)


def arrow(ax, start, end, text="", offset=(0.0, 0.12), style="-|>", color=EDGE, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, color=color,
                                 linewidth=1.1, connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text,
                ha="center", va="center", fontsize=9, color="#1d2733")


def memory(ax, x, y, w, h, rows=8, cols=5, label="memory $M_t$\n$N$ slots $\\times$ $W$"):
    cell_w, cell_h = w / cols, h / rows
    for i in range(rows):
        for j in range(cols):
            shade = 0.93 - 0.25 * ((i * 7 + j * 3) % 5) / 4
            ax.add_patch(Rectangle((x + j * cell_w, y + i * cell_h), cell_w, cell_h,
                                   facecolor=(shade, shade, shade), edgecolor="white",
                                   linewidth=0.8))
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=EDGE, linewidth=1.1))
    ax.text(x + w / 2, y - 0.25, label, ha="center", va="top", fontsize=9, color="#1d2733")


def frame(ax, title):
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.9, 7.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=12, weight="bold", color="#1d2733", pad=4)


def controller(ax):
    box(ax, 0.3, 2.3, 2.3, 1.9, "controller\n(LSTM)", CONTROLLER, size=10.5, weight="bold")
    arrow(ax, (1.45, 0.9), (1.45, 2.28), "input $x_t$", offset=(0.0, -0.62))
    arrow(ax, (1.45, 4.22), (1.45, 5.7), "output $y_t$", offset=(0.0, 0.78))


def draw_ntm(ax):
    frame(ax, "Neural Turing Machine (2014)")
    controller(ax)
    box(ax, 3.3, 4.4, 3.1, 1.4, "write head\nerase $e_t$, add $v_t$", HEAD)
    box(ax, 3.3, 0.6, 3.1, 1.4, "read head\nread vector $r_t$", HEAD)
    box(ax, 3.3, 2.55, 3.1, 1.3,
        "each head addresses:\ncontent $\\to$ gate $\\to$\nshift $\\to$ sharpen",
        "#f4f4f4", size=8.5)
    memory(ax, 7.1, 1.0, 2.6, 4.6)
    arrow(ax, (2.62, 3.7), (3.28, 5.0))
    arrow(ax, (3.28, 1.3), (2.62, 2.8), "$r_t$", offset=(0.32, 0.1))
    arrow(ax, (6.42, 5.1), (7.08, 4.6), "write", offset=(0.1, 0.3))
    arrow(ax, (7.08, 1.8), (6.42, 1.3), "read", offset=(0.1, -0.3))
    ax.text(5.0, 6.55, "slots found by content or by\nshifting the last weighting $\\pm 1$",
            ha="center", va="center", fontsize=8.5, style="italic", color="#44515e")


def draw_dnc(ax):
    frame(ax, "Differentiable Neural Computer (2016)")
    controller(ax)
    box(ax, 3.3, 4.4, 3.1, 1.4, "write head\nallocation $a_t$ or content\nerase $e_t$, write $v_t$",
        HEAD, size=8.8)
    box(ax, 3.3, 0.6, 3.1, 1.4,
        "$R$ read heads, each mixing\nbackward, content, forward\nread vectors $r_t^i$",
        HEAD, size=8.3)
    box(ax, 3.3, 2.55, 1.45, 1.3, "usage $u_t$\nfree gates", DNC_EXTRA, size=8.3)
    box(ax, 4.95, 2.55, 1.45, 1.3, "links $L_t$\nprecedence $p_t$", DNC_EXTRA, size=8.0)
    memory(ax, 7.1, 1.0, 2.6, 4.6)
    arrow(ax, (2.62, 3.7), (3.28, 5.0), "$\\xi_t$", offset=(-0.3, 0.3))
    arrow(ax, (3.28, 1.3), (2.62, 2.8), "$r_t^i$", offset=(0.32, 0.1))
    arrow(ax, (6.42, 5.1), (7.08, 4.6), "write", offset=(0.1, 0.3))
    arrow(ax, (7.08, 1.8), (6.42, 1.3), "read", offset=(0.1, -0.3))
    arrow(ax, (4.02, 4.36), (4.02, 3.9), style="<|-|>")
    arrow(ax, (5.67, 4.36), (5.67, 3.9), style="-|>")
    arrow(ax, (5.67, 2.5), (5.67, 2.04), style="-|>")
    arrow(ax, (4.02, 2.04), (4.02, 2.5), style="-|>")
    ax.text(5.0, 6.55,
            "slots found by content, by allocating the\n"
            "least used one, or along the order of writes",
            ha="center", va="center", fontsize=8.5, style="italic", color="#44515e")


def draw(out: Path = OUT) -> Path:
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "memlab",
                         "font.family": "DejaVu Sans"})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.9))
    draw_ntm(left)
    draw_dnc(right)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.01, wspace=0.06)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="SVG file to write (%(default)s)")
    args = parser.parse_args(argv)
    print(draw(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
