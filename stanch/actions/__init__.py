"""Actions: a transactional outbox for webhooks to the platform and emails to requesters.

Typical use, inside the transaction that takes a decision::

    with db.write() as session:
        ...                                           # the decision itself
        enqueue_webhook(session, "remove_item", {"item_id": "p/123", "case_id": case.id})
        enqueue_email(session, requester_email, "update", case_id=case.id)

and, in a server thread or ``stanch actions run``::

    Dispatcher(db.engine).run_forever(stop_event)
"""

from stanch.actions.delivery import DeliveryError, Message, Sender
from stanch.actions.dispatch import Dispatcher, DispatchReport, default_senders
from stanch.actions.mailers import ConsoleMailer, FileMailer, SmtpMailer, build_email
from stanch.actions.outbox import (
    UnknownMessage,
    enqueue_dsa_batch,
    enqueue_email,
    enqueue_webhook,
    list_messages,
    prune_sent,
    retry_message,
)
from stanch.actions.refusals import REFUSAL_CODES, REFUSALS
from stanch.actions.retry import RetryPolicy
from stanch.actions.settings import ActionSettings, SettingsError
from stanch.actions.signing import sign, verify_signature
from stanch.actions.templates import TEMPLATE_NAMES, Outcome, Tally, render, status_url
from stanch.actions.webhooks import WEBHOOK_TYPES, WebhookSender, webhook_body

__all__ = [
    "REFUSALS",
    "REFUSAL_CODES",
    "TEMPLATE_NAMES",
    "WEBHOOK_TYPES",
    "ActionSettings",
    "ConsoleMailer",
    "DeliveryError",
    "DispatchReport",
    "Dispatcher",
    "FileMailer",
    "Message",
    "Outcome",
    "RetryPolicy",
    "Sender",
    "SettingsError",
    "SmtpMailer",
    "Tally",
    "UnknownMessage",
    "WebhookSender",
    "build_email",
    "default_senders",
    "enqueue_dsa_batch",
    "enqueue_email",
    "enqueue_webhook",
    "list_messages",
    "prune_sent",
    "render",
    "retry_message",
    "sign",
    "status_url",
    "verify_signature",
    "webhook_body",
]
