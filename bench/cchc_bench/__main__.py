"""`python -m cchc_bench` (what `make bench` runs)."""

from cchc_bench.command import app

# Guarded: the bench's producers and hops are spawned processes, which re-import this module.
if __name__ == "__main__":
    app(prog_name="cchc_bench")
