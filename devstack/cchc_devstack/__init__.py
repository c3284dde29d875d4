"""The embedded stack: Tansu broker, topics, migrations and the three services as supervised
processes — what `cchc up`, the tests and the bench start."""
