"""CI syntax: the one module that knows how Azure DevOps and GitHub Actions read a step's output.

Under Azure DevOps (``TF_BUILD`` set) azml2aks writes logging commands: ``##[group]`` /
``##[endgroup]`` around each stage, ``##vso[task.setvariable variable=NAME;isOutput=true]VALUE``
for each result a later stage or job needs, ``##vso[task.setsecret]`` before anything secret,
``##vso[task.logissue]`` for errors and warnings and ``##vso[task.uploadsummary]PATH`` for the
Markdown report. Property values and data are escaped as Azure DevOps documents
(``%`` → ``%AZP25``, CR → ``%0D``, LF → ``%0A``; in properties also ``;`` → ``%3B`` and
``]`` → ``%5D``).

Under GitHub Actions (``GITHUB_ACTIONS`` set): ``::group::`` / ``::endgroup::``,
``::add-mask::``, ``::error::`` / ``::warning::``, outputs appended to the file named by
``$GITHUB_OUTPUT`` in the multiline-safe ``NAME<<DELIMITER`` form, and the Markdown report
appended to ``$GITHUB_STEP_SUMMARY``. Elsewhere: plain lines, no outputs.

Commands go to stderr: both agents read logging commands from either stream, and stdout stays
the verb's result (``--output json > result.json`` keeps working in a pipeline).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

AZURE_DEVOPS, GITHUB = "azure-devops", "github"

#: The output variables and where each comes from: (stage of the result, key in its dict).
OUTPUTS: dict[str, tuple[str, str]] = {
    "jobName": ("train", "job_name"),
    "jobStatus": ("train", "status"),
    "modelName": ("register", "name"),
    "modelVersion": ("register", "version"),
    "environmentName": ("package", "environment_name"),
    "environmentVersion": ("package", "environment_version"),
    "endpointName": ("deploy", "endpoint"),
    "scoringUri": ("deploy", "scoring_uri"),
    "rolloutResult": ("deploy", "result"),
    "deployedColour": ("deploy", "colour"),
}
#: The one secret output, and only the ``keys`` verb sets it.
KEY_OUTPUT = "endpointKey"


def detect(environ: Mapping[str, str] | None = None) -> str | None:
    """``"azure-devops"``, ``"github"`` or None, from the variables each agent sets."""
    env = os.environ if environ is None else environ
    if env.get("TF_BUILD"):
        return AZURE_DEVOPS
    if env.get("GITHUB_ACTIONS"):
        return GITHUB
    return None


# --- escaping ----------------------------------------------------------------------------
def vso_data(value: str) -> str:
    """Escape the message part of a ``##vso`` command."""
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def vso_property(value: str) -> str:
    """Escape a property value of a ``##vso`` command (``;`` and ``]`` end it otherwise)."""
    return vso_data(value).replace(";", "%3B").replace("]", "%5D")


def gh_data(value: str) -> str:
    """Escape the message part of a GitHub workflow command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def vso(command: str, data: str = "", **properties: Any) -> str:
    """``##vso[area.action k=v;...]data`` with every part escaped."""
    props = ";".join(f"{k}={vso_property(_text(v))}" for k, v in properties.items() if v is not None)
    return f"##vso[{command}{' ' + props if props else ''}]{vso_data(data)}"


def gh_output_block(name: str, value: str, delimiter: str | None = None) -> str:
    """One ``$GITHUB_OUTPUT`` entry in the multiline form, safe for any value."""
    if not delimiter:
        import secrets

        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    if delimiter in name or delimiter in value:  # cannot happen with a random delimiter; be sure
        raise ValueError("the output delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- what a result publishes -------------------------------------------------------------
def outputs_of(command: str, result: Any) -> dict[str, str]:
    """The output variables of ``command``'s result (a stage result dict, or ``run``'s dict of
    them). Nothing secret: the key comes only from :func:`key_output`."""
    if not isinstance(result, dict):
        return {}
    by_stage: dict[str, dict] = {}
    if command == "run":
        by_stage = {s: r for s, r in result.items() if isinstance(r, dict)}
    elif command in ("train", "wait"):
        by_stage = {"train": result}
    elif command in ("register", "package", "deploy"):
        by_stage = {command: result}
    if by_stage.get("deploy", {}).get("result") == "planned":
        by_stage.pop("deploy")
    out: dict[str, str] = {}
    for name, (stage, key) in OUTPUTS.items():
        value = by_stage.get(stage, {}).get(key)
        if value not in (None, ""):
            out[name] = _text(value)
    return out


class CI:
    """Writes CI syntax for the agent in ``kind`` (or plain lines when None) to ``stream``."""

    def __init__(self, kind: str | None = None, *, stream: TextIO | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.kind = kind if kind is not None else detect(self.environ)
        self.stream = stream
        self._group: str | None = None

    def _print(self, line: str) -> None:
        print(line, file=self.stream or sys.stderr, flush=True)

    # --- groups --------------------------------------------------------------------------
    def group(self, title: str) -> None:
        """Open a collapsible section (closing the open one); plain ``== title`` elsewhere."""
        self.end_group()
        if self.kind == AZURE_DEVOPS:
            self._print(f"##[group]{title}")
        elif self.kind == GITHUB:
            self._print(f"::group::{gh_data(title)}")
        else:
            self._print(f"== {title}")
        self._group = title

    def end_group(self) -> None:
        if self._group is None:
            return
        self._group = None
        if self.kind == AZURE_DEVOPS:
            self._print("##[endgroup]")
        elif self.kind == GITHUB:
            self._print("::endgroup::")

    # --- annotations ---------------------------------------------------------------------
    def mask(self, secret: str) -> None:
        """Tell the agent to hide ``secret`` from the log from now on."""
        if not secret:
            return
        if self.kind == AZURE_DEVOPS:
            self._print(vso("task.setsecret", secret))
        elif self.kind == GITHUB:
            self._print(f"::add-mask::{gh_data(secret)}")

    def error(self, message: str) -> None:
        """An error annotation (the plain ``error:`` line is the caller's)."""
        if self.kind == AZURE_DEVOPS:
            self._print(vso("task.logissue", message, type="error"))
        elif self.kind == GITHUB:
            self._print(f"::error::{gh_data(message)}")

    def warning_prefix(self) -> str:
        """What a warning line starts with (annotations are one line each)."""
        if self.kind == AZURE_DEVOPS:
            return "##vso[task.logissue type=warning]"
        if self.kind == GITHUB:
            return "::warning::"
        return "warning: "

    # --- outputs -------------------------------------------------------------------------
    def set_output(self, name: str, value: str, *, secret: bool = False) -> None:
        """Publish ``name`` for later steps, jobs and stages (masked first when ``secret``)."""
        if secret:
            self.mask(value)
        if self.kind == AZURE_DEVOPS:
            self._print(vso("task.setvariable", value, variable=name, isOutput=True,
                            issecret=True if secret else None))
        elif self.kind == GITHUB:
            path = self.environ.get("GITHUB_OUTPUT")
            if path:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(gh_output_block(name, value))

    def publish(self, command: str, result: Any) -> dict[str, str]:
        """Set the output variables of ``command``'s result; return them (nothing secret)."""
        outputs = outputs_of(command, result) if self.kind else {}
        for name, value in outputs.items():
            self.set_output(name, value)
        return outputs

    def publish_key(self, key: str) -> None:
        """The endpoint key as a secret output (only the ``keys`` verb calls this)."""
        if self.kind:
            self.set_output(KEY_OUTPUT, key, secret=True)

    def upload_summary(self, markdown: Path) -> bool:
        """Show ``markdown`` on the run's summary page; False outside CI."""
        path = Path(markdown).resolve()
        if self.kind == AZURE_DEVOPS:
            self._print(vso("task.uploadsummary", str(path)))
            return True
        if self.kind == GITHUB:
            target = self.environ.get("GITHUB_STEP_SUMMARY")
            if target:
                with open(target, "a", encoding="utf-8") as f:
                    f.write(path.read_text(encoding="utf-8").rstrip("\n") + "\n")
                return True
        return False
