"""Backups a company can restore: the database and every uploaded file, in one archive with a manifest.

PostgreSQL is dumped with `pg_dump --format=custom` (restored with `pg_restore`); SQLite is copied
with its online backup API (a consistent copy while the site runs). Uploaded files (recordings,
proofs, letters, court documents: evidence) are copied from MEDIA_ROOT. The manifest names the
database kind, when it was taken, the latest migration of each app and a SHA-256 of every member;
a restore checks them all before it writes anything, and writes only into an empty database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from arrears.core.errors import DomainError

FORMAT = 1
DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


@dataclass
class Restored:
    vendor: str
    taken_at: str
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env() -> tuple[list[str], dict]:
    """libpq's connection options for the configured database (the password through the environment only)."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _outside_transaction() -> None:
    # SQLite's backup waits, forever, for a write transaction of its own connection to end
    if connection.in_atomic_block:
        raise DomainError("备份与恢复不能在事务中进行", "a backup or restore cannot run inside a transaction", code="transaction")


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name"):
        latest[app] = name
    return latest


def _dump(into: Path) -> Path:
    vendor = connection.vendor
    target = into / DUMP.get(vendor, "")
    if vendor == "postgresql":
        args, env = _pg_env()
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", "--file", str(target), *args],
                       env=env, check=True, capture_output=True)
    elif vendor == "sqlite":
        _outside_transaction()
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            connection.connection.backup(copy)  # the live database, consistent, while others write
        finally:
            copy.close()
    else:
        raise DomainError(f"不支持备份 {vendor} 数据库", f"backing up a {vendor} database is not supported", code="vendor")
    return target


def backup(output_dir: Path, *, now: datetime | None = None) -> Path:
    """Write `arrears-backup-YYYYMMDD-HHMMSS.tar` into `output_dir`; returns its path."""
    now = now or timezone.now()
    # Owners' personal data and every evidence file: readable by the owner of the backup only.
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    archive = output_dir / f"arrears-backup-{timezone.localtime(now):%Y%m%d-%H%M%S}.tar"
    media = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work:
        dump = _dump(Path(work))
        files = sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
        manifest = {
            "format": FORMAT, "vendor": connection.vendor, "taken_at": now.isoformat(), "migrations": _migrations(),
            "database": {"name": dump.name, "sha256": _sha256(dump)},
            "files": {p.relative_to(media).as_posix(): _sha256(p) for p in files},
        }
        partial = archive.with_suffix(".tar.partial")
        partial.touch(mode=0o600)
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(path, arcname=f"media/{path.relative_to(media).as_posix()}")
        partial.replace(archive)  # a backup interrupted halfway never looks complete
    return archive


def _database_is_empty() -> bool:
    return "django_migrations" not in connection.introspection.table_names()


def restore(archive: Path, *, check_only: bool = False) -> Restored:
    """Check the archive, then restore it into the configured (empty) database and MEDIA_ROOT."""
    try:
        tar = tarfile.open(archive, "r")
    except (OSError, tarfile.TarError) as exc:
        raise DomainError(f"不是备份文件：{archive}", f"not a backup archive: {archive}", code="archive") from exc
    with tar, tempfile.TemporaryDirectory() as work:
        members = {member.name: member for member in tar.getmembers()}
        for name, member in members.items():
            if not member.isfile() or name.startswith("/") or ".." in Path(name).parts:
                raise DomainError(f"备份中有可疑条目：{name}", f"the archive holds a suspicious entry: {name}", code="archive")
        if "manifest.json" not in members:
            raise DomainError("备份缺少清单 manifest.json", "the archive has no manifest.json", code="archive")
        manifest = json.loads(tar.extractfile(members["manifest.json"]).read())
        if manifest.get("format") != FORMAT:
            raise DomainError("备份格式不认识", "unknown backup format", code="format")
        if manifest["vendor"] != connection.vendor:
            raise DomainError(f"备份来自 {manifest['vendor']}，当前数据库是 {connection.vendor}",
                              f"the backup is of {manifest['vendor']}, this database is {connection.vendor}", code="vendor")
        expected = {manifest["database"]["name"]: manifest["database"]["sha256"],
                    **{f"media/{name}": digest for name, digest in manifest["files"].items()}}
        if set(expected) | {"manifest.json"} != set(members):
            raise DomainError("备份内容与清单不符", "the archive's members do not match its manifest", code="manifest")
        # Python 3.11.4+ has the "data" filter; Debian 12's 3.11.2 does not. The members were checked above
        # (regular files named in the manifest, no absolute paths, no ".."), so the plain extract is as safe.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(work, filter="data")
        else:
            tar.extractall(work)  # noqa: S202
        root = Path(work)
        for name, digest in expected.items():
            if _sha256(root / name) != digest:
                raise DomainError(f"备份已损坏：{name} 校验不符", f"the archive is damaged: {name} fails its checksum",
                                  code="checksum")
        if check_only:
            return Restored(manifest["vendor"], manifest["taken_at"], len(manifest["files"]))
        if not _database_is_empty():
            raise DomainError("目标数据库不是空的：请恢复到新建的空数据库", "the database is not empty: restore into a new, empty one",
                              code="not_empty")
        dump = root / manifest["database"]["name"]
        if connection.vendor == "postgresql":
            args, env = _pg_env()
            connection.close()
            subprocess.run(["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", *args, str(dump)],
                           env=env, check=True, capture_output=True)
        else:
            _outside_transaction()
            connection.ensure_connection()
            source = sqlite3.connect(dump)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        media = Path(settings.MEDIA_ROOT)
        for name in manifest["files"]:
            target = media / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / "media" / name, target)
    return Restored(manifest["vendor"], manifest["taken_at"], len(manifest["files"]))
