"""Pytest fixtures for tests that drive the Azure SDK against the fake.

`fake_azure`  a `FakeAzure`, active for the test through
              `responses.RequestsMock(assert_all_requests_are_fired=False)`, with
              azure-core's sleeps on the fake clock (`FakeAzure.simulated_sleep`); the test
              fails at teardown if any request went unmatched (even one the code swallowed).
`fake_credential` a credential stub with `get_token` and `get_token_info`.
`ml_client`   `MLClient(fake_credential, sub, rg, ws, enable_telemetry=False,
              retry_total=0)` pointed at the fake's workspace.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import responses

from .fake import FakeAzure


@dataclass
class _TokenInfo:
    token: str
    expires_on: int
    token_type: str = "Bearer"
    refresh_on: int | None = None


class FakeCredential:
    """Satisfies azure-core's TokenCredential and SupportsTokenInfo protocols."""

    def __init__(self, token: str = "fake-arm-token") -> None:
        self.token = token
        self.requests: list[tuple[str, ...]] = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.requests.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo

        self.requests.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 3600)

    def close(self) -> None:
        pass


_CURRENT: list[FakeAzure] = []


def current() -> FakeAzure:
    """The FakeAzure of the running `fake_azure` fixture (for helpers that get an MLClient)."""
    if not _CURRENT:
        raise RuntimeError("no fake_azure fixture is active")
    return _CURRENT[-1]


@pytest.fixture
def fake_azure():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAzure().install(mock)
        _CURRENT.append(fake)
        try:
            with fake.simulated_sleep():
                yield fake
        finally:
            _CURRENT.remove(fake)
    assert not fake.unmatched, f"requests the fake could not answer: {fake.unmatched}"


@pytest.fixture
def fake_credential() -> FakeCredential:
    return FakeCredential()


@pytest.fixture
def ml_client(fake_azure, fake_credential):
    from azure.ai.ml import MLClient

    c = fake_azure.config
    return MLClient(fake_credential, c.subscription_id, c.resource_group, c.workspace,
                    enable_telemetry=False, retry_total=0)
