"""Sample data: a seed of public Kolada reference facts, a deterministic generator of
synthetic values with day-by-day changes, and local Kolada-v3- and SCB-compatible HTTP
servers, so that the whole platform can be run and tested without the live API. What does not
belong here: any parsing or ingesting: the sample goes through the same clients and parsers
(sources/) as live data."""
