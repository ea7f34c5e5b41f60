"""`nqa run --tensorboard DIR`: the run's losses as TensorBoard event files.

In: the parsed command line (checked before training: the `tensorboard`
package, the `tensorboard` extra, must be installed, and DIR must be a folder
or not yet exist) and, after training, the `Report`. Out: event files in DIR,
written through `torch.utils.tensorboard.SummaryWriter`: the loss of every
step (`loss/step`), the mean loss of every epoch (`loss/epoch`) and, with
`validate`, the held-out loss and accuracy of every epoch (`held_out/loss`,
`held_out/accuracy`). The package is imported only here, only when asked.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from spec_lang import codes, usage_error

from .report import Report


def check_tensorboard(folder: str | None) -> None:
    """Refuse `--tensorboard DIR` now, before training, if it cannot be written."""
    if folder is None:
        return
    if importlib.util.find_spec("tensorboard") is None:
        raise usage_error("--tensorboard needs the tensorboard package, which is not installed",
                          "install it with `pip install 'nqa[tensorboard]'`", code=codes.MISSING_PACKAGE)
    if Path(folder).exists() and not Path(folder).is_dir():
        raise usage_error(f"--tensorboard `{folder}` is not a folder",
                          "give a folder for the event files (it is made if missing)", code=codes.BAD_OPTION_VALUE)


def write_events(report: Report, folder: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=folder)
    try:
        for step, loss in enumerate(report.losses, 1):
            writer.add_scalar("loss/step", loss, step)
        for epoch, loss in enumerate(report.epoch_losses, 1):
            writer.add_scalar("loss/epoch", loss, epoch)
        if report.validation is not None:
            for epoch, loss in enumerate(report.validation.losses, 1):
                writer.add_scalar("held_out/loss", loss, epoch)
            if report.validation.accuracy is not None:
                writer.add_scalar("held_out/accuracy", report.validation.accuracy, len(report.validation.losses))
    finally:
        writer.close()
