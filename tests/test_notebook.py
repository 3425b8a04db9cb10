"""tn.live_plot outside a notebook says what it needs; inside one, see
tests/test_course_notebooks.py (a real kernel)."""

import sys

import pytest

import typednet as tn


def test_live_plot_without_ipython_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)  # `import IPython` fails
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ImportError, match=r"needs IPython: pip install 'typednet\[notebook\]'"):
        tn.live_plot()


def test_live_plot_outside_a_kernel_says_what_to_do_instead() -> None:
    with pytest.raises(RuntimeError, match=r"this is not one; .*tn\.plot_history\(history"):
        tn.live_plot()


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_live_plot_refuses_a_bad_every(every: object) -> None:
    with pytest.raises(ValueError, match=r"live_plot: every must be a positive int, got"):
        tn.live_plot(every=every)  # type: ignore[arg-type]  # the run-time check under test
