"""ClickHouse access: the client (:mod:`.client`), error classification (:mod:`.errors`), the
migrations runner (:mod:`.migrations`), the reference data it loads (:mod:`.reference`) and the
repair of the service-index counters (:mod:`.rebuild`)."""
