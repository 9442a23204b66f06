"""Mutation testing of the judging code: ``make mutation`` (see ``__main__``)."""
