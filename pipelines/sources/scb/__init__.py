"""SCB, Statistics Sweden: population by age from PxWeb API v2 (json-stat2): the client (call
window, cell-limit split), the json-stat2 decoder, the records and the ingest into the event
log. What does not belong here: age bands per kommun as the marts use them (dbt models)."""
