"""The exception tree of azml2aks.

Every error the library raises on purpose derives from :class:`Azml2aksError`; the CLI maps
each branch to an exit code (STYLE.md) and prints only the message, never a traceback::

    Azml2aksError                    exit 3 unless a subclass says otherwise
    ├── ConfigError                  exit 1  pipeline.yaml is wrong (names file, YAML path, line)
    ├── DataError                    exit 1  training / hold-out data is unusable
    ├── GateError                    exit 1  the model is below model.min_metric
    ├── NotFoundError                exit 1  a named model, run, endpoint or colour does not exist
    ├── UnsupportedError             exit 1  the backend cannot do this (yet); says what to use
    ├── LockedError                  exit 1  another rollout holds the endpoint; names its run id
    ├── BackendError                 exit 3  Azure or a local process failed; keeps code/message
    └── RolloutAborted               exit 4  the rollout failed and the live split was restored

Messages name the resource and the next step. Nothing secret goes into a message.
"""

from __future__ import annotations


class Azml2aksError(Exception):
    """Raised for every failure azml2aks reports on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class ConfigError(Azml2aksError):
    """Raised when pipeline.yaml (or a CLI argument standing for it) is invalid."""

    exit_code = 1


class DataError(Azml2aksError):
    """Raised when a data file cannot be read or does not fit the task."""

    exit_code = 1


class GateError(Azml2aksError):
    """Raised when the best model does not reach ``model.min_metric``."""

    exit_code = 1


class NotFoundError(Azml2aksError):
    """Raised when a named model, job, endpoint or deployment does not exist."""

    exit_code = 1


class UnsupportedError(Azml2aksError):
    """Raised when the chosen backend cannot run a stage or operation."""

    exit_code = 1


class LockedError(Azml2aksError):
    """Raised when another deploy/traffic/promote/rollback holds the endpoint's rollout lock
    (``holder``: its run id)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, holder: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class BackendError(Azml2aksError):
    """Raised when Azure or a local process fails; keeps the service's code and message."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class RolloutAborted(Azml2aksError):
    """Raised when a rollout failed a gate or a step and the last good split was restored."""

    exit_code = 4

    def __init__(self, message: str, *, hint: str | None = None, report: dict | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report or {}

    def to_dict(self) -> dict:
        return {**super().to_dict(), "report": self.report}
