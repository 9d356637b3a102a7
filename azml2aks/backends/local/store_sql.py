"""The local MLflow store read and written with sqlite3, without importing MLflow.

``import mlflow`` costs seconds (MLflow 3 imports its GenAI, data and server modules on the
way, and any ``mlflow.*`` submodule import runs that first), while the everyday verbs only
look runs, versions, tags and aliases up, and ``register`` adds one version and moves one
alias. MLflow stays the store: ``train`` writes runs through MlflowClient, and every row this
module writes is one MlflowClient reads back as its own (tests/local/test_store_sql.py checks
both directions against MlflowClient). The tables used, from MLflow's SQLAlchemy schema::

    runs, tags, params, latest_metrics, experiments                    (tracking)
    registered_models, model_versions, model_version_tags,
    registered_model_aliases                                           (model registry)

Every function returns None when the store is not one this module knows (no file, or an
alembic revision not in :data:`KNOWN_REVISIONS`), or when ``AZML2AKS_MLFLOW_SQL=0`` turns this
path off: the caller then uses MlflowClient, so an MLflow release that changes its schema costs
speed, never correctness.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from azml2aks.results import ModelVersion

logger = logging.getLogger(__name__)

#: MLflow schema revisions (alembic_version) whose tables this module reads and writes.
KNOWN_REVISIONS = frozenset({"dc11669786a5"})
WORKSPACE = "default"


@contextmanager
def _store(workdir: Path, *, write: bool = False) -> Iterator[sqlite3.Connection | None]:
    """A connection to ``<workdir>/mlflow.db`` when its schema is known, else None."""
    db = (workdir / "mlflow.db").resolve()
    conn = None
    try:
        if db.exists() and os.environ.get("AZML2AKS_MLFLOW_SQL", "1") != "0":
            conn = sqlite3.connect(f"{db.as_uri()}?mode={'rw' if write else 'ro'}", uri=True, timeout=30,
                                   isolation_level=None)
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if not revision or revision[0] not in KNOWN_REVISIONS:
                logger.debug("MLflow schema %s is not one store_sql knows; using MlflowClient", revision)
                conn.close()
                conn = None
    except sqlite3.Error as e:
        logger.debug("store_sql: %s; using MlflowClient", e)
        conn = None
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


# --- model registry --------------------------------------------------------------------------
def _versions(conn: sqlite3.Connection, name: str | None, version: str | None,
              alias: str | None) -> list[ModelVersion]:
    where, args = ["status = 'READY'"], []
    if name is not None:
        where.append("name = ?")
        args.append(name)
    if alias is not None:
        where.append("version = (SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?)")
        args += [name, alias]
    elif version is not None:
        where.append("version = ?")
        args.append(int(version))
    rows = conn.execute("SELECT name, version, run_id, source, creation_time FROM model_versions WHERE "
                        + " AND ".join(where) + " ORDER BY name, version", args).fetchall()
    out = []
    for mname, mversion, run_id, source, created in rows:
        tags = dict(conn.execute("SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                                 (mname, mversion)).fetchall())
        aliases = tuple(sorted(a for (a,) in conn.execute(
            "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ?", (mname, mversion))))
        value = tags.get("azml2aks.metric_value")
        out.append(ModelVersion(
            name=mname, version=str(mversion), run_id=run_id, job_name=tags.get("azml2aks.job"),
            metric_name=tags.get("azml2aks.primary_metric"), metric_value=float(value) if value else None,
            source=source, tags=tags, aliases=aliases, created=str(created)))
    return out


def read_versions(workdir: Path, name: str | None = None, *, version: str | None = None,
                  alias: str | None = None) -> list[ModelVersion] | None:
    """The READY versions matching (all of ``name``; ``version``; the one ``alias`` points at),
    sorted by name and version; [] when none; None: ask MlflowClient."""
    if not (workdir / "mlflow.db").exists():
        return []
    with _store(workdir) as conn:
        if conn is None:
            return None
        try:
            return _versions(conn, name, version, alias)
        except (sqlite3.Error, ValueError) as e:
            logger.debug("store_sql: %s; using MlflowClient", e)
            return None


def create_version(workdir: Path, name: str, *, source: str, run_id: str, tags: Mapping[str, str],
                   description: str | None = None) -> ModelVersion | None:
    """Register ``source`` as the next version of ``name`` (the model is created when missing)
    in one transaction, as MlflowClient.create_model_version does; None: ask MlflowClient."""
    with _store(workdir, write=True) as conn:
        if conn is None:
            return None
        now = int(time.time() * 1000)
        conn.execute("BEGIN IMMEDIATE")  # one writer at a time: the version number is max + 1
        try:
            conn.execute("INSERT OR IGNORE INTO registered_models (name, creation_time, last_updated_time, "
                         "description, workspace) VALUES (?, ?, ?, ?, ?)", (name, now, now, description, WORKSPACE))
            conn.execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", (now, name))
            (top,) = conn.execute("SELECT MAX(version) FROM model_versions WHERE name = ?", (name,)).fetchone()
            version = (top or 0) + 1
            conn.execute(
                "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, "
                "user_id, current_stage, source, run_id, status, status_message, run_link, storage_location, "
                "workspace) VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, 'READY', NULL, NULL, ?, ?)",
                (name, version, now, now, description, source, run_id, source, WORKSPACE))
            conn.executemany("INSERT INTO model_version_tags (key, value, name, version, workspace) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [(k, str(v), name, version, WORKSPACE) for k, v in tags.items()])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return _versions(conn, name, str(version), None)[0]


def set_alias(workdir: Path, name: str, alias: str, version: str) -> bool:
    """Point ``alias`` of ``name`` at ``version``; False: ask MlflowClient."""
    with _store(workdir, write=True) as conn:
        if conn is None:
            return False
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?", (name, alias))
            conn.execute("INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?, ?, ?, ?)",
                         (alias, int(version), name, WORKSPACE))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True


# --- tracking --------------------------------------------------------------------------------
def read_run(workdir: Path, run_id: str) -> dict[str, Any] | None:
    """A run as plain data: status, start/end (ms), experiment name, artifact URI, tags; {}
    when it does not exist; None: ask MlflowClient."""
    with _store(workdir) as conn:
        if conn is None:
            return None
        row = conn.execute("SELECT r.status, r.start_time, r.end_time, e.name, r.artifact_uri FROM runs r "
                           "JOIN experiments e ON r.experiment_id = e.experiment_id "
                           "WHERE r.run_uuid = ? AND r.lifecycle_stage = 'active'", (run_id,)).fetchone()
        if row is None:
            return {}
        tags = dict(conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall())
        return {"status": row[0], "start_time": row[1], "end_time": row[2], "experiment_name": row[3],
                "artifact_uri": row[4], "tags": tags}


def read_children(workdir: Path, parent: str) -> list[dict[str, Any]] | None:
    """The child runs of ``parent`` (tag mlflow.parentRunId), newest first as MLflow's search
    orders them, with name, start time, tags, params and latest metrics; None: ask MlflowClient."""
    with _store(workdir) as conn:
        if conn is None:
            return None
        rows = conn.execute(
            "SELECT r.run_uuid, r.status, r.name, r.start_time FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
            "WHERE t.key = 'mlflow.parentRunId' AND t.value = ? AND r.lifecycle_stage = 'active' "
            "ORDER BY r.start_time DESC, r.run_uuid", (parent,)).fetchall()
        return [{
            "run_id": run_id, "status": status, "run_name": run_name, "start_time": start_time,
            "tags": dict(conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall()),
            "params": dict(conn.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)).fetchall()),
            "metrics": dict(conn.execute("SELECT key, value FROM latest_metrics WHERE run_uuid = ?",
                                         (run_id,)).fetchall()),
        } for run_id, status, run_name, start_time in rows]
