"""The takedown desk: requests with a 48-hour clock, review, decisions, appeals, audit, transparency.

One module per idea: ``intake`` (checking and storing a request), ``cases`` (its states and views),
``clock`` (deadline and escalation), ``locate`` (from a location to items and hashes), ``decisions``,
``banking`` (the case bank), ``appeals``, ``safeguards`` (rate limits, duplicates, flags), ``report``
(transparency), ``ticker`` (periodic work), ``audit`` (the hash-chained log), ``tokens`` (case
numbers, secret codes, keyed hashes).
"""
