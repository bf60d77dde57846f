"""Executable docs pages: the pytest plugin (plugin.py), output comparison (compare.py), prose numbers (prose.py)."""
