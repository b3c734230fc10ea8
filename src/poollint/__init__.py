"""poollint: find the code and configuration that exhaust database connection pools."""

__version__ = "0.1.0"
