"""``make dev``'s stand-in for a schedule: call a function now, then every N seconds.

In AWS an EventBridge Scheduler schedule invokes the worker's ``sweep`` action; on a laptop
``run-dev`` runs the same sweep on a daemon thread of the dev server's process, so a run a
killed ``make dev`` left unfinished is failed once its lease passes and a deferred run
resumes when it is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_log = logging.getLogger(__name__)


class Periodic:
    """Runs ``job`` at once, then every ``interval`` seconds, on a daemon thread.

    A failing call is logged and the next one still happens (a database restarting must not
    end the laptop's sweeping). :meth:`stop` ends the loop between calls.
    """

    def __init__(self, job: Callable[[], object], *, interval: float,
                 name: str = "periodic") -> None:
        if interval < 0:
            raise ValueError("interval must not be negative")
        self._job = job
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Periodic:
        """Start the thread; returns ``self``."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end and wait for the call under way (at most ``timeout``)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._job()
            except Exception:  # the next call may well succeed; say why this one did not
                _log.exception("periodic job failed", extra={"job": self._thread.name})
            if self._stopped.wait(self._interval):
                return
