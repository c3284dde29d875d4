"""The scoreboard's counters read from ClickHouse (the rules:
:mod:`cchc_aggregate.query.rules.scoreboard`; docs/analysts.md "Bộ chỉ số 766").

Storage (``deploy/clickhouse/0008_scoreboard_events.sql``, ``0009_scoreboard_state.sql``):

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
  province, procedure and day, and ``scoreboard_receipts`` per instant, feed o1.
* o1's denominator needs the province's offer for the procedure at the receipt: its latest
  ``published`` event before that instant. On a day without a publication of the procedure the
  offer is the same all day, so those days are read per day (an ASOF join at the day's start);
  on the few days with one, receipts are read per instant and compared with the publication's.
  The offer is read at query time, so a publication arriving after its dossiers still counts.
* ``feedback_state`` / ``feedback_daily`` — the same fold per feedback; counters on the day of
  resolution: resolved, classified (deadline known), on time, ok (on time and not unsatisfied).
* ``procedure_events`` — few rows (provinces × procedures × acts): read directly, each act
  (province, unit, procedure, action, occurred_at) once whatever its event ids.
* p1 is the service index's on-time rate (``service_province_daily``, 0005).

Every part is one ``GROUP BY province``; the whole answer is one round trip.
"""

from __future__ import annotations

from typing import Any

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store

__all__ = ["fetch_counters", "scoreboard_sql"]

TZ = "Asia/Ho_Chi_Minh"

_DOSSIERS = """
SELECT province, [
    ('received', sum(received)), ('r_synced', sum(r_synced)), ('r_fee', sum(r_fee)),
    ('r_fee_paid', sum(r_fee_paid)), ('r_digitized', sum(r_digitized)),
    ('r_reused', sum(r_reused)), ('resolved', sum(resolved)),
    ('res_electronic', sum(res_electronic)), ('res_unsatisfied', sum(res_unsatisfied)),
    ('res_timed', sum(res_timed)), ('res_seconds', sum(res_seconds))] AS c
FROM scoreboard_province_daily
WHERE day BETWEEN {{start:Date}} AND {{end:Date}}{pf}
GROUP BY province"""

_PROGRESS = """
SELECT province, [('res_on_time', sum(resolved_on_time)), ('res_late', sum(resolved_late))] AS c
FROM service_province_daily
WHERE day BETWEEN {{start:Date}} AND {{end:Date}}{pf}
GROUP BY province"""

_FEEDBACK = """
SELECT province, [('fb_classified', sum(classified)), ('fb_on_time', sum(on_time)),
                  ('fb_ok', sum(ok))] AS c
FROM feedback_daily
WHERE day BETWEEN {{start:Date}} AND {{end:Date}}{pf}
GROUP BY province"""

# Each act once: an act re-sent under another event id collapses; two events of one act that
# disagree keep the one with the greatest event id (deterministic whatever the arrival order).
_ACTS = f"""
SELECT province, unit_key, procedure_code, action, occurred_at,
       argMax(due_at, event_id) AS due, argMax(complete, event_id) AS done,
       argMax(online, event_id) AS offer
FROM procedure_events
WHERE toDate(occurred_at, '{TZ}') BETWEEN {{{{start:Date}}}} AND {{{{end:Date}}}}{{pf}}
GROUP BY province, unit_key, procedure_code, action, occurred_at"""

_PROCEDURES = f"""
SELECT province, [
    ('t1_announced', countIf(action = 'announced')),
    ('t1_on_time', countIf(action = 'announced' AND occurred_at <= due)),
    ('t2_published', countIf(action = 'published')),
    ('t2_on_time', countIf(action = 'published' AND occurred_at <= due)),
    ('t3_complete', countIf(action = 'published' AND ifNull(done, false)))] AS c
FROM ({_ACTS})
GROUP BY province"""

# The province's latest publication of each procedure before an instant: the offer (o1).
_PUBS = f"""
SELECT province, procedure_code, occurred_at AS at, argMax(online, event_id) AS offer
FROM procedure_events
WHERE action = 'published' AND toDate(occurred_at, '{TZ}') <= {{{{end:Date}}}}{{pf}}
GROUP BY province, procedure_code, occurred_at"""

_ONLINE = f"""
SELECT r.province AS province,
       [('o1_offered', sum(r.received)), ('o1_full_online', sum(r.full))] AS c
FROM
(
    SELECT province, procedure_code, toTimeZone(toDateTime64(day, 3, '{TZ}'), 'UTC') AS t,
           received, r_full_online AS full
    FROM scoreboard_procedure_daily
    WHERE day BETWEEN {{{{start:Date}}}} AND {{{{end:Date}}}}{{pf}}
      AND (province, procedure_code, day) NOT IN
          (SELECT province, procedure_code, toDate(at, '{TZ}') FROM ({_PUBS}))
    UNION ALL
    SELECT province, procedure_code, received_at AS t, received, r_full_online AS full
    FROM scoreboard_receipts
    WHERE toDate(received_at, '{TZ}') BETWEEN {{{{start:Date}}}} AND {{{{end:Date}}}}{{pf}}
      AND (province, procedure_code, toDate(received_at, '{TZ}')) IN
          (SELECT province, procedure_code, toDate(at, '{TZ}') FROM ({_PUBS}))
) AS r
ASOF INNER JOIN ({_PUBS}) AS p
    ON r.province = p.province AND r.procedure_code = p.procedure_code AND r.t > p.at
WHERE p.offer = 'full'
GROUP BY r.province"""


def scoreboard_sql(province: bool) -> str:
    """The one query of every counter, per province (of one province when True): rows of
    (province, counter, value)."""
    pf = "\n  AND province = {province:String}" if province else ""
    parts = [template.format(pf=pf) for template in (_DOSSIERS, _PROGRESS, _FEEDBACK, _PROCEDURES)]
    parts.append(_ONLINE.format(pf=pf))
    union = "\nUNION ALL\n".join(
        f"SELECT province, arrayMap(x -> (x.1, toInt64(x.2)), c) AS c FROM ({part})"
        for part in parts
    )
    return (
        "SELECT province, kv.1 AS counter, toInt64(kv.2) AS value\n"
        f"FROM ({union})\nARRAY JOIN c AS kv"
    )


def fetch_counters(
    store: Store, period: Period, province: str | None = None
) -> dict[str, dict[str, int]]:
    """Every counter of every province with any (of ``province`` only, when given) over
    ``period``: province → counter → value (counters at 0 left out)."""
    params: dict[str, Any] = {"start": period.start, "end": period.end}
    if province is not None:
        params["province"] = province
    _, rows = store.query(scoreboard_sql(province is not None), params, readonly=False)
    out: dict[str, dict[str, int]] = {}
    for code, counter, value in rows:
        if value:
            out.setdefault(str(code), {})[str(counter)] = int(value)
    return out
