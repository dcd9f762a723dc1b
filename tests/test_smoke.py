import numpy as np

from tinygrad_edu import Value


def test_product_rule_closed_form():
    x = Value(3.0)
    y = x * x + 2 * x
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * 3.0 + 2)
