"""Every public name of lrcourse has a docstring; its examples run as doctests (pytest --doctest-modules).

Public means: a module, class, function, method or property whose name does not start with an
underscore and that is defined in lrcourse (not imported into it). A method that overrides a
documented one inherits its docstring, as ``help()`` and the API reference show it.
"""

import importlib
import inspect
import pkgutil

import pytest

import lrcourse


def modules():
    yield lrcourse
    for info in pkgutil.walk_packages(lrcourse.__path__, "lrcourse."):
        yield importlib.import_module(info.name)


def public_members(module):
    """(qualified name, object) of the public classes and functions that ``module`` defines, and their methods."""
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__module__ != module.__name__:
            continue  # imported, documented where it is defined
        yield f"{module.__name__}.{name}", obj
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if inspect.isfunction(value) or isinstance(value, property):
                    yield f"{module.__name__}.{name}.{attr}", getattr(obj, attr) if inspect.isfunction(value) else value


MODULES = list(modules())


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_module_and_its_public_names_have_docstrings(module):
    assert inspect.getdoc(module), f"module {module.__name__} has no docstring"
    missing = [name for name, obj in public_members(module) if not inspect.getdoc(obj)]
    assert not missing, f"public names without a docstring: {missing}"


def test_the_walk_finds_the_package():
    """Guards the test above against walking nothing."""
    names = {m.__name__ for m in MODULES}
    assert {"lrcourse.optim.adam", "lrcourse.schedules.decay", "lrcourse.train.loop", "lrcourse.interop"} <= names
    assert "lrcourse.optim.adam.Adam" in dict(public_members(importlib.import_module("lrcourse.optim.adam")))


def test_the_check_catches_a_missing_docstring():
    class Undocumented:
        def method(self):
            pass

    fake = type(lrcourse)("lrcourse.fake", "A module.")
    Undocumented.__module__ = fake.__name__
    fake.Undocumented = Undocumented
    found = dict(public_members(fake))
    assert not inspect.getdoc(found["lrcourse.fake.Undocumented.method"])
