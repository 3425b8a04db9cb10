"""In a Jupyter notebook: `live_plot`, a `fit` callback that redraws the loss curves.

Needs IPython, as any notebook has (``pip install 'typednet[notebook]'`` adds IPython and
ipywidgets, whose widget `fit`'s progress bar becomes in a notebook). The curves are the
inline SVG of a `History`'s own HTML display: no matplotlib needed.
"""

# IPython leaves display's and DisplayHandle.update's parameters unannotated: they are
# "partially unknown" to pyright's strict mode, whatever the call passes.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false

from collections.abc import Callable
from typing import Any

from . import _html
from .train import Epoch, History, _in_notebook

__all__ = ["live_plot"]


def live_plot(*, every: int = 1) -> Callable[[Epoch[Any, Any]], None]:
    """A callback for ``fit(callbacks=[...])`` drawing the loss curves as training goes.

    The curves (training loss, and validation loss when `fit` has validation data) are
    drawn in the cell's output after the first epoch and redrawn in place every
    ``every`` epochs (so the plot may miss the last ``every - 1`` epochs). A run that
    starts again at epoch 1 (a new `fit` call with the same callback) starts a new plot.

    Args:
        every: redraw after every ``every`` epochs (a long run redraws less often).

    Returns:
        The callback; it never stops training.

    Raises:
        ImportError: IPython is not installed (``pip install 'typednet[notebook]'``).
        RuntimeError: not inside a Jupyter kernel, where there is no cell to draw in;
            plot the History after `fit` instead (`typednet.plot_history`).
        ValueError: ``every`` is not a positive int.
    """
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"live_plot: every must be a positive int, got {every!r}")
    try:
        from IPython.display import HTML, DisplayHandle, display
    except ImportError as e:
        raise ImportError(
            "live_plot draws in a Jupyter notebook and needs IPython: "
            "pip install 'typednet[notebook]'"
        ) from e
    if not _in_notebook():
        raise RuntimeError(
            "live_plot draws in a Jupyter notebook, and this is not one; outside a notebook, "
            "plot the History that fit returns: tn.plot_history(history, 'loss.png')"
        )
    train: list[float] = []
    val: list[float] = []
    handle: list[DisplayHandle] = []  # the cell output being redrawn, once drawn

    def callback(epoch: Epoch[Any, Any]) -> None:
        if epoch.epoch == 1:  # a new run: a new plot
            train.clear()
            val.clear()
            handle.clear()
        train.append(epoch.train_loss)
        if epoch.val_loss is not None:
            val.append(epoch.val_loss)
        if handle and epoch.epoch % every:
            return
        figure = HTML(_html.history(History(train_loss=tuple(train), val_loss=tuple(val))))
        if handle:
            handle[0].update(figure)
        else:
            shown = display(figure, display_id=True)
            assert isinstance(shown, DisplayHandle)  # display_id=True returns a handle
            handle.append(shown)

    return callback
