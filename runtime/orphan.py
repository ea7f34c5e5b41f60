"""A worker of `nqa run --nproc N` dies with the launcher that started it.

In: the environment the launcher gives its workers (NQA_LAUNCHER_PID, the launcher's process id).
Out: `die_with_launcher()`, called first thing in a worker (before torch is imported): on Linux the
kernel is asked to SIGKILL this process when its parent ends (prctl PR_SET_PDEATHSIG); elsewhere a
watchdog thread does it when the parent is gone. Either way a launcher killed by SIGKILL (which it
cannot pass on) leaves no worker training on and writing the outputs of a run the user ended. A
launcher that already ended before this ran ends the worker at once. Nothing happens in a process
not started by nqa's launcher (torchrun's own workers, a single run). Never imports torch.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
LAUNCHER = "NQA_LAUNCHER_PID"  # set by runtime/launch.py for its workers


def die_with_launcher() -> None:
    text = os.environ.get(LAUNCHER, "")
    if not text.isdigit():
        return
    launcher = int(text)
    if not (sys.platform.startswith("linux") and _parent_death_signal()):
        threading.Thread(target=_watch, args=(launcher,), name="nqa-launcher-watch", daemon=True).start()
    if os.getppid() != launcher:  # the launcher ended before the kernel was asked: this worker was orphaned
        os.kill(os.getpid(), signal.SIGKILL)


def _parent_death_signal() -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(launcher: int) -> None:
    while os.getppid() == launcher:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
