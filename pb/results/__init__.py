"""Results: count the ballots by the frozen rules, publish a snapshot that explains itself,
let anyone recount it (see ``docs/results.md``)."""
