"""The one choke point between azml2aks and Azure: credential, clients, error translation.

Every Azure call of ``backends/azure`` goes through a client built here and every Azure
exception through :func:`translate`, which turns it into azml2aks's tree::

    HttpResponseError 404 / ResourceNotFoundError  -> NotFoundError   (exit 1)
    ARM's 404 for the workspace / group / subscr.  -> ConfigError     (exit 1)  names the workspace fields
    HttpResponseError 400 / 409 / 422 (UserError)  -> ConfigError     (exit 1)  the request was wrong
    ClientAuthenticationError, no credential       -> ConfigError     (exit 1)  names every way to log in
    401 InvalidAuthenticationTokenTenant           -> ConfigError     (exit 1)  names workspace.tenant_id
    any other HttpResponseError / ServiceRequest   -> BackendError    (exit 3)  keeps the service's code

The service's ``code`` and ``message`` are kept, trimmed to :data:`MAX_MESSAGE` characters and
scrubbed of anything that looks like a secret (SAS signatures, bearer tokens, keys), and the
original exception is chained with ``from``. Building a client makes no call: the first request
is the first call. 429 and 5xx are retried by azure-core's retry policy (it honours
``Retry-After``); the service's documented consistency lags (409 while Updating, 404 right
after a create) are retried by :mod:`azml2aks.retry` in the resource modules.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from azml2aks.errors import Azml2aksError, BackendError, ConfigError, NotFoundError

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_MESSAGE = 600
ARM = "https://management.azure.com"

#: How to give azml2aks a credential; DefaultAzureCredential tries them in this order.
CREDENTIAL_HINT = (
    "log in one of these ways: service-principal variables AZURE_CLIENT_ID + AZURE_TENANT_ID + "
    "AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH); workload identity federation "
    "(AZURE_FEDERATED_TOKEN_FILE, set by an OIDC service connection or azure/login); a managed "
    "identity on the agent (AZURE_CLIENT_ID for a user-assigned one); or `az login` (an Azure "
    "DevOps AzureCLI@2 task is already logged in)"
)

_SECRETS = [
    (re.compile(r"(?i)\b(sig|skoid|sktid|signature)=[^&\s\"')]+"), r"\1=***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)(\"?(?:primaryKey|secondaryKey|accessToken|key|password|secret|token)\"?\s*[:=]\s*\"?)"
                r"[^\"',\s}]+"), r"\1***"),
    (re.compile(r"(?i)(AccountKey|SharedAccessSignature)=[^;\s]+"), r"\1=***"),
]


def scrub(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` without secrets, on one line, at most ``limit`` characters."""
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_credential(tenant_id: str | None = None) -> Any:
    """``DefaultAzureCredential`` (environment, workload identity, managed identity, Azure CLI).

    No call is made here; a missing login surfaces on the first request, through
    :func:`translate`, as one ConfigError naming every way to provide a credential."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as e:  # an install without the [azure] extra
        raise ConfigError("the Azure backend needs the azure extra",
                          hint="pip install 'azml2aks[azure]', or run with --backend local") from e
    kwargs: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if tenant_id:
        kwargs["additionally_allowed_tenants"] = [tenant_id]
        kwargs["workload_identity_tenant_id"] = tenant_id
    try:
        return DefaultAzureCredential(**kwargs)
    except ValueError as e:  # AZURE_TOKEN_CREDENTIALS names no credential azure-identity knows
        raise ConfigError(f"the Azure credential settings are invalid: {scrub(str(e), 300)}",
                          hint="unset AZURE_TOKEN_CREDENTIALS or set it to dev, prod or one credential name "
                               "(e.g. AzureCliCredential)") from e


def ml_client(subscription_id: str, resource_group: str, workspace: str, credential: Any, **kwargs: Any) -> Any:
    """An ``MLClient`` on one workspace. Construction sends nothing."""
    from azure.ai.ml import MLClient

    kwargs.setdefault("show_progress", False)  # azml2aks reports uploads and jobs as its own events
    return MLClient(credential, subscription_id, resource_group, workspace,
                    enable_telemetry=False, **kwargs)


def arm_pipeline(credential: Any, *, base_url: str = ARM, transport: Any = None, **kwargs: Any) -> Any:
    """A plain ARM pipeline client (bearer policy, retries honouring Retry-After, ARM errors),
    for the few REST calls no SDK client covers (cluster extensions, provider registration).
    ``kwargs`` go to the retry policy (``retry_total``, ...); ``transport`` from :func:`transport`."""
    from azure.core.pipeline import policies as P
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

    pipeline = [P.RequestIdPolicy(), P.HeadersPolicy(), P.UserAgentPolicy("azml2aks"),
                P.RetryPolicy(**kwargs), ARMChallengeAuthenticationPolicy(credential, f"{base_url}/.default"),
                P.ContentDecodePolicy(), ARMHttpLoggingPolicy()]
    extra = {"transport": transport} if transport is not None else {}
    return ARMPipelineClient(base_url=base_url, policies=pipeline, **extra)


def transport(sleep: Callable[[float], None] | None = None) -> Any:
    """azure-core's requests transport, with ``sleep`` (retry backoff, Retry-After, LRO polls)
    injected when given; None (the client's default transport) otherwise."""
    if sleep is None:
        return None
    from azure.core.pipeline.transport import RequestsTransport

    class _Transport(RequestsTransport):
        def sleep(self, duration: float) -> None:
            sleep(duration)

    return _Transport()


def arm_request(client: Any, method: str, path: str, *, api_version: str | None, json: Any = None,
                **kwargs: Any) -> Any:
    """One raw ARM call on an :func:`arm_pipeline` client; the azure-core error for a non-2xx
    answer (ResourceNotFoundError for 404), so :func:`translate` handles it like an SDK's.
    ``kwargs`` go to the transport (``connection_timeout``, ``read_timeout`` in seconds)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    if path.lower().startswith("http://management.azure.com/"):
        # ARM answers only https; the official CreateExtension example's Azure-AsyncOperation says http://
        path = ARM + path[len("http://management.azure.com"):]
    url = path if path.startswith("https://") else f"{ARM}{path}"
    params = {"api-version": api_version} if api_version else None  # None: the URL carries it (LRO status)
    response = client.send_request(HttpRequest(method, url, params=params, json=json), **kwargs)
    if response.status_code == 404:
        raise ResourceNotFoundError(response=response, error_format=ARMErrorFormat)
    if not 200 <= response.status_code < 300:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response


def error_parts(error: BaseException) -> tuple[int | None, str | None, str]:
    """(HTTP status, service error code, message) of an azure-core error, as the service said them."""
    status = getattr(error, "status_code", None)
    code = None
    message = getattr(error, "message", None) or str(error)
    odata = getattr(error, "error", None)  # azure.core.exceptions.ODataV4Format
    if odata is not None:
        code = getattr(odata, "code", None)
        message = getattr(odata, "message", None) or message
        inner = [d for d in (getattr(odata, "details", None) or []) if getattr(d, "message", None)]
        if inner and (code in (None, "UserError", "SystemError") or not message):
            # Azure ML puts the specific reason in details (top-level code is usually UserError)
            code = getattr(inner[0], "code", None) or code
            message = f"{message} ({inner[0].message})" if message and inner[0].message not in message else inner[0].message
    response = getattr(error, "response", None)
    if code is None and response is not None:
        with contextlib.suppress(Exception):
            body = response.json()
            err = body.get("error", body) if isinstance(body, dict) else {}
            code = err.get("code") or code
            message = err.get("message") or message
    message = re.sub(r"^\(\w+\)\s*", "", str(message))  # azure-core prefixes "(Code) "
    message = message.split("\nCode:", 1)[0]
    return status, code, scrub(message)


def to_azml2aks_error(error: BaseException, *, doing: str) -> Azml2aksError:
    """The azml2aks error for an azure-core exception raised while ``doing`` something; it keeps
    the HTTP status as ``status`` (None when no response came back)."""
    translated = _translate(error, doing=doing)
    translated.status = getattr(error, "status_code", None)  # type: ignore[attr-defined]
    return translated


def _translate(error: BaseException, *, doing: str) -> Azml2aksError:
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

    try:
        from azure.identity import CredentialUnavailableError
    except ImportError:  # pragma: no cover - azure-identity ships with the [azure] extra
        CredentialUnavailableError = ClientAuthenticationError  # noqa: N806
    if isinstance(error, (CredentialUnavailableError, ClientAuthenticationError)) and \
            getattr(error, "status_code", None) in (None, 401):
        if getattr(error, "status_code", None) == 401:  # a token was sent and the service refused it
            _, code, message = error_parts(error)
            if code == "InvalidAuthenticationTokenTenant":
                return ConfigError(f"the Azure login is for another tenant than the workspace's subscription "
                                   f"while {doing}: ({code}) {message}",
                                   hint="log in to the subscription's tenant (the message names it): `az login "
                                   "--tenant <tenant id>`; a service principal or workload identity: AZURE_TENANT_ID "
                                   "(or workspace.tenant_id)")
            if code:
                return ConfigError(f"Azure refused the login while {doing}: ({code}) {message}", hint=CREDENTIAL_HINT)
        return ConfigError(f"no Azure credential worked while {doing}", hint=CREDENTIAL_HINT)
    if isinstance(error, ServiceRequestError):
        return BackendError(f"cannot reach Azure while {doing}: {scrub(str(error), 300)}",
                            hint="check the agent's network path to management.azure.com and retry")
    status, code, message = error_parts(error)
    where = f"{doing}: " + (f"({code}) " if code else "") + message
    scope = _missing_scope(status, code, message)
    if scope:  # ARM's own 404: the workspace, its resource group or subscription is not there
        return ConfigError(f"{scope} does not exist or is not visible to this identity (while {doing})",
                           hint="check workspace.subscription_id, workspace.resource_group and workspace.name in "
                           "pipeline.yaml (`az ml workspace show -n <name> -g <group>`)")
    if status == 404:
        return NotFoundError(where)
    if status == 403:
        return ConfigError(f"permission denied while {where}",
                           hint="give the pipeline's identity the AzureML Data Scientist role on the workspace "
                                "(and Azure Kubernetes Service Cluster User on the cluster)")
    if status in (400, 409, 422):
        err = ConfigError(where)
        err.code = code  # type: ignore[attr-defined]
        return err
    return BackendError(where, code=code)


_WORKSPACE_404 = re.compile(r"Microsoft\.MachineLearningServices/workspaces/([^'/\s]+)'", re.IGNORECASE)


def _missing_scope(status: int | None, code: str | None, message: str) -> str | None:
    """'workspace X' / 'resource group X' / 'subscription X' when ARM answered that it is missing
    (codes ResourceNotFound on the workspace, ResourceGroupNotFound, SubscriptionNotFound), else None:
    Azure ML's own 404 for a model, job or asset is a UserError, and stays a NotFoundError."""
    if status != 404:
        return None
    if code == "ResourceGroupNotFound":
        found = re.search(r"[Rr]esource group '([^']+)'", message)
        return f"resource group '{found.group(1) if found else '?'}'"
    if code in ("SubscriptionNotFound", "InvalidSubscriptionId"):
        found = re.search(r"subscription '([^']+)'", message)
        return f"subscription '{found.group(1) if found else '?'}'"
    found = _WORKSPACE_404.search(message) if code == "ResourceNotFound" else None
    return f"workspace '{found.group(1)}'" if found else None


#: statuses a long wait may outlast by trying again at its next poll (azure-core already
#: retried them a few times inside the call)
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    """A translated error a poll loop may retry at its next poll (throttling, 5xx, no network)."""
    status = getattr(error, "status", None)
    return status in TRANSIENT_STATUSES or (isinstance(error, BackendError) and status is None
                                            and "cannot reach Azure" in error.message)


@contextlib.contextmanager
def translate(doing: str) -> Iterator[None]:
    """Run a block of Azure calls; azure-core errors come out as azml2aks errors, chained."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except Azml2aksError:
        raise
    except AzureError as e:
        raise to_azml2aks_error(e, doing=doing) from e


# --- plain ARM REST on one workspace -----------------------------------------------------------
#: The api-version of every online endpoint and deployment call (2023-04-01-preview: the
#: version azure-ai-ml 1.35 uses for deployments; copies of its REST examples: tests/fakes/examples).
ENDPOINTS_API = "2023-04-01-preview"
WORKSPACE_API = "2024-10-01-preview"


class ArmRest:
    """JSON requests to ARM under one workspace, and long-running operations polled with
    :class:`azml2aks.retry.Poller` (injected ``sleep``/``clock``; ``Retry-After`` honoured).

    Online endpoints and deployments go through here rather than the SDK's operations: the
    SDK re-reads the workspace on every PUT, polls deployments every 5 s with no backoff, and
    prints a dot to stdout per poll (``AzureMLPolling``), which would corrupt ``--output json``.
    Errors come out as azure-core ``HttpResponseError`` (ARM error format) for the caller to
    retry or pass through :func:`translate`."""

    def __init__(self, pipeline: Any, workspace_path: str, *, sleep: Any, clock: Any, now: Any,
                 base_url: str = ARM) -> None:
        self._pipeline = pipeline
        self.workspace_path = workspace_path
        self.base_url = base_url
        self.sleep = sleep
        self.clock = clock  # pacing (monotonic)
        self.now = now  # epoch seconds: lease expiry, token expiry
        self._location: str | None = None

    def url(self, path: str) -> str:
        if path.startswith("https://") or path.startswith("http://"):
            return path
        return f"{self.base_url}{self.workspace_path}{path}"

    def request(self, method: str, path: str, body: Any = None, *, api_version: str = ENDPOINTS_API) -> Any:
        """One call (:func:`arm_request`); the azure-core response, else its HttpResponseError."""
        url = self.url(path)
        return arm_request(self._pipeline, method, url, json=body,
                           api_version=None if "api-version=" in url else api_version)

    def get_json(self, path: str, *, api_version: str = ENDPOINTS_API) -> dict[str, Any]:
        return self.request("GET", path, api_version=api_version).json()

    def location(self) -> str:
        """The workspace's region (read once per process)."""
        if self._location is None:
            self._location = self.get_json("", api_version=WORKSPACE_API)["location"]
        return self._location

    def wait(self, response: Any, *, doing: str, timeout: float, initial: float = 5.0, max_delay: float = 30.0,
             on_poll: Any = None) -> dict[str, Any]:
        """Follow the LRO ``response`` started (201 + Azure-AsyncOperation, or 202 + Location)
        to its end; return the final status body. A ``Failed``/``Canceled`` operation raises
        :class:`OperationFailed` with the service's error; no end within ``timeout`` seconds
        raises BackendError."""
        from azml2aks.retry import Poller

        headers = response.headers
        status_url = headers.get("Azure-AsyncOperation") or headers.get("azure-asyncoperation")
        location = headers.get("Location") or headers.get("location")
        if response.status_code not in (201, 202) or not (status_url or location):
            return {"status": "Succeeded"}
        poller = Poller(initial=initial, factor=1.5, max_delay=max_delay, timeout=timeout,
                        sleep=self.sleep, clock=self.clock)
        poller.retry_after(_retry_after(headers))
        start = self.clock()
        first = True
        for _ in poller:
            if first:  # the operation has only just started: wait before the first poll
                first = False
                continue
            polled = self.request("GET", status_url or location)
            body = _json_or_empty(polled)
            status = body.get("status") or ("InProgress" if polled.status_code == 202 else "Succeeded")
            if on_poll is not None:
                on_poll(status, self.clock() - start)
            if status in ("Succeeded",):
                return body
            if status in ("Failed", "Canceled"):
                error = body.get("error") or {}
                raise OperationFailed(error.get("code") or status, scrub(error.get("message") or status))
            poller.retry_after(_retry_after(polled.headers))
        raise BackendError(f"{doing}: no result after {timeout:.0f} s",
                           hint="the operation may still finish; check it with `azml2aks status PIPELINE`")


class OperationFailed(BackendError):
    """Raised when a long-running operation ends Failed or Canceled (the service's code kept)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"({code}) {message}", code=code)


def _retry_after(headers: Any) -> float | None:
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            with contextlib.suppress(ValueError):
                return float(value) / 1000
    value = headers.get("Retry-After")
    if value:
        with contextlib.suppress(ValueError):
            return float(value)
    return None


def _json_or_empty(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


#: Explicit version numbers tried when other agents race for the same asset's next version.
MAX_VERSION_ATTEMPTS = 5


def create_next_version(kind: str, name: str, first: int, create: Callable[[str], T]) -> T:
    """``create(version)`` from ``first`` on, moving to the next number while the service
    answers 409 (versions are immutable: another agent took that one), at most
    :data:`MAX_VERSION_ATTEMPTS` times; ``kind`` (model, environment) names it in messages."""
    version = first
    for _ in range(MAX_VERSION_ATTEMPTS):
        try:
            with translate(f"registering {kind} {name}:{version}"):
                return create(str(version))
        except ConfigError as e:
            if getattr(e, "status", None) != 409:
                raise
            logger.info("%s %s:%s was taken meanwhile; trying %s", kind, name, version, version + 1)
            version += 1
    raise ConfigError(f"{kind} {name}: versions {first}..{version - 1} were all taken while registering",
                      hint=f"another pipeline is registering this {kind}; retry")
