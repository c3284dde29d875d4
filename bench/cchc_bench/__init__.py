"""The benchmark harness (`make bench`, `python -m cchc_bench`): throughput and latency of the
embedded pipeline against its references.

One run starts a fresh embedded stack, pushes generated events and measures how fast they become
queryable; then the same events go through the broker's ceiling (pass-through consumers and
producers chained like the pipeline) and a naive per-message pipeline, each on a fresh broker.
Results land in bench/results/ (results.json, throughput.png, profiles/). See bench/README.md.

The pure parts (events, stats, profile summaries) are unit-tested; nothing here asserts a rate.
"""
