"""A bank's auto-remove rule: which matches remove a copy at once, and which go to a reviewer first.

A copy found by a sweep (or attached by the platform) to a removed case is banked and removed at once
only when it matched in a way nobody needs to look at: an identical file (MD5 or SHA-256), or the
plain PDQ hash of the upload against the plain banked hash within a few bits. Everything else that
matched (a crop window, a rotated or flipped view, a video matched by its frames, a PDQ distance
beyond the rule) goes on the case's review list, where a reviewer removes or rejects it: removing
someone's lawful picture because a crop window happened to match is a harm too.

A rule is written as a comma-separated list, as ``stanch bank update --auto-remove`` and the banks API
take it: ``md5``, ``sha256``, ``pdq<=N`` (plain view, distance at most N), ``vpdq<=N`` (a video matched by
the video rule, distance at most N); ``none`` sends every copy to review. The default is
``md5,sha256,pdq<=10``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stanch.matching.verdict import Match

DIGEST_SIGNALS = ("md5", "sha256")
DEFAULT_RULE = "md5,sha256,pdq<=10"
PLAIN_VIEWS = ("", "original")


@dataclass(frozen=True)
class AutoRemove:
    """The parsed rule: exact digests that remove at once, and the largest plain PDQ / video distance."""

    digests: frozenset[str] = frozenset(DIGEST_SIGNALS)
    pdq: int | None = 10
    vpdq: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> AutoRemove:
        """The rule ``text`` states (None or empty: the default); ValueError naming the bad term."""
        if text is None or not text.strip():
            text = DEFAULT_RULE
        terms = [t.strip().lower().replace(" ", "") for t in text.split(",") if t.strip()]
        if terms == ["none"]:
            return cls(frozenset(), None, None)
        digests: set[str] = set()
        distances: dict[str, int] = {}
        for term in terms:
            if term in DIGEST_SIGNALS:
                digests.add(term)
                continue
            signal, sep, number = term.partition("<=")
            if sep and signal in ("pdq", "vpdq") and number.isdigit() and int(number) <= 256:
                distances[signal] = int(number)
                continue
            raise ValueError(f"auto-remove rule {text!r}: {term!r} is not a term; write a comma-separated "
                             "list of md5, sha256, pdq<=N, vpdq<=N (N 0 to 256), or none")
        return cls(frozenset(digests), distances.get("pdq"), distances.get("vpdq"))

    def text(self) -> str:
        """The rule written back in its canonical form (what is stored and shown)."""
        terms = [d for d in DIGEST_SIGNALS if d in self.digests]
        terms += [f"{name}<={value}" for name, value in (("pdq", self.pdq), ("vpdq", self.vpdq))
                  if value is not None]
        return ",".join(terms) or "none"

    def removes_at_once(self, match: Match) -> bool:
        """Whether ``match`` removes a copy without a reviewer (see the module docstring)."""
        if match.signal in self.digests or self.digests & set(match.also):
            return True
        if match.signal == "pdq" and self.pdq is not None:
            plain = match.hash in PLAIN_VIEWS and match.query in PLAIN_VIEWS
            return plain and match.distance <= self.pdq
        if match.signal == "vpdq" and self.vpdq is not None:
            return match.distance <= self.vpdq
        return False


def match_view(match: Match) -> str:
    """Which views matched, for a reviewer: ``original``, or the query's view then the banked one
    (``trimmed>original``, ``original>rot90``); empty for digests and videos."""
    if match.signal != "pdq":
        return ""
    query, banked = match.query or "original", match.hash or "original"
    return query if query == banked else f"{query}>{banked}"


def rule_text(stored: str | None) -> str:
    """A bank's stored rule as shown (None is the default, written out)."""
    return AutoRemove.parse(stored).text()


def checked_rule(text: str) -> str:
    """The canonical form of a rule someone gave (ValueError if it is not one)."""
    return AutoRemove.parse(text).text() if text.strip() else DEFAULT_RULE
