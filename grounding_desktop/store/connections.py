"""SQLite connections the way both of the project's files use them: one per thread (a connection
must not be shared between threads), all closed together, and writes in ``BEGIN IMMEDIATE``
transactions that commit whole or roll back, a transaction opened inside another joining it."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class ThreadConnections:
    """The calling thread's connection, opened by ``open_one`` on first use."""

    def __init__(self, open_one: Callable[[], sqlite3.Connection]) -> None:
        self._open_one = open_one
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open_one()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (the next use opens a new one)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.ProgrammingError:  # created in another thread; it closes with that thread
                pass
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing on the calling thread's connection: commit on success, roll back on any
        exception (also KeyboardInterrupt). Opened inside another on the same thread, it joins it."""
        conn = self.get()
        if getattr(self._local, "depth", 0):
            yield conn  # the outer transaction commits, or rolls back on the exception
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # on a full disk or an I/O error SQLite has rolled back already
                conn.execute("ROLLBACK")
            raise
        finally:
            self._local.depth = 0

    def release_thread(self) -> None:
        """Close the calling thread's connection (a worker thread calls this before it ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with self._lock:
                self._all = [c for c in self._all if c is not conn]
            conn.close()
            self._local.conn = None



class ThreadConnected:
    """A SQLite file opened once per thread: a subclass sets ``_connections``."""

    _connections: ThreadConnections

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def release_thread(self) -> None:
        """Close the calling thread's connection (a worker thread calls this before it ends)."""
        self._connections.release_thread()
