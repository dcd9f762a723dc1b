"""Drawings read back as a person or a program sees them: a graph's nodes, edges and layer boxes as Graphviz itself
reads its DOT source (``dot -Tjson0``), and WCAG's contrast of two colours.  A helper module, not a test module: no
test module imports another.  The functions that read DOT need Graphviz's ``dot`` program.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import numpy as np

from tinygrad_edu import Value


def recurrent_chain(steps: int) -> Value:
    """``s = tanh(s * w + b)`` ``steps`` times: w and b are used by every step (a graph slow for dot to lay out)."""
    w, b = Value(0.9, label="w"), Value(0.1, label="b")
    s = Value(1.0, requires_grad=False, label="x")
    for _ in range(steps):
        s = (s * w + b).tanh()
    return s


# --- a drawing as Graphviz reads it ---------------------------------------------------------------------------------
def dot_json(graph: Any) -> dict:
    """The drawing as Graphviz itself reads it: JSON of its nodes, clusters and edges."""
    out = subprocess.run(["dot", "-Tjson0"], input=graph.source.encode("utf-8"), capture_output=True, check=True)
    return json.loads(out.stdout)


def bold_text(label: str | None) -> str | None:
    """The text between <B> and </B> of an HTML label (None if there is none)."""
    found = re.search(r"<B>(.*?)</B>", label or "")
    return found.group(1) if found else None


def dot_nodes(graph: Any) -> dict[str, dict]:
    """Graphviz node name → its attributes."""
    return {o["name"]: o for o in dot_json(graph)["objects"] if "nodes" not in o and "subgraphs" not in o
            and not o["name"].startswith("%")}


def dot_clusters(graph: Any) -> dict[str | None, set[str]]:
    """Each layer box's title → the bold names (or Graphviz names, for unnamed nodes) of the nodes inside it."""
    data = dot_json(graph)
    objects = data["objects"]
    boxes = {}
    for o in objects:
        if o["name"].startswith("cluster"):
            boxes[bold_text(o["label"])] = {bold_text(objects[i].get("label", "")) or objects[i]["name"]
                                            for i in o["nodes"]}
    return boxes


def dot_edges(graph: Any) -> list[tuple[str, str, dict]]:
    """(tail's name, head's name, the edge's attributes) of every edge."""
    data = dot_json(graph)
    names = {o["_gvid"]: o["name"] for o in data["objects"] if "nodes" not in o and "subgraphs" not in o
             and not o["name"].startswith("%")}
    return [(names[e["tail"]], names[e["head"]], e) for e in data.get("edges", [])]


# --- WCAG 2.x contrast ----------------------------------------------------------------------------------------------
NAMED = {"white": "#ffffff", "black": "#000000"}


def _rgb(color: str) -> np.ndarray:
    color = NAMED.get(color.lower(), color.lower())
    if re.fullmatch(r"#[0-9a-f]{3}", color):
        color = "#" + "".join(2 * c for c in color[1:])
    assert re.fullmatch(r"#[0-9a-f]{6}", color), color
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def _luminance(color: str) -> float:
    c = _rgb(color)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio (L1 + 0.05) / (L2 + 0.05), 1 to 21."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
