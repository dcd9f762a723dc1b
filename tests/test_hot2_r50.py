"""Round 50, the x² update's batches: the rows batches() takes by ndarray.take are the ones x[idx] took (same numbers,
dtype, layout, order for a seed), fit's samples are read-only views as before, and text samples name their first
element and its index."""

import numpy as np
import pytest

from tinygrad_edu import Value, data, nn, optim, training
from tinygrad_edu.losses import squared_error

_R = np.random.default_rng(5)
LAYOUTS = {
    "1-D": _R.random(11),
    "2-D": _R.random((11, 3)),
    "2-D Fortran": np.asfortranarray(_R.random((11, 3))),
    "3-D Fortran": np.asfortranarray(_R.random((11, 3, 2))),
    "3-D strided": _R.random((11, 6, 2))[:, ::2],
    "float32": _R.random((11, 2)).astype(np.float32),
    "ints": np.arange(22).reshape(11, 2),
    "no features": np.zeros((11, 0)),
    "objects": np.array([1, 2.5, 3] * 3 + [4, 5], dtype=object),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_shuffled_batches_are_the_rows_fancy_indexing_took(name: str) -> None:
    x = LAYOUTS[name]
    y = np.arange(11.0)
    order = np.random.default_rng(3).permutation(11)  # (what batches draws from seed 3, for its first pass)
    got = list(data.batches(x, y, 4, seed=3))
    assert [len(bx) for bx, _ in got] == [4, 4, 3]
    for k, (bx, by) in enumerate(got):
        want = x[order[4 * k:4 * k + 4]]
        assert bx.dtype == want.dtype and bx.shape == want.shape and bx.strides == want.strides
        assert np.array_equal(bx, want) and np.array_equal(by, y[order[4 * k:4 * k + 4]])
        assert bx.flags.writeable and not np.shares_memory(bx, x)  # (a copy: changing it leaves x be)


def test_later_passes_draw_from_the_same_generator_as_before() -> None:
    x, rng, mine = np.arange(20.0).reshape(10, 2), np.random.default_rng(7), np.random.default_rng(7)
    loader = data.batches(x, np.arange(10.0), 3, seed=rng)
    for _ in range(3):
        order = mine.permutation(10)
        assert np.array_equal(np.concatenate([bx for bx, _ in loader]), x[order])


def test_fit_gives_each_batch_as_a_read_only_value_of_its_own() -> None:
    seen: list[Value] = []

    class Keeper(nn.Module):
        def __init__(self) -> None:
            self.weight = Value(np.ones((1, 1), np.float32))

        def __call__(self, inputs: Value) -> Value:
            seen.append(inputs)
            return inputs @ self.weight

    inputs, targets = data.xsquared(20, seed=1)
    model = Keeper()
    training.fit(model, inputs.astype(np.float32), targets, cost=squared_error,
                 optimizer=optim.GradientDescent(model, 0.1),
                 episodes=1, batch_size=5, seed=0, progress=False)
    batches = [v for v in seen if v.shape == (5, 1)]
    assert len(batches) == 4 and len({id(v) for v in batches}) == 4
    order = np.random.default_rng(0).permutation(20)
    for k, v in enumerate(batches):
        assert v.dtype == np.float32 and not v.requires_grad and not v.data.flags.writeable
        assert np.array_equal(v.data, inputs[order[5 * k:5 * k + 5]].astype(np.float32))
    assert all(v.data.base is None for v in batches)  # (a batch's own copy: no view of a larger array)


@pytest.mark.parametrize("batch_size", [5, 2000])  # (a small batch's own copy, and a large batch's view)
def test_a_model_writing_into_its_mini_batch_is_told_it_is_read_only(batch_size: int) -> None:
    class Writer(nn.Module):
        def __init__(self) -> None:
            self.weight = Value(np.ones((1, 1)))

        def __call__(self, inputs: Value) -> Value:
            inputs.data[0] = 0.0
            return inputs @ self.weight

    inputs, targets = data.xsquared(2000, seed=1)
    kept = inputs.copy()
    model = Writer()
    with pytest.raises(ValueError, match="^fit: the model wrote into a read-only array"):
        training.fit(model, inputs, targets, cost=squared_error, optimizer=optim.GradientDescent(model, 0.1),
                     episodes=1, batch_size=batch_size, seed=0, progress=False)
    assert np.array_equal(inputs, kept)


@pytest.mark.parametrize("func", ["train_test_split", "batches"])
@pytest.mark.parametrize("inputs, found", [
    (np.arange(10.0).reshape(5, 2).astype(str), r"<U32 holding str '0\.0' at index \(0, 0\)"),
    ([[1.0, "2"]] * 5, r"<U32 holding str '2' at index \(0, 1\)"),  # (the user's own text, not numpy's '1.0')
    ([1, 2, "three", 4, 5], r"<U21 holding str 'three' at index 2"),
    (np.array([b"1", b"2", b"3", b"4", b"5"]), r"\|S1 holding bytes b'1' at index 0"),
    ([[1.0, None]] * 5, r"object holding None at index \(0, 1\)"),
])
def test_text_samples_name_their_first_element_and_its_index(func: str, inputs: object, found: str) -> None:
    call = (lambda: data.train_test_split(inputs, np.arange(5.0))) if func == "train_test_split" else \
        (lambda: data.batches(inputs, np.arange(5.0), 2))
    with pytest.raises(TypeError, match=rf"^{func}: the inputs must be real numbers \(bool, int or float\), got dtype "
                                        rf"{found}: "):
        call()


def test_text_targets_of_batches_name_their_first_element() -> None:
    with pytest.raises(TypeError, match=r"got dtype <U21 holding str 'b' at index \(1, 0\): numbers read as text"):
        data.batches(np.zeros((3, 1)), [[1], ["b"], [3]], 2)
