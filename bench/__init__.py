"""Scale benchmark: the suite against a synthetic estate on the local real cluster.

``make bench`` (``python -m bench``) populates ``kubepci-bench-*`` namespaces at each
size, measures the floor (one paginated list per resource) and the whole suite side by
side, writes ``bench/RESULTS.md`` and removes everything it created.
"""
