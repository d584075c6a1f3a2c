# ruff: noqa: E501  (the enumerations and the validator's messages read best on one line each)
"""A local stand-in for the EU DSA Transparency Database's batch API, for tests only (never used by the
product): ``POST /api/v1/statements`` with a Bearer token, and ``GET /api/v1/statement/existing-puid/{puid}``.

It validates each statement with the rules of ``app/Http/Requests/StatementStoreRequest.php`` (required
fields, ``required_if``/``required_without_all``, lengths, date formats, the PUID pattern) and the
enumerations of ``app/Models/Statement.php`` (digital-services-act/transparency-database, commit
69e80a0, 2026-06-24), and answers as ``StatementMultipleAPIController`` does: 201 for a stored batch,
422 ``{"errors": {"statement_<i>": {...}}}`` when any statement is invalid (nothing stored), 422
``{"message", "errors": {"puid": [...], "existing_puids": [...]}}`` when PUIDs are already held.
``drop_after_store`` stores the next N batches and then cuts the connection without answering (a lost
answer, as a network error leaves it).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tests.local_server import QuietHandler, local_server

# Enumerations (keys only) as listed in from app/Models/Statement.php of digital-services-act/transparency-database, commit 69e80a0.
DECISION_VISIBILITIES = frozenset({
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
})
DECISION_MONETARIES = frozenset({
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
})
DECISION_PROVISIONS = frozenset({
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
})
DECISION_ACCOUNTS = frozenset({
    "DECISION_ACCOUNT_SUSPENDED",
    "DECISION_ACCOUNT_TERMINATED",
})
DECISION_GROUNDS = frozenset({
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
})
CONTENT_TYPES = frozenset({
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
})
STATEMENT_CATEGORIES = frozenset({
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
})
SOURCE_TYPES = frozenset({
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
})
AUTOMATED_DECISIONS = frozenset({
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
})
KEYWORDS = frozenset({
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_ANIMAL_HARM",
    "KEYWORD_BIOMETRIC_DATA_BREACH",
    "KEYWORD_BULLYING_AGAINST_GIRLS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_COORDINATED_HARM",
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_CYBER_HARASSMENT",
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
    "KEYWORD_CYBER_INCITEMENT",
    "KEYWORD_CYBER_STALKING",
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
    "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION",
    "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING",
    "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_INAUTHENTIC_ACCOUNTS",
    "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS",
    "KEYWORD_INCITEMENT_AGAINST_WOMEN",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
    "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "KEYWORD_NONCOMPLIANCE_PRICING",
    "KEYWORD_NUDITY",
    "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING",
    "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_PYRAMID_SCHEMES",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH",
    "KEYWORD_SELF_MUTILATION",
    "KEYWORD_STALKING",
    "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_VIOLATION_EU_LAW",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
    "KEYWORD_OTHER",
})
AUTOMATED_DETECTIONS = frozenset({"Yes", "No"})
INCOMPATIBLE_CONTENT_ILLEGALS = frozenset({"Yes", "No"})
PUID = re.compile(r"^[a-zA-Z0-9\-_]+$")
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")


def _date(value: Any, low: str, high: str) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        return date.fromisoformat(low) <= date.fromisoformat(value) <= date.fromisoformat(high)
    except ValueError:
        return False


def _subset(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, list) and all(v in allowed for v in value)


def problems(s: dict[str, Any]) -> dict[str, list[str]]:
    """What Laravel's validator would say about one statement (empty: valid)."""
    errors: dict[str, list[str]] = {}

    def no(name: str, text: str) -> None:
        errors.setdefault(name, []).append(text)

    if not any(s.get(name) not in (None, []) for name in DECISIONS):
        no("decision_visibility", "The decision visibility field is required when none of decision monetary "
           "/ decision provision / decision account are present.")
    if s.get("decision_visibility") is not None and not _subset(s["decision_visibility"], DECISION_VISIBILITIES):
        no("decision_visibility", "The selected decision visibility is invalid.")
    for name, allowed in (("decision_monetary", DECISION_MONETARIES), ("decision_provision", DECISION_PROVISIONS),
                          ("decision_account", DECISION_ACCOUNTS)):
        if s.get(name) is not None and s[name] not in allowed:
            no(name, f"The selected {name.replace('_', ' ')} is invalid.")
    if s.get("decision_ground") not in DECISION_GROUNDS:
        no("decision_ground", "The selected decision ground is invalid." if "decision_ground" in s
           else "The decision ground field is required.")
    for ground, fields in (("DECISION_GROUND_ILLEGAL_CONTENT",
                            (("illegal_content_legal_ground", 500), ("illegal_content_explanation", 2000))),
                           ("DECISION_GROUND_INCOMPATIBLE_CONTENT",
                            (("incompatible_content_ground", 500), ("incompatible_content_explanation", 2000)))):
        for name, limit in fields:
            if s.get("decision_ground") == ground and not s.get(name):
                no(name, f"The {name.replace('_', ' ')} field is required when decision ground is "
                   f"{'illegal' if 'ILLEGAL' in ground else 'incompatible'} content.")
            elif isinstance(s.get(name), str) and len(s[name]) > limit:
                no(name, f"The {name.replace('_', ' ')} field must not be greater than {limit} characters.")
    if s.get("incompatible_content_illegal") is not None and s["incompatible_content_illegal"] not in \
            INCOMPATIBLE_CONTENT_ILLEGALS:
        no("incompatible_content_illegal", "The selected incompatible content illegal is invalid.")
    if not isinstance(s.get("content_type"), list) or not s["content_type"] or \
            not _subset(s["content_type"], CONTENT_TYPES):
        no("content_type", "The content type field is required." if not s.get("content_type")
           else "The selected content type is invalid.")
    if s.get("category") not in STATEMENT_CATEGORIES:
        no("category", "The selected category is invalid." if "category" in s else "The category field is required.")
    if s.get("category_specification") is not None and not _subset(s["category_specification"], KEYWORDS):
        no("category_specification", "The selected category specification is invalid.")
    if not _date(s.get("content_date"), "2000-01-01", "2038-01-01"):
        no("content_date", "The content date does not match the format YYYY-MM-DD.")
    if not _date(s.get("application_date"), "2020-01-01", "2038-01-01"):
        no("application_date", "The application date does not match the format YYYY-MM-DD.")
    if not isinstance(s.get("decision_facts"), str) or not s["decision_facts"]:
        no("decision_facts", "The decision facts field is required.")
    elif len(s["decision_facts"]) > 5000:
        no("decision_facts", "The decision facts field must not be greater than 5000 characters.")
    if s.get("source_type") not in SOURCE_TYPES:
        no("source_type", "The selected source type is invalid.")
    if s.get("automated_detection") not in AUTOMATED_DETECTIONS:
        no("automated_detection", "The selected automated detection is invalid.")
    if s.get("automated_decision") not in AUTOMATED_DECISIONS:
        no("automated_decision", "The selected automated decision is invalid.")
    puid = s.get("puid")
    if not isinstance(puid, str) or not puid:
        no("puid", "The puid field is required.")
    elif len(puid) > 500 or not PUID.match(puid):
        no("puid", "The puid format is invalid.")
    return errors


@dataclass
class StandIn:
    """What the stand-in holds and how it should misbehave; read by the tests."""

    token: str
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: list[list[dict[str, Any]]] = field(default_factory=list)
    drop_after_store: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, statements: Any) -> tuple[int, dict[str, Any], bool]:
        """(status, body, drop the connection) for one batch."""
        if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
            return 422, {"message": "The statements field must have between 1 and 100 items.",
                         "errors": {"statements": ["The statements field must have between 1 and 100 items."]}}, False
        with self.lock:
            self.posts.append(statements)
            errors = {f"statement_{i}": p for i, s in enumerate(statements)
                      if (p := problems(s if isinstance(s, dict) else {}))}
            if errors:
                return 422, {"errors": errors}, False
            puids = [s["puid"] for s in statements]
            held = sorted({p for p in puids if p in self.stored} | {p for p in puids if puids.count(p) > 1})
            if held:
                message = "The platform identifier(s) are not all unique within this call."
                return 422, {"message": message, "errors": {"puid": [message], "existing_puids": held}}, False
            for s in statements:
                self.stored[s["puid"]] = s
            drop = self.drop_after_store > 0
            self.drop_after_store -= int(drop)
            return 201, {"statements": statements}, drop


@contextmanager
def tdb_standin(token: str = "test-token") -> Iterator[tuple[str, StandIn]]:
    """The stand-in on 127.0.0.1 for the block; yields its base URL and its state."""
    state = StandIn(token)

    class Handler(QuietHandler):
        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {state.token}":
                return True
            self.send_body(401, b'{"message":"Unauthenticated."}', "application/json")
            return False

        def do_GET(self) -> None:
            prefix = "/api/v1/statement/existing-puid/"
            if not self._authorised():
                return
            if not self.path.startswith(prefix):
                self.send_body(404, b"{}", "application/json")
                return
            puid = self.path[len(prefix):]
            found = puid in state.stored
            body = {"message": f"statement of reason {'found' if found else 'not found'}", "puid": puid}
            self.send_body(302 if found else 404, json.dumps(body).encode(), "application/json")

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if self.path != "/api/v1/statements":
                self.send_body(404, b"{}", "application/json")
                return
            length = int(self.headers.get("Content-Length", "0"))
            try:
                document = json.loads(self.rfile.read(length))
            except ValueError:
                self.send_body(400, b'{"message":"bad json"}', "application/json")
                return
            status, body, drop = state.answer(document.get("statements") if isinstance(document, dict) else None)
            if drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_body(status, json.dumps(body).encode(), "application/json")

    with local_server(Handler) as url:
        yield url, state
