"""One pure module per transformation; the handler only wires them to topics."""
