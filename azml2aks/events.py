"""Progress events: every stage reports what it does as plain dicts to an :data:`EventSink`.

An event has an ``"event"`` kind and a human ``"message"`` where one helps; the CLI renders
them as progress lines on stderr (and CI annotations), the Python API passes them to the
caller's callback. Kinds in use: ``stage`` (started/done), ``data`` (training data uploaded
as a data asset), ``job`` (a job was submitted; its Studio URL), ``queued``, ``status`` (a
job's status), ``trial`` (an AutoML trial ended), ``trial_failed`` (a trial failed or was
canceled), ``registered``, ``package``, ``rollout``, ``rollout_action``, ``rollout_step``
(one gate round), ``warning``, ``wait`` (a poll loop
sleeps; see :mod:`azml2aks.retry`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
EventSink = Callable[[Event], None]


def ignore_event(event: Event) -> None:
    """The default event sink: drops every event."""


def number(value: Any) -> str:
    """A figure for a human line: ``-`` for None, ``1000`` (never ``1e+03``), ``12.5``, ``0.912``."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.2e}"
