"""Processes: the upfront contract (purpose, influence, budget, phases, eligibility, ballot
and counting rules), its rule objects, and the admin screens that create and edit it."""
