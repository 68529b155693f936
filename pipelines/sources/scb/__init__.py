"""SCB, Statistics Sweden: population by age from PxWeb API v2 (json-stat2)."""
