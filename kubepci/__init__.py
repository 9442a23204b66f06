"""kubepci: audit a live Kubernetes cluster against the PCI SSC Guidance for Containers
and Container Orchestration Tools, Section 1 (Authentication), as a pytest suite."""

from kubepci.catalogue import check

__version__ = "0.1.0"

__all__ = ["__version__", "check"]
