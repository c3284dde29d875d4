"""The query API and the rules behind it.

``rules/`` computes the published figures from Python values (pure, unit tested without
ClickHouse); ``fetch/`` reads their inputs from ClickHouse; ``routes.py`` serves them over HTTP
with the request parsing of ``requests.py``, the models of ``schemas.py`` and the SQL guard of
``sql_guard.py``. The rules' dataclasses are the response models: each is defined once.
"""
