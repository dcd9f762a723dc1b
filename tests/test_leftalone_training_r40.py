"""Loose ends of a teacher's lecture on training, each failing before its fix: ``np.array_equal(ds, ds)`` of a
Dataset answered False (numpy caught the refusal of ``np.array(ds)`` and took it for "not equal"), even for a
Dataset and itself; ``x, y = ds[0]``, PyTorch's first sample, unpacked the inputs' first two rows into x and y,
silently, where there were two samples (else Python's bare "too many values to unpack"), and so did
``for x, y in ds``; the README did not say that stationary_point's point for a single-number start has shape (1,).
The refusals of (d) an interrupted Armijo step's cost= and (f) a hand loop's stale Values were found right.
"""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import calculus, data, losses, nn, optim


def _two_samples() -> data.Dataset:
    return data.Dataset(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]))


@pytest.mark.parametrize("compare", [np.array_equal, np.array_equiv])
def test_array_equal_of_datasets_is_refused_with_advice_not_answered_false(compare: object) -> None:
    """np.array_equal and np.array_equiv catch every error of making an array and answer False: a Dataset and
    itself were "not equal".  A TypeError saying that == compares two Datasets; == itself says True."""
    ds = _two_samples()
    with pytest.raises(TypeError, match=r"^np\.array_equ(al|iv): a Dataset is the pair \(inputs, labels\), not one "
                                        r"array: a == b says whether two Datasets hold the same numbers"):
        compare(ds, ds)  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"a == b says"):
        compare(ds.inputs, ds)  # type: ignore[operator]
    assert ds == _two_samples() and ds != data.Dataset(ds.inputs + 1, ds.labels)
    assert np.array_equal(ds.inputs, _two_samples().inputs)  # (its arrays compare as numpy's)


def test_other_numpy_functions_still_say_what_np_array_of_a_dataset_says() -> None:
    """np.concatenate([a, b]), np.mean(ds): the message of np.array(ds), which says how to join samples."""
    ds = _two_samples()
    for call in (lambda: np.concatenate([ds, ds]), lambda: np.mean(ds), lambda: np.shape(ds)):
        with pytest.raises(TypeError, match=r"^Dataset: a Dataset is the pair \(inputs, labels\), not one array "
                                            r"\(np\.array would stack"):
            call()


@pytest.mark.parametrize("samples", [2, 5])
def test_pytorch_style_sample_unpacking_of_ds_index_is_refused_with_the_sample(samples: int) -> None:
    """PyTorch's ``x, y = dataset[0]`` is sample 0 and its label; here ds[0] is all the inputs: two samples' inputs
    unpacked into x and y (rows 0 and 1), silently, and five raised Python's bare "too many values to unpack"."""
    ds = data.Dataset(np.arange(2.0 * samples).reshape(samples, 2), np.arange(samples))
    with pytest.raises(TypeError, match=r"^Dataset: ds\[0\] is the inputs, all of them \(a Dataset is the pair "
                                        r"\(inputs, labels\)\), not sample 0: for sample 0 and its label, as "
                                        r"PyTorch's dataset\[0\], x, y = ds\.inputs\[0\], ds\.labels\[0\]"):
        x, y = ds[0]
    with pytest.raises(TypeError, match=r"^Dataset: ds\[1\] is the labels, all of them .*not sample 1: .* "
                                        r"ds\.inputs\[1\], ds\.labels\[1\]"):
        x, y = ds[1]
    with pytest.raises(TypeError, match=r"^Dataset: ds\[-1\] is the labels"):
        x, y = ds[-1]
    x, y = ds.inputs[1], ds.labels[1]  # (the advice, as written, gives sample 1)
    assert np.array_equal(x, [2.0, 3.0]) and y == 1
    inputs, labels = ds  # (the pair unpacks, and its items are the arrays)
    first = ds[0]
    assert first is ds.inputs and ds[1] is ds.labels and inputs is ds.inputs and labels is ds.labels


def test_a_for_loop_unpacking_samples_of_a_dataset_is_refused_with_zip() -> None:
    """``for x, y in ds`` went through the pair, not the samples: with two samples x and y were the inputs' two rows,
    then the two labels, silently.  A TypeError giving zip, which goes through the samples."""
    ds = _two_samples()
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in ds goes through the pair \(inputs, labels\), not "
                                        r"through the samples: for sample and label, as in PyTorch, "
                                        r"for x, y in zip\(ds\.inputs, ds\.labels\)"):
        for x, y in ds:
            print(x, y)  # (never reached)
    pairs = [(x.tolist(), int(y)) for x, y in zip(ds.inputs, ds.labels)]
    assert pairs == [([1.0, 2.0], 0), ([3.0, 4.0], 1)]
    assert [array is got for array, got in zip(ds, (ds.inputs, ds.labels))] == [True, True]
    for array in ds:  # (one name: the pair's arrays, one after the other)
        assert array is ds.inputs or array is ds.labels
    train, test = data.train_test_split(*_two_samples(), test_fraction=0.5, seed=0)
    for inputs, labels in (train, test):  # (a loop over Datasets unpacks each into its pair, as it did)
        assert inputs.shape == (1, 2) and labels.shape == (1,)
    assert len(list(ds)) == 2 and list(ds)[1] is ds.labels  # (list() goes through the pair)


def test_the_readme_says_a_single_number_start_gives_a_point_of_shape_1_and_how_to_read_it() -> None:
    """stationary_point(f, 0.5) gives ``point`` of shape (1,), as scipy's minimize gives x, which its docstring said
    and the README, where a teacher of 6.1 reads, did not (``float(found.point)`` is numpy's TypeError there)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    said = " ".join(readme.split())
    assert "of shape (1,) for a single-number start (`float(found.point[0])`)" in said
    found = calculus.stationary_point(lambda x: (x - 0.25) ** 2, 0.5)
    assert found.point.shape == (1,) and found.kind == "minimum"
    assert float(found.point[0]) == pytest.approx(0.25, abs=1e-12)


def test_an_interrupted_armijo_step_refuses_the_old_cost_and_its_advice_resumes() -> None:
    """(d) Ctrl-C in the closure of an Armijo step puts the numbers back, bit for bit, and counts as a change (as
    the README says of any step, even one that put the numbers back: a second Ctrl-C could stop it halfway), so the
    cost= of before is refused; the message's advice, a new forward and backward pass, resumes with a descent step."""
    x = np.linspace(-1.0, 1.0, 20).reshape(-1, 1)
    net = nn.MLP([1, 3, 1], rng=0, output_activation="identity")
    search = optim.Armijo(net)
    interrupt = [True]

    def closure() -> object:
        if interrupt.pop() if interrupt else False:
            raise KeyboardInterrupt
        return losses.squared_error(net(x), x ** 2)

    cost = losses.squared_error(net(x), x ** 2)
    cost.backward()
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(KeyboardInterrupt):
        search.step(closure, cost=cost)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    with pytest.raises(ValueError, match=r"cost= was computed before parameter 0 \('W\^1'.*compute it again"):
        search.step(closure, cost=cost)
    search.zero_grad()
    again = losses.squared_error(net(x), x ** 2)
    again.backward()
    search.step(closure, cost=again)
    assert search.last_step_size is not None and search.last_cost is not None
    assert search.last_step_size > 0 and search.last_cost < float(again)


def test_indexing_made_from_c_is_not_taken_for_pytorchs_sample_unpacking() -> None:
    """``operator.itemgetter(0)`` indexes each Dataset from C, where the caller's instruction under way is the call
    of ``list``, whose result two names unpack: the two Datasets' inputs, which is right, and was refused as
    ``x, y = ds[0]``.  Only an index written ``ds[0]`` there is looked at."""
    first, second = _two_samples(), data.Dataset(np.ones((3, 2)), np.zeros(3))
    a, b = list(map(operator.itemgetter(0), [first, second]))
    assert a is first.inputs and b is second.inputs
    c, d = map(iter, [first, second])  # (nor iter() from C, whose result is then unpacked)
    assert next(c) is first.inputs and next(d) is second.inputs
