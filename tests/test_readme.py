"""The README's Python example runs as written: the README never lies."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows the package in use"
    for code in blocks:
        namespace: dict = {}
        exec(compile(code, str(README), "exec"), namespace)
        if "scheduler" in namespace:  # the warmup-plus-cosine example ends at its floor
            assert namespace["scheduler"].get_last_lr() == [0.0]
