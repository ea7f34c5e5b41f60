"""Showing training as it goes.

In: the output stream and the user's choice (`--log-every N`, `--quiet`).
Out: a callback for `TrainOptions.progress` and how often to call it: on a
terminal a tqdm bar (epoch, loss, rate) that only appears when a run lasts
longer than half a second, so short runs do not flicker; with `--log-every N`
(for pipes and CI) a plain line every N steps, with the learning rate when a
schedule moves it, and the traced tensors of
that step, each summed up as the text report sums it up when it holds more
than `SHOWN_VALUES` values. Both go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .text_report import num, tensor_text
from .trace import Tick

if TYPE_CHECKING:
    from tqdm import tqdm


def plain_lines(stream: TextIO = sys.stderr) -> Callable[[Tick], None]:
    def line(tick: Tick) -> None:
        text = (f"step {tick.step:>{len(str(tick.steps))}}/{tick.steps}  "
                f"epoch {tick.epoch}/{tick.epochs}  loss {num(tick.loss)}")
        if tick.lr is not None:
            text += f"  lr {num(tick.lr)}"
        for kind, values in (tick.values or {}).items():
            text += "".join(f"\n  {kind[:-1]} {name} {'none' if v is None else tensor_text(v)}"
                            for name, v in values.items())
        print(text, file=stream, flush=True)

    return line


class Bar:
    """A tqdm progress bar, created on the first tick and closed by `close()`."""

    bar: tqdm | None

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream, self.bar, self.done = stream, None, 0

    def __call__(self, tick: Tick) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=tick.steps, file=self.stream, unit="step", delay=0.5, leave=False,
                            dynamic_ncols=True)
        self.bar.set_description(f"epoch {tick.epoch}/{tick.epochs}", refresh=False)
        self.bar.set_postfix_str(f"loss {num(tick.loss)}", refresh=False)
        self.bar.update(tick.step - self.done)
        self.done = tick.step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
