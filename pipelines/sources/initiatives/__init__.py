"""Improvement initiatives registered by analysts in landing/initiatives/ (CSV/XLSX)."""
