"""newswire: a streaming ingester for news wires."""

__version__ = "0.1.0"
