"""The network edge: fetching media from URLs that strangers or platforms hand to Stanch, safely."""

from stanch.net.fetch import Fetched, FetchError, FetchLimits, SafeFetcher

__all__ = ["FetchError", "FetchLimits", "Fetched", "SafeFetcher"]
