"""The backpropagation player's step tables with long labels, in a real browser: numbers never split over two
lines (a long cost label keeping the table inside its panel is in test_drawings_for_slides).  Each
test failed before its fix."""

from __future__ import annotations

import shutil

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import backprop_player

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

_SPLIT_WORDS = """var out = [];  // short words (numbers, "(mul)", ".grad") that the table broke over two lines
    document.querySelectorAll('.explanation td, .explanation th').forEach(function (cell) {
      var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), node;
      while ((node = walker.nextNode())) {
        var words = /\\S+/g, m;
        while ((m = words.exec(node.data))) {
          if (m[0].length > 12) { continue; }  // a long label may wrap anywhere
          var range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          var tops = {};
          Array.from(range.getClientRects()).forEach(function (r) { tops[Math.round(r.top)] = true; });
          if (Object.keys(tops).length > 1) { out.push(m[0]); }
        }
      }
    });
    return out;"""


@needs_dot
def test_a_long_label_does_not_split_the_numbers_of_the_steps_table(browser, tmp_path):
    """A Value with a long label (200 characters) next to small gradients: the table of the backward step squeezed
    the arriving and product columns to a few characters, so ``4.021e-15`` read as ``4.021e-`` over ``15``, and the
    last step's ``= .grad`` as ``= .g / ra / d`` (screenshot at 800×600, #step=9)."""
    w = Value(-1.2345e-3, label="w" * 200)
    v = Value(-3.21e-4, label="v")
    player = backprop_player((w * v * -7.123e-5) ** 2)
    url = player.save(tmp_path / "long.html").resolve().as_uri()
    split = {}
    try:
        browser.set_window_size(800, 600)
        for k in (len(player) - 2, len(player) - 1, len(player)):
            browser.get("about:blank")
            browser.get(f"{url}#step={k}")
            split[k] = browser.execute_script(_SPLIT_WORDS)
            assert browser.execute_script("var p = document.querySelector('.explanation');"
                                          "return p.scrollWidth <= p.clientWidth;"), k  # and no sideways scroll
    finally:
        browser.set_window_size(1200, 900)
    assert all(words == [] for words in split.values()), split

