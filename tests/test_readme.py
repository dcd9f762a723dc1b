"""README.md's code runs as written: every ```python block is executed, and test functions it defines are called."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_readme_starts_with_a_quickstart_of_two_commands():
    text = README.read_text(encoding="utf-8")
    quickstart = re.search(r"^## Quickstart\n+```bash\n(.*?)```", text, re.MULTILINE | re.DOTALL)
    assert quickstart, "README.md has no Quickstart section with a bash block"
    commands = [line for line in quickstart.group(1).splitlines() if line.strip()]
    assert len(commands) == 2 and "demo" in commands[0] and "pytest" in commands[1]
    assert re.findall(r"^## (.+)$", text, re.MULTILINE)[0] == "Quickstart"  # the README starts with it


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block {i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, tmp_path, monkeypatch):
    if "viz.render" in code and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)  # blocks may write files
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, f"README.md {code.splitlines()[0]!r}", "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()
