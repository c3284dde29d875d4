"""ClickHouse access: the client (:mod:`.client`), error classification (:mod:`.errors`), the
migrations runner (:mod:`.migrations`) and the reference data it loads (:mod:`.reference`)."""
