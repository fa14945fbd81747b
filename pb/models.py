"""Imports every model so that Base.metadata knows all tables (migrations, tests)."""

from pb.accounts.models import User
from pb.audit import AuditEvent
from pb.mail.models import MailOptOut, OutboxMessage
from pb.processes.models import Area, Category, Phase, Process, ProcessOfficial
from pb.security import RateLimitHit

__all__ = ["Area", "AuditEvent", "Category", "MailOptOut", "OutboxMessage", "Phase", "Process", "ProcessOfficial",
           "RateLimitHit", "User"]  # fmt: skip
