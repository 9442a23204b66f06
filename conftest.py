"""Repository-root conftest.

kubepci's plugin is normally loaded through its ``pytest11`` entry point (``pip install
-e .``, which ``make venv`` does). In a bare checkout without installation it is loaded
from here instead, so ``pytest --kubeconfig PATH`` works from the repository either way.
Loading it twice would fail, hence the check.
"""

from importlib.metadata import entry_points

if not any(ep.value == "kubepci.plugin" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["kubepci.plugin"]
