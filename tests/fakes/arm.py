"""The HTTP seam of the fake: requests in, replies out, routing, LROs and the request log.

One `responses` callback receives every request; `Router.dispatch` finds the route
(method + path regex -> operation name + handler), applies injected faults, calls the
handler and records the call. Handlers raise `ServiceError` to answer with the ARM error
shape `{"error": {"code", "message", "details", "additionalInfo"}}`; `user_error()` builds
the usual one, top-level code `UserError` with the specific reason in `details` (seen in
Azure/azure-cli-extensions#7107 and Azure-Samples/contoso-chat#139). A request no route
matches raises `UnmatchedRequest` at once, naming the method and URL (kept in `unmatched`).

`Lros` gives PUTs their 201 + `Azure-AsyncOperation` and DELETE/PATCH/POST actions their
202 + `Location` + `Retry-After`, with the headers the REST spec declares for them (see
`_create_or_update_initial` / `_delete_initial` / `_update_initial` in the SDK's
`_restclient/arm_ml_service/operations/_operations.py`): no Retry-After on a 201, so the
SDK polls at its own interval (5 s for deployments, 30 s otherwise). An operation ends
after `config.lro_polls` InProgress answers or, when `config.lro_seconds` names its
operation, once that many seconds have passed on the fake clock.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .state import ARM_HOST, ML_PROVIDER, FakeConfig, new_id

#: what the service declares for how long it may take (REST spec header of 201/202 answers).
ASYNC_TIMEOUT = {"x-ms-async-operation-timeout": "PT1H"}


class UnmatchedRequest(AssertionError):
    """Raised when the fake has no route for a request (never retried, never silent)."""


class ServiceError(Exception):
    """Raised by handlers: the fake answers `status` with the ARM error body.

    `code` is the top-level code; `details` (a list of `{code, message}`) and
    `additional_info` (a list of `{type, info}`) are echoed as ARM does. `reason` is the
    most specific code: the first detail's code, or `code` when there is no detail.
    """

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, *,
                 details: list | None = None, additional_info: list | None = None):
        super().__init__(f"({code}) {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.details = details or []
        self.additional_info = additional_info or []

    @property
    def reason(self) -> str:
        return self.details[0]["code"] if self.details else self.code

    def reply(self) -> Reply:
        body = {"error": {"code": self.code, "message": self.message,
                          "details": self.details, "additionalInfo": self.additional_info}}
        return Reply(self.status, body, dict(self.headers))


def user_error(status: int, reason: str | None, message: str, **parameters) -> ServiceError:
    """The service's usual answer to a bad request: top-level `UserError`, the specific
    reason (when given) in `details`, the message parameters in `additionalInfo`
    (Azure-Samples/contoso-chat#139 shows one with `details: []`)."""
    info = [{"type": "ComponentName", "info": {"value": "managementfrontend"}}]
    if parameters:
        info.append({"type": "MessageParameters", "info": {"value": parameters}})
    details = [] if reason is None else [{"code": reason, "message": message, "details": [],
                                          "additionalInfo": []}]
    return ServiceError(status, "UserError", message, details=details, additional_info=info)


def not_found(kind: str, name: str) -> ServiceError:
    return user_error(404, "NotFound", f"{kind} '{name}' could not be found.")


def bad_request(message: str, code: str = "BadArgument") -> ServiceError:
    return user_error(400, code, message)


def conflict(message: str, code: str = "Conflict") -> ServiceError:
    return user_error(409, code, message)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict = field(default_factory=dict)

    def encode(self) -> tuple[int, dict, bytes]:
        headers = {"x-ms-request-id": new_id(), **self.headers}
        if self.body is None:
            return self.status, headers, b""
        if isinstance(self.body, (bytes, str)):
            data = self.body.encode() if isinstance(self.body, str) else self.body
            return self.status, headers, data
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return self.status, headers, json.dumps(self.body).encode()


@dataclass
class FakeRequest:
    method: str
    url: str
    headers: dict
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def query(self) -> dict:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise bad_request(f"request body is not JSON: {exc}") from exc

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default


@dataclass
class Call:
    """One request as the fake saw it, with the operation name and the status answered."""

    op: str
    method: str
    url: str
    status: int
    request_json: Any = None
    headers: dict = field(default_factory=dict)

    @property
    def is_arm(self) -> bool:
        return self.url.startswith(ARM_HOST)


Handler = Callable[..., Reply]


class Router:
    def __init__(self, faults) -> None:
        self._routes: list[tuple[str, re.Pattern, str, Handler]] = []
        self.faults = faults
        self.log: list[Call] = []
        self.unmatched: list[str] = []

    def add(self, method: str, pattern: str, op: str, handler: Handler) -> None:
        """`pattern` is a regex for the whole URL without its query string."""
        self._routes.append((method, re.compile(pattern + r"/?$", re.IGNORECASE), op, handler))

    def override(self, method: str, pattern: str, op: str, handler: Handler) -> None:
        """Like `add`, ahead of every route added before (a test's verbatim answer wins)."""
        self._routes.insert(0, (method, re.compile(pattern + r"/?$", re.IGNORECASE), op, handler))

    def dispatch(self, req: FakeRequest) -> Reply:
        base = req.url.split("?", 1)[0]
        for method, pattern, op, handler in self._routes:
            match = pattern.match(base)
            if method == req.method and match:
                return self._answer(op, handler, req, match.groupdict())
        self.unmatched.append(f"{req.method} {req.url}")
        self.log.append(Call("<unmatched>", req.method, req.url, 0))
        raise UnmatchedRequest(f"fake Azure has no route for {req.method} {req.url}")

    def _answer(self, op: str, handler: Handler, req: FakeRequest, args: dict) -> Reply:
        try:
            payload = req.json() if _is_json(req) else None
        except ServiceError:
            payload = None
        reply = self.faults.intercept(op, req)
        if reply is None:
            try:
                reply = handler(req, **args)
            except ServiceError as err:
                reply = err.reply()
            except Exception:  # a connection-level failure (scoring.py): logged as status 0
                self.log.append(Call(op, req.method, req.url, 0, payload, dict(req.headers)))
                raise
        self.log.append(Call(op, req.method, req.url, reply.status, payload, dict(req.headers)))
        return reply

    # ---- the request log -------------------------------------------------------------
    def calls(self, op: str | None = None, method: str | None = None) -> list[Call]:
        return [
            c for c in self.log
            if (op is None or c.op == op) and (method is None or c.method == method)
        ]

    def arm_counts(self) -> Counter:
        return Counter(c.op for c in self.log if c.is_arm)


def _is_json(req: FakeRequest) -> bool:
    ctype = (req.header("Content-Type") or "").lower()
    return bool(req.body) and ("json" in ctype or req.body[:1] in (b"{", b"["))


@dataclass
class Operation:
    id: str
    remaining: int
    effect: Callable[[], None]
    error: dict | None = None
    status: str = "InProgress"
    #: fake-clock time at which it finishes (None: after `remaining` InProgress answers).
    due: float | None = None
    kind: str = ""


class Lros:
    """Long-running operations: async-operation status URLs and delete Location URLs."""

    def __init__(self, config: FakeConfig, router: Router, clock) -> None:
        self.config = config
        self.clock = clock
        self.ops: dict[str, Operation] = {}
        base = (
            re.escape(ARM_HOST) + r"/subscriptions/[^/]+/providers/" + ML_PROVIDER
            + r"/locations/[^/]+"
        )
        router.add("GET", base + r"/mfeOperationsStatus/(?P<op_id>[^/]+)",
                   "OperationStatus_Get", self._status)
        router.add("GET", base + r"/mfeOperationResults/(?P<op_id>[^/]+)",
                   "OperationResult_Get", self._result)

    def _url(self, kind: str, op_id: str) -> str:
        c = self.config
        return (
            f"{ARM_HOST}/subscriptions/{c.subscription_id}/providers/{ML_PROVIDER}"
            f"/locations/{c.location}/{kind}/{op_id}?api-version=2023-04-01-preview"
        )

    def start(self, effect: Callable[[], None], *, error: dict | None = None,
              polls: int | None = None, kind: str = "") -> Operation:
        """Begin an operation; `effect` runs once when it finishes (success or failure).

        `kind` is the operation name (`OnlineDeployments_CreateOrUpdate`, ...): when
        `config.lro_seconds` has it, the operation lasts that long on the fake clock.
        """
        seconds = self.config.lro_seconds.get(kind) if kind else None
        remaining = self.config.lro_polls if polls is None else polls
        due = self.clock.time() + seconds if seconds else None
        op = Operation(new_id(), remaining, effect, error, due=due, kind=kind)
        self.ops[op.id] = op
        if op.due is None and op.remaining <= 0:
            self._finish(op)
        return op

    def accepted_put(self, body: dict, op: Operation) -> Reply:
        """201 + Azure-AsyncOperation: the spec declares no Retry-After here."""
        headers = {"Azure-AsyncOperation": self._url("mfeOperationsStatus", op.id),
                   **ASYNC_TIMEOUT}
        return Reply(201, body, headers)

    def accepted_delete(self, op: Operation) -> Reply:
        """202 + Location + Retry-After (DELETE, PATCH and POST actions)."""
        headers = {"Location": self._url("mfeOperationResults", op.id),
                   "Retry-After": str(self.config.lro_retry_after), **ASYNC_TIMEOUT}
        return Reply(202, None, headers)

    def settle(self) -> None:
        """Finish every pending operation now (as if the service caught up)."""
        for op in list(self.ops.values()):
            if op.status == "InProgress":
                self._finish(op)

    def _advance(self, op_id: str) -> Operation:
        op = self.ops.get(op_id)
        if op is None:
            raise ServiceError(404, "NotFound", f"operation '{op_id}' not found")
        if op.status == "InProgress":
            if op.due is not None:
                if self.clock.time() >= op.due:
                    self._finish(op)
            elif op.remaining > 0:
                op.remaining -= 1
            else:
                self._finish(op)
        return op

    def _finish(self, op: Operation) -> None:
        op.status = "Failed" if op.error else "Succeeded"
        op.effect()

    def _status(self, req: FakeRequest, op_id: str) -> Reply:
        op = self._advance(op_id)
        body = {"id": op.id, "name": op.id, "status": op.status}
        if op.status == "Failed":
            body["error"] = op.error
        return Reply(200, body)

    def _result(self, req: FakeRequest, op_id: str) -> Reply:
        op = self._advance(op_id)
        if op.status == "InProgress":
            return Reply(202, None, {"Location": req.url,
                                     "Retry-After": str(self.config.lro_retry_after)})
        if op.status == "Failed":
            return ServiceError(400, op.error["code"], op.error["message"]).reply()
        return Reply(200, None, {})
