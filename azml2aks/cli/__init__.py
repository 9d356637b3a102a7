"""The ``azml2aks`` command line: each verb is parse → one library call → render.

Verbs mirror :class:`azml2aks.pipeline.Pipeline` methods. ``--output json`` prints the result
as JSON on stdout; progress lines go to stderr. Exit codes: 0 ok, 1 user/config error,
2 usage, 3 Azure/system error, 4 rollout aborted and rolled back. Heavy modules (pipeline,
backends, mlflow, flaml, azure) are imported inside the verbs that need them, so ``--help``
and ``validate`` start fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from azml2aks.cli import endpoint, reports, stages  # noqa: F401 - importing them registers the verbs
from azml2aks.cli.output import render_default, report_error, to_jsonable
from azml2aks.cli.registry import COMMANDS, Command
from azml2aks.errors import Azml2aksError

__all__ = ["COMMANDS", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azml2aks",
        description="From an Azure ML AutoML experiment to a blue/green Kubernetes online endpoint.",
        epilog="Example: azml2aks run examples/wine-classification/pipeline.yaml",
    )
    from azml2aks import __version__

    parser.add_argument("--version", action="version", version=f"azml2aks {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # stage verbs first, then the endpoint verbs, then runs and report, each group in the order it was written
    group = {stages.__name__: 0, endpoint.__name__: 1, reports.__name__: 2}
    for cmd in sorted(COMMANDS.values(), key=lambda c: group.get(c.func.__module__, 1)):
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, epilog=f"Example: {cmd.example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if cmd.pipeline:
            p.add_argument("pipeline", help="path of pipeline.yaml")
        p.add_argument("--backend", choices=("local", "azure"),
                       help="default: workspace.backend, else azure when a subscription is set, else local")
        p.add_argument("--output", "-o", choices=("text", "json"), default="text")
        p.add_argument("--workdir", help="state folder (default: local.workdir next to pipeline.yaml)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
        p.add_argument("--verbose", "-v", action="store_true", help="debug logging (never shows secrets)")
        if cmd.configure:
            cmd.configure(p)
        p.set_defaults(_command=cmd)
    return parser


def _sigterm_interrupts() -> None:
    """SIGTERM (a cancelled CI job, `kill`) takes the Ctrl-C path: the split is restored, a
    half-created colour stopped, a job marked Canceled."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cmd: Command = args._command
    import logging  # here, not at import: `--help` stays cheap

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    _sigterm_interrupts()
    try:
        try:
            result = cmd.func(args)
        except Azml2aksError as e:
            return report_error(e, args)
        except BrokenPipeError:
            raise
        except OSError as e:  # a file system refusal nothing above named: one line, never a traceback
            from azml2aks.errors import BackendError

            where = f": {e.filename}" if e.filename else ""
            return report_error(BackendError(f"{e.strerror or e}{where}",
                                             hint="check the path and its permissions (and --workdir)"), args)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        if args.output == "json":
            print(json.dumps(to_jsonable(result), indent=2, default=str))
        else:
            print((cmd.render or render_default)(result))
        sys.stdout.flush()
        return getattr(args, "exit_code", 0)  # a verb whose result is a verdict (doctor) sets it
    except BrokenPipeError:
        # the reader left (`azml2aks status | head -1`): what it read was complete; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0

