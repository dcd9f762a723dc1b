"""Reading an optimizer's setting by the seed's letter (``opt.σ``, ``opt.η``) or by SGD's μ says where the setting
is, exactly as setting it does, instead of Python's plain "object has no attribute"."""
from __future__ import annotations

import pytest

from tinygrad_edu import nn, optim

SETTINGS = {optim.GradientDescent: {"learning_rate": 0.1}, optim.SGD: {"learning_rate": 0.1, "momentum": 0.9},
            optim.Adam: {}, optim.Armijo: {}, optim.RandomSearch: {}, optim.Newton: {}}


def _error(action) -> str:
    with pytest.raises(AttributeError) as error:
        action()
    return str(error.value)


@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("name", ["σ", "α", "μ", "η", "eta"])
def test_reading_a_letter_says_what_setting_it_says(cls, name) -> None:
    opt = cls(nn.MLP([2, 3, 1]), **SETTINGS[cls])
    said_on_reading = _error(lambda: getattr(opt, name))
    said_on_setting = _error(lambda: setattr(opt, name, 0.5))
    assert said_on_reading == said_on_setting
    assert said_on_reading.startswith(f"{cls.__name__} has no attribute {name}: ")
    assert len(said_on_reading) > len(f"{cls.__name__} has no attribute {name}: ") + 10
    assert name not in dir(opt)


def test_the_reading_names_the_setting_of_this_optimizer_or_of_another() -> None:
    sgd = optim.SGD(nn.MLP([2, 3, 1]), learning_rate=0.1, momentum=0.9)
    assert "opt.momentum" in _error(lambda: sgd.μ)
    assert "opt.learning_rate" in _error(lambda: sgd.η)
    assert "setting of Armijo and Newton" in _error(lambda: sgd.σ)
    assert "setting of SGD" in _error(lambda: optim.Adam(nn.MLP([2, 3, 1])).μ)
    assert "opt.initial_step" in _error(lambda: optim.Armijo(nn.MLP([2, 3, 1])).eta)


def test_an_optimizer_of_ones_own_keeps_its_own_letters() -> None:
    class Momentum(optim.SGD):
        def __init__(self, params, μ: float) -> None:
            super().__init__(params, learning_rate=0.1, momentum=μ)
            self.μ = μ

    opt = Momentum(nn.MLP([2, 3, 1]), μ=0.5)
    assert opt.μ == 0.5 and opt.momentum == 0.5
