"""A stateful fake of the Azure ML control plane (and AKS) for offline tests.

Answers at the HTTP layer through `responses`, exactly as the service does, so the real
`azure-ai-ml` and `azure-mgmt-containerservice` clients run unpatched. Start from
`tests.fakes.fixtures` (fake_azure, fake_credential, ml_client) or build a `FakeAzure`
and `install()` it into a `responses.RequestsMock`. Not shipped in the azml2aks package.
"""
from .arm import Call, ServiceError, UnmatchedRequest, user_error
from .fake import FakeAzure
from .faults import IMAGE_BUILD_FAILURE, QUOTA_EXCEEDED, READINESS_PROBE_FAILURE
from .scoring import PIN_HEADER, ScoringError
from .state import AZURE_LRO_SECONDS, FakeClock, FakeConfig

__all__ = [
    "AZURE_LRO_SECONDS",
    "Call",
    "FakeAzure",
    "FakeClock",
    "FakeConfig",
    "IMAGE_BUILD_FAILURE",
    "PIN_HEADER",
    "QUOTA_EXCEEDED",
    "READINESS_PROBE_FAILURE",
    "ScoringError",
    "ServiceError",
    "UnmatchedRequest",
    "user_error",
]
