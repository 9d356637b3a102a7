"""Versioned assets: models, environments, code and data (containers and versions).

All four share one shape: a container `WS/{kind}/{name}` and versions
`WS/{kind}/{name}/versions/{v}`. The SDK finds the next model version by listing
`versions?$orderBy=createdtime desc&$top=1` (404 on the container = version 1), inlines
an environment's conda file in `properties.condaFile`, and registers code only after it
has uploaded the files to the blob URI that `startPendingUpload` hands out (blob.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, ServiceError, bad_request, not_found
from .state import ARM_HOST, system_data

KINDS = {"models": "Model", "environments": "Environment", "codes": "Code", "data": "Data"}
_OP = {"models": "Model", "environments": "Environment", "codes": "Code", "data": "Data"}
_PUT_DEFAULTS = {
    "models": {"flavors": {}, "modelType": "custom_model", "jobName": None, "stage": None,
               "isAnonymous": False, "isArchived": False, "properties": {}, "tags": {},
               "description": None, "modelUri": None},
    "environments": {"autoRebuild": "Disabled", "build": None, "condaFile": None,
                     "environmentType": "UserCreated", "image": None,
                     "inferenceConfig": None, "osType": "Linux", "isAnonymous": False,
                     "isArchived": False, "properties": {}, "tags": {}, "description": None},
    "codes": {"codeUri": None, "isAnonymous": False, "isArchived": False, "properties": {},
              "tags": {}, "description": None},
    "data": {"dataType": "uri_folder", "dataUri": None, "isAnonymous": False,
             "isArchived": False, "properties": {}, "tags": {}, "description": None},
}


@dataclass
class Container:
    name: str
    system_data: dict
    versions: dict[str, dict] = field(default_factory=dict)
    properties: dict = field(default_factory=dict)


class Assets:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.store: dict[str, dict[str, Container]] = {k: {} for k in KINDS}
        ws = re.escape(ARM_HOST + fake.config.workspace_path)
        r = fake.router
        for kind, label in _OP.items():
            base = ws + "/" + kind
            r.add("GET", base, f"{label}Containers_List", self._bind(self.list_containers, kind))
            r.add("GET", base + r"/(?P<name>[^/]+)", f"{label}Containers_Get",
                  self._bind(self.get_container, kind))
            r.add("PUT", base + r"/(?P<name>[^/]+)", f"{label}Containers_CreateOrUpdate",
                  self._bind(self.put_container, kind))
            r.add("GET", base + r"/(?P<name>[^/]+)/versions", f"{label}Versions_List",
                  self._bind(self.list_versions, kind))
            v = base + r"/(?P<name>[^/]+)/versions/(?P<version>[^/]+)"
            r.add("GET", v, f"{label}Versions_Get", self._bind(self.get_version, kind))
            r.add("PUT", v, f"{label}Versions_CreateOrUpdate", self._bind(self.put_version, kind))
            r.add("DELETE", v, f"{label}Versions_Delete", self._bind(self.delete_version, kind))
            r.add("POST", v + "/startPendingUpload", f"{label}Versions_StartPendingUpload",
                  self._bind(self.pending_upload, kind))

    @staticmethod
    def _bind(fn, kind):
        return lambda req, **kw: fn(req, kind, **kw)

    # ---- test API ------------------------------------------------------------------------
    def get(self, kind: str, name: str, version: str) -> dict:
        """The stored version body (`kind` is models, environments, codes or data)."""
        return self.store[kind][name].versions[str(version)]

    def versions(self, kind: str, name: str) -> list[str]:
        container = self.store[kind].get(name)
        return list(container.versions) if container else []

    # ---- bodies --------------------------------------------------------------------------
    def _id(self, kind: str, name: str, version: str | None = None) -> str:
        base = f"{self.fake.config.workspace_id}/{kind}/{name}"
        return base if version is None else f"{base}/versions/{version}"

    def _container_body(self, kind: str, c: Container) -> dict:
        latest = max(c.versions, key=_version_key) if c.versions else None
        return {"id": self._id(kind, c.name), "name": c.name,
                "type": f"Microsoft.MachineLearningServices/workspaces/{kind}",
                "properties": {"description": None, "tags": {}, "properties": {},
                               "isArchived": False, "latestVersion": latest,
                               "nextVersion": str(int(latest) + 1) if latest and latest.isdigit()
                               else None, "provisioningState": "Succeeded", **c.properties},
                "systemData": c.system_data}

    # ---- handlers ------------------------------------------------------------------------
    def _container(self, kind: str, name: str) -> Container:
        c = self.store[kind].get(name)
        if c is None:
            raise not_found(KINDS[kind], name)
        return c

    def list_containers(self, req: FakeRequest, kind: str) -> Reply:
        return Reply(200, {"value": [self._container_body(kind, c)
                                     for c in self.store[kind].values()], "nextLink": None})

    def get_container(self, req: FakeRequest, kind: str, name: str) -> Reply:
        return Reply(200, self._container_body(kind, self._container(kind, name)))

    def put_container(self, req: FakeRequest, kind: str, name: str) -> Reply:
        props = (req.json() or {}).get("properties") or {}
        c = self.store[kind].setdefault(name, Container(name, system_data(self.fake.clock)))
        c.properties = {k: v for k, v in props.items() if k in ("description", "tags")}
        return Reply(200, self._container_body(kind, c))

    def list_versions(self, req: FakeRequest, kind: str, name: str) -> Reply:
        c = self.store[kind].get(name)
        items = list(c.versions.values()) if c else []
        q = {k.lower(): v for k, v in req.query.items()}
        if "hash" in q:
            items = [i for i in items if i["properties"].get("properties", {})
                     .get("contentHash") == q["hash"]]
        if "createdtime desc" in q.get("$orderby", "").lower():
            items.sort(key=lambda i: i["systemData"]["createdAt"], reverse=True)
        if "$top" in q:
            items = items[: int(q["$top"])]
        return Reply(200, {"value": items, "nextLink": None})

    def get_version(self, req: FakeRequest, kind: str, name: str, version: str) -> Reply:
        c = self._container(kind, name)
        if version not in c.versions:
            raise not_found(f"{KINDS[kind]} version", f"{name}:{version}")
        return Reply(200, c.versions[version])

    def put_version(self, req: FakeRequest, kind: str, name: str, version: str) -> Reply:
        props = (req.json() or {}).get("properties")
        if props is None:
            raise bad_request(f"{KINDS[kind]} '{name}:{version}': body lacks properties")
        if kind == "environments" and not (props.get("image") or props.get("build")):
            raise bad_request(f"environment '{name}:{version}' needs an image or a build context")
        if kind == "codes" and not props.get("codeUri"):
            raise bad_request(f"code '{name}:{version}' needs codeUri")
        c = self.store[kind].setdefault(name, Container(name, system_data(self.fake.clock)))
        existing = c.versions.get(version)
        if existing is not None and kind in ("models", "codes", "data"):
            if _asset_uri(kind, existing) != _asset_uri(kind, props):
                raise ServiceError(409, "UserError", f"{KINDS[kind]} '{name}:{version}' "
                                   "already exists with a different path; versions are immutable.")
        body = {"id": self._id(kind, name, version), "name": version,
                "type": f"Microsoft.MachineLearningServices/workspaces/{kind}/versions",
                "properties": {**_PUT_DEFAULTS[kind], **props, "provisioningState": "Succeeded"},
                "systemData": system_data(self.fake.clock,
                                          existing["systemData"] if existing else None)}
        if kind == "models" and body["properties"].get("flavors") is None:
            body["properties"]["flavors"] = {}
        self.fake.clock.advance(0.001)  # keeps createdAt ordering strict between versions
        c.versions[version] = body
        return Reply(201 if existing is None else 200, body)

    def delete_version(self, req: FakeRequest, kind: str, name: str, version: str) -> Reply:
        c = self._container(kind, name)
        if c.versions.pop(version, None) is None:
            return Reply(204)
        return Reply(200)

    def pending_upload(self, req: FakeRequest, kind: str, name: str, version: str) -> Reply:
        blob_uri, sas_uri = self.fake.blob.reserve(f"{kind}-upload")
        return Reply(200, {
            "blobReferenceForConsumption": {
                "blobUri": blob_uri, "storageAccountArmId": None,
                "credential": {"credentialType": "SAS", "sasUri": sas_uri}},
            "pendingUploadId": version, "pendingUploadType": "TemporaryBlobReference"})


def _asset_uri(kind: str, props: dict) -> str | None:
    key = {"models": "modelUri", "codes": "codeUri", "data": "dataUri"}[kind]
    return (props.get("properties", {}) if "properties" in props and key not in props
            else props).get(key)


def _version_key(v: str):
    return (0, int(v), "") if v.isdigit() else (1, 0, v)
