"""The takedown desk: requests with a 48-hour clock, review, decisions, appeals, audit, transparency."""
