"""Tests of memlab.viz beyond the chapters that draw with it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from memlab import viz  # noqa: E402
from memlab.train import History  # noqa: E402


def history(values):
    return History(step=[50, 100, 150], bit_errors=list(values))


def test_seed_curves_draw_the_mean_and_the_band_from_best_to_worst():
    runs = {"A": [history([4, 2, 1]), history([6, 4, 3])], "B": [history([5, 5, 5])]}
    ax = viz.plot_seed_curves(runs, title="t")
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["A", "B"]
    means = [line.get_ydata().tolist() for line in ax.get_lines()[:2]]
    assert [5.0, 3.0, 2.0] in means and [5.0, 5.0, 5.0] in means
    band = ax.collections[0].get_paths()[0].vertices[:, 1]  # the first run's band
    assert band.min() == pytest.approx(1.0) and band.max() == pytest.approx(6.0)
    assert ax.get_title() == "t" and ax.get_ylabel() == "bit errors per sequence"
    plt.close(ax.figure)


@pytest.mark.parametrize("runs", [{}, {"A": []}])
def test_seed_curves_need_histories(runs):
    with pytest.raises(ValueError, match="runs"):
        viz.plot_seed_curves(runs)
