"""The API reference (book/reference/api) covers the whole package.

Statically: every module of lrcourse has its ``.. automodule::`` on a reference page, and every
top-level module or subpackage has a page of its own, listed in _toc.yml. On the built book
(``LRCOURSE_BOOK_HTML``, set by `make test`): every public name is an entry of the Sphinx
inventory, so every cross-reference to it resolves.
"""

import importlib
import inspect
import os
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import lrcourse

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "book" / "reference" / "api"
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)", re.M)
# A module whose package gives its name to a function (``lrcourse.train.evaluate`` is the function
# from the module of that name): one name, one entry, so the module has none; its members are
# documented under the package.
SHADOWED = {"lrcourse.train.evaluate"}


def module_names():
    return [
        info.name
        for info in pkgutil.walk_packages(lrcourse.__path__, "lrcourse.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]


def documented_modules():
    pages = [ROOT / "book" / "reference" / "api.md", *API.glob("*.md")]
    return {name for page in pages for name in AUTOMODULE.findall(page.read_text())}


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from toc_files(entry.get("chapters", []) + entry.get("sections", []) + entry.get("parts", []))


def test_every_module_has_an_automodule():
    missing = sorted(set(module_names()) - documented_modules() - SHADOWED)
    assert not missing, f"modules without an '.. automodule::' in book/reference/api/*.md: {missing}"


def test_every_top_level_module_has_its_page_in_the_toc():
    toc = set(toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]))
    for name in module_names():
        top = name.split(".")[1]
        page = API / f"{top}.md"
        assert page.is_file(), f"{name}: no page book/reference/api/{top}.md"
        assert f".. automodule:: lrcourse.{top}\n" in page.read_text(), f"{page} does not document lrcourse.{top}"
        assert f"book/reference/api/{top}" in toc, f"book/reference/api/{top} is not in _toc.yml"


def test_pages_name_only_real_modules():
    real = {"lrcourse", *module_names()}
    assert documented_modules() <= real, sorted(documented_modules() - real)


def public_names():
    """Every public class, function, method and property, by each name it can be documented under."""
    exported = {}  # object -> the other names it has in lrcourse (a package's re-export, say)
    for module in [lrcourse, *map(importlib.import_module, module_names())]:
        for name, value in vars(module).items():
            if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value)):
                exported.setdefault(id(value), []).append(f"{module.__name__}.{name}")
    for module_name in module_names():
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if obj.__module__ != module_name:
                continue
            aliases = [f"{module_name}.{name}", *exported.get(id(obj), [])]
            yield aliases
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or not (inspect.isfunction(value) or isinstance(value, property)):
                        continue
                    yield [f"{alias}.{attr}" for alias in aliases]


@pytest.mark.skipif(not os.environ.get("LRCOURSE_BOOK_HTML"), reason="needs the built book: `make test` sets it")
def test_every_public_name_is_in_the_inventory():
    from sphinx.util.inventory import InventoryFile

    html = (ROOT / os.environ["LRCOURSE_BOOK_HTML"]).resolve()
    with open(html / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    known = {name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries}
    missing = [aliases[0] for aliases in public_names() if not known.intersection(aliases)]
    assert not missing, f"public names with no entry in the API reference: {missing}"
