"""The query API's error: a bad request, answered as ``{"error", "detail"}`` with a 4xx status."""

from __future__ import annotations


class ApiError(Exception):
    """A bad request, answered as `{"error", "detail"}` with a 4xx status."""

    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers or {}


def clickhouse_error(exc: Exception) -> ApiError:
    """A query ClickHouse refused → 400 ``bad_sql`` with its message (not its stack)."""
    text = str(exc)
    # ClickHouse reports "Code: NN. DB::Exception: …": keep the message, not the stack.
    detail = text.split("DB::Exception:", 1)[-1].strip().split("Stack trace")[0].strip()
    return ApiError(400, "bad_sql", detail[:2000])
