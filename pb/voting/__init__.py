"""Voting with one-time codes: codes, issuing (letters and cards), the ballot, casting."""
