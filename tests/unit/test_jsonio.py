"""The snapshot store's JSON is the standard library's compact, sorted form, whoever writes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubepci import jsonio

scalars = st.text() | st.integers(-(2**63), 2**63 - 1) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(documents)
def test_same_text_as_the_standard_library(document: Any) -> None:
    expected = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert jsonio.dumps(document) == expected
    assert jsonio.loads(expected) == document


def test_what_json_cannot_hold_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        jsonio.dumps({1: "an int key"}, sort_keys=False)
    with pytest.raises(ValueError):
        jsonio.loads(b'{"truncated": ')
