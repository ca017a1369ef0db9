"""Web tests use the ``web`` and ``login`` fixtures of tests/conftest.py."""
