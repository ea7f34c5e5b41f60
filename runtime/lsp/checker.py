"""Checking open documents in the background, the latest text only.

In: documents that changed (`want(doc)`), and what to do with each outcome
(`publish(doc, checked)`, called on the checking thread). Out: one thread
that checks each wanted document's text as it is when the check starts: a
document changed five times while a check ran is checked once more, not five
times, and a check overtaken by a newer change is not published. There is no
waiting on a timer: a change is checked as soon as the thread is free.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .document import Checked, Document

log = logging.getLogger("nqa.lsp")


class Checker:
    def __init__(self, publish: Callable[[Document, Checked], None]) -> None:
        self._publish = publish
        self._wanted: dict[str, Document] = {}
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="nqa-check", daemon=True)
        self._thread.start()

    def want(self, doc: Document) -> None:
        """Check `doc` (again) as soon as the thread is free, then publish what was found."""
        with self._ready:
            self._wanted[doc.uri] = doc
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._wanted:
                    self._ready.wait()
                uri = next(iter(self._wanted))
                doc = self._wanted.pop(uri)
            try:
                checked = doc.checked()
                with self._ready:
                    overtaken = uri in self._wanted
                if not overtaken and not doc.closed:
                    self._publish(doc, checked)
            except Exception:  # never the end of the thread: the next change is checked all the same
                log.exception("checking %s failed", uri)
