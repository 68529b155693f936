"""`make bench`: the platform measured against the physical limit and a peer (issue 13).

workload.py generates a deterministic Kolada-v3 world and renders it once to page files;
server.py serves those files; limit.py is the limit (DuckDB read_json -> Parquet); sampler.py
measures a process tree; run.py runs the steps through the real CLI; peer.py is dlt.
"""
