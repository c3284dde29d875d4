"""The SQL that reads the rules' inputs from ClickHouse."""
