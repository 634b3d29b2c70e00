"""tools/execute_chapters.py: `make book`'s executor fills jupyter-cache, longest chapter first."""

import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("execute_chapters", ROOT / "tools" / "execute_chapters.py")
execute_chapters = importlib.util.module_from_spec(spec)
sys.modules["execute_chapters"] = execute_chapters  # the worker pool pickles run_one by module name
spec.loader.exec_module(execute_chapters)


def test_every_timed_chapter_exists():
    """A renamed chapter would silently lose its place at the front of the queue."""
    chapters = {execute_chapters.chapter_key(str(p)) for p in (ROOT / "book").rglob("*.ipynb")}
    assert set(execute_chapters.EXPECTED_SECONDS) <= chapters


def write_notebook(path: Path, *sources: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return str(path)


def test_executes_into_the_cache_and_reports_failures(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    good = write_notebook(
        tmp_path / "good.ipynb", "x = 6 * 7", "print(x)", "import os; print(os.environ['OMP_NUM_THREADS'])"
    )
    bad = write_notebook(tmp_path / "bad.ipynb", "raise ValueError('a broken chapter')")
    cache_dir = tmp_path / "cache"

    assert execute_chapters.main([str(cache_dir), good, bad, "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "a broken chapter" in out  # the traceback is printed

    cache = get_cache(str(cache_dir))
    cached = cache.get_cached_project_nb(str(Path(good).absolute()))
    assert cached is not None
    bundle = cache.get_cache_bundle(cached.pk)
    assert bundle.nb.cells[1].outputs[0]["text"] == "42\n"
    threads = max(1, os.cpu_count() // 2)  # two kernels share the cores: one thread each on two
    assert bundle.nb.cells[2].outputs[0]["text"] == f"{threads}\n"
    assert "OMP_NUM_THREADS" not in os.environ  # set in the workers only
    assert cache.get_cached_project_nb(str(Path(bad).absolute())) is None

    # Nothing changed: nothing left to run but the broken chapter.
    assert [r.uri for r in cache.list_unexecuted()] == [str(Path(bad).absolute())]


def test_longest_first_from_the_last_run(tmp_path):
    """A chapter that ran before is ordered by the time it took then."""
    cache = get_cache(str(tmp_path / "cache"))
    uri = write_notebook(tmp_path / "quick.ipynb", "pass")
    cache.add_nb_to_project(uri)
    assert execute_chapters.main([str(tmp_path / "cache"), uri, "--workers", "1"]) == 0
    seconds = execute_chapters.expected_seconds(cache, [uri, "/x/book/practice/mnist.ipynb", "/x/a/b.ipynb"])
    assert 0 < seconds[uri] < execute_chapters.UNKNOWN_SECONDS
    assert seconds["/x/book/practice/mnist.ipynb"] == execute_chapters.EXPECTED_SECONDS["practice/mnist"]
    assert seconds["/x/a/b.ipynb"] == execute_chapters.UNKNOWN_SECONDS


if __name__ == "__main__":
    pytest.main([__file__])
