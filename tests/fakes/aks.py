"""AKS: managed clusters, their agent pools, cluster extensions and provider registration.

What `azml2aks doctor` and compute attach read: `ManagedClusters_Get` (provisioning and
power state, identity, local accounts, authorized IP ranges, agent pool profiles),
`AgentPools_List`, `GET {clusterId}/providers/Microsoft.KubernetesConfiguration/extensions`
and `GET /subscriptions/{s}/providers/Microsoft.KubernetesConfiguration` (registration).
A default cluster `aks-ml` (managed identity, 3 x Standard_D4s_v3, AzureML extension with
inference enabled and `allowInsecureConnections=True`, so its inference router serves plain
http: see scoring.py) exists from the start; `add_cluster()` adds or replaces one. Other
extensions get the service's default `allowInsecureConnections=False` unless told.

What `azml2aks infra` writes (see README "AKS provisioning"): `ManagedClusters_CreateOrUpdate`
(PUT, LRO; a pool's vmSize cannot change), `Extensions_Update` (PATCH, LRO),
`Providers_Register`; and what the in-cluster checks need: `ManagedClusters_ListClusterUserCredential`
(a kubeconfig pointing at `connect()`ed `FakeKubernetes`, else at 127.0.0.1:1 where nothing
listens) and `ManagedClusters_ListKubernetesVersions`. `fail_next_put(cluster)` and
`fail_next_extension(cluster)` make the next cluster / extension LRO end `Failed`.
"""
from __future__ import annotations

import base64
import copy
import re

import yaml

from .arm import FakeRequest, Reply, ServiceError, not_found
from .state import ARM_HOST

AZUREML_EXTENSION = "microsoft.azureml.kubernetes"
DEFAULT_CLUSTER = "aks-ml"
_K8S_CONFIG = "Microsoft.KubernetesConfiguration"
#: where a cluster's kubeconfig points until a test connects a FakeKubernetes: nothing listens
UNREACHABLE_API_SERVER = "https://127.0.0.1:1"
#: the AKS Entra ID server application, audience of the tokens kubelogin gets
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
#: AKS minor versions and whether each is preview (`az aks get-versions` in late 2026: assumption)
KUBERNETES_VERSIONS = [("1.30", False), ("1.31", False), ("1.32", False), ("1.33", True)]


def _aks_error(code: str, message: str) -> ServiceError:
    """The AKS resource provider's 400: the specific code at the top level, no `UserError`
    wrapper (unlike Azure ML's; azure-mgmt-containerservice's ErrorResponse model)."""
    return ServiceError(400, code, message)


class Aks:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.clusters: dict[str, dict] = {}
        self.extensions: dict[str, dict[str, dict]] = {}
        self.providers: dict[str, str] = {_K8S_CONFIG: "Registered",
                                          "Microsoft.ContainerService": "Registered"}
        self.api_servers: dict[str, tuple[str, str]] = {}   # cluster -> (url, token)
        self.entra_clusters: set[str] = set()
        self.kubernetes_versions = list(KUBERNETES_VERSIONS)
        self._put_failures: dict[str, dict] = {}
        self._extension_failures: dict[str, dict] = {}
        self._registering: dict[str, int] = {}
        sub = re.escape(ARM_HOST) + r"/subscriptions/[^/]+"
        mc = sub + r"/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters"
        ext = mc + r"/(?P<name>[^/]+)/providers/Microsoft\.KubernetesConfiguration/extensions"
        r = fake.router
        r.add("GET", mc, "ManagedClusters_ListByResourceGroup", self.list_clusters)
        r.add("GET", mc + r"/(?P<name>[^/]+)", "ManagedClusters_Get", self.get_cluster)
        r.add("PUT", mc + r"/(?P<name>[^/]+)", "ManagedClusters_CreateOrUpdate", self.put_cluster)
        r.add("POST", mc + r"/(?P<name>[^/]+)/listClusterUserCredential",
              "ManagedClusters_ListClusterUserCredential", self.user_credential)
        r.add("GET", sub + r"/providers/Microsoft\.ContainerService/locations/(?P<location>[^/]+)"
              r"/kubernetesVersions", "ManagedClusters_ListKubernetesVersions", self.versions)
        r.add("GET", mc + r"/(?P<name>[^/]+)/agentPools", "AgentPools_List", self.list_pools)
        r.add("GET", mc + r"/(?P<name>[^/]+)/agentPools/(?P<pool>[^/]+)", "AgentPools_Get",
              self.get_pool)
        r.add("GET", ext, "Extensions_List", self.list_extensions)
        r.add("GET", ext + r"/(?P<ext>[^/]+)", "Extensions_Get", self.get_extension)
        r.add("PUT", ext + r"/(?P<ext>[^/]+)", "Extensions_Create", self.put_extension)
        r.add("PATCH", ext + r"/(?P<ext>[^/]+)", "Extensions_Update", self.patch_extension)
        r.add("GET", sub + r"/providers/(?P<namespace>[^/]+)", "Providers_Get", self.provider)
        r.add("POST", sub + r"/providers/(?P<namespace>[^/]+)/register", "Providers_Register",
              self.register_provider)
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

    def connect(self, cluster: str, kube, *, entra: bool = False) -> None:
        """Hand out a kubeconfig for `cluster` that reaches `kube` (a started FakeKubernetes).
        `entra=True`: an Entra ID (AAD) cluster, whose kubeconfig user runs kubelogin (exec)."""
        self.api_servers[cluster] = (kube.url, kube.token)
        kube.bind(self.fake.instance_types, cluster)
        self.entra_clusters.discard(cluster)
        if entra:
            self.entra_clusters.add(cluster)

    def fail_next_put(self, cluster: str, *, code: str = "ReconcileVMSSAgentPoolFailed",
                      message: str = "Code=\"OperationNotAllowed\" Message=\"Operation could not be "
                      "completed as it results in exceeding approved standardDSv3Family Cores quota.\"") -> None:
        """The next create/update of `cluster` ends `Failed` (its provisioningState too)."""
        self._put_failures[cluster] = {"code": code, "message": message}

    def fail_next_extension(self, cluster: str, *, code: str = "ExtensionOperationFailed",
                            message: str = "Helm installation failed: timed out waiting for "
                            "the condition (azureml-fe pods not ready)") -> None:
        """The next create/update of an extension on `cluster` ends `Failed`."""
        self._extension_failures[cluster] = {"code": code, "message": message}

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

    def put_cluster(self, req: FakeRequest, name: str) -> Reply:
        body = req.json() or {}
        props = body.get("properties") or {}
        if not body.get("location"):
            raise _aks_error("InvalidParameter", "The 'location' property is required.")
        pools = props.get("agentPoolProfiles") or []
        existing = self.clusters.get(name)
        if existing is None and not any(p.get("mode") == "System" for p in pools):
            raise _aks_error("MustDefineAtLeastOneSystemPool",
                             "A cluster needs at least one agent pool of mode System.")
        if existing is not None:
            old = {p["name"]: p for p in existing["properties"]["agentPoolProfiles"]}
            for p in pools:
                was = old.get(p.get("name"))
                if was and p.get("vmSize") and p["vmSize"].lower() != was["vmSize"].lower():
                    raise _aks_error("PropertyChangeNotAllowed",
                                     f"Changing property 'vmSize' of agent pool '{p['name']}' is not "
                                     "allowed.")
            cluster = existing
        else:
            cluster = self.add_cluster(name, azureml_extension=False, node_count=0)
            cluster["properties"]["agentPoolProfiles"] = []
            cluster["location"] = body["location"]
            self.extensions[name] = {}
        c = cluster["properties"]
        version = props.get("kubernetesVersion") or c["kubernetesVersion"]
        for key, value in props.items():
            if key in ("agentPoolProfiles", "provisioningState", "powerState", "fqdn"):
                continue
            c[key] = copy.deepcopy(value)
        c["kubernetesVersion"] = c["currentKubernetesVersion"] = version
        merged = []
        old = {p["name"]: p for p in c["agentPoolProfiles"]}
        for p in pools or c["agentPoolProfiles"]:
            base = copy.deepcopy(old.get(p["name"]) or {
                "osType": "Linux", "type": "VirtualMachineScaleSets", "maxPods": 110,
                "powerState": {"code": "Running"}, "provisioningState": "Succeeded"})
            base.update(copy.deepcopy(p))
            base["orchestratorVersion"] = base["currentOrchestratorVersion"] = version
            merged.append(base)
        c["agentPoolProfiles"] = merged
        if (props.get("oidcIssuerProfile") or {}).get("enabled"):
            c["oidcIssuerProfile"]["issuerURL"] = (f"https://{self.fake.config.location}.oic.prod-aks."
                                                    f"azure.com/tenant/{name}/")
        if body.get("identity"):
            cluster["identity"] = {**copy.deepcopy(body["identity"]),
                                   "principalId": "22222222-0000-0000-0000-000000000001",
                                   "tenantId": "22222222-0000-0000-0000-000000000002"}
            c["servicePrincipalProfile"] = {"clientId": "msi"}
        cluster["tags"] = copy.deepcopy(body.get("tags") or {})
        failure = self._put_failures.pop(name, None)
        c["provisioningState"] = "Updating" if existing is not None else "Creating"

        def effect() -> None:
            c["provisioningState"] = "Failed" if failure else "Succeeded"
            c["powerState"] = {"code": "Running"}

        op = self.fake.lros.start(effect, error=failure)
        reply = self.fake.lros.accepted_put(copy.deepcopy(cluster), op)
        if existing is not None:
            reply.status = 200
        return reply

    def user_credential(self, req: FakeRequest, name: str) -> Reply:
        self._cluster(name)
        url, token = self.api_servers.get(name, (UNREACHABLE_API_SERVER, "unreachable-token"))
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": {"server": url}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": f"clusterUser_{name}"}}],
            "users": [{"name": f"clusterUser_{name}", "user": {"token": token}}],
        }
        if name in self.entra_clusters:  # `az aks get-credentials --format exec` shape (kubelogin)
            kubeconfig["users"][0]["user"] = {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                "args": ["get-token", "--login", "devicecode", "--server-id", AKS_SERVER_APP,
                         "--environment", "AzurePublicCloud"], "interactiveMode": "IfAvailable"}}
        value = base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()
        return Reply(200, {"kubeconfigs": [{"name": "clusterUser", "value": value}]})

    def versions(self, req: FakeRequest, location: str) -> Reply:
        values = [{"version": v, "isPreview": preview, "isDefault": v == "1.31",
                   "capabilities": {"supportPlan": ["KubernetesOfficial"]},
                   "patchVersions": {f"{v}.6": {"upgrades": []}}}
                  for v, preview in self.kubernetes_versions]
        return Reply(200, {"values": values})

    def register_provider(self, req: FakeRequest, namespace: str) -> Reply:
        key = next((k for k in self.providers if k.lower() == namespace.lower()), namespace)
        if self.providers.get(key) != "Registered":
            self.providers[key] = "Registering"
            self._registering[key] = 1
        return self.provider(req, namespace)

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

        return self._extension_lro(name, body)

    def _extension_lro(self, cluster: str, body: dict) -> Reply:
        failure = self._extension_failures.pop(cluster, None)

        def effect() -> None:
            body["properties"]["provisioningState"] = "Failed" if failure else "Succeeded"
            if failure:
                body["properties"]["statuses"] = [{"code": failure["code"], "level": "Error",
                                                   "displayStatus": "Failed",
                                                   "message": failure["message"]}]

        return self.fake.lros.accepted_put(copy.deepcopy(body),
                                           self.fake.lros.start(effect, error=failure))

    def patch_extension(self, req: FakeRequest, name: str, ext: str) -> Reply:
        self._cluster(name)
        body = self.extensions.get(name, {}).get(ext)
        if body is None:
            raise not_found("Extension", ext)
        props = (req.json() or {}).get("properties") or {}
        if body["properties"]["provisioningState"] not in ("Succeeded", "Failed"):
            raise ServiceError(409, "Conflict", f"extension '{ext}' is "
                               f"{body['properties']['provisioningState']}; retry when it is done")
        current = body["properties"]
        current["configurationSettings"].update(props.get("configurationSettings") or {})
        for key in ("autoUpgradeMinorVersion", "releaseTrain", "version"):
            if key in props:
                current[key] = props[key]
        current["provisioningState"] = "Updating"
        current["statuses"] = []
        reply = self._extension_lro(name, body)
        reply.status = 202
        return reply

    def provider(self, req: FakeRequest, namespace: str) -> Reply:
        key = next((k for k in self.providers if k.lower() == namespace.lower()), namespace)
        state = self.providers.get(key, "NotRegistered")
        if state == "Registering" and req.method == "GET":
            if self._registering.get(key, 0) > 0:
                self._registering[key] -= 1
            else:
                state = self.providers[key] = "Registered"
        return Reply(200, {"id": f"/subscriptions/{self.fake.config.subscription_id}"
                                 f"/providers/{namespace}",
                           "namespace": namespace, "registrationState": state,
                           "resourceTypes": []})
