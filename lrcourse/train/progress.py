"""The progress bar of ``fit``: tqdm, a widget in notebooks that can show one, text elsewhere.

The book is built without ``ipywidgets`` (a widget would load JavaScript from a
CDN), and then ``tqdm.auto`` falls back to its text bar with a warning about
``IProgress``; the warning is noise in a rendered page, so it is silenced here.
"""

from __future__ import annotations

import os
import warnings


def progress_bar(total: int | None, *, enabled: bool = True, desc: str = "train"):
    """A tqdm bar over ``total`` steps, disabled when ``enabled`` is false or ``CI`` is set.

    >>> bar = progress_bar(3, enabled=False)
    >>> bar.disable
    True
    >>> bar.close()
    """
    quiet = not enabled or bool(os.environ.get("CI", "").strip())
    return tqdm_class()(total=total, desc=desc, disable=quiet, dynamic_ncols=True, mininterval=0.5)


def tqdm_class():
    """``tqdm.auto.tqdm``: the notebook widget where ipywidgets exists, the text bar otherwise.

    >>> import tqdm
    >>> issubclass(tqdm_class(), tqdm.std.tqdm)
    True
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm
    return tqdm
