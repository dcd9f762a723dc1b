"""Reading the advice tables' formulas (tinygrad_edu.write_instead) out of their prose, for the tests that run them.
A helper module, not a test module: no test module imports another.
"""

from __future__ import annotations

import re


def advice_code(text: str) -> str:
    """The formula a piece of advice (a table entry, or a message's advice) begins with: up to the first ", ", "; ",
    " for " or bracketed prose (" (the …") outside brackets."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and (text[i:i + 2] in (", ", "; ") or re.match(r" for | \((?=[a-z']{2,}[ ,:)])", text[i:])):
            return text[:i]
    return text
