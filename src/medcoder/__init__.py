"""medcoder: local-first medical coding from the official code sets."""

__version__ = "0.1.0"
