"""A student works through the seed section by section and makes the natural first-hour mistakes.

Section 6.1's second-derivative test: ``classify_stationary_point(f, x)`` (the function and a point, as
``stationary_point`` takes them) read f as "eigenvalues of dtype object"; it now says the test takes the Hessian's
eigenvalues, and its advice, ``stationary_point(f, x).kind``, pasted, classifies x against the closed form f''.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu.calculus import classify_stationary_point, stationary_point


def _cubic(x):
    return x ** 3 - 2 * x ** 2 + x  # f' = 3x² − 4x + 1 = 0 at 1/3 and 1; f'' = 6x − 4: −2 there, 2 here


@pytest.mark.parametrize("f", [_cubic, lambda x: x ** 3 - 2 * x ** 2 + x])
def test_classify_given_the_function_says_it_takes_eigenvalues_and_its_advice_works(f) -> None:
    with pytest.raises(TypeError) as caught:
        classify_stationary_point(f, 1.0)
    message = str(caught.value)
    assert message.startswith("classify_stationary_point: ") and "eigenvalues" in message, message
    advice = re.search(r"(stationary_point\(f, x\)\.kind)", message)
    assert advice is not None, message
    for x, expected in ((1.0, "minimum"), (1 / 3, "maximum")):
        assert eval(advice.group(1), {"stationary_point": stationary_point, "f": f, "x": x}) == expected
        second = 6 * x - 4  # the closed form f''(x) at the point
        assert classify_stationary_point([second]) == expected
