"""A fake Microsoft Entra ID token endpoint, so the real `DefaultAzureCredential` works offline.

With `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` set (the service-principal
login of CI agents), `DefaultAzureCredential` uses `EnvironmentCredential`, whose MSAL client
reads the tenant's OpenID configuration and posts a client-credentials grant. This module
answers both on the fake's router (source: the Microsoft identity platform OAuth 2.0 client
credentials flow and OpenID Connect discovery documents; MSAL Python's
`oauth2cli/oidc.py` and `authority.py` for the calls it makes). Tokens are fake and opaque;
`issued` lists the scopes asked for.

    entra = Entra(fake_azure)          # registers the routes; `entra.env` holds the variables
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from .arm import FakeRequest, Reply, ServiceError

LOGIN = "https://login.microsoftonline.com"
TENANT = "33333333-0000-0000-0000-000000000003"
CLIENT = "44444444-0000-0000-0000-000000000004"


class Entra:
    def __init__(self, fake, *, tenant: str = TENANT, client_id: str = CLIENT) -> None:
        self.tenant, self.client_id = tenant, client_id
        self.issued: list[str] = []
        host = re.escape(LOGIN)
        fake.router.add("GET", host + r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration",
                        "Entra_OpenIdConfiguration", self.openid)
        fake.router.add("GET", host + r"/common/discovery/instance", "Entra_InstanceDiscovery",
                        self.discovery)
        fake.router.add("POST", host + r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "Entra_Token",
                        self.token)

    @property
    def env(self) -> dict[str, str]:
        """The variables a service-principal login sets (the secret is a dummy)."""
        return {"AZURE_TENANT_ID": self.tenant, "AZURE_CLIENT_ID": self.client_id,
                "AZURE_CLIENT_SECRET": "fake-client-secret"}

    def openid(self, req: FakeRequest, tenant: str) -> Reply:
        base = f"{LOGIN}/{tenant}"
        return Reply(200, {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                           "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                           "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                           "jwks_uri": f"{LOGIN}/{tenant}/discovery/v2.0/keys",
                           "response_types_supported": ["code", "id_token", "token"],
                           "tenant_region_scope": "NA"})

    def discovery(self, req: FakeRequest) -> Reply:
        return Reply(200, {"tenant_discovery_endpoint":
                           f"{LOGIN}/{self.tenant}/v2.0/.well-known/openid-configuration",
                           "api-version": "1.1",
                           "metadata": [{"preferred_network": "login.microsoftonline.com",
                                         "preferred_cache": "login.windows.net",
                                         "aliases": ["login.microsoftonline.com"]}]})

    def token(self, req: FakeRequest, tenant: str) -> Reply:
        form = dict(parse_qsl(req.body.decode()))
        if form.get("client_id") != self.client_id or form.get("grant_type") != "client_credentials":
            raise ServiceError(400, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        scope = form.get("scope", "")
        self.issued.append(scope)
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": f"fake-entra-token-{len(self.issued)}"})
