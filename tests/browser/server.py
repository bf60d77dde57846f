"""Serve the built site on 127.0.0.1 at a free port, under the path it is published at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files under a path prefix ("/convnets/"), as GitHub Pages serves a project site."""

    prefix = "/"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".woff": "font/woff", ".woff2": "font/woff2", ".ipynb": "application/x-ipynb+json"}

    def translate_path(self, path: str) -> str:
        """Map a URL under the prefix to the site's files; anything else maps to no file."""
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_published_path__")
        return super().translate_path("/" + path[len(self.prefix) :])

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the tests record every request themselves."""


@contextmanager
def serve(site: Path, prefix: str) -> Iterator[str]:
    """Serve `site` until the block ends; yields the site's base URL, e.g. http://127.0.0.1:41234/convnets/."""
    handler = type("Handler", (SiteHandler,), {"prefix": prefix})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
