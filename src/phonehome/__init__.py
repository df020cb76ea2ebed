"""phonehome: the server enterprise desk phones phone home to."""

__version__ = "0.1.0"
