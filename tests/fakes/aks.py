"""AKS: managed clusters, their agent pools, cluster extensions and provider registration.

What `azml2aks doctor` and compute attach read: `ManagedClusters_Get` (provisioning and
power state, identity, local accounts, authorized IP ranges, agent pool profiles),
`AgentPools_List`, `GET {clusterId}/providers/Microsoft.KubernetesConfiguration/extensions`
and `GET /subscriptions/{s}/providers/Microsoft.KubernetesConfiguration` (registration).
A default cluster `aks-ml` (managed identity, 3 x Standard_D4s_v3, AzureML extension with
inference enabled and `allowInsecureConnections=True`, so its inference router serves plain
http: see scoring.py) exists from the start; `add_cluster()` adds or replaces one. Other
extensions get the service's default `allowInsecureConnections=False` unless told.
"""
from __future__ import annotations

import copy
import re

from .arm import FakeRequest, Reply, not_found
from .state import ARM_HOST

AZUREML_EXTENSION = "microsoft.azureml.kubernetes"
DEFAULT_CLUSTER = "aks-ml"
_K8S_CONFIG = "Microsoft.KubernetesConfiguration"


class Aks:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.clusters: dict[str, dict] = {}
        self.extensions: dict[str, dict[str, dict]] = {}
        self.providers: dict[str, str] = {_K8S_CONFIG: "Registered",
                                          "Microsoft.ContainerService": "Registered"}
        sub = re.escape(ARM_HOST) + r"/subscriptions/[^/]+"
        mc = sub + r"/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters"
        ext = mc + r"/(?P<name>[^/]+)/providers/Microsoft\.KubernetesConfiguration/extensions"
        r = fake.router
        r.add("GET", mc, "ManagedClusters_ListByResourceGroup", self.list_clusters)
        r.add("GET", mc + r"/(?P<name>[^/]+)", "ManagedClusters_Get", self.get_cluster)
        r.add("GET", mc + r"/(?P<name>[^/]+)/agentPools", "AgentPools_List", self.list_pools)
        r.add("GET", mc + r"/(?P<name>[^/]+)/agentPools/(?P<pool>[^/]+)", "AgentPools_Get",
              self.get_pool)
        r.add("GET", ext, "Extensions_List", self.list_extensions)
        r.add("GET", ext + r"/(?P<ext>[^/]+)", "Extensions_Get", self.get_extension)
        r.add("PUT", ext + r"/(?P<ext>[^/]+)", "Extensions_Create", self.put_extension)
        r.add("GET", sub + r"/providers/(?P<namespace>[^/]+)", "Providers_Get", self.provider)
        self.add_cluster(DEFAULT_CLUSTER, extension_settings={"allowInsecureConnections": "True"})

    # ---- test API ------------------------------------------------------------------------
    def cluster_id(self, name: str) -> str:
        c = self.fake.config
        return (f"/subscriptions/{c.subscription_id}/resourceGroups/{c.resource_group}"
                f"/providers/Microsoft.ContainerService/managedClusters/{name}")

    def add_cluster(self, name: str, *, managed_identity: bool = True,
                    disable_local_accounts: bool = False, power_state: str = "Running",
                    provisioning_state: str = "Succeeded", vm_size: str = "Standard_D4s_v3",
                    node_count: int = 3, authorized_ip_ranges: list[str] | None = None,
                    azureml_extension: bool = True, extension_settings: dict | None = None,
                    ) -> dict:
        """Add (or replace) a cluster; returns its ARM body for further tweaking."""
        cid = self.cluster_id(name)
        pool = {"name": "nodepool1", "count": node_count, "vmSize": vm_size, "mode": "System",
                "osType": "Linux", "maxPods": 110, "availabilityZones": ["1", "2", "3"],
                "orchestratorVersion": "1.30.6", "currentOrchestratorVersion": "1.30.6",
                "eTag": "nvewbvoi", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202410.15.0",
                "provisioningState": "Succeeded", "powerState": {"code": power_state},
                "upgradeSettings": {"maxSurge": "10%"}, "type": "VirtualMachineScaleSets"}
        props = {
            "provisioningState": provisioning_state, "powerState": {"code": power_state},
            "kubernetesVersion": "1.30.6", "currentKubernetesVersion": "1.30.6",
            "dnsPrefix": name, "fqdn": f"{name}-dns.hcp.{self.fake.config.location}.azmk8s.io",
            "azurePortalFQDN": f"{name}-dns.portal.hcp.{self.fake.config.location}.azmk8s.io",
            "agentPoolProfiles": [pool], "enableRBAC": True,
            "disableLocalAccounts": disable_local_accounts,
            "nodeResourceGroup": f"MC_{self.fake.config.resource_group}_{name}",
            "maxAgentPools": 100, "diskEncryptionSetID": None,
            "linuxProfile": {"adminUsername": "azureuser",
                             "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAA fake"}]}},
            "networkProfile": {"networkPlugin": "azure", "loadBalancerSku": "standard",
                               "outboundType": "loadBalancer", "dnsServiceIP": "10.0.0.10",
                               "serviceCidr": "10.96.0.0/16", "serviceCidrs": ["10.96.0.0/16"],
                               "podCidr": None, "podCidrs": [], "ipFamilies": ["IPv4"],
                               "loadBalancerProfile": {"allocatedOutboundPorts": 0,
                                                       "effectiveOutboundIPs": [],
                                                       "idleTimeoutInMinutes": 30,
                                                       "outboundIPs": None}},
            "servicePrincipalProfile": {"clientId": "msi" if managed_identity
                                        else "11111111-0000-0000-0000-000000000000"},
            "upgradeSettings": {"overrideSettings": {"forceUpgrade": False, "until": None}},
            "apiServerAccessProfile": {"authorizedIPRanges": authorized_ip_ranges or [],
                                       "enablePrivateCluster": False},
        }
        body = {"id": cid, "name": name, "type": "Microsoft.ContainerService/ManagedClusters",
                "location": self.fake.config.location, "eTag": "beywbwei", "tags": {},
                "properties": props,
                "sku": {"name": "Base", "tier": "Standard"}}
        if managed_identity:
            body["identity"] = {"type": "SystemAssigned",
                                "principalId": "22222222-0000-0000-0000-000000000001",
                                "tenantId": "22222222-0000-0000-0000-000000000002"}
        self.clusters[name] = body
        self.extensions[name] = {}
        if azureml_extension:
            self.add_extension(name, "azureml", settings=extension_settings)
        return body

    def add_extension(self, cluster: str, name: str, *, extension_type: str = AZUREML_EXTENSION,
                      provisioning_state: str = "Succeeded", settings: dict | None = None) -> dict:
        config = {"enableInference": "True", "inferenceRouterServiceType": "LoadBalancer",
                  "allowInsecureConnections": "False", "inferenceRouterHA": "False"}
        config.update(settings or {})
        cid = self.cluster_id(cluster)
        ext = {"id": f"{cid}/providers/{_K8S_CONFIG}/extensions/{name}",
               "type": f"{_K8S_CONFIG}/extensions", "name": name,
               "systemData": {"createdBy": "fake", "createdByType": "User",
                              "createdAt": "2024-01-01T00:00:00Z", "lastModifiedBy": "fake",
                              "lastModifiedByType": "User",
                              "lastModifiedAt": "2024-01-01T00:00:00Z"},
               "identity": {"type": "SystemAssigned",
                            "principalId": "33333333-0000-0000-0000-000000000001"},
               "properties": {"extensionType": extension_type, "autoUpgradeMinorVersion": True,
                              "releaseTrain": "stable", "version": None,
                              "scope": {"cluster": {"releaseNamespace": "azureml"}},
                              "configurationSettings": config,
                              "provisioningState": provisioning_state,
                              "currentVersion": "1.1.64", "statuses": [],
                              "isSystemExtension": False}}
        self.extensions.setdefault(cluster, {})[name] = ext
        return ext

    def cluster_for_id(self, resource_id: str) -> str | None:
        for name in self.clusters:
            if self.cluster_id(name).lower() == resource_id.lower():
                return name
        return None

    def has_azureml_extension(self, cluster: str) -> bool:
        return any(e["properties"]["extensionType"].lower() == AZUREML_EXTENSION
                   and e["properties"]["provisioningState"] == "Succeeded"
                   for e in self.extensions.get(cluster, {}).values())

    # ---- handlers ------------------------------------------------------------------------
    def _cluster(self, name: str) -> dict:
        if name not in self.clusters:
            raise not_found("Managed cluster", name)
        return self.clusters[name]

    def list_clusters(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": list(self.clusters.values())})

    def get_cluster(self, req: FakeRequest, name: str) -> Reply:
        return Reply(200, self._cluster(name))

    def _pool_body(self, name: str, profile: dict) -> dict:
        props = {k: v for k, v in profile.items() if k != "name"}
        return {"id": f"{self.cluster_id(name)}/agentPools/{profile['name']}",
                "name": profile["name"],
                "type": "Microsoft.ContainerService/managedClusters/agentPools",
                "properties": props}

    def list_pools(self, req: FakeRequest, name: str) -> Reply:
        pools = self._cluster(name)["properties"]["agentPoolProfiles"]
        return Reply(200, {"value": [self._pool_body(name, p) for p in pools]})

    def get_pool(self, req: FakeRequest, name: str, pool: str) -> Reply:
        for p in self._cluster(name)["properties"]["agentPoolProfiles"]:
            if p["name"] == pool:
                return Reply(200, self._pool_body(name, p))
        raise not_found("Agent pool", pool)

    def list_extensions(self, req: FakeRequest, name: str) -> Reply:
        self._cluster(name)
        return Reply(200, {"value": list(self.extensions.get(name, {}).values()),
                           "nextLink": None})

    def get_extension(self, req: FakeRequest, name: str, ext: str) -> Reply:
        self._cluster(name)
        if ext not in self.extensions.get(name, {}):
            raise not_found("Extension", ext)
        return Reply(200, self.extensions[name][ext])

    def put_extension(self, req: FakeRequest, name: str, ext: str) -> Reply:
        self._cluster(name)
        props = (req.json() or {}).get("properties") or {}
        body = self.add_extension(name, ext, extension_type=props.get("extensionType",
                                                                      AZUREML_EXTENSION),
                                  provisioning_state="Creating",
                                  settings=props.get("configurationSettings"))

        def effect() -> None:
            body["properties"]["provisioningState"] = "Succeeded"

        return self.fake.lros.accepted_put(copy.deepcopy(body), self.fake.lros.start(effect))

    def provider(self, req: FakeRequest, namespace: str) -> Reply:
        state = next((v for k, v in self.providers.items() if k.lower() == namespace.lower()),
                     "NotRegistered")
        return Reply(200, {"id": f"/subscriptions/{self.fake.config.subscription_id}"
                                 f"/providers/{namespace}",
                           "namespace": namespace, "registrationState": state,
                           "resourceTypes": []})
