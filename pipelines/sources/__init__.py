"""The platform's sources, one folder each: its client or file reader, its record parsing and
the declaration of its streams (`streams.py`), collected by `registry.py`."""
