"""ingest: the border. Validates raw events, checks province authority, dead-letters the rest."""
