"""Blob storage of the workspace's default datastore (code and model uploads).

Uploads are single-shot PUTs (`x-ms-blob-type: BlockBlob`) or blocks + a block list; the
fake keeps their bytes, echoes `Content-MD5` as the service does, answers `?comp=metadata`
with 200 and listings/HEADs from what it holds. SAS URIs carry a fake signature that is
checked for presence only.
"""
from __future__ import annotations

import base64
import hashlib
import re
from xml.sax.saxutils import escape

from .arm import FakeRequest, Reply, ServiceError
from .workspace import STORAGE_ACCOUNT

HOST = f"https://{STORAGE_ACCOUNT}.blob.core.windows.net"
SAS = "sv=2021-08-06&sr=c&sig=ZmFrZQ%3D%3D&se=2099-01-01T00%3A00%3A00Z&sp=rcwl"


class Blob:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, dict] = {}
        self._blocks: dict[str, dict[str, bytes]] = {}
        base = re.escape(HOST) + r"/(?P<container>[^/?]+)"
        fake.router.add("GET", base, "Blob_ListOrContainer", self.container)
        fake.router.add("PUT", base + r"/(?P<path>.+)", "Blob_Put", self.put)
        fake.router.add("HEAD", base + r"/(?P<path>.+)", "Blob_GetProperties", self.head)
        fake.router.add("GET", base + r"/(?P<path>.+)", "Blob_Get", self.get)

    def reserve(self, prefix: str) -> tuple[str, str]:
        """A fresh temporary container for an upload: (container URI, SAS URI)."""
        container = f"{prefix}-{self.fake.rng.randrange(16**12):012x}"
        uri = f"{HOST}/{container}"
        return uri, f"{uri}?{SAS}"

    def files(self, prefix: str = "") -> dict[str, bytes]:
        """Uploaded blobs whose `container/path` starts with `prefix`."""
        return {k: v for k, v in self.blobs.items() if k.startswith(prefix)}

    def put(self, req: FakeRequest, container: str, path: str) -> Reply:
        q = req.query
        key = f"{container}/{path}"
        etag = {"ETag": f'"0x{len(self.blobs):016X}"',
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        if q.get("comp") == "metadata":
            self.metadata[key] = {k[10:]: v for k, v in req.headers.items()
                                  if k.lower().startswith("x-ms-meta-")}
            return Reply(200, None, etag)
        if q.get("comp") == "block":
            self._blocks.setdefault(key, {})[q["blockid"]] = req.body
            return Reply(201, None, {"Content-MD5": _md5(req.body)})
        if q.get("comp") == "blocklist":
            ids = re.findall(rb"<(?:Latest|Committed|Uncommitted)>([^<]+)<", req.body)
            blocks = self._blocks.pop(key, {})
            self.blobs[key] = b"".join(blocks[i.decode()] for i in ids)
            return Reply(201, None, etag)
        if q.get("restype") == "container":
            return Reply(201, None, etag)
        self.blobs[key] = req.body
        self.metadata[key] = {k[10:]: v for k, v in req.headers.items()
                              if k.lower().startswith("x-ms-meta-")}
        md5 = req.header("Content-MD5") or _md5(req.body)
        return Reply(201, None, {**etag, "Content-MD5": md5, "x-ms-request-server-encrypted":
                                 "true"})

    def head(self, req: FakeRequest, container: str, path: str) -> Reply:
        path = f"{container}/{path}"
        if path not in self.blobs:
            return Reply(404, None, {"x-ms-error-code": "BlobNotFound"})
        meta = {f"x-ms-meta-{k}": v for k, v in self.metadata.get(path, {}).items()}
        return Reply(200, None, {"Content-Length": str(len(self.blobs[path])),
                                 "x-ms-blob-type": "BlockBlob", **meta})

    def get(self, req: FakeRequest, container: str, path: str) -> Reply:
        path = f"{container}/{path}"
        if path not in self.blobs:
            raise ServiceError(404, "BlobNotFound", "The specified blob does not exist.",
                               {"x-ms-error-code": "BlobNotFound"})
        data = self.blobs[path]
        headers = {"x-ms-blob-type": "BlockBlob", "ETag": '"0x1"',
                   "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        wanted = req.header("x-ms-range") or req.header("Range")
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
        if match and data:
            # ranged reads (how azure-storage-blob downloads): 206 + Content-Range
            start = int(match.group(1))
            end = min(int(match.group(2) or len(data) - 1), len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Reply(206, data[start:end + 1], headers)
        return Reply(200, data, headers)

    def container(self, req: FakeRequest, container: str) -> Reply:
        prefix = req.query.get("prefix", "")
        names = [k.split("/", 1)[1] for k in self.blobs if k.startswith(f"{container}/{prefix}")]
        items = "".join(
            f"<Blob><Name>{escape(n)}</Name><Properties><Content-Length>"
            f"{len(self.blobs[container + '/' + n])}"
            "</Content-Length><BlobType>BlockBlob</BlobType></Properties><Metadata>"
            + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.metadata.get(f"{container}/{n}", {}).items())
            + "</Metadata></Blob>" for n in names)
        xml = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults '
               f'ServiceEndpoint="{HOST}/" ContainerName="{container}"><Prefix>{escape(prefix)}'
               f"</Prefix><Blobs>{items}</Blobs><NextMarker /></EnumerationResults>")
        return Reply(200, xml, {"Content-Type": "application/xml"})


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()
