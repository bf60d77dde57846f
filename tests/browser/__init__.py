"""Helpers for the browser tests: a local server for the built site, and headless Chromium driving it."""
