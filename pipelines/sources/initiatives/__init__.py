"""Improvement initiatives registered by analysts in landing/initiatives/ (CSV/XLSX): the
reader (with the assessments' table, header and cell rules), the records and the stream. What
does not belong here: whether an initiative worked (the follow-up mart in dbt_project/)."""
