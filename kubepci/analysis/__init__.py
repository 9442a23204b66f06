"""Pure analysis of snapshot data: RBAC privilege paths, flags, credentials, tokens.

Nothing in this package performs I/O; every function takes plain objects and returns
findings, so it is unit-tested with small builders.
"""
