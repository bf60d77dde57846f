"""Helpers for the browser tests: their fixtures on top of pytest-playwright's, the local server, page readings and visits."""
