"""retry.Poller and retry_call: the exact wait sequence, Retry-After honoured, time bounded."""

from __future__ import annotations

import pytest

from azml2aks.retry import Poller, retry_call


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_waits_grow_by_the_factor_up_to_the_ceiling():
    clock = Clock()
    poller = Poller(initial=5, factor=2, max_delay=30, sleep=clock.sleep, clock=clock)
    for attempt in poller:
        if attempt == 5:
            break
    assert clock.sleeps == [5, 10, 20, 30, 30]


def test_retry_after_replaces_one_wait_and_is_bounded_by_the_ceiling():
    clock = Clock()
    poller = Poller(initial=1, factor=2, max_delay=60, sleep=clock.sleep, clock=clock)
    for attempt in poller:
        if attempt == 0:
            poller.retry_after("7")
        if attempt == 1:
            poller.retry_after(600)
        if attempt == 3:
            break
    assert clock.sleeps == [7.0, 60, 4]


def test_the_loop_ends_without_break_once_the_timeout_is_spent_and_never_oversleeps_it():
    clock = Clock()
    attempts = list(Poller(initial=4, factor=1, timeout=10, sleep=clock.sleep, clock=clock))
    assert attempts == [0, 1, 2, 3] and clock.sleeps == [4, 4, 2]


def test_retry_call_retries_what_the_predicate_allows_then_returns():
    clock = Clock()
    answers = iter([LookupError("404 right after create"), LookupError("409 Updating"), "done"])

    def call():
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    result = retry_call(call, retryable=lambda e: 3 if "409" in str(e) else True,
                        poller=Poller(initial=1, factor=2, sleep=clock.sleep, clock=clock))
    assert result == "done" and clock.sleeps == [1, 3]


def test_retry_call_raises_at_once_what_the_predicate_refuses_and_the_last_error_when_time_is_up():
    clock = Clock()
    with pytest.raises(ValueError, match="bad request"):
        retry_call(lambda: (_ for _ in ()).throw(ValueError("bad request")), retryable=lambda e: False,
                   poller=Poller(sleep=clock.sleep, clock=clock))
    assert clock.sleeps == []
    with pytest.raises(LookupError, match="still updating"):
        retry_call(lambda: (_ for _ in ()).throw(LookupError("still updating")), retryable=lambda e: True,
                   poller=Poller(initial=5, factor=1, timeout=12, sleep=clock.sleep, clock=clock))
    assert clock.sleeps == [5, 5, 2]
