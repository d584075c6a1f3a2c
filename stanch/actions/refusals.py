"""The fixed vocabulary of reasons a reviewer gives for refusing an item, and what each tells the person
who asked.

An email may carry only what is written here: the reviewer's own words (the free-text ``reason``) stay on
the status page, behind the secret code. So each sentence is written to be safe in an inbox others read —
it names no site, picture or person and does not say what the content is — and kind to the person who
reads it. The desk checks a refusal's ``reason_code`` against ``REFUSAL_CODES``; ``other`` needs the
reviewer's own words as well, since its sentence sends the reader to them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One refusal reason: ``label`` for reviewers choosing it, ``told`` for the person who asked (it
    follows "not removed: ")."""

    label: str
    told: str


REFUSALS: dict[str, Refusal] = {
    "not_found": Refusal("Nothing at that address",
                         "when we looked, there was nothing there to remove (it may already be gone)"),
    "not_this_content": Refusal("Not the content the request describes",
                                "what we found there is not what your request describes"),
    "not_intimate": Refusal("Not intimate imagery",
                            "what we found there is not the kind of content this service can remove"),
    "lawful": Refusal("Lawful to keep online (newsworthy, shared with consent, or otherwise lawful)",
                      "after a careful look, we found that the law allows it to stay online"),
    "more_information_needed": Refusal("More information needed",
                                       "we could not act without more information; you are welcome to "
                                       "send a new request with more details"),
    "other": Refusal("Other (explain in the reason)",
                     "for a reason the reviewer explains on your status page"),
}
REFUSAL_CODES = tuple(REFUSALS)
NEEDS_OWN_WORDS = ("other",)
UNCODED = "the reason is on your status page"
"""What an email says for a refusal given without a code."""


def told(code: str | None) -> str:
    """The sentence for ``code`` (``UNCODED`` for none); ValueError for a code outside the vocabulary."""
    if code is None:
        return UNCODED
    if code not in REFUSALS:
        raise ValueError(f"unknown refusal reason code {code!r}; known: {', '.join(REFUSAL_CODES)}")
    return REFUSALS[code].told
