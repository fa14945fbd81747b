"""Voting with one-time codes: codes (``codes``), the schema (``models``), issuing, casting,
mixing, receipts and paper ballots (``services``), the ballot pages (``routes``) and the
``pb codes`` command (``cli``). See ``docs/voting.md`` for the design and what it protects
against."""
