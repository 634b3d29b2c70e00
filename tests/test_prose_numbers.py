"""Numbers in a chapter's prose come from its run.

Every measured number the text quotes is glued (``glue()`` in a code cell,
``{glue:text}`` in markdown), so the page shows what ran in the mode being read and
can never contradict its own output. A number typed into the prose (a setting, a
constant of a derivation, a version) must be on its chapter's short allow-list in
``tests/typed_numbers.toml``, with the reason it is not measured. Integers are not
checked (counts of steps, seeds and epochs are settings); decimals, percentages and
numbers in scientific notation are. Math, code, roles and link targets are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib

BOOK = Path(__file__).resolve().parents[1] / "book"
ALLOWED = tomllib.loads((Path(__file__).parent / "typed_numbers.toml").read_text())
CHAPTERS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

# Fenced blocks whose body is prose (exercises, solutions, admonitions) are read; the others
# (code, math, literalinclude, eval-rst, ...) are skipped.
PROSE_DIRECTIVES = {"exercise", "solution", "note", "tip", "warning", "important", "admonition", "figure", "margin"}
FENCE = re.compile(r"^(`{3,}|~{3,})\s*(\{([\w:-]+)\})?[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
SKIPPED = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"(?<!\\)\$[^$\n]+\$"),  # inline math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),
    re.compile(r"(\{[\w:-]+\})?`[^`]*`"),  # inline code and roles: {glue:text}`x:.2f`, {cite}`key`
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^:[\w-]+:.*$", re.M),  # directive options
    re.compile(r"<[^>]+>"),  # HTML tags and their attributes
]
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:e-?\d+)?\s?%|\d+\.\d+(?:e-?\d+)?|\d+e-?\d+)(?![\w.]*\d)")


def prose(markdown: str) -> str:
    """The text of a markdown cell that a reader reads as prose."""

    def keep_prose(match: re.Match) -> str:
        return prose(match.group(4)) if match.group(3) in PROSE_DIRECTIVES else ""

    text = FENCE.sub(keep_prose, markdown)
    for pattern in SKIPPED:
        text = pattern.sub(" ", text)
    return text


def typed_numbers(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join(prose("".join(c["source"])) for c in cells if c["cell_type"] == "markdown")
    return [re.sub(r"\s", "", n) for n in NUMBER.findall(text)]


def test_prose_skips_math_code_and_roles():
    text = prose("rate $0.5$ and `lr=0.1`, glued {glue:text}`gain:.2f`, cite {cite}`a2020`\n$$x = 0.3$$")
    assert NUMBER.findall(text) == []
    assert NUMBER.findall(prose("ends at 99.1% after 2.5 epochs, step 1e-3 (torch 2.14)")) == [
        "99.1%",
        "2.5",
        "1e-3",
        "2.14",
    ]
    assert NUMBER.findall(prose("````{solution} x\n:class: dropdown\nIt reaches 0.97.\n````")) == ["0.97"]
    assert NUMBER.findall(prose("```python\nlr = 0.1\n```")) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: str(p.relative_to(BOOK)))
def test_numbers_in_prose_are_glued_or_allowed(path):
    chapter = str(path.relative_to(BOOK))
    allowed = ALLOWED.get(chapter, {})
    found = typed_numbers(path)
    unexplained = sorted(set(found) - set(allowed))
    assert not unexplained, (
        f"{chapter}: numbers typed into the prose {unexplained}: glue measured values from the run "
        f"(myst_nb.glue and {{glue:text}}), or list settings and constants in tests/typed_numbers.toml with why"
    )
    stale = sorted(set(allowed) - set(found))
    assert not stale, f"{chapter}: tests/typed_numbers.toml allows {stale}, which the prose no longer has"


def test_allow_lists_name_real_chapters_and_give_reasons():
    for chapter, numbers in ALLOWED.items():
        assert (BOOK / chapter).is_file(), f"tests/typed_numbers.toml names {chapter}, which is not a chapter"
        assert all(isinstance(why, str) and len(why) > 10 for why in numbers.values()), chapter
