"""Stanch: stop the spread of non-consensual intimate imagery by matching hashes, never storing media."""

__version__ = "0.1.0"
