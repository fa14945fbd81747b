"""Moderation and review, done by a process's officials in the open.

Anyone logged in reports content; enough reports hide it until an official looks. Officials
hide and restore with a reason the author sees, and review proposals: feasibility, an
official cost, a public answer, then accept onto the ballot, reject or merge. Every action
is in the append-only audit log.
"""
