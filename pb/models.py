"""Imports every model so that Base.metadata knows all tables (migrations, tests)."""

from pb.accounts.models import User
from pb.audit import AuditEvent
from pb.mail.models import MailOptOut, OutboxMessage
from pb.moderation.models import Report
from pb.processes.models import Area, Category, Phase, Process, ProcessOfficial
from pb.proposals.models import Comment, Follow, Project, Proposal, ProposalEvent, Support
from pb.results.models import (
    ImportedElection,
    ProjectFollow,
    ProjectProgress,
    ProjectUpdate,
    ResultFile,
    ResultSnapshot,
)
from pb.security import RateLimitHit
from pb.voting.models import (
    Ballot,
    CodeBatch,
    EmailClaim,
    HeldBallot,
    PaperEntry,
    VotingCode,
    VotingRecord,
)

__all__ = [
           "Area",
           "AuditEvent",
           "Ballot",
           "Category",
           "CodeBatch",
           "Comment",
           "EmailClaim",
           "Follow",
           "HeldBallot",
           "ImportedElection",
           "MailOptOut",
           "OutboxMessage",
           "PaperEntry",
           "Phase",
           "Process",
           "ProcessOfficial",
           "Project",
           "ProjectFollow",
           "ProjectProgress",
           "ProjectUpdate",
           "Proposal",
           "ProposalEvent",
           "RateLimitHit",
           "Report",
           "ResultFile",
           "ResultSnapshot",
           "Support",
           "User",
           "VotingCode",
           "VotingRecord",
]  # fmt: skip
