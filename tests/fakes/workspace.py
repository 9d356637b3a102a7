"""The workspace itself: ARM GET of the workspace, its discovery document and datastores.

The SDK reads `location`, `properties.discoveryUrl` and `properties.mlFlowTrackingUri` of
the workspace; the discovery document points the run-history client at the regional
data-plane host; the default blob datastore is where code assets are uploaded, and
`workspaceartifactstore` (container `azureml`) holds run artifacts (artifacts.py).
"""
from __future__ import annotations

import re

from .arm import FakeRequest, Reply, not_found
from .state import ARM_HOST

STORAGE_ACCOUNT = "fakemlstorage"
CONTAINER = "azureml-blobstore-00000000-1111-2222-3333-444444444444"
DATASTORES = ("workspaceblobstore", "workspaceartifactstore")


class Workspace:
    def __init__(self, fake) -> None:
        self.fake = fake
        c = fake.config
        ws = re.escape(ARM_HOST + c.workspace_path)
        fake.router.add("GET", ws, "Workspaces_Get", self.get)
        fake.router.add("GET", re.escape(c.api_host) + r"/discovery/workspaces/[^/]+",
                        "Discovery_Get", self.discovery)
        fake.router.add("GET", re.escape(c.api_host) + r"/discovery",
                        "Discovery_Get", self.discovery)
        fake.router.add("GET", ws + r"/datastores", "Datastores_List", self.list_datastores)
        fake.router.add("GET", ws + r"/datastores/(?P<name>[^/]+)", "Datastores_Get",
                        self.get_datastore)
        fake.router.add("POST", ws + r"/datastores/(?P<name>[^/]+)/listSecrets",
                        "Datastores_ListSecrets", self.list_secrets)

    def body(self) -> dict:
        c = self.fake.config
        sub, rg = c.subscription_id, c.resource_group
        return {
            "id": c.workspace_id,
            "name": c.workspace,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "location": c.location,
            "identity": {"principalId": "00000000-aaaa-bbbb-cccc-000000000001",
                         "tenantId": "00000000-aaaa-bbbb-cccc-000000000002",
                         "type": "SystemAssigned", "userAssignedIdentities": {}},
            "properties": {
                "containerRegistry": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/fakeacr",
                "keyVault": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/fakekv",
                "applicationInsights": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/microsoft.insights/components/fakeinsights",
                "storageAccount": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{STORAGE_ACCOUNT}",
                "discoveryUrl": f"{c.api_host}/discovery",
                "mlFlowTrackingUri": (f"azureml://{c.location}.api.azureml.ms/mlflow/v1.0"
                                      f"{c.workspace_path}"),
                "workspaceId": "11111111-2222-3333-4444-555555555555",
                "friendlyName": c.workspace,
                "description": "fake workspace",
                "encryption": {"status": "Disabled",
                               "identity": {"userAssignedIdentity": None},
                               "keyVaultProperties": {"keyVaultArmId": None,
                                                      "keyIdentifier": None,
                                                      "identityClientId": None}},
                "hbiWorkspace": False,
                "serviceProvisionedResourceGroup": f"{c.workspace}_0000111122223333",
                "privateLinkCount": 0,
                "allowPublicAccessWhenBehindVnet": False,
                "publicNetworkAccess": "Enabled",
                "imageBuildCompute": "",
                "privateEndpointConnections": [],
                "sharedPrivateLinkResources": [],
                "managedNetwork": {"isolationMode": "Disabled", "networkId": "",
                                   "outboundRules": {}, "status": {"status": "Inactive",
                                                                   "sparkReady": False}},
                "provisioningState": "Succeeded",
            },
            "systemData": {"createdAt": "2024-01-01T00:00:00.000Z", "createdBy": "fake",
                           "createdByType": "User"},
        }

    def get(self, req: FakeRequest) -> Reply:
        return Reply(200, self.body())

    def discovery(self, req: FakeRequest) -> Reply:
        host = self.fake.config.api_host
        services = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive",
                    "labeling", "modelmanagement", "pipelines", "studio")
        return Reply(200, {name: host for name in services})

    # ---- datastores (the default blob store receives code uploads) ---------------------
    def datastore(self, name: str = "workspaceblobstore") -> dict:
        c = self.fake.config
        default = name == "workspaceblobstore"
        return {
            "id": f"{c.workspace_id}/datastores/{name}",
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/datastores",
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": STORAGE_ACCOUNT,
                "containerName": CONTAINER if default else "azureml",
                "endpoint": "core.windows.net",
                "protocol": "https",
                "isDefault": default,
                "credentials": {"credentialsType": "AccountKey"},
                "serviceDataAccessAuthIdentity": "None",
                "description": None,
                "properties": {},
                "tags": {},
            },
        }

    def list_datastores(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": [self.datastore(n) for n in DATASTORES], "nextLink": None})

    def get_datastore(self, req: FakeRequest, name: str) -> Reply:
        if name not in DATASTORES:
            raise not_found("Datastore", name)
        return Reply(200, self.datastore(name))

    def list_secrets(self, req: FakeRequest, name: str) -> Reply:
        if name not in DATASTORES:
            raise not_found("Datastore", name)
        return Reply(200, {"secretsType": "AccountKey", "key": "ZmFrZS1rZXk="})
