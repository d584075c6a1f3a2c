"""Reading an uploaded file into memory, never onto disk, with a hard size limit.

Starlette's own form parser spools any file part larger than 1 MB into a temporary file. An upload to
``/v1/match`` may be intimate imagery of a person who never agreed to it being stored anywhere, so Stanch
parses ``multipart/form-data`` itself: the request body is streamed through python-multipart's parser and
the one wanted part is collected in a ``bytearray``. Reading stops, with 413, as soon as the body passes
the limit, so a hostile client cannot make the server buffer more than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from stanch.bodies import BodyError, parse_json

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MULTIPART_OVERHEAD = 64 * 1024
"""Room for part headers and boundaries on top of the file itself."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file held in memory: its name as the client gave it, and its bytes."""

    filename: str
    data: bytes
    field: str = ""
    """The form field it came in (one of those ``read_upload`` was asked for)."""


def is_multipart(request: Request) -> bool:
    """Whether the request carries ``multipart/form-data`` (a file upload) rather than JSON."""
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"multipart/form-data"


async def read_upload(request: Request, field: str | tuple[str, ...], max_bytes: int) -> Upload:
    """The file sent in the multipart form field ``field`` (or the first of several names), read into memory.

    Raises 413 when the body is larger than ``max_bytes`` (plus room for the form's own framing) and 422
    when the form is malformed or has no such field.
    """
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(422, "the multipart body has no boundary in its Content-Type header")
    body_limit = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        raise HTTPException(413, too_large(max_bytes))

    fields = (field,) if isinstance(field, str) else field
    collector = _PartCollector(fields)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit or len(collector.data) > max_bytes:
                raise HTTPException(413, too_large(max_bytes))
            parser.write(chunk)
        parser.finalize()
    except FormParserError as error:
        raise HTTPException(422, f"the multipart body is malformed: {error}") from error
    if len(collector.data) > max_bytes:
        raise HTTPException(413, too_large(max_bytes))
    if not collector.found:
        names = " or ".join(repr(f) for f in fields)
        raise HTTPException(422, f"send the file in a multipart form field named {names}")
    return Upload(collector.filename, bytes(collector.data), collector.field)


def too_large(max_bytes: int) -> str:
    """The 413 message: the limit, in the unit people think in."""
    return f"the upload is larger than the limit of {max_bytes / 2**20:g} MiB"


class _PartCollector:
    """python-multipart callbacks that keep the bytes of one named part and drop every other part."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.field = ""
        self.found = False
        self.filename = ""
        self.data = bytearray()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._wanted = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._wanted = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self._wanted = name in self.fields and not self.found
        if self._wanted:
            self.found = True
            self.field = name
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._wanted:
            self.data += data[start:end]


async def read_json(request: Request, max_bytes: int) -> object:
    """The request's JSON body, read up to ``max_bytes`` (413 beyond), 422 when it is not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, f"the JSON body is larger than the limit of {max_bytes / 2**20:g} MiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HTTPException(413, f"the JSON body is larger than the limit of {max_bytes / 2**20:g} MiB")
    try:
        return parse_json(body)
    except BodyError as error:
        raise HTTPException(422, str(error)) from None
