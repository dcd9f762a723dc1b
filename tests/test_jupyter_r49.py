"""A student in Jupyter (round 49): what a cell's last expression shows.

Defects: a Value of more than three axes printed a wall of numbers as its one-line repr (text/plain), because numpy
summarizes only the axes longer than twice its ``edgeitems``: a (4, 4, 4, 4, 4) Value printed all 1,024 numbers,
15,000 characters on one line, and a conv net's (8, 3, 4, 4) activations 192 of them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Value

_NUMBER = re.compile(r"-?\d+\.\d*(?:e[+-]\d+)?|nan|inf")


def _numbers(text: str) -> list[float]:
    return [float(number) for number in _NUMBER.findall(text.split("shape=")[0])]


def _numbers_in(text: str) -> int:
    return len(_numbers(text))


@pytest.mark.parametrize("shape", [(4, 4, 4, 4, 4), (8, 3, 4, 4), (6, 6, 6, 6)])
def test_a_value_of_many_axes_prints_a_short_summary(shape: tuple[int, ...]) -> None:
    """The one-line repr keeps at most 64 numbers (a summarized 3-d array's 4·4·4), the first and last of each axis,
    and Jupyter's table at most 216 (6·6·6)."""
    data = np.arange(np.prod(shape), dtype=float).reshape(shape) + 0.5
    value = Value(data)
    text = repr(value)
    assert _numbers_in(text) <= 64 and len(text) < 700, text
    assert _numbers(text)[0] == 0.5 and _numbers(text)[-1] == data.size - 0.5, text
    assert f"shape={shape}" in text
    table = value._repr_html_()
    cell = table.split("<pre style='margin:0'>")[1].split("</pre>")[0]
    assert _numbers_in(cell) <= 216 and _numbers(cell)[0] == 0.5 and _numbers(cell)[-1] == data.size - 0.5, cell


def test_up_to_three_axes_print_as_before() -> None:
    """A matrix and a 3-d array keep numpy's summary: 2 numbers at each end of a long axis (3 in the table)."""
    cube = Value(np.arange(1000.0).reshape(10, 10, 10))
    assert _numbers_in(repr(cube)) == 64
    matrix = Value(np.ones((100, 100)))
    assert _numbers_in(repr(matrix)) == 16
    assert _numbers_in(matrix._repr_html_().split("<pre style='margin:0'>")[1]) == 36


def test_the_nan_a_shorter_summary_hides_is_counted() -> None:
    """A NaN that the shorter summary no longer shows is named in the note, as for a summarized matrix."""
    data = np.zeros((4, 4, 4, 4, 4))
    data[1, 1, 1, 1, 1] = np.nan
    text = repr(Value(data))
    assert "nan" not in text.split("#")[0] and text.endswith("# data holds 1 NaN"), text


def test_plotting_a_fit_stopped_in_its_first_episode_says_it_was_interrupted() -> None:
    """The notebook's stop button pressed during fit's first episode leaves a History of no episodes, stopped
    "interrupted": plot_history said "has no episodes; train it with fit first", as if fit had never run."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots
    from tinygrad_edu.training import History

    with pytest.raises(ValueError, match=r"^plot_history: run 1 \(Adam\) was interrupted before its first episode "
                                         r"ended; train it for longer$"):
        plots.plot_history(History(label="Adam", stopped="interrupted"))
    with pytest.raises(ValueError, match=r"^plot_history: run 1 \(Adam\) has no episodes; train it with fit first$"):
        plots.plot_history(History(label="Adam"))
