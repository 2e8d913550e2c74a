"""`s3://bucket/prefix` run files: an S3-compatible bucket (AWS, MinIO, Ceph, Garage, OVH, Scaleway...).

Optional: needs boto3 (`pip install boto3`). The endpoint is ROBOCORE_S3_ENDPOINT_URL, credentials
the usual AWS_* variables or files, never a setting of ours. Layout under the prefix:
`<run>/files/<name>` for a file (its SHA-256 in the object's metadata), and `<run>/log/<first>-<last>.jsonl`
for each batch of log lines a worker appended (line numbers zero-padded, so that name order is line order).
The bucket must exist: an application never creates buckets with its own credentials.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from robocore.errors import SettingsError
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.storage.base import CHUNK_BYTES, MAX_LIST, LogPage, RunFile, RunFiles, Source, file_sha256
from robocore.storage.local import too_large
from robocore.storage.names import LOG_NAME, RunFileError, RunFileMissing, check_name, check_run_id

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()
_WIDTH = 10  # digits of a line number in a log batch's name


def parse_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → ("bucket", "some/prefix/"); SettingsError naming the variable when wrong."""
    rest = url.removeprefix("s3://")
    bucket, slash, prefix = rest.partition("/")
    if not bucket or url == rest:
        raise SettingsError(_("ROBOCORE_STORAGE={value}: “s3://bucket/prefix” expected", value=repr(url[:60])),
                            variables=("ROBOCORE_STORAGE",))
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def client(endpoint_url: str | None) -> Any:
    """One boto3 S3 client per endpoint and process (thread-safe, as boto3 clients are)."""
    with _clients_lock:
        if endpoint_url not in _clients:
            try:
                import boto3
            except ImportError:
                raise SettingsError(_("ROBOCORE_STORAGE=s3://… needs boto3: pip install boto3"),
                                    variables=("ROBOCORE_STORAGE",)) from None
            _clients[endpoint_url] = boto3.client("s3", endpoint_url=endpoint_url)
        return _clients[endpoint_url]


def _missing_error(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound")


class S3RunFiles(RunFiles):
    """Run files in an S3-compatible bucket."""

    def __init__(self, url: str, endpoint_url: str | None = None, max_file_bytes: int | None = None) -> None:
        self.bucket, self.prefix = parse_url(url)
        self.endpoint_url = endpoint_url
        self.s3 = client(endpoint_url)
        if max_file_bytes is not None:
            self.max_file_bytes = max_file_bytes

    @property
    def description(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" ({self.endpoint_url})" if self.endpoint_url else "")

    def _file_key(self, run_id: str, name: str) -> str:
        return f"{self.prefix}{check_run_id(run_id)}/files/{check_name(name)}"

    def _log_prefix(self, run_id: str) -> str:
        return f"{self.prefix}{check_run_id(run_id)}/log/"

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", ())

    # ---- files --------------------------------------------------------------------------------------
    def put(self, run_id: str, name: str, source: Source) -> int:
        key = self._file_key(run_id, name)
        if name == LOG_NAME:
            raise RunFileError(_l("{name} is the log: use append_log", name=LOG_NAME))
        if isinstance(source, Path):
            return self._put_path(key, name, source)
        with tempfile.TemporaryDirectory(prefix="robocore-s3-") as folder:
            spooled = Path(folder) / "part"
            with spooled.open("wb") as out:
                if isinstance(source, bytes):
                    if len(source) > self.max_file_bytes:
                        raise too_large(name, self.max_file_bytes)
                    out.write(source)
                else:
                    self._copy_bounded(source, out, name)
            return self._put_path(key, name, spooled)

    def _copy_bounded(self, source: Any, out: Any, name: str) -> None:
        size = 0
        while piece := source.read(CHUNK_BYTES):
            size += len(piece)
            if size > self.max_file_bytes:
                raise too_large(name, self.max_file_bytes)
            out.write(piece)

    def _put_path(self, key: str, name: str, path: Path) -> int:
        size = path.stat().st_size
        if size > self.max_file_bytes:
            raise too_large(name, self.max_file_bytes)
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs={"Metadata": {"sha256": file_sha256(path)}})
        return size

    def chunks(self, run_id: str, name: str) -> Iterator[bytes]:
        if name == LOG_NAME:
            batches = list(self._objects(self._log_prefix(run_id)))
            if not batches:
                raise self._missing(run_id, name)
            return (self._body(b["Key"]) for b in batches)
        key = self._file_key(run_id, name)
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _missing_error(exc):
                raise self._missing(run_id, name) from None
            raise
        return iter(answer["Body"].iter_chunks(CHUNK_BYTES))

    @staticmethod
    def _missing(run_id: str, name: str) -> RunFileMissing:
        return RunFileMissing(_("file not found in the run {run_id}: {name}", run_id=run_id, name=repr(name)))

    def _body(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def stat(self, run_id: str, name: str) -> RunFile | None:
        if name == LOG_NAME:
            batches = list(self._objects(self._log_prefix(run_id)))
            return RunFile(LOG_NAME, sum(int(b["Size"]) for b in batches)) if batches else None
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=self._file_key(run_id, name))
        except Exception as exc:
            if _missing_error(exc):
                return None
            raise
        return RunFile(name, int(head["ContentLength"]), head.get("Metadata", {}).get("sha256"))

    def list_files(self, run_id: str, limit: int = 1000, offset: int = 0) -> list[RunFile]:
        start = len(f"{self.prefix}{check_run_id(run_id)}/files/")
        found = [RunFile(o["Key"][start:], int(o["Size"]))
                 for o in self._objects(f"{self.prefix}{run_id}/files/")]
        log = self.stat(run_id, LOG_NAME)
        if log is not None:
            found.append(log)
        found.sort(key=lambda f: f.path)
        return found[offset:offset + min(limit, MAX_LIST)]

    def delete(self, run_id: str, name: str | None = None) -> None:
        if name is not None:
            self.s3.delete_object(Bucket=self.bucket, Key=self._file_key(run_id, name))
            return
        keys = [o["Key"] for o in self._objects(f"{self.prefix}{check_run_id(run_id)}/")]
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})

    # ---- log ------------------------------------------------------------------------------------------
    def _batches(self, run_id: str) -> list[tuple[int, int, str]]:
        """(first line, last line, key) of each log batch, in line order."""
        prefix = self._log_prefix(run_id)
        out = []
        for obj in self._objects(prefix):
            first, _, last = obj["Key"][len(prefix):].removesuffix(".jsonl").partition("-")
            if first.isdigit() and last.isdigit():
                out.append((int(first), int(last), obj["Key"]))
        return sorted(out)

    def append_log(self, run_id: str, lines: Sequence[str]) -> int:
        batches = self._batches(run_id)
        last = batches[-1][1] if batches else 0
        if not lines:
            return last
        key = f"{self._log_prefix(run_id)}{last + 1:0{_WIDTH}d}-{last + len(lines):0{_WIDTH}d}.jsonl"
        body = "".join(line + "\n" for line in lines).encode("utf-8")
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body,
                           Metadata={"sha256": hashlib.sha256(body).hexdigest()})
        return last + len(lines)

    def read_log(self, run_id: str, offset: int = 0, limit: int = 1000) -> LogPage:
        lines: list[str] = []
        for first, last, key in self._batches(run_id):
            if last <= offset:
                continue
            batch = self._body(key).decode("utf-8", "replace").split("\n")[:-1]
            lines += batch[max(0, offset - first + 1):][:limit - len(lines)]
            if len(lines) >= limit:
                break
        return LogPage(lines, offset + len(lines))

