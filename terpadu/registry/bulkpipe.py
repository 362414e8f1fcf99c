"""Bulk writes that overlap: PostgreSQL takes one batch while Python prepares the next.

A large direct import spends most of its apply inside PostgreSQL (COPY into tables with
their indexes) and the rest in Python/Polars building the next rows; one after the other,
one of the machine's cores always idles. Inside `pipeline()` (PostgreSQL only):

* `submit` queues work for the transaction's connection — COPYs of prepared rows, a SET, a
  check — and a single writer thread runs it in order on that same connection, so it stays
  inside the caller's transaction: all or nothing as before;
* any other query made through Django meanwhile first waits for the queue to empty (an
  execute wrapper), so statements never interleave and read what was written;
* `reserve_ids` draws ids from the sequences over a second, autocommit connection, so
  preparing the next batch never waits for the writer (sequences are not transactional:
  drawing them elsewhere is the same as drawing them here);
* an error in the writer stops the queue and is raised in the caller at its next query, at
  `drain`, or on leaving the block; the transaction then rolls back as usual.

The queue holds at most `MAX_PENDING` items, so memory stays bounded when Python outpaces
the database. Outside the block (and on SQLite) `current()` is None and writers run inline.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, connections

MAX_PENDING = 8  # queued COPYs/statements (a chunk writes ≈ 6)

Work = Callable[[Any], None]  # called with the transaction's psycopg connection

_local = threading.local()  # .pipe: the open block of this thread


def current() -> Pipe | None:
    """The pipeline of this thread's open block, if any."""
    return getattr(_local, "pipe", None)


class Pipe:
    """The writer thread and queue of one `pipeline()` block."""

    def __init__(self) -> None:
        self.db = connections[connection.alias]  # this thread's wrapper, for the writer
        self.raw = self.db.connection  # the psycopg connection of the open transaction
        self.queue: queue.Queue[Work | None] = queue.Queue(MAX_PENDING)
        self.error: BaseException | None = None
        self.cache: dict[Any, Any] = {}  # per-block answers (e.g. checked region ids)
        self._side: Any = None
        self._thread = threading.Thread(target=self._run, name="terpadu-bulk-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            work = self.queue.get()
            try:
                if work is None:
                    return
                if self.error is None:  # after a failure the transaction is aborted: skip
                    with self.db.wrap_database_errors:  # psycopg's errors as Django's
                        work(self.raw)
            except BaseException as exc:
                self.error = exc
            finally:
                self.queue.task_done()

    def submit(self, work: Work) -> None:
        """Queue `work` (blocks while MAX_PENDING items wait); raise an earlier failure."""
        self._raise()
        self.queue.put(work)

    def drain(self) -> None:
        """Wait until everything queued ran; raise the writer's failure, if any."""
        self.queue.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, _Reported(self.error)
            raise error

    def reserve_ids(self, sequence_sql: str, params: list[Any]) -> list[tuple]:
        """Run an id-drawing query (see records.reserve_ids) on the side connection."""
        if self._side is None:
            self._side = connection.get_new_connection(connection.get_connection_params())
            self._side.autocommit = True
        with self._side.cursor() as cursor:
            cursor.execute(sequence_sql, params)
            return cursor.fetchall()

    def close(self) -> None:
        self.queue.put(None)
        self._thread.join()
        if self._side is not None:
            with contextlib.suppress(Exception):
                self._side.close()


class _Reported(Exception):
    """Stands in for a writer failure already raised once (the queue stays stopped)."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"bulk writer stopped after: {original!r}")


def settle() -> None:
    """Wait for this thread's queued writes, if any: for raw COPYs that do not pass
    through Django's execute (and so not through the drain wrapper)."""
    pipe = current()
    if pipe is not None:
        pipe.drain()


def _drain_first(pipe: Pipe) -> Callable[..., Any]:
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        pipe.drain()
        return execute(sql, params, many, ctx)

    return wrapper


@contextlib.contextmanager
def pipeline() -> Iterator[Pipe | None]:
    """Overlap the block's bulk writes with the Python between them (see module); None on
    anything but PostgreSQL or when a block is already open. Call inside a transaction."""
    if connection.vendor != "postgresql" or current() is not None:
        yield None
        return
    connection.ensure_connection()
    pipe = Pipe()
    _local.pipe = pipe
    failed = False
    try:
        with connection.execute_wrapper(_drain_first(pipe)):
            yield pipe
    except BaseException as exc:
        failed = True
        if pipe.error is None:  # the rollback discards them: queued writes are skipped
            pipe.error = _Reported(exc)
        raise
    finally:
        _local.pipe = None
        try:
            pipe.queue.join()  # the connection is free again before anyone rolls back
        finally:
            pipe.close()
        if not failed:
            pipe._raise()
