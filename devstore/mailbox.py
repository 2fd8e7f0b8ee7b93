"""An SMTP server on loopback that keeps every message for the mailbox page."""
from __future__ import annotations

import email
import email.policy
import socket

from aiosmtpd.controller import Controller

from devstore.state import Store


def parse_message(raw: bytes, envelope_to: list[str]) -> dict:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = html = ""
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain" and not text:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and not html:
            html = part.get_content()
    return {
        "from": str(message.get("From", "")), "to": envelope_to, "subject": str(message.get("Subject", "")),
        "headers": {k: str(v) for k, v in message.items()}, "text": text, "html": html,
    }


class _Handler:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_DATA(self, server, session, envelope) -> str:
        self.store.mail_add(parse_message(envelope.original_content or envelope.content, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def start_smtp(store: Store, port: int = 0) -> Controller:
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    controller = Controller(_Handler(store), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
