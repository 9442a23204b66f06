"""Self-test infrastructure: real single-node Kubernetes clusters on this host, without Docker.

`harness.cluster_up.up(config)` turns a kind config into a kubeadm cluster whose node is
this machine; `harness.cluster_down.down()` removes it again. See harness/README.md.
"""
