"""The Kafka → ClickHouse sink: records to column rows, inserted once, refused rows isolated."""
