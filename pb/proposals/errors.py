"""The base of every refusal in proposals, the ballot's projects and moderation.

It lives apart from ``services`` so that ``projects`` (which ``services`` calls when an
accepted proposal is withdrawn) can raise it too without an import cycle.
"""

from __future__ import annotations

from pb.errors import DomainError


class ProposalError(DomainError):
    """A refused action; ``message`` says why in the reader's language."""

    status = 409
