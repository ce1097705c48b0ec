"""Backup and restore of the warehouse and the archive of received files.

A backup is a folder holding ``warehouse.dump`` (PostgreSQL: ``pg_dump`` custom format) or
``warehouse.sqlite`` (SQLite: the online backup API, consistent while the system runs),
``archive.tar.gz`` (every file received, with its receipt records), ``gx-results.tar.gz`` (the GX
context and every validation result stored in it; not its Data Docs, which are rebuilt from them),
and ``manifest.json`` (when, the schema revision, row counts, and a sha256 of each part). Restore
refuses to write into a non-empty database, archive folder or GX results folder, so nothing already
stored is ever overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url

from surgehub.warehouse.db import sqlite_file

if TYPE_CHECKING:
    from surgehub.resources import Resources

COUNTED = (
    "submission",
    "hub_day_version",
    "rag_result",
    "email_log",
    "email_message",  # the message archive: each message as sent
    "hub_version",  # the register's whole history
    "commissioned_plan",
    "audit_event",
    "account",  # people and their roles (issue 17)
    "account_role",
)


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says which step and why."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    dialect: str
    revision: list[str]
    counts: dict[str, int]
    files: dict[str, str]  # name -> sha256

    def to_json_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, with the password in the environment only."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _counts(engine: Engine) -> tuple[dict[str, int], list[str]]:
    from surgehub.warehouse import tables
    from surgehub.warehouse.db import current_revisions

    with engine.connect() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(tables.metadata.tables[name])).scalar_one()
            for name in COUNTED
        }
    return counts, sorted(current_revisions(engine))


def backup(out_dir: Path, resources: Resources) -> Manifest:
    """Write a backup of the warehouse and the archive into ``out_dir`` (created; must be empty)."""
    settings = resources.settings
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise BackupError(f"{out_dir} is not empty: a backup goes into a new folder")
    url = make_url(settings.warehouse_url)
    counts, revision = _counts(resources.engine)
    files: dict[str, Path] = {}
    if url.get_backend_name() == "postgresql":
        target = out_dir / "warehouse.dump"
        dsn, env = _libpq(url)
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), dsn],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        files["warehouse.dump"] = target
    elif url.get_backend_name() == "sqlite":
        target = out_dir / "warehouse.sqlite"
        source = sqlite3.connect(str(url.database))
        try:
            with sqlite3.connect(str(target)) as copy:
                source.backup(copy)
        finally:
            source.close()
        files["warehouse.sqlite"] = target
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    archive_tar = out_dir / "archive.tar.gz"
    with tarfile.open(archive_tar, "w:gz") as tar:
        if settings.archive_dir.exists():
            tar.add(settings.archive_dir, arcname="archive")
    files["archive.tar.gz"] = archive_tar
    gx_tar = out_dir / GX_TAR
    with tarfile.open(gx_tar, "w:gz") as tar:
        _add_gx_results(tar, settings.home)
    files[GX_TAR] = gx_tar
    manifest = Manifest(
        created_at=resources.clock.now().isoformat(),
        dialect=url.get_backend_name(),
        revision=revision,
        counts=counts,
        files={name: _sha256(path) for name, path in files.items()},
    )
    (out_dir / "manifest.json").write_text(json.dumps(manifest.to_json_dict(), indent=2) + "\n")
    return manifest


#: The GX context with every stored validation result (``surgehub.gx.store``); its Data Docs are left
#: out: they are rebuilt from the results by ``surgehub gx-docs build``.
GX_TAR = "gx-results.tar.gz"


def _add_gx_results(tar: tarfile.TarFile, home: Path) -> None:
    from surgehub.gx.store import context_root, site_dir

    root = context_root(home)
    if not root.exists():
        return
    docs = site_dir(home).parent  # uncommitted/data_docs

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        inside = root.parent / info.name
        if inside == docs or docs in inside.parents or info.issym() or info.islnk():
            return None
        return info

    tar.add(root, arcname=root.name, filter=keep)


def _restore_gx_results(backup_dir: Path, home: Path) -> None:
    """The stored GX results back into ``<home>/gx`` (a backup from before they were kept has none)."""
    from surgehub.gx.store import context_root

    source = backup_dir / GX_TAR
    if not source.exists():
        return
    root = context_root(home)
    with tarfile.open(source, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name == root.name or m.name.startswith(f"{root.name}/")]
        _extract(tar, root.parent, members)


def _extract(tar: tarfile.TarFile, dest: Path, members: list[tarfile.TarInfo]) -> None:
    """Extract ``members`` into ``dest``: only regular files and folders, each landing inside ``dest``.

    Python's ``filter="data"`` does this where it exists (3.11.4 and later); Debian bookworm's 3.11.2,
    which the production image runs, has no ``filter``, so the same checks are made here first.
    """
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, members=members, filter="data")
        return
    root = dest.resolve()
    for member in members:
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"{member.name!r} in the backup is not a regular file or folder: refused")
        target = (root / member.name).resolve()
        if target != root and not target.is_relative_to(root):
            raise BackupError(f"{member.name!r} in the backup would land outside {dest}: refused")
        member.mode = 0o755 if member.isdir() else 0o644  # as filter="data": no set-id or odd bits
        member.uid = member.gid = 0
        member.uname = member.gname = ""
    tar.extractall(dest, members=members)  # every member checked above


def _verify(backup_dir: Path) -> dict[str, Any]:
    manifest_path = backup_dir / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{backup_dir} has no manifest.json: not a surgehub backup")
    manifest = json.loads(manifest_path.read_text())
    for name, expected in manifest["files"].items():
        path = backup_dir / name
        if not path.exists() or _sha256(path) != expected:
            raise BackupError(f"{name} in {backup_dir} is missing or does not match its checksum")
    return manifest


def restore(backup_dir: Path, resources: Resources) -> dict[str, int]:
    """Restore a backup into the configured (empty) warehouse and (empty) archive folder; return row counts."""
    settings, engine = resources.settings, resources.engine
    manifest = _verify(backup_dir)
    url = make_url(settings.warehouse_url)
    file = sqlite_file(engine)
    if (file is None or file.exists()) and inspect(engine).get_table_names():  # a missing file is empty
        raise BackupError(f"the target warehouse {url.render_as_string(hide_password=True)} is not empty")
    archive = settings.archive_dir
    if archive.exists() and any(archive.iterdir()):
        raise BackupError(f"the target archive folder {archive} is not empty")
    from surgehub.gx.store import results_dir

    stored = results_dir(settings.home)
    if stored.exists() and any(stored.iterdir()):
        raise BackupError(f"the target's GX results folder {stored} is not empty")
    if manifest["dialect"] != url.get_backend_name():
        raise BackupError(f"the backup is of {manifest['dialect']}, the target is {url.get_backend_name()}")
    if url.get_backend_name() == "postgresql":
        dsn, env = _libpq(url)
        result = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                dsn,
                str(backup_dir / "warehouse.dump"),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        engine.dispose()  # no pooled connection may hold the old file open
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup_dir / "warehouse.sqlite", str(url.database))
    archive.mkdir(parents=True, exist_ok=True)
    with tarfile.open(backup_dir / "archive.tar.gz", "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name == "archive" or m.name.startswith("archive/")]
        for member in members:
            member.name = member.name[len("archive") :].lstrip("/") or "."
        _extract(tar, archive, members)
    _restore_gx_results(backup_dir, settings.home)
    engine.dispose()  # connections opened before the restore see the restored data only when new
    counts, _ = _counts(engine)
    if counts != manifest["counts"]:
        raise BackupError(f"restored row counts {counts} differ from the backup's {manifest['counts']}")
    return counts
