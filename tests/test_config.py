from pathlib import Path

import pytest

from lrcourse import config


@pytest.mark.parametrize(
    "raw,expected", [("1", True), ("yes", True), (" ON ", True), ("0", False), ("", False), ("off", False)]
)
def test_quick_mode_reads_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("LRCOURSE_QUICK", raw)
    assert config.is_quick() is expected
    assert config.pick(quick="q", full="f") == ("q" if expected else "f")


def test_quick_mode_is_off_when_unset(monkeypatch):
    monkeypatch.delenv("LRCOURSE_QUICK", raising=False)
    assert config.is_quick() is False


def test_a_typo_in_quick_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("LRCOURSE_QUICK", "ture")
    with pytest.raises(ValueError, match="LRCOURSE_QUICK"):
        config.is_quick()


def test_data_root_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    assert config.data_root() == tmp_path


def test_data_root_falls_back_to_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert config.data_root() == tmp_path / "lrcourse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert config.data_root() == Path.home() / ".cache" / "lrcourse"


@pytest.mark.parametrize(("raw", "expected"), [("", [0, 1, 2]), ("0", [0, 1, 2]), (" 41 ", [41, 42, 43])])
def test_seeds_are_shifted_by_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("LRCOURSE_SEED", raw)
    assert config.seeds(3) == expected
    assert config.seed(2) == expected[2]


def test_seeds_default_to_zero_when_unset(monkeypatch):
    monkeypatch.delenv("LRCOURSE_SEED", raising=False)
    assert config.seed() == 0


@pytest.mark.parametrize("raw", ["-1", "seven", "1.5"])
def test_a_bad_seed_variable_is_an_error(monkeypatch, raw):
    monkeypatch.setenv("LRCOURSE_SEED", raw)
    with pytest.raises(ValueError, match="LRCOURSE_SEED"):
        config.seeds(2)


@pytest.mark.parametrize(("call", "bad"), [(lambda v: config.seeds(v), 0), (lambda v: config.seed(v), -1)])
def test_bad_seed_arguments_are_errors(call, bad):
    with pytest.raises(ValueError):
        call(bad)
