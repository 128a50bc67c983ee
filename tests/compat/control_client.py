"""A tiny client of the data plane's control socket (docs/design/control-channel.md):
frames of a 4-byte big-endian length and that many bytes of JSON, one response per request,
`hello` first. The tests use it where the admin process would."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

PROTOCOL_VERSION = 1
SOCKET_FILE_NAME = "control.sock"
MAX_FRAME_BYTES = 64 << 20


class ControlError(RuntimeError):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ControlClient:
    def __init__(self, data_dir: Path | str, timeout: float = 30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(Path(data_dir) / SOCKET_FILE_NAME))
        hello = self.raw({"type": "hello", "protocol": PROTOCOL_VERSION})
        assert hello["type"] == "hello", hello
        self.shards = hello["shards"]
        self.partitions = hello["partitions"]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_frame(self, message: dict):
        body = json.dumps(message).encode()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def read_frame(self) -> dict | None:
        header = self._read_exact(4)
        if header is None:
            return None
        (length,) = struct.unpack(">I", header)
        assert length <= MAX_FRAME_BYTES, length
        body = self._read_exact(length)
        assert body is not None, "connection closed inside a frame"
        return json.loads(body)

    def _read_exact(self, count: int) -> bytes | None:
        chunks = b""
        while len(chunks) < count:
            chunk = self.sock.recv(count - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return chunks

    def raw(self, message: dict) -> dict:
        """One request, its response as sent (errors included)."""
        self.send_frame(message)
        response = self.read_frame()
        assert response is not None, "control socket closed"
        return response

    def call(self, message: dict) -> dict:
        """One request; an error response raises ControlError."""
        response = self.raw(message)
        if response.get("type") == "error":
            raise ControlError(response["code"], response["message"])
        return response

    # -- requests ------------------------------------------------------------

    def put_identity(self, snapshot: dict):
        return self.call({"type": "put_identity", "snapshot": snapshot})

    def put_settings(self, version: int, values: dict[str, str]):
        return self.call({"type": "put_settings", "snapshot": {"version": version, "values": values}})

    def status(self) -> dict:
        return self.call({"type": "status"})

    def read_events(self, partition: int, after: int = 0, limit: int = 1000) -> list[dict]:
        return self.call({"type": "read_events", "partition": partition, "after": after, "limit": limit})["events"]

    def all_events(self) -> list[dict]:
        """Every event of every partition, each partition oldest first."""
        events = []
        for partition in range(self.partitions):
            after = 0
            while True:
                page = self.read_events(partition, after)
                if not page:
                    break
                events.extend(page)
                after = page[-1]["seq"]
        return events

    def trim_events(self, partition: int, through: int):
        return self.call({"type": "trim_events", "partition": partition, "through": through})

    def list_buckets(self) -> list[dict]:
        return self.call({"type": "list_buckets"})["buckets"]

    def create_bucket(self, name: str, tenant_id: str | None = None, user_id: str | None = None):
        return self.call({"type": "create_bucket", "name": name, "tenant_id": tenant_id, "user_id": user_id})

    def delete_bucket(self, name: str):
        return self.call({"type": "delete_bucket", "name": name})


def tenant(tenant_id: str, enabled: bool = True, max_storage_bytes: int | None = None,
           max_buckets: int | None = None) -> dict:
    return {
        "id": tenant_id,
        "name": tenant_id,
        "enabled": enabled,
        "quota": {"max_storage_bytes": max_storage_bytes, "max_buckets": max_buckets, "max_access_keys": None},
    }


# The admin's built-in `readwrite` (admin-api/src/store_iam.rs), which it attaches to every new
# user by default: a snapshot user with no policy may do nothing on the S3 port.
READWRITE = {
    "id": "readwrite", "name": "readwrite", "tenant_id": None,
    "document": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
}


def user(user_id: str, tenant_id: str | None, role: str = "user", enabled: bool = True,
         policy_ids: tuple[str, ...] = ("readwrite",)) -> dict:
    return {"id": user_id, "username": user_id, "tenant_id": tenant_id, "role": role, "enabled": enabled,
            "policy_ids": list(policy_ids)}


def access_key(key_id: str, secret: str, user_id: str, enabled: bool = True) -> dict:
    return {"access_key_id": key_id, "secret_access_key": secret, "user_id": user_id, "enabled": enabled}


def snapshot(version: int, tenants: list[dict], users: list[dict], keys: list[dict],
             policies: list[dict] | None = None, groups: list[dict] | None = None) -> dict:
    return {"version": version, "tenants": tenants, "users": users, "access_keys": keys,
            "policies": [READWRITE] + (policies or []), "groups": groups or []}
