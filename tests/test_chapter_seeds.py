"""Chapters take their seeds from lrcourse.config, never as literals.

``LRCOURSE_SEED`` shifts every seed a chapter uses (``config.seed(k)``, ``config.seeds(n)``),
so that ``make test`` can run every chapter again on other seeds and a claim that held on
one seed only shows up. A literal seed would stay fixed and hide it.
"""

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
LITERAL_SEED = re.compile(
    r"(seed_everything|manual_seed)\(\s*\d+\s*\)"  # seed_everything(0), torch.manual_seed(0)
    r"|\bseed\s*=\s*\d+\s*[,)\n]"  # f(..., seed=0)
    r"|\bseeds\s*=\s*(\[\s*\d|range\(|pick\(quick=\[)"  # seeds = [0, 1, 2]
)


def literal_seeds(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    lines = (line for c in cells if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines())
    return [line.strip() for line in lines if LITERAL_SEED.search(line)]


def test_the_pattern_finds_literals_and_passes_config():
    found = [bool(LITERAL_SEED.search(s)) for s in ("seed_everything(0)", "Batches(X, seed=3)", "seeds = [0, 1]")]
    passed = [bool(LITERAL_SEED.search(s)) for s in ("seed_everything(config.seed())", "seeds = config.seeds(5)")]
    assert found == [True, True, True] and passed == [False, False]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: str(p.relative_to(BOOK)))
def test_no_literal_seeds(path):
    found = literal_seeds(path)
    assert not found, f"{path.name}: seeds written as literals {found}; use config.seed(k) or config.seeds(n)"
