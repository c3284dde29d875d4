"""aggregate: writes canonical records to ClickHouse in batches and serves national figures."""
