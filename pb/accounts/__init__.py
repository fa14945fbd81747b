"""Accounts: registration, log-in, roles (participant, official, admin) and passwords."""
