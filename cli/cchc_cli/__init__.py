"""`cchc`: the command line for people — run the embedded stack, push events, query figures."""
