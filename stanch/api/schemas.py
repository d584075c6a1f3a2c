"""Request bodies of the HTTP API, validated before anything is looked up or written.

Hashes are checked here (length, alphabet) so that a malformed one is a 422 naming the field, never a
500 from deep inside the index.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stanch.api.errors import describe
from stanch.signals.pdq import MATCH_DISTANCE, parse_pdq_hex

MAX_BATCH = 1000
"""Items in one ``POST /v1/match/batch``: bounds the work (and the memory) of one request."""


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: object, where: str = "body") -> Model:
    """``data`` (parsed JSON) as ``model``; 422 naming each field that is wrong otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        detail = "; ".join(describe({**e, "loc": (where, *e["loc"])}) for e in error.errors())
        raise HTTPException(422, detail) from None


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body that a handler reads itself (see ``describe_models``)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _hex_digest(value: str | None, name: str, length: int) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    if len(text) != length or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"an {name} digest is {length} hex digits; got {value!r}")
    return text


class HashQuery(BaseModel):
    """A lookup by hash: ``{"pdq": hex}`` (optionally its ``quality``), exact digests, or full signals.

    ``signals`` is the object ``stanch hash`` and ``POST /v1/hash`` print; with it, the robustness
    variants and video frames it carries are matched too.
    """

    model_config = ConfigDict(extra="forbid")

    pdq: str | None = Field(None, description="PDQ hash, 64 hex digits", examples=["f" * 64])
    quality: int | None = Field(None, ge=0, le=100, description="PDQ quality, if known (0-100)")
    md5: str | None = Field(None, description="MD5 of the file's bytes, 32 hex digits")
    sha256: str | None = Field(None, description="SHA-256 of the file's bytes, 64 hex digits")
    signals: dict[str, Any] | None = Field(None, description="signals as `stanch hash` prints them")
    item_id: str | None = Field(None, min_length=1, max_length=500,
                                description="the platform's id of the upload: with the upload log on "
                                "(STANCH_UPLOAD_LOG), its PDQ hash and this id are kept for retroactive "
                                "matching")

    @field_validator("pdq")
    @classmethod
    def _pdq(cls, value: str | None) -> str | None:
        return None if value is None else parse_pdq_hex(value).hex()

    @field_validator("md5")
    @classmethod
    def _md5(cls, value: str | None) -> str | None:
        return _hex_digest(value, "MD5", 32)

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        return _hex_digest(value, "SHA-256", 64)

    @model_validator(mode="after")
    def _one_form(self) -> HashQuery:
        loose = self.pdq is not None or self.md5 is not None or self.sha256 is not None
        if self.signals is not None and loose:
            raise ValueError("send either 'signals' or loose hashes ('pdq', 'md5', 'sha256'), not both")
        if self.signals is None and not loose:
            raise ValueError("send a hash to match: 'pdq' (64 hex digits), 'md5', 'sha256' or 'signals'")
        return self


class BatchQuery(BaseModel):
    """Up to 1,000 lookups answered in one request, in order."""

    model_config = ConfigDict(extra="forbid")

    items: list[HashQuery]


AUTO_REMOVE_HELP = ("which matches remove a desk copy at once, the rest go to review: md5, sha256, pdq<=N, "
                    "vpdq<=N, comma-separated, or none (default md5,sha256,pdq<=10)")


class NewBank(BaseModel):
    """A bank to create. ``kind: allow`` makes an allow-list: its hits stop any action."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    threshold: int = Field(MATCH_DISTANCE, ge=0, le=64, description="largest PDQ distance that matches")
    trust: Literal["block", "review"] = "block"
    kind: Literal["match", "allow", "minor"] = "match"
    auto_remove: str | None = Field(None, max_length=200, description=AUTO_REMOVE_HELP)


class BankChange(BaseModel):
    """New settings for a bank: any of its threshold, trust and auto-remove rule."""

    model_config = ConfigDict(extra="forbid")

    threshold: int | None = Field(None, ge=0, le=64, description="largest PDQ distance that matches")
    trust: Literal["block", "review"] | None = None
    auto_remove: str | None = Field(None, max_length=200, description=AUTO_REMOVE_HELP)


class NewEntry(HashQuery):
    """An entry to bank: the same hash forms as a lookup, plus where it came from."""

    source: str | None = Field(None, max_length=1000, description="provenance: file name, request id, list")
