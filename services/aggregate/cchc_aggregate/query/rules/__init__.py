"""The rules of the published figures: computations on Python values, no ClickHouse.

Their answer dataclasses are also the query API's response models; :func:`doc` gives a field the
description the OpenAPI schema shows.
"""

from __future__ import annotations


def doc(text: str) -> dict[str, str]:
    """``dataclasses.field`` metadata describing a field; pydantic (so FastAPI) reads it."""
    return {"description": text}


AS_OF_DOC = (
    "UTC time before which every inserted event is counted: the cutoff of the last completed "
    "fold step, or the query's own time on a cluster (folded within the insert); null before "
    'the first fold (docs/architecture.md "The fold")'
)
"""The description of the answers' ``as_of``."""
