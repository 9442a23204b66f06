"""Cluster access: kubeconfig targets, the read-once snapshot and live probes."""
