"""The layering rule of the developers' guide: each module of the package and its layer.  tests/test_layering.py
checks the imports against it, and tests/test_docs_link_checker.py the README's table of layers.  A helper module,
not a test module: no test module imports another.
"""

from __future__ import annotations

#: Each module's layer, from the bottom.  A module may import its own layer and the layers below.
LAYERS: dict[str, int] = {
    # the engine: Value, the graph walk, grad mode, each op's derivative, how numbers print, what its refusals say to
    # write instead; seeds (numpy only); opening files; argument checks
    "engine": 0, "grad_mode": 0, "ops": 0, "printing": 0, "write_instead": 0, "seeds": 0, "files": 0, "checks": 0,
    # differentiable functions
    "functional": 1, "autodiff": 1,
    # networks, costs, the model file format
    "nn": 2, "losses": 2, "serialization": 2,
    # training, optimizers and their saved state, data, drawings, plots, gradient checks; the package's own namespace
    "optim": 3, "optim_state": 3, "training": 3, "data": 3, "viz": 3, "player": 3, "dependency_tree": 3, "plots": 3,
    "graph": 3, "notation": 3,
    "testing": 3, "testing.strategies": 3, "testing.expressions": 3, "__init__": 3, "calculus": 3,
    # programs
    "demo": 4, "cli": 4, "__main__": 4,
}
