"""The rules of the published figures: computations on Python values, no ClickHouse."""
