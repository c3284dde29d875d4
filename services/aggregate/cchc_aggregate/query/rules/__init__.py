"""The rules of the published figures: computations on Python values, no ClickHouse.

Their answer dataclasses are also the query API's response models; :func:`doc` gives a field the
description the OpenAPI schema shows.
"""

from __future__ import annotations


def doc(text: str) -> dict[str, str]:
    """``dataclasses.field`` metadata describing a field; pydantic (so FastAPI) reads it."""
    return {"description": text}
