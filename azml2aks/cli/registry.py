"""The verb registry: ``@command`` adds a verb; ``azml2aks.cli`` builds the parser from it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple


class Command(NamedTuple):  # a NamedTuple, not a dataclass: `--help` must not pay for dataclasses' imports
    name: str
    func: Callable[[argparse.Namespace], Any]
    help: str
    example: str
    configure: Callable[[argparse.ArgumentParser], None] | None
    pipeline: bool = True
    render: Callable[[Any], str] | None = None


COMMANDS: dict[str, Command] = {}


def command(name: str, *, help: str, example: str, pipeline: bool = True,
            configure: Callable[[argparse.ArgumentParser], None] | None = None,
            render: Callable[[Any], str] | None = None):
    """Register a verb. ``func(args)`` returns a result with ``to_dict()``, a dict or a list."""

    def wrap(func):
        COMMANDS[name] = Command(name, func, help, example, configure, pipeline, render)
        return func

    return wrap

