"""memlab.validation: the one place that words an argument error."""
import pytest

from memlab.validation import integer, positive_number


def test_integer_accepts_and_returns_ints_in_range():
    assert integer("n", 3, 1) == 3
    assert integer("level", 0, 0, 2) == 0 and integer("level", 2, 0, 2) == 2


@pytest.mark.parametrize("value,minimum,maximum,message", [
    (0, 1, None, "n must be a positive integer, got 0"),
    (True, 1, None, "n must be a positive integer, got True"),
    (2.0, 1, None, "n must be a positive integer, got 2.0"),
    (-1, 0, None, "n must be an integer >= 0, got -1"),
    (3, 0, 2, r"n must be an integer in \[0, 2\], got 3"),
    ("4", None, None, "n must be an integer, got '4'"),
])
def test_integer_names_the_argument_and_what_it_should_be(value, minimum, maximum, message):
    with pytest.raises(ValueError, match=message):
        integer("n", value, minimum, maximum)


@pytest.mark.parametrize("value", [0, -1e-3, float("nan"), float("inf"), True, "1"])
def test_positive_number_refuses(value):
    with pytest.raises(ValueError, match="lr must be a positive number"):
        positive_number("lr", value)


def test_positive_number_accepts_ints_and_floats():
    assert positive_number("lr", 1) == 1.0 and positive_number("lr", 3e-3) == 3e-3


def test_every_module_words_a_bad_size_the_same_way():
    import memlab
    from memlab.curriculum import Curriculum
    from memlab.tasks import CopyTask
    from memlab.train import train

    for call in (lambda: memlab.DNC(9, 8, memory_size=0),
                 lambda: CopyTask(width=0, min_length=1),
                 lambda: Curriculum(({"max_length": 2},), 0.5, patience=0),
                 lambda: train(memlab.LSTMBaseline(9, 8), CopyTask(), steps=0)):
        with pytest.raises(ValueError, match=r"must be (a positive integer|an integer >= 1)"):
            call()
