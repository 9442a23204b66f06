"""Evidence records: the typed shapes access writes, analysis judges and a replay reads.

Neutral ground: this package imports nothing else of kubepci, so ``access`` and
``analysis`` both depend on it and never on each other in both directions.
"""
