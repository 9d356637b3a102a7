"""Versioned assets: models, environments, code and data (containers and versions).

All four share one shape: a container `WS/{kind}/{name}` and versions
`WS/{kind}/{name}/versions/{v}`. The SDK finds the next model version by listing
`versions?$orderBy=createdtime desc&$top=1` (404 on the container = version 1), inlines
an environment's conda file in `properties.condaFile`, and registers code only after it
has uploaded the files to the blob URI that `startPendingUpload` hands out (blob.py).

Versions are immutable (409 UserError): a model, code or data version cannot change its
path (the SDK notes it: `_model_operations.py`, "service side raises an exception if we
attempt to update an existing asset's path"), and an environment version cannot change its
definition (image, conda file, build, inference config, OS); `environments.create_or_update`
without a version re-PUTs the latest and moves to the next version on that 409
(`_environment_operations.py` `_try_update_latest_version`). Re-PUTting the same
definition is allowed and may change tags and description (assumption).

Models from job outputs: `azureml://jobs/<run>/outputs/artifacts/<path>` (official
notebooks) and `azureml://jobs/<run>/outputs/artifacts/paths/<path>` (the SDK's form) are
accepted only when that run exists and has `<path>` in the artifact store (artifacts.py):
an AutoML parent has no model, so its path is refused (400, assumption on the status).
The stored `modelUri` is the run's folder in `workspaceartifactstore` (the form
`models.download` can read: `_storage_utils.get_ds_name_and_path_prefix`; assumption that
the service rewrites it so) and `jobName` is the run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, bad_request, conflict, not_found, user_error
from .state import ARM_HOST, system_data

#: what defines an environment version (changing any of them is a new version).
ENV_DEFINITION = ("image", "condaFile", "build", "inferenceConfig", "osType")
JOB_OUTPUT = re.compile(r"^azureml://jobs/(?P<run>[^/]+)/outputs/(?P<output>[^/]+)"
                        r"(?:/paths)?/(?P<path>.+?)/?$")

#: the SDK downloads this schema to check a local MLTable file before a data upload
#: (`_data_operations.py` `_validate`, constant MLTABLE_METADATA_SCHEMA_URL_FALLBACK)
MLTABLE_SCHEMA_URL = "https://azuremlschemasprod.azureedge.net/latest/MLTable.schema.json"
#: a reduced MLTable schema: `paths` entries (file / folder / pattern) and a transformations
#: list; the published document is larger (assumption: these parts are what it requires)
MLTABLE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["paths"],
    "properties": {
        "paths": {"type": "array", "minItems": 1, "items": {
            "type": "object", "minProperties": 1, "maxProperties": 1,
            "properties": {"file": {"type": "string"}, "folder": {"type": "string"},
                           "pattern": {"type": "string"}}, "additionalProperties": False}},
        "transformations": {"type": "array"},
    },
}

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

        r.add("GET", re.escape(MLTABLE_SCHEMA_URL), "Schema_MLTable", self.mltable_schema)

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
        if kind == "models" and props.get("modelUri"):
            props = {**props, **self._job_output_model(name, version, props["modelUri"])}
        c = self.store[kind].setdefault(name, Container(name, system_data(self.fake.clock)))
        existing = c.versions.get(version)
        if existing is not None and kind in ("models", "codes", "data"):
            if _asset_uri(kind, existing) != _asset_uri(kind, props):
                raise conflict(f"{KINDS[kind]} '{name}:{version}' already exists with a "
                               "different path; versions are immutable.")
        if existing is not None and kind == "environments":
            old = existing["properties"]
            changed = [k for k in ENV_DEFINITION
                       if (props.get(k) or _PUT_DEFAULTS[kind].get(k)) != old.get(k)]
            if changed:
                raise conflict(f"Environment '{name}:{version}' already exists and environment "
                               f"versions are immutable (changed: {', '.join(changed)}); "
                               "register a new version.")
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

    def _job_output_model(self, name: str, version: str, uri: str) -> dict:
        """Check a model path into a job's artifacts; the properties the service stores."""
        match = JOB_OUTPUT.match(uri)
        if not match or match.group("output") != "artifacts":
            return {}
        run, path = match.group("run"), match.group("path")
        jobs = self.fake.jobs
        is_parent = run in jobs.records
        if not is_parent and jobs.child(run) is None:
            raise user_error(404, "NotFound", f"Model '{name}:{version}': run '{run}' of "
                             f"{uri} does not exist in this workspace.")
        if not self.fake.artifacts.has(run, path):
            hint = (" It is an AutoML parent job: the model is in its best child run "
                    "(tag automl_best_child_run_id)." if is_parent else "")
            raise bad_request(f"Model '{name}:{version}': run '{run}' has no artifacts at "
                              f"'{path}'.{hint}", code="ArtifactNotFound")
        return {"modelUri": self.fake.artifacts.datastore_uri(run, path), "jobName": run}

    def mltable_schema(self, req: FakeRequest) -> Reply:
        return Reply(200, MLTABLE_SCHEMA)

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
