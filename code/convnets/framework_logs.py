"""The framework kept quiet: its native log lines go to a file, and an unexpected error is one line.

TensorFlow writes start-up lines straight to the process's stderr from C++ (through absl, before its
logging is set up), whatever TF_CPP_MIN_LOG_LEVEL says. `framework_logs` sends that native stream to a
log file, keeps Python's own stderr on the terminal for the scripts' messages, and turns an unexpected
exception into one line that says where its full trace is.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from convnets.cli import fail


@contextmanager
def framework_logs(log_file: Path, verbose: bool) -> Iterator[None]:
    """Run the body with the process's native stderr going to `log_file` (unless `verbose`).

    Python's `sys.stderr` stays on the terminal, so `fail` and warnings still show. An exception other
    than SystemExit or KeyboardInterrupt is written whole to the log and reported in one line (exit 1);
    with `verbose` it propagates with its traceback instead.
    """
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    python_stderr = sys.stderr
    log_file.write_text("")
    with open(log_file, "a") as log:  # appending: the native writes through fd 2 share this file
        os.dup2(log.fileno(), 2)
        sys.stderr = io.TextIOWrapper(io.FileIO(terminal_fd, "w", closefd=False), line_buffering=True)
        try:
            yield
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:
            log.flush()
            log.write(f"\n{traceback.format_exc()}")
            first = str(error).strip().splitlines()
            fail(f"unexpected {type(error).__name__}{': ' + first[0] if first else ''}; the full trace is in "
                 f"{log_file} (or run again with --verbose)", code=1)
        finally:
            sys.stderr.flush()
            sys.stderr = python_stderr
            os.dup2(terminal_fd, 2)
            os.close(terminal_fd)
