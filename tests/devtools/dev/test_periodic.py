"""``make dev``'s periodic sweep: at once, then on every interval, surviving a failing call."""

from __future__ import annotations

import logging
import threading

import pytest

from devtools.periodic import Periodic


def test_the_job_runs_at_once_and_stop_ends_the_loop() -> None:
    ran = threading.Event()
    periodic = Periodic(ran.set, interval=3600, name="t").start()
    try:
        assert ran.wait(timeout=30)  # the first call does not wait for the interval
    finally:
        periodic.stop(timeout=30)
    assert not periodic.running


def test_a_failing_call_is_logged_and_the_next_one_still_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    second = threading.Event()

    def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        second.set()

    with caplog.at_level(logging.ERROR, logger="devtools.periodic"):
        periodic = Periodic(job, interval=0, name="t").start()
        try:
            assert second.wait(timeout=30)
        finally:
            periodic.stop(timeout=30)
    assert len(calls) >= 2
    assert any("periodic job failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        Periodic(lambda: None, interval=-1)
