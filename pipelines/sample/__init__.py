"""Sample data: a seed of public Kolada reference facts, a deterministic generator of
synthetic values with day-by-day changes, and a local Kolada-v3-compatible HTTP server, so
that the whole platform can be run and tested without the live API."""
