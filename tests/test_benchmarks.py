"""benchmarks/step_time.py runs end to end (a smoke test: its figures are not checked here)."""
import sys
import warnings
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import step_time  # noqa: E402


@pytest.fixture(autouse=True)
def restore_global_settings():
    """main() sets threads, turns torch's compile cache off and filters warnings: undo it."""
    threads, caches_off = torch.get_num_threads(), torch.compiler.config.force_disable_caches
    with warnings.catch_warnings():
        yield
    torch.set_num_threads(threads)
    torch.compiler.config.force_disable_caches = caches_off


def test_step_time_prints_both_tables_and_a_learning_line(capsys, monkeypatch):
    monkeypatch.setenv("MEMLAB_PROGRESS", "off")
    step_time.main(["--no-compile", "--no-public", "--repeats", "1", "--warmup", "0",
                    "--learn-seconds", "0.1", "--learn-seeds", "0"])
    out = capsys.readouterr().out
    assert out.count("memlab eager") == 2 and out.count("naive") >= 2
    # 0.1 s is far too short to learn copy: the line must say so rather than claim success
    assert "seed 0: NOT reached after 50 steps" in out


def test_learning_prints_a_table_and_says_when_a_seed_fails(capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import learning

    assert learning.seeds_of("0-2,5") == [0, 1, 2, 5]
    learning.main(["--only", "dnc-copy", "--seeds", "0", "--steps", "2"])
    out = capsys.readouterr().out
    assert "seed   0: NOT reached at step     2" in out  # 2 steps cannot learn copy
    assert "dnc-copy      0 / 1" in out and out.rstrip().endswith("yes")
