"""Training: one pure step (`train_step`) and the mini-batch loop (`fit`)."""

from dataclasses import dataclass

__all__ = ["History"]


@dataclass(frozen=True, slots=True)
class History:
    """Per-epoch record of a `fit` run.

    Attributes:
        train_loss: mean training loss of each epoch.
        val_loss: validation loss after each epoch; empty without validation data.
        metric_name: the name of the metric, or None when none was given.
        train_metric: the metric on the training data after each epoch (may be empty).
        val_metric: the metric on the validation data after each epoch (may be empty).
        best_epoch: with early stopping, the 1-based epoch whose params were kept.
    """

    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...] = ()
    metric_name: str | None = None
    train_metric: tuple[float, ...] = ()
    val_metric: tuple[float, ...] = ()
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.train_loss)
