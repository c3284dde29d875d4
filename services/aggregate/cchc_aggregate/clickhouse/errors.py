"""Which ClickHouse errors mean "these rows can never be stored", which "not now", and the rest."""

from __future__ import annotations

import re

from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

_ERROR_CODE = re.compile(r"\bCode:\s*(\d+)")

# ClickHouse error codes that mean "this data cannot be stored" (the same rows would fail on every
# retry), as opposed to the server or the connection failing. From ClickHouse's ErrorCodes.cpp.
_DATA_ERROR_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        407,  # DECIMAL_OVERFLOW
    }
)


def is_data_error(exc: BaseException) -> bool:
    """Whether ClickHouse (or the client serialising for it) refused the *rows*, not the write.

    clickhouse-connect raises ``DataError`` when a value does not fit its column type (an
    out-of-range UInt16 rank, a version beyond UInt64); a server answers data errors with one of
    :data:`_DATA_ERROR_CODES`. Everything else is about the write, not the rows: see
    :func:`is_transient`.
    """
    if isinstance(exc, DataError):
        return True
    return isinstance(exc, DatabaseError) and _code(exc) in _DATA_ERROR_CODES


# Codes that mean "not now" rather than "never": an outage or overload, waited out with backoff.
_TRANSIENT_CODES = frozenset(
    {
        159,  # TIMEOUT_EXCEEDED
        164,  # READONLY (a replica in read-only mode)
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        243,  # NOT_ENOUGH_SPACE (the disk under the data is full)
        252,  # TOO_MANY_PARTS
        279,  # ALL_CONNECTION_TRIES_FAILED
        999,  # KEEPER_EXCEPTION
    }
)

# The data's file system refusing writes (read-only, immutable, full): ClickHouse reports it as a
# C++ filesystem error (STD_EXCEPTION, 1001) or a failed file operation. Waited out like an
# outage — the operator frees or remounts the disk, and the batches held back then land
# (docs/runbook.md "The disk under ClickHouse's data is full or read-only").
_FILE_CODES = frozenset({74, 75, 76, 1001})  # CANNOT_{READ_FROM,WRITE_TO}_FILE_DESCRIPTOR, …
_FILE_REFUSALS = re.compile(
    r"Operation not permitted|Read-only file system|No space left on device|Permission denied"
    r"|Disk quota exceeded"
)


def is_transient(exc: BaseException) -> bool:
    """Whether a failed write is an outage worth retrying (connection, timeout, memory, parts).

    Anything else — a missing table, an unknown column, a session switched to another database —
    is a bug or a broken session: retrying the same insert forever would hide it, so the service
    stops and its supervisor restarts it with a fresh session.
    """
    if isinstance(exc, OperationalError | OSError | TimeoutError):
        return True
    if not isinstance(exc, DatabaseError) or is_data_error(exc):
        return False
    code = _code(exc)
    if code in _FILE_CODES:
        return _FILE_REFUSALS.search(str(exc)) is not None
    return code in _TRANSIENT_CODES


_ROCKSDB_ERROR = 555


def is_latched(exc: BaseException) -> bool:
    """Whether a write failed on a file in a key-value (EmbeddedRocksDB) table: after a failed
    file write RocksDB refuses every later write with the same error until the table is opened
    again, even once the disk is fine (measured on chDB: tests/integration/test_fold_latch.py).
    Other RocksDB errors (a bad argument, a corrupt file) are not this."""
    return _code(exc) == _ROCKSDB_ERROR and "IO error" in str(exc)


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if code is None:
        # chDB raises with the code only in the message: "Code: 53. DB::Exception: …".
        found = _ERROR_CODE.search(str(exc))
        code = int(found.group(1)) if found else None
    return code if isinstance(code, int) else None
