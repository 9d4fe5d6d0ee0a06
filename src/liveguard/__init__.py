"""liveguard: a keyboard-driven terminal control room for small online sellers."""

__version__ = "0.1.0"
