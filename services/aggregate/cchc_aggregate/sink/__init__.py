"""The Kafka → ClickHouse sink: records to column rows, inserted (again, if a batch is retried:
readers collapse copies), refused rows isolated."""
