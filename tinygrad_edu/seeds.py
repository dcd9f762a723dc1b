"""Where random numbers come from: one rule for every ``seed=``/``rng=`` argument in the package.

Numpy only, imported by the layers, the optimizers and the data; nothing here knows about Values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Seed", "generator", "second_stream"]

#: An int seed (the same numbers every time), a numpy Generator (shared: each use continues it), or None (seeded
#: from numpy's global random state: different every run, unless the script called ``np.random.seed``).
Seed = int | np.random.Generator | None

#: What to write when this package's two words for a seed are swapped (data, fit and check_gradients say ``seed=``;
#: layers, networks and RandomSearch say ``rng=``): advice for :func:`tinygrad_edu.checks.pytorch_keywords`.
USE_RNG = {"seed": "it is called rng= here (an int or a numpy Generator), as for layers, networks and RandomSearch"}
USE_SEED = {"rng": "it is called seed= here (an int or a numpy Generator), as for the data, fit and check_gradients"}
#: Other libraries' words for both, PyTorch's ``generator=`` (a ``torch.Generator``) and scikit-learn's
#: ``random_state=``: the advice for their keywords.
GENERATOR_AS_RNG = {"generator": "give the numpy Generator as rng= here",
                    "random_state": "it is called rng= here (an int or a numpy Generator)"}
GENERATOR_AS_SEED = {"generator": "give the numpy Generator as seed= here",
                     "random_state": "it is called seed= here (an int or a numpy Generator)"}


def generator(seed: Seed, where: str, *, name: str = "the seed") -> np.random.Generator:
    """The numpy ``Generator`` for ``seed``; a bad seed is an error naming ``where`` it was given (and the seed as
    ``name``: ``seed`` where the function's other settings are named so too).

    ``None`` takes its seed from numpy's global random state, as scikit-learn's ``random_state=None`` does and as
    PyTorch's initialisers follow ``torch.manual_seed``: a notebook that starts with ``np.random.seed(0)`` (the
    seed's ``np.random.rand`` habit) gives the same networks and shuffles every time it is run.

        >>> int(generator(0, "example").integers(10)) == int(generator(0, "example").integers(10))
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(np.random.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{where}: {name} must be an int >= 0, got {seed}")
        return np.random.default_rng(seed)
    raise TypeError(f"{where}: {name} must be an int >= 0, a numpy Generator or None, got {type(seed).__name__}"
                    f"{_GENERATOR_FROM.get(type(seed).__name__, '')}")


#: What makes a Generator of numpy's other seeds: a SeedSequence (numpy's way to seed the members of an ensemble,
#: ``SeedSequence(0).spawn(10)``, one each), a bit generator, the legacy RandomState.
_GENERATOR_FROM = {
    "SeedSequence": "; make a Generator of it, np.random.default_rng(sequence) (one per member of an ensemble: "
                    "[np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(10)])",
    **dict.fromkeys(("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"),
                    "; make a Generator of it, np.random.Generator(bit_generator)"),
    "RandomState": "; numpy's legacy RandomState is not taken: give np.random.default_rng(seed)",
}


def second_stream(seed: int, where: str = "second_stream") -> np.random.Generator:
    """A second stream of numbers from the int ``seed``, unrelated to the first, ``generator(seed)``'s.

    For the random changes of :class:`tinygrad_edu.optim.RandomSearch` beside a network and data made with the same
    seed: ``rng=seed`` there would draw their numbers again (the first change of an ``init="xavier"`` network a
    multiple of its first layer's weights, the demo's first change of W¹ a tenth of its first 12 samples).  The
    command line's ``train --optimizer random``, the demo, notebook 3 and the README's cost figure all take it.

        >>> from tinygrad_edu import nn, optim
        >>> net = nn.MLP([1, 8, 1], init="xavier", rng=0)
        >>> search = optim.RandomSearch(net, scale=0.1, rng=second_stream(0))
        >>> bool(second_stream(0).random() == second_stream(0).random() != generator(0, "example").random())
        True
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):  # a Generator has no second stream here
        given = isinstance(seed, np.random.Generator)
        shared = ("; a Generator is one stream already: give the same Generator to the network and the search (each "
                  "use continues it), or generator.spawn(1)[0] for one of its own") if given else ""
        raise TypeError(f"{where}: the seed of a second stream must be an int >= 0, got {type(seed).__name__}{shared}")
    if seed < 0:
        raise ValueError(f"{where}: the seed must be an int >= 0, got {seed}")
    return np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(1)[0])


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
