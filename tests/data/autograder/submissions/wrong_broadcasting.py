from base_correct import *  # noqa: F401,F403

from tinygrad_edu import Op

WEIGHTED_SUM = Op("weighted_sum", lambda a, b, w=0.5: w * a + (1 - w) * b,
                  (lambda g, out, a, b, w=0.5: g * w,
                   lambda g, out, a, b, w=0.5: (g * (1 - w)).mean(axis=0) if g.shape != b.shape else g * (1 - w)))
