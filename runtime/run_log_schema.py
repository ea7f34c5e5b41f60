"""The run log's database: where it lives, its tables, and upgrading an older one.

In: a folder. Out: an open `sqlite3` connection to `runs.db` in it, in WAL mode
with a busy timeout, its schema at `SCHEMA_VERSION` (kept in `PRAGMA
user_version`); or `LogError` saying why not. An older log is upgraded in
place, one step of `MIGRATIONS` at a time, inside one transaction (a failed
upgrade leaves it as it was); a log from a newer nqa is read as far as its known
columns go but never written. `runs.db` must be a regular file: a symbolic
link, a device or a folder in its place is refused, never replaced.
Standard library only (no torch).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

FILE = "runs.db"
SCHEMA_VERSION = 2
TIMEOUT = 10.0  # seconds a writer waits for another one before giving up

# Each entry upgrades a log from version i to i + 1. Version 1 held the runs; version 2
# added the test metrics (`data` with `test`) and the index that `nqa runs --spec` uses.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    ("""CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        spec_path TEXT NOT NULL, spec_text TEXT NOT NULL, fingerprint TEXT NOT NULL,
        seed INTEGER, options TEXT NOT NULL,
        torch_version TEXT, nqa_version TEXT,
        started TEXT NOT NULL, ended TEXT NOT NULL, status TEXT NOT NULL,
        final_loss REAL, best_loss REAL, held_out_loss REAL, held_out_accuracy REAL,
        report_path TEXT, weights_path TEXT,
        report BLOB, report_bytes INTEGER, curve TEXT)""",),
    ("ALTER TABLE runs ADD COLUMN test_metrics TEXT",
     "CREATE INDEX runs_by_spec ON runs (spec_path)"),
)
assert len(MIGRATIONS) == SCHEMA_VERSION

COLUMNS = ("id", "kind", "spec_path", "spec_text", "fingerprint", "seed", "options", "torch_version",
           "nqa_version", "started", "ended", "status", "final_loss", "best_loss", "held_out_loss",
           "held_out_accuracy", "report_path", "weights_path", "report_bytes", "curve", "test_metrics")


class LogError(Exception):
    """The run log cannot be opened, read or written; the message says why, for the user."""


def log_folder(given: str | None, spec: str | None) -> Path:
    """`--log-dir`, else `NQA_LOG_DIR`, else `.nqa` beside the spec (or in the current folder)."""
    chosen = given or os.environ.get("NQA_LOG_DIR")
    if chosen:
        return Path(chosen)
    return (Path(spec).parent if spec else Path(".")) / ".nqa"


def connect(folder: Path, timeout: float = TIMEOUT, create: bool = True) -> sqlite3.Connection:
    """The log in `folder`, upgraded to this version (created with its folder when `create`)."""
    path = folder / FILE
    _check_place(folder, path, create)
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except OSError as err:
        raise LogError(f"cannot make the folder `{folder}`: {err.strerror or err}") from None
    except sqlite3.Error as err:
        raise LogError(explain(err, path, timeout)) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        _upgrade(db, path)
    except sqlite3.Error as err:
        db.close()
        raise LogError(explain(err, path, timeout)) from None
    except LogError:
        db.close()
        raise
    return db


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def writable(db: sqlite3.Connection, path: Path) -> None:
    """Refuse to write a log whose schema is newer than this nqa knows."""
    found = version_of(db)
    if found > SCHEMA_VERSION:
        raise LogError(f"`{path}` was written by a newer nqa (run log version {found}; this one knows up to "
                       f"{SCHEMA_VERSION}), so it is left as it is: upgrade nqa, or log elsewhere with --log-dir")


def _upgrade(db: sqlite3.Connection, path: Path) -> None:
    if version_of(db) >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")  # one writer upgrades; the others wait, then find it done
    try:
        found = version_of(db)
        for step in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {max(found, SCHEMA_VERSION)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _check_place(folder: Path, path: Path, create: bool) -> None:
    for place, what in ((folder, "folder"), (path, "file")):
        try:
            mode = os.lstat(place).st_mode
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR) and (create or place == path):
                continue
            raise LogError(f"cannot use `{place}`: {err.strerror or err}") from None
        if what == "file" and not stat.S_ISREG(mode):
            raise LogError(f"`{path}` is not a regular file (a symbolic link, folder or device), so the run log "
                           "leaves it alone")
        if what == "folder" and not (stat.S_ISDIR(mode) or (stat.S_ISLNK(mode) and folder.is_dir())):
            raise LogError(f"`{folder}` is not a folder, so the run log cannot be kept in it")


_BUSY, _LOCKED = 5, 6  # SQLite's primary result codes (stable; named in sqlite3 only from 3.11)
_REASONS = {  # NOTADB, CORRUPT, READONLY, CANTOPEN, FULL, IOERR
    26: "it is not a run log (not an SQLite database)",
    11: "it is damaged",
    8: "it or its folder is read-only",
    14: "it cannot be opened (a missing or read-only folder?)",
    13: "the disk is full",
    10: "reading or writing it failed"}


def explain(err: sqlite3.Error, path: Path, timeout: float) -> str:
    """Why `err` kept nqa from the log at `path`, decided by SQLite's error code."""
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_BUSY, _LOCKED):
        return f"`{path}` is locked by another program (waited {timeout:g} s)"
    reason = _REASONS.get(primary) if primary is not None else None
    return f"`{path}`: {reason or err}"
