"""The README's ten-line example runs (with fewer training steps)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def ten_line_example() -> str:
    text = README.read_text()
    section = text.split("## memlab in ten lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_is_at_most_ten_lines_and_runs(capsys, monkeypatch):
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    code = ten_line_example()
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) <= 10, f"the example has {len(lines)} lines"
    assert "steps=1000" in code
    namespace: dict = {}
    exec(compile(code.replace("steps=1000", "steps=3"), "README example", "exec"), namespace)
    out = capsys.readouterr().out
    assert "bit" in out.lower() and "14" in out
    assert namespace["logits"].shape[-1] == 8
    assert namespace["trace"].write_weights.shape[-1] == 16
