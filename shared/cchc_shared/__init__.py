"""What every CCHC service and every provincial system agrees on.

Event models, topic names, dead-letter envelope, reference data (provinces, indicator catalogue,
units) and their parsers. Depends on pydantic and small pure libraries only — never on FastStream
or ClickHouse — so a provincial system can use it to build valid events.
"""
