"""The introduction's figure of the two machines: committed, referenced, redrawn by its script."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "book" / "images" / "machines.svg"
SCRIPT = ROOT / "scripts" / "draw_machines.py"


def _text_of(svg: str) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_the_intro_shows_the_figure_of_both_machines():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "```{figure} images/machines.svg" in intro
    assert re.search(r":alt: \S.{40,}", intro), "the figure needs a real alt text"
    assert FIGURE.is_file()


def test_the_committed_figure_is_what_the_script_draws(tmp_path):
    out = tmp_path / "machines.svg"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True,
                   capture_output=True, text=True)
    drawn = out.read_text()
    assert drawn == FIGURE.read_text(), "run scripts/draw_machines.py and commit the SVG"
    words = _text_of(drawn)
    for label in ("Neural Turing Machine", "Differentiable Neural Computer", "controller",
                  "write head", "read head", "each head addresses", "backward, content, forward",
                  "free gates"):
        assert label in words, label
