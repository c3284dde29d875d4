"""The scoreboard's counters read from ClickHouse (the rules:
:mod:`cchc_aggregate.query.rules.scoreboard`; docs/analysts.md "Bộ chỉ số 766").

Storage (``deploy/clickhouse/0008_scoreboard_events.sql``, ``0009_scoreboard_state.sql``,
``0014_scoreboard_receipt_days.sql``):

* ``dossier_scores`` — one row per dossier (EmbeddedRocksDB, as ``dossier_state`` of 0005): its
  earliest receipt (channel, online mode, procedure) and resolution, its flags (true when any
  event set them: OR), its latest rating (by occurred_at, then event id). Folded per insert block
  by ``dossier_score_transitions_mv`` with a direct key lookup; every fold is a min, a max or an
  arg-max, so arrival order, duplicates and re-sent events do not change it.
* ``scoreboard_daily`` (per province, Vietnam day, procedure, commune) receives the signed
  difference between a dossier's old and new contribution: receipt-side counters on the receipt
  day (t4, o1, pay1, d2, d3), resolution-side ones on the resolution day (d1, s3, processing
  time). A rating arriving after its period closed moves the dossier's count on its resolution
  day, never on the rating's. ``scoreboard_province_daily`` sums it per province and day (what
  this module reads: 34 × 31 rows for a national month); ``scoreboard_procedure_daily`` per
  province, procedure and day feeds o1.
* o1's denominator needs the province's offer for the procedure at the receipt: its latest
  ``published`` event before that instant, read at query time, so a publication arriving after
  its dossiers still counts. On a day without a publication of the procedure the offer is the
  same all day, so every day of the period is read per day from ``scoreboard_procedure_daily``
  (its projection by day) and joined ASOF with the publications at the day's start. On the few
  days with one, the receipts are compared with the publications instant by instant:
  ``scoreboard_receipt_days`` (EmbeddedRocksDB, 0014) holds, per province, procedure and day,
  the receipts by instant (a map), folded from the same signed deltas by a key lookup; the
  publication days of the period are looked up by key (nothing else is read, whatever the
  table's size), each contributes its instants and takes back the day's count at the day's
  start, so each receipt of such a day is counted once, with the offer of its own instant.
* ``feedback_state`` / ``feedback_daily`` — the same fold per feedback; counters on the day of
  resolution: resolved, classified (deadline known), on time, ok (on time and not unsatisfied).
* ``procedure_events`` — few rows (provinces × procedures × acts): read directly, each act
  (province, unit, procedure, action, occurred_at) once whatever its event ids.
* p1 is the service index's on-time rate (``service_province_daily``, 0005).

Every part is one ``GROUP BY province``; the whole answer is one round trip.

A question does not run it on one server: the fold runs it per province and month it changed and
keeps the result in ``scoreboard_monthly`` (``0015_scoreboard_monthly.sql``,
:mod:`cchc_aggregate.clickhouse.scoreboard_months`), and a question of whole months sums those
rows (:func:`fetch_counters`). On a cluster, with no fold, a question runs it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.rules.scoreboard import COUNTERS, CRITERIA, GROUP_CODES

__all__ = [
    "counters_sql",
    "dashboard_sql",
    "fetch_counters",
    "monthly_sql",
    "scoreboard_sql",
    "scores_sql",
    "whole_months",
]

TZ = "Asia/Ho_Chi_Minh"

# Each part: rows of (bucket, province, [(counter, value)…]). `{b:…}` is the bucket of a day
# (the API: one bucket, ''; the dashboard's trend: the month), `{start}` `{end}` the period's
# first and last day, `{pf}` the province filter.
_DOSSIERS = """
SELECT {b:day} AS bucket, province, [
    ('received', sum(received)), ('r_synced', sum(r_synced)), ('r_fee', sum(r_fee)),
    ('r_fee_paid', sum(r_fee_paid)), ('r_digitized', sum(r_digitized)),
    ('r_reused', sum(r_reused)), ('resolved', sum(resolved)),
    ('res_electronic', sum(res_electronic)), ('res_unsatisfied', sum(res_unsatisfied)),
    ('res_timed', sum(res_timed)), ('res_seconds', sum(res_seconds))] AS c
FROM scoreboard_province_daily
WHERE day BETWEEN {start} AND {end}{pf}
GROUP BY bucket, province"""

_PROGRESS = """
SELECT {b:day} AS bucket, province,
       [('res_on_time', sum(resolved_on_time)), ('res_late', sum(resolved_late))] AS c
FROM service_province_daily
WHERE day BETWEEN {start} AND {end}{pf}
GROUP BY bucket, province"""

_FEEDBACK = """
SELECT {b:day} AS bucket, province, [('fb_classified', sum(classified)),
                  ('fb_on_time', sum(on_time)), ('fb_ok', sum(ok))] AS c
FROM feedback_daily
WHERE day BETWEEN {start} AND {end}{pf}
GROUP BY bucket, province"""

# Each act once: an act re-sent under another event id collapses; two events of one act that
# disagree keep the one with the greatest event id (deterministic whatever the arrival order).
_ACTS = """
SELECT province, unit_key, procedure_code, action, occurred_at,
       argMax(due_at, event_id) AS due, argMax(complete, event_id) AS done
FROM procedure_events
WHERE toDate(occurred_at, 'TZ') BETWEEN {start} AND {end}{pf}{upto}
GROUP BY province, unit_key, procedure_code, action, occurred_at"""

_PROCEDURES = """
SELECT {b:toDate(occurred_at, 'TZ')} AS bucket, province, [
    ('t1_announced', countIf(action = 'announced')),
    ('t1_on_time', countIf(action = 'announced' AND occurred_at <= due)),
    ('t2_published', countIf(action = 'published')),
    ('t2_on_time', countIf(action = 'published' AND occurred_at <= due)),
    ('t3_complete', countIf(action = 'published' AND ifNull(done, false)))] AS c
FROM (ACTS)
GROUP BY bucket, province"""

# The province's latest publication of each procedure before an instant: the offer (o1). Read
# once, as the right side of the ASOF join, keyed by one string (province|procedure) and the
# instant in Unix milliseconds: a join on one key and an integer costs about half of one on two
# LowCardinality columns and a DateTime64 (measured on chDB, bench/README.md).
_PUBS = """
SELECT concat(province, '|', procedure_code) AS k, toUnixTimestamp64Milli(occurred_at) AS at,
       argMax(online, event_id) AS offer
FROM procedure_events
WHERE action = 'published' AND toDate(occurred_at, 'TZ') <= {end}{pf}{upto}
GROUP BY province, procedure_code, occurred_at"""

# o1: every day at its start, plus on publication days each receipt at its instant less the
# day's count at its start (the same offer as the day's row: they cancel); then the offer of each.
_ONLINE = """
SELECT {b:r.day} AS bucket, r.province AS province,
       [('o1_offered', sum(r.received)), ('o1_full_online', sum(r.full))] AS c
FROM
(
    SELECT province, concat(province, '|', procedure_code) AS k, day,
           toInt64(toUnixTimestamp(toDateTime(day, 'TZ'))) * 1000 AS t, received,
           r_full_online AS full
    FROM scoreboard_procedure_daily
    WHERE day BETWEEN {start} AND {end}{pf}
    UNION ALL
    SELECT province, k, day, x.1 AS t, x.2 AS received, x.3 AS full
    FROM
    (
        SELECT province, concat(province, '|', procedure_code) AS k, day, arrayJoin(arrayConcat(
            [(toInt64(toUnixTimestamp(toDateTime(day, 'TZ'))) * 1000,
              -arraySum(mapValues(received)), -arraySum(mapValues(full)))],
            arrayMap(i -> (i, received[i], full[i]), mapKeys(received)))) AS x
        FROM scoreboard_receipt_days
        WHERE key IN (PUBDAYS){pf}
    )
) AS r
ASOF INNER JOIN (PUBS) AS p ON r.k = p.k AND r.t > p.at
WHERE p.offer = 'full'
GROUP BY bucket, province"""

# The keys of scoreboard_receipt_days of the period's publication days.
_PUBDAYS = """
SELECT concat(province, '|', procedure_code, '|', toString(toDate(occurred_at, 'TZ')))
FROM procedure_events
WHERE action = 'published' AND toDate(occurred_at, 'TZ') BETWEEN {start} AND {end}{pf}{upto}"""

_BUCKET = re.compile(r"\{b:([^}]*)\}")


def counters_sql(
    start: str = "{start:Date}",
    end: str = "{end:Date}",
    province: str | None = None,
    bucket: str = "''",
    acts_upto: str | None = None,
) -> str:
    """Every counter per bucket and province: rows of (bucket, province, counter, value).

    ``start``/``end`` are SQL expressions of the period's first and last day (the API binds
    parameters; the dashboard writes Grafana variables); ``province`` the condition on the
    province, if any (``= {province:String}``, ``IN {provinces:Array(String)}``); ``bucket`` an
    expression of a day ``{d}`` — ``''`` for one bucket over the period, ``toStartOfMonth({d})``
    for a trend by month; ``acts_upto`` one of the newest insert (``_block_number``) of
    ``procedure_events`` to read (the fold's refresh: the acts its steps have marked).
    """
    pf = f"\n  AND province {province}" if province else ""
    upto = f"\n  AND _block_number <= {acts_upto}" if acts_upto else ""

    def fill(template: str) -> str:
        text = (
            template.replace("(ACTS)", f"({_ACTS})")
            .replace("(PUBS)", f"({_PUBS})")
            .replace("(PUBDAYS)", f"({_PUBDAYS})")
        )
        text = _BUCKET.sub(lambda m: bucket.replace("{d}", m.group(1)), text)
        text = text.replace("'TZ'", f"'{TZ}'")
        text = text.replace("{upto}", upto)
        return text.replace("{start}", start).replace("{end}", end).replace("{pf}", pf)

    parts = [fill(t) for t in (_DOSSIERS, _PROGRESS, _FEEDBACK, _PROCEDURES, _ONLINE)]
    union = "\nUNION ALL\n".join(
        f"SELECT bucket, province, arrayMap(x -> (x.1, toInt64(x.2)), c) AS c FROM ({part})"
        for part in parts
    )
    return (
        "SELECT bucket, province, kv.1 AS counter, toInt64(kv.2) AS value\n"
        f"FROM ({union})\nARRAY JOIN c AS kv"
    )


def scoreboard_sql(province: bool) -> str:
    """The API's one query of every counter, per province (of one province when True): rows of
    (bucket '', province, counter, value)."""
    return counters_sql(province="= {province:String}" if province else None)


# The months of the period in scoreboard_monthly (0015), summed per province.
_MONTHLY = """
SELECT province, sumMap(counters)
FROM scoreboard_monthly
WHERE month BETWEEN {start:Date} AND {end:Date}{pf}
GROUP BY province"""


def monthly_sql(province: bool) -> str:
    """The sum of the period's months in ``scoreboard_monthly`` per province (of one province
    when True): rows of (province, counter → value)."""
    return _MONTHLY.replace("{pf}", "\n  AND province = {province:String}" if province else "")


def whole_months(period: Period) -> bool:
    """Whether ``period`` begins on a month's first day and ends on a month's last."""
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


def fetch_counters(
    store: Store, period: Period, province: str | None = None, *, monthly: bool = True
) -> dict[str, dict[str, int]]:
    """Every counter of every province with any (of ``province`` only, when given) over
    ``period``: province → counter → value (counters at 0 left out).

    ``monthly`` (a single server, where the fold keeps them): a period of whole months is the
    sum of its months in ``scoreboard_monthly``; otherwise (a cluster, or days) the counters are
    computed from the daily tables (:func:`counters_sql`), as the fold computes each month."""
    params: dict[str, Any] = {"start": period.start, "end": period.end}
    if province is not None:
        params["province"] = province
    out: dict[str, dict[str, int]] = {}
    if monthly and whole_months(period):
        _, summed = store.query(monthly_sql(province is not None), params)
        for code, values in summed:
            kept = {str(k): int(v) for k, v in values.items() if v}
            if kept:
                out[str(code)] = kept
        return out
    _, rows = store.query(scoreboard_sql(province is not None), params, readonly=False)
    for _, code, counter, value in rows:
        if value:
            out.setdefault(str(code), {})[str(counter)] = int(value)
    return out


# --- the same figures in SQL, for the Grafana dashboard "Bộ chỉ số 766" ---------------------------


def scores_sql(start: str, end: str, bucket: str = "''") -> str:
    """Every criterion's (numerator, denominator, points) per bucket and province, scored with
    the maxima of ``scoreboard_criteria`` (the packaged scoring table, loaded by `migrate`):
    rows of (bucket, province, group_code, code, numerator, denominator, max, points).

    The same counters and the same rules as :func:`cchc_aggregate.query.rules.scoreboard.
    build_scoreboard` (CRITERIA gives each criterion's numerator and denominator).
    """
    wide = ",\n        ".join(f"sumIf(value, counter = '{name}') AS {name}" for name in COUNTERS)
    pairs = ", ".join(f"('{code}', {num}, {den})" for code, (num, den) in CRITERIA.items())
    return f"""SELECT w.bucket AS bucket, w.province AS province, m.group_code AS group_code,
       w.c.1 AS code, w.c.2 AS numerator, w.c.3 AS denominator, m.max AS max,
       if(w.c.3 > 0, round(m.max * w.c.2 / w.c.3, 2), NULL) AS points
FROM
(
    SELECT bucket, province, c
    FROM
    (
        SELECT bucket, province,
        {wide},
        res_on_time + res_late AS res_classified,
        resolved - res_unsatisfied AS res_satisfied
        FROM ({counters_sql(start, end, None, bucket)})
        GROUP BY bucket, province
    )
    ARRAY JOIN [{pairs}] AS c
) AS w
INNER JOIN scoreboard_criteria AS m ON m.code = w.c.1"""


def dashboard_sql() -> dict[str, str]:
    """The dashboard's panel queries (deploy/grafana/dashboards/cchc-scoreboard.json), by panel:
    ``ranking`` and ``groups`` for the month ``${month}``, ``trend`` by month over the time
    range. tests/integration/test_scoreboard_dashboard.py keeps the file equal to these and
    runs them on chDB against GET /v1/scoreboard."""
    month_start = "toDate('${month}-01')"
    month_end = "toLastDayOfMonth(toDate('${month}-01'))"
    month = scores_sql(month_start, month_end)
    totals = (
        "SELECT province, round(sum(points), 2) AS total, "
        "sumIf(max, points IS NOT NULL) AS max_available\n"
        f"FROM ({month})\nGROUP BY province\nHAVING max_available > 0"
    )
    ranking = (
        "SELECT rank() OVER (ORDER BY t.total DESC) AS `Hạng`, t.province AS `Mã`,\n"
        "       p.name AS `Tỉnh, thành phố`, t.total AS `Tổng điểm`,\n"
        "       t.max_available AS `Tối đa có dữ liệu`\n"
        f"FROM ({totals}) AS t\n"
        "LEFT JOIN provinces AS p ON p.key = concat('2025:', t.province)\n"
        "ORDER BY t.total DESC, t.province"
    )
    groups = ",\n       ".join(
        f"if(countIf(group_code = '{g}' AND points IS NOT NULL) > 0, "
        f"round(sumIf(points, group_code = '{g}'), 2), NULL) AS `{g}`"
        for g in GROUP_CODES
    )
    by_group = (
        f"SELECT s.province AS province, any(p.name) AS name,\n       {groups},\n"
        "       round(sum(points), 2) AS total\n"
        f"FROM ({month}) AS s\n"
        "LEFT JOIN provinces AS p ON p.key = concat('2025:', s.province)\n"
        "GROUP BY s.province\n"
        "HAVING countIf(points IS NOT NULL) > 0\n"
        "ORDER BY total DESC, province"
    )
    trend = (
        "SELECT toDateTime(bucket) AS time, province, round(sum(points), 2) AS total\n"
        f"FROM ({scores_sql('toDate($__fromTime)', 'toDate($__toTime)', 'toStartOfMonth({d})')})\n"
        "GROUP BY time, province\n"
        "HAVING countIf(points IS NOT NULL) > 0\n"
        "ORDER BY time, province"
    )
    return {"ranking": ranking, "groups": by_group, "trend": trend}
