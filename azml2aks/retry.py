"""The one poll/backoff helper: every wait loop in azml2aks goes through :class:`Poller`.

Clock and sleep are injected (tests pass a fake clock and assert the exact sleep sequence);
a ``Retry-After`` the service sent replaces the computed delay, bounded by ``max_delay``.

    poller = Poller(initial=5, factor=1.5, max_delay=60, timeout=3600, sleep=sleep, clock=clock)
    for attempt in poller:            # yields 0, 1, 2, ... and sleeps between them
        state = read()
        if state.done:
            break
        poller.retry_after(state.retry_after)   # optional: the service's own hint
    else:
        raise TimeoutError(...)       # the loop ends without ``break`` once the timeout is spent

:func:`retry_call` retries one call while ``retryable(error)`` says so (409 while Updating, 404
right after a create), with the same backoff, and re-raises the last error when time is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Poller:
    """Exponential backoff between polls, honouring Retry-After, within ``timeout`` seconds."""

    initial: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    timeout: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_wait: Callable[[float, int], None] | None = None
    delays: list[float] = field(default_factory=list, init=False)
    _hint: float | None = field(default=None, init=False)

    def retry_after(self, seconds: float | str | None) -> None:
        """Use the service's ``Retry-After`` (seconds) for the next wait."""
        if seconds is None:
            return
        try:
            self._hint = max(0.0, float(seconds))
        except (TypeError, ValueError):
            self._hint = None

    def delay(self, attempt: int) -> float:
        """The wait after poll number ``attempt`` (0-based)."""
        if self._hint is not None:
            hint, self._hint = self._hint, None
            return min(hint, self.max_delay)
        return min(self.initial * (self.factor ** attempt), self.max_delay)

    def __iter__(self) -> Iterator[int]:
        start = self.clock()
        attempt = 0
        while True:
            yield attempt
            wait = self.delay(attempt)
            if self.timeout is not None:
                left = self.timeout - (self.clock() - start)
                if left <= 0:
                    return
                wait = min(wait, left)
            if self.on_wait is not None:
                self.on_wait(wait, attempt)
            self.delays.append(wait)
            self.sleep(wait)
            attempt += 1


def retry_call(call: Callable[[], T], *, retryable: Callable[[BaseException], float | bool | None],
               poller: Poller) -> T:
    """``call()`` until it succeeds or ``retryable(error)`` is falsy or time is up.

    ``retryable`` returns True (retry with backoff), a number (retry after that many seconds,
    e.g. the response's Retry-After) or a falsy value (give up: the error propagates)."""
    last: BaseException | None = None
    for _ in poller:
        try:
            return call()
        except Exception as e:  # noqa: BLE001 - the caller's predicate decides
            verdict = retryable(e)
            if not verdict:
                raise
            last = e
            if not isinstance(verdict, bool):
                poller.retry_after(verdict)
    assert last is not None
    raise last
