"""How the kubelet turns a container spec into argv (ExpandContainerCommandAndArgs,
third_party/forked/golang/expansion), beyond what the parse oracle covers."""

from __future__ import annotations

import pytest

from kubepci.analysis import cmdline

U = cmdline.UNRESOLVED


@pytest.mark.parametrize(
    ("text", "mapping", "expanded"),
    [
        ("--x=$(A)", {"A": "1"}, "--x=1"),
        ("--x=$(A)$(B)", {"A": "1", "B": "2"}, "--x=12"),
        ("--x=$$(A)", {"A": "1"}, "--x=$(A)"),  # escaped operator
        ("--x=$$", {}, "--x=$"),
        ("--x=$(A", {"A": "1"}, "--x=$(A"),  # incomplete reference kept
        ("--x=$A", {"A": "1"}, "--x=$A"),  # not a reference
        ("--x=$", {}, "--x=$"),
        ("--x=$(A)", {"A": None}, f"--x={U}A{U}"),  # known to exist, value unseen
        ("--x=$(MISSING)", {}, f"--x={U}MISSING{U}"),
        ("--x=$()", {}, "--x=$()"),
    ],
)
def test_expand(text: str, mapping: dict[str, str | None], expanded: str) -> None:
    assert cmdline.expand(text, mapping) == expanded


def test_environment_expands_in_order() -> None:
    container = {
        "env": [
            {"name": "A", "value": "x"},
            {"name": "B", "value": "$(A)-y"},
            {"name": "C", "value": "$(D)"},  # D comes later: not yet defined
            {"name": "D", "value": "z"},
            {"name": "E", "valueFrom": {"fieldRef": {}}},
            {"name": "F", "secretKeyRef": {"name": "s", "key": "k"}},  # as trim keeps it
            {"name": "G"},  # no value: empty
        ]
    }
    env = cmdline.container_environment(container)
    assert env == {"A": "x", "B": "x-y", "C": f"{U}D{U}", "D": "z", "E": None, "F": None, "G": ""}


def test_argv_is_command_then_args() -> None:
    argv, notes = cmdline.kubelet_argv(
        {
            "command": ["etcd", "--name=$(N)"],
            "args": ["--data-dir=/d"],
            "env": [{"name": "N", "value": "a"}],
        }
    )
    assert argv == ["etcd", "--name=a", "--data-dir=/d"]
    assert notes == []


def test_argv_without_command_is_unknown() -> None:
    argv, notes = cmdline.kubelet_argv({"args": ["--anonymous-auth=false"]})
    assert argv is None
    assert "entrypoint" in notes[0]


def test_unresolved_references_are_noted() -> None:
    argv, notes = cmdline.kubelet_argv(
        {"command": ["kube-apiserver", "--x=$(A)", "$(B)"], "envFrom": [{"configMapRef": {}}]}
    )
    assert argv is not None
    assert cmdline.unresolved_names(argv[1]) == ["A"]
    assert "$(A), $(B) not resolved" in notes[0]
    assert "envFrom" in notes[1]
