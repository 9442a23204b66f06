"""How a client certificate's requested subject reads in a PCI 1.3.2 finding.

Found by ``make mutation`` (tests/mutation/): a subject with several organisations, or
none, was never shown.
"""

from __future__ import annotations

from kubepci.analysis.certificates import RequestedIdentity, _subject


def test_organisations_are_listed_comma_separated() -> None:
    jane = RequestedIdentity("jane", ("payments-admins", "ops"))
    assert _subject(jane) == "CN=jane O=payments-admins,ops"


def test_no_organisation_reads_as_a_dash() -> None:
    assert _subject(RequestedIdentity("jane", ())) == "CN=jane O=-"
