"""Round 45's own changes outside the helpers' files: an optimizer's refusal of numbers a walk holds read-only."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_threads import a_walk_held_in_another_thread

from tinygrad_edu import Value, optim


@pytest.mark.parametrize("make", [lambda ps: optim.GradientDescent(ps, 0.1), lambda ps: optim.SGD(ps, 0.1),
                                  lambda ps: optim.Adam(ps, 0.1)], ids=["GradientDescent", "SGD", "Adam"])
def test_a_step_during_another_threads_walk_under_detect_anomaly_names_that_walk(make) -> None:
    w = Value(np.ones(3))
    w.grad = np.full(3, 0.5)
    optimizer = make([w])
    with a_walk_held_in_another_thread(w):
        held = r"holds read-only numbers: a backward pass under detect_anomaly \(in another thread\) holds them"
        with pytest.raises(ValueError, match=held + r" read-only until it ends; step after it") as e:
            optimizer.step()
        assert "p.data = p.data.copy()" not in str(e.value)  # (that copy would cut w off from the walk's graph)
    np.testing.assert_array_equal(w.data, np.ones(3))  # the refused step changed nothing
    w.grad = np.full(3, 0.5)
    optimizer.step()  # after the walk: a step as any other
    assert not np.array_equal(w.data, np.ones(3))


def test_a_read_only_parameter_held_by_no_walk_is_still_told_to_copy() -> None:
    w = Value(np.ones(3))
    w.data.flags.writeable = False
    w.grad = np.full(3, 0.5)
    with pytest.raises(ValueError, match=r"holds read-only numbers \(its \.data was set to a read-only array.*"
                                         r"p\.data = p\.data\.copy\(\)"):
        optim.GradientDescent([w], 0.1).step()


def test_home_advice_names_expanduser_only_for_a_path_that_starts_with_a_tilde(tmp_path) -> None:
    from tinygrad_edu import files

    assert files.home_advice("~/data/model.npz") == (" ('~' is not your home folder here, as for open(): give "
                                                     "os.path.expanduser(path))")
    assert files.home_advice(b"~/x", "root").endswith("os.path.expanduser(root))")
    assert files.home_advice(tmp_path / "model.npz") == ""
    with pytest.raises(TypeError, match=r"^home_advice: "):
        files.home_advice(3)  # type: ignore[arg-type]
