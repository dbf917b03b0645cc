"""What each creator declared, from a sidecar file (CSV or JSONL) kept on disk, not in memory.

Columns / keys: ``path``, ``declared`` (``ai``, ``not-ai`` or ``none``), and
optionally ``account``, ``post_id`` and ``posted_at`` (ISO 8601, for the account signals of
``scan --similar``).  The sidecar is validated completely
before the scan starts (a bad row stops everything with its line number: a
half-applied sidecar would give wrong verdicts), then loaded into a SQLite
file in the output folder, so a sidecar of millions of rows costs disk, not RAM.

A row's ``path`` may be relative to the scanned folder, relative to the
current directory, or absolute; a found file is looked up in that order.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import AigcCheckError, DeclarationError
from ..json_lines import object_lines
from ..model import Declared

if TYPE_CHECKING:
    import sqlite3

FIELDS = ("path", "declared", "account", "post_id", "posted_at")


class SidecarError(AigcCheckError):
    """The declarations sidecar is unreadable or has a bad row (the message names the line)."""


@dataclass(frozen=True)
class Declaration:
    declared: Declared | None  # None: the row left it empty, the scan's --declared applies
    account: str | None = None
    post_id: str | None = None
    line: int = 0  # line in the sidecar, 0 when not from a sidecar


@dataclass(frozen=True)
class MissingRow:
    """A sidecar row whose file was not found by the scan."""

    line: int
    path: str
    declared: Declared | None
    account: str | None
    post_id: str | None

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "path": self.path,
            "declared": self.declared.value if self.declared else None,
            "account": self.account,
            "post_id": self.post_id,
        }


def read_sidecar(path: str) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each row; raises SidecarError naming the line of the first bad one."""
    kind = "jsonl" if path.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"
    try:
        # surrogateescape: a file name that is not valid UTF-8 is written in the sidecar as the same
        # bytes, and must become the same str as os.fsdecode gives the walk.
        # Closed by the with block below; opened apart from it so that only a failure to open is a SidecarError.
        f = open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")  # noqa: SIM115
    except OSError as exc:
        raise SidecarError(f"{path}: cannot read declarations: {exc.strerror or exc}") from exc
    with f:
        rows = object_lines(f, path, SidecarError) if kind == "jsonl" else _csv_rows(f, path)
        for line, row in rows:
            yield line, _validated(row, path, line)


def _csv_rows(f: Iterable[str], where: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(f)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("path", "declared") if c not in header]
    if missing:
        raise SidecarError(
            f"{where} line 1: the header needs columns path and declared "
            f"(missing {', '.join(missing)}; found {', '.join(header) or 'nothing'})"
        )
    reader.fieldnames = header
    try:
        for row in reader:
            if None in row:  # more cells than the header has columns
                raise SidecarError(
                    f"{where} line {reader.line_num}: {len(header) + len(row[None])} cells "
                    f"but the header has {len(header)} columns"
                )
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        raise SidecarError(f"{where} line {reader.line_num}: {exc}") from exc


def _validated(row: dict, where: str, line: int) -> dict:
    path = row.get("path")
    if not isinstance(path, str) or not path.strip():
        raise SidecarError(f"{where} line {line}: path is missing or empty")
    try:
        # Empty: the scan's --declared applies, as for a file the sidecar does not name.
        declared = Declared.parse_or_none(row.get("declared"))
    except DeclarationError as exc:
        raise SidecarError(f"{where} line {line}: {exc}") from None
    out = {"path": os.path.normpath(path.strip()), "declared": declared}
    for key in ("account", "post_id"):
        value = row.get(key)
        if isinstance(value, (dict, list)):
            raise SidecarError(f"{where} line {line}: {key} must be text or a number")
        out[key] = None if value is None or str(value).strip() == "" else str(value).strip()
    out["posted_at"] = _posted_at(row.get("posted_at"), where, line)
    return out


def parse_posted_at(value: object) -> str | None:
    """``posted_at`` as ISO 8601 text (its own offset kept: the hour of day is the poster's), or None
    when empty; ``ValueError`` when it is not ISO 8601 (the sidecar's rule, shared with the Spark scan)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    # Python 3.10's fromisoformat does not read a trailing Z.
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text).isoformat()


def _posted_at(value: object, where: str, line: int) -> str | None:
    try:
        return parse_posted_at(value)
    except ValueError:
        text = str(value).strip()
        raise SidecarError(
            f"{where} line {line}: posted_at {text!r} is not an ISO 8601 date and time (2026-03-10T08:30:00+08:00)"
        ) from None


class DeclarationIndex:
    """Sidecar rows in SQLite, looked up per found file; remembers which rows were matched."""

    def __init__(self, sidecar: str, db_path: str) -> None:
        self.sidecar = sidecar
        self.db_path = db_path
        # Imported here: a scan without --declarations (and every other command) does without it.
        import sqlite3

        if os.path.exists(db_path):
            os.remove(db_path)  # left by a killed run: rebuild, the sidecar may have changed
        self._db: sqlite3.Connection = sqlite3.connect(db_path)
        self._db.execute("PRAGMA journal_mode=MEMORY")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE rows (path TEXT PRIMARY KEY, declared TEXT, account TEXT, post_id TEXT, "
            "line INTEGER, posted_at TEXT, matched INTEGER DEFAULT 0)"
        )
        self.rows = 0
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    def _load(self) -> None:
        insert = "INSERT INTO rows (path, declared, account, post_id, line, posted_at) VALUES (?, ?, ?, ?, ?, ?)"
        batch: list[tuple] = []
        for line, row in read_sidecar(self.sidecar):
            declared = row["declared"].value if row["declared"] else None
            batch.append((_key(row["path"]), declared, row["account"], row["post_id"], line, row["posted_at"]))
            if len(batch) >= 10_000:
                self._insert(insert, batch)
        self._insert(insert, batch)
        self._db.commit()

    def _insert(self, sql: str, batch: list[tuple]) -> None:
        import sqlite3  # loaded already, by __init__

        self._db.execute("SAVEPOINT batch")
        try:
            self._db.executemany(sql, batch)
        except sqlite3.IntegrityError:  # undo the batch, then insert row by row to name both lines
            self._db.execute("ROLLBACK TO batch")
            for values in batch:
                try:
                    self._db.execute(sql, values)
                except sqlite3.IntegrityError:
                    first = self._db.execute("SELECT line FROM rows WHERE path = ?", (values[0],)).fetchone()[0]
                    raise SidecarError(
                        f"{self.sidecar} line {values[4]}: path {values[0]!r} is already declared on line {first}"
                    ) from None
        self._db.execute("RELEASE batch")
        self.rows += len(batch)
        batch.clear()

    def lookup(self, path: str, root: str | None) -> Declaration | None:
        candidates = [os.path.normpath(path), os.path.abspath(path)]
        if root is not None:
            candidates.insert(0, os.path.relpath(path, root))
        for candidate in candidates:
            hit = self._db.execute(
                "SELECT rowid, declared, account, post_id, line FROM rows WHERE path = ?", (_key(candidate),)
            ).fetchone()
            if hit:
                self._db.execute("UPDATE rows SET matched = 1 WHERE rowid = ?", (hit[0],))
                return Declaration(Declared.parse_or_none(hit[1]), hit[2], hit[3], hit[4])
        return None

    def missing(self) -> Iterator[MissingRow]:
        """Rows that no scanned file matched, in sidecar order."""
        query = "SELECT line, path, declared, account, post_id FROM rows WHERE matched = 0 ORDER BY line"
        for line, path, declared, account, post_id in self._db.execute(query):
            yield MissingRow(line, path, Declared.parse_or_none(declared), account, post_id)

    def posted_times(self) -> Iterator[tuple[str, str]]:
        """``(account, posted_at)`` of the rows a scanned file matched that name both."""
        query = (
            "SELECT account, posted_at FROM rows WHERE matched = 1 AND account IS NOT NULL AND posted_at IS NOT NULL"
        )
        yield from self._db.execute(query)

    def count_missing(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM rows WHERE matched = 0").fetchone()[0]

    def close(self) -> None:
        self._db.close()
        if os.path.exists(self.db_path):
            os.remove(self.db_path)


def _key(path: str) -> str:
    # SQLite stores UTF-8: a lone surrogate (undecodable byte in a file name) must survive the round trip.
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
