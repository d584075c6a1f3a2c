"""The reviewers' desk (/desk), one module per resource: sign-in, the queue, cases, appeals, accounts.

Every page needs a signed-in reviewer and every POST carries the session's CSRF token; both checks are
FastAPI dependencies (``stanch.web.desk.deps``), so no page repeats them. Opening a case, unblurring a
preview and deciding are recorded in the audit log by the desk library or here, in the same transaction
as what they describe. Pages read and write only through the desk library (``stanch.desk``).
"""

from __future__ import annotations

from fastapi import FastAPI

from stanch.web.desk import accounts, appeals, cases, deps, queue, sign_in

RESOURCES = (queue, sign_in, cases, appeals, accounts)


def install(app: FastAPI) -> None:
    """Serve the desk's pages (each resource's router, under /desk) from ``app``, with the answers to a
    refused sign-in or form."""
    deps.install_refusals(app)
    for resource in RESOURCES:
        app.include_router(resource.router)
