"""The bundled ``amc-sandbox``: a local AMC + Login-with-Amazon server for a
quick start and for tests, without a checkout of libamc.

The wheel carries the program in ``libamc/bin/amc-sandbox`` (built like
libamc.so.1: it needs only glibc). ``main`` is the ``amc-sandbox`` console
script: it runs that program with the same arguments and exit status (see
docs/sandbox.md for them). ``AMC_SANDBOX`` names another program to run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

PROGRAM = "amc-sandbox"


def path() -> Path:
    """The amc-sandbox program: ``AMC_SANDBOX`` when set, else the one the
    wheel carries. Raises FileNotFoundError naming what was looked for."""
    explicit = os.environ.get("AMC_SANDBOX")
    program = Path(explicit) if explicit else Path(__file__).resolve().parent / "bin" / PROGRAM
    if not program.is_file():
        origin = "AMC_SANDBOX" if explicit else "the libamc package"
        raise FileNotFoundError(
            f"{program} ({origin}) does not exist: install the libamc wheel, which carries amc-sandbox, "
            "or set AMC_SANDBOX to the path of an amc-sandbox program"
        )
    return program


def main(argv: Sequence[str] | None = None) -> int:
    """Runs amc-sandbox in place of this process with ``argv`` (default:
    this process's arguments); returns 1 with a message when it is missing."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        program = path()
    except FileNotFoundError as problem:
        print(f"amc-sandbox: {problem}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(program, [str(program), *arguments])


if __name__ == "__main__":
    sys.exit(main())
