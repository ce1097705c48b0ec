"""Test support, shared by every test folder: the timeline, builders, service helpers and fixtures.

Modules here hold no tests. Fixtures live in ``tests/support/fixtures/`` and reach every test through
``pytest_plugins`` in ``tests/conftest.py``; helpers are imported from here, never from a conftest.
"""
