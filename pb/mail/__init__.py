"""Outgoing e-mail: an outbox table filled in the same transaction as the change it tells
about, a sender that delivers over SMTP and retries (``pb mail send``), and one-click
unsubscribe links (signed, RFC 8058)."""
