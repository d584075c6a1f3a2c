"""Exchange: importing partners' hash lists into banks and exporting banks in their formats.

Formats: plain PDQ lines (``pdq``), Stanch JSON lines (``jsonl``), StopNCII hash records
(``stopncii``), HMA CSV (``hma``) and python-threatexchange signal lines (``pytx``); one module each.
Imports are one transaction; a bad line or record is quarantined (counted, reported) while the rest go
in; StopNCII withdrawals withdraw the matching entries.
"""

from stanch.exchange.exporter import EXPORT_FORMATS, export_bank
from stanch.exchange.importer import FORMATS, ImportSummary, detect_format, import_lines
from stanch.exchange.records import FormatError

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "FormatError",
    "ImportSummary",
    "detect_format",
    "export_bank",
    "import_lines",
]
