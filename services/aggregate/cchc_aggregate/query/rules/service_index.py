"""The live service index (Decision 766/QĐ-TTg, docs/contract.md "Query API"): counts → the
published figures. Pure.

The counts come from the dossier tables (:mod:`cchc_aggregate.query.fetch.service_index`, which
describes how they are kept); this module turns them into rates and orders the groups. The
dataclasses here are also the API's response models: their fields, in order, are the JSON
objects of ``GET /v1/service-index``, and their ``description`` metadata documents the OpenAPI
schema.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from cchc_aggregate.query.rules import AS_OF_DOC, doc

__all__ = [
    "GROUPS",
    "ORDERS",
    "Figures",
    "GroupBy",
    "GroupRow",
    "Order",
    "ServiceIndex",
    "ServiceIndexGroups",
    "Totals",
    "build_group",
    "build_index",
    "order_groups",
    "rate",
]

GroupBy = Literal["procedure", "commune"]
GROUPS: tuple[GroupBy, ...] = ("procedure", "commune")
Order = Literal["best", "worst"]
ORDERS: tuple[Order, ...] = ("best", "worst")


@dataclass(frozen=True, slots=True)
class Totals:
    """The counts of one province, group or the nation over a period."""

    received: int = 0
    received_online: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    overdue_in_progress: int = 0
    resolved_timed: int = 0
    """Resolved dossiers whose receipt is known (the processing time's denominator)."""
    resolved_seconds: int = 0
    """Σ seconds from receipt to resolution of those."""


def rate(numerator: int, denominator: int) -> float | None:
    """100 × numerator / denominator, rounded to 2 decimals; None when the denominator is 0."""
    if denominator <= 0:
        return None
    return round(100 * numerator / denominator, 2)


# The response classes below put these fields after their own: a dataclass collects its fields
# base by base in reverse method resolution order, so in `class ServiceIndex(Figures, _Scope)`
# the fields of _Scope come first, then those of Figures.


@dataclass(frozen=True)
class Figures:
    """The counts and rates of one province, group or the nation over a period; rates in percent.

    ``on_time_rate`` and ``late_rate`` are over the *classified* resolutions
    (``resolved_on_time + resolved_late``): a resolution whose receipt has not arrived yet has no
    due date to be judged by, and counts only in ``resolved`` (``resolved_unclassified``).
    National rates are ratios of national sums, never means of provincial rates.
    """

    received: int = field(metadata=doc("dossiers received in the period (day of receipt)"))
    received_online: int
    resolved: int = field(metadata=doc("dossiers resolved in the period (day of resolution)"))
    resolved_on_time: int = field(metadata=doc("resolved at or before due_at"))
    resolved_late: int
    resolved_unclassified: int = field(
        metadata=doc("resolved, but the receipt (with its due date) has not arrived yet")
    )
    on_time_rate: float | None = field(metadata=doc("% of the classified resolutions"))
    late_rate: float | None
    online_rate: float | None = field(metadata=doc("% of receipts that were online"))
    overdue_in_progress: int = field(
        metadata=doc("received in the period, not resolved/rejected/withdrawn, past due now")
    )
    avg_resolution_hours: float | None = field(
        metadata=doc(
            "mean hours from receipt to resolution of the dossiers resolved in the period "
            "(those whose receipt is known); null when none"
        )
    )

    def as_json(self) -> dict[str, Any]:
        """The JSON object of the API (the fields, in order)."""
        return asdict(self)


@dataclass(frozen=True)
class _Scope:
    period: str
    province: str | None = field(metadata=doc("2025 province code; null = national"))


@dataclass(frozen=True)
class ServiceIndex(Figures, _Scope):
    """The live service index (Decision 766) of a province or the nation over a period.

    The answer of `GET /v1/service-index` without `group_by`: period and province, then the
    counts and rates, then ``as_of``.
    """

    as_of: datetime | None = field(default=None, metadata=doc(AS_OF_DOC))


@dataclass(frozen=True)
class _Key:
    key: str = field(metadata=doc("procedure code or commune code ('' when not given)"))


@dataclass(frozen=True)
class GroupRow(Figures, _Key):
    """One procedure or commune of a province: its key, then its counts and rates."""


@dataclass(frozen=True, slots=True)
class ServiceIndexGroups:
    """A province's index per procedure or commune, best or worst on-time rate first."""

    period: str
    province: str
    group_by: GroupBy
    order: Order
    rows: list[GroupRow]
    as_of: datetime | None = field(default=None, metadata=doc(AS_OF_DOC))


def _figures(totals: Totals) -> dict[str, Any]:
    classified = totals.resolved_on_time + totals.resolved_late
    return {
        "received": totals.received,
        "received_online": totals.received_online,
        "resolved": totals.resolved,
        "resolved_on_time": totals.resolved_on_time,
        "resolved_late": totals.resolved_late,
        "resolved_unclassified": max(0, totals.resolved - classified),
        "on_time_rate": rate(totals.resolved_on_time, classified),
        "late_rate": rate(totals.resolved_late, classified),
        "online_rate": rate(totals.received_online, totals.received),
        "overdue_in_progress": totals.overdue_in_progress,
        "avg_resolution_hours": (
            round(totals.resolved_seconds / totals.resolved_timed / 3600, 2)
            if totals.resolved_timed > 0
            else None
        ),
    }


def build_index(period: str, province: str | None, totals: Totals) -> ServiceIndex:
    """Counts → the published figure with its rates."""
    return ServiceIndex(period=period, province=province, **_figures(totals))


def build_group(key: str, totals: Totals) -> GroupRow:
    """Counts of one procedure or commune → its row with its rates."""
    return GroupRow(key=key, **_figures(totals))


def order_groups(rows: list[GroupRow], order: Order) -> list[GroupRow]:
    """Best (highest on-time rate) or worst first; groups without a rate last either way.

    Ties: more resolutions first (a rate over more dossiers says more), then the key.
    """
    sign = -1 if order == "best" else 1

    def key(row: GroupRow) -> tuple[int, float, int, str]:
        r = row.on_time_rate
        return (r is None, sign * (r or 0.0), -row.resolved, row.key)

    return sorted(rows, key=key)
