"""Tests of memlab.viz beyond the chapters that draw with it."""

import re

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


def test_ntm_trace_picture_shows_the_counted_output_steps():
    import torch

    import memlab
    from memlab.tasks import CopyTask

    batch = CopyTask(width=4, min_length=3, max_length=3).batch(2, torch.Generator().manual_seed(0))
    model = memlab.NTM(batch.inputs.shape[-1], 4, memory_size=8)
    with torch.no_grad():
        logits, trace = model(batch.inputs, return_trace=True)
    fig = viz.plot_ntm_trace(batch.inputs, torch.sigmoid(logits), trace, sample=1, mask=batch.mask,
                             title="copy")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "input", "write weighting", "read weighting", "output (probability) on the answer steps"]
    shown = axes[3].images[0].get_array()  # [O, T]: zero off the answer steps
    assert (shown[:, batch.mask[1] == 0] == 0).all()
    assert fig._suptitle.get_text() == "copy"
    plt.close(fig)


def test_animation_html_loads_nothing_from_the_network():
    from matplotlib import animation

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1])
    anim = animation.FuncAnimation(fig, lambda i: (line.set_ydata([0, i]),), frames=3)
    page = viz.animation_html(anim)
    plt.close(fig)
    assert "<link" not in page and "https://" not in page and "http://" not in page
    assert 'class="fa ' not in page  # every icon replaced
    assert "\u25b6" in page and "\u23f8" in page  # play and pause are still labelled
    assert "<img" in page or "data:image" in page  # the frames are embedded


def test_animation_html_gives_its_frames_alt_text():
    from matplotlib import animation

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1])
    anim = animation.FuncAnimation(fig, lambda i: (line.set_ydata([0, i]),), frames=2)
    page = viz.animation_html(anim, alt='memory "filling" up')
    plt.close(fig)
    images = re.findall(r"<img id=\"_anim_img\w*\"[^>]*>", page)
    assert images and all('alt="memory &quot;filling&quot; up"' in tag for tag in images)
    assert "alt=" not in viz.animation_html(anim)
