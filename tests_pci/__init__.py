"""The shipped PCI Section 1 (Authentication) checks, one module per PCI item.

Run with ``pytest --pyargs tests_pci --kubeconfig PATH`` or the ``kubepci`` command.
"""
