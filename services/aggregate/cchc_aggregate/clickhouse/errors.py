"""Which ClickHouse errors mean "these rows can never be stored" (and which are infrastructure)."""

from __future__ import annotations

import re

from clickhouse_connect.driver.exceptions import DatabaseError, DataError

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
    :data:`_DATA_ERROR_CODES`. Everything else — connection refused, timeouts, memory limits, a
    missing table — is infrastructure: the caller retries it forever.
    """
    if isinstance(exc, DataError):
        return True
    if not isinstance(exc, DatabaseError):
        return False
    code = getattr(exc, "code", None)
    if code is None:
        # chDB raises with the code only in the message: "Code: 53. DB::Exception: …".
        found = _ERROR_CODE.search(str(exc))
        code = int(found.group(1)) if found else None
    return code in _DATA_ERROR_CODES
