"""The bundled ``amc-sandbox``: a local AMC + Login-with-Amazon server for a
quick start and for tests, without a checkout of libamc.

The wheel carries the program in ``libamc/bin/amc-sandbox`` (built like
libamc.so.1: it needs only glibc). ``main`` is the ``amc-sandbox`` console
script: it runs that program with the same arguments and exit status (see
docs/sandbox.md for them), except that ``--config NAME`` may name a
configuration the package carries (``sandbox_configs/NAME.json``, e.g.
``two-instances``: two AMC instances of one account, for trying a fan-out).
``AMC_SANDBOX`` names another program to run.
``Sandbox.start`` runs one for a script or a test and gives its addresses,
its test CA and its admin API.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROGRAM = "amc-sandbox"
# Configurations (``--config`` documents) the package carries, by name.
CONFIGS = Path(__file__).resolve().parent / "sandbox_configs"


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


class Sandbox:
    """A running amc-sandbox (HTTPS with its own test CA, on 127.0.0.1) and
    its admin API. ``summary`` is its ``sandbox.json``: ``url``,
    ``token_url``, ``consent_url``, ``client_id``, ``ca_file``, ...; the
    client secret is in ``directory / "client_secret"``."""

    def __init__(self, directory: Path, process: subprocess.Popen[bytes]) -> None:
        self.directory = directory
        self.process = process
        self.summary: dict[str, Any] = json.loads((directory / "sandbox.json").read_text())
        self.url: str = self.summary["url"]
        self.context = ssl.create_default_context(cafile=self.summary["ca_file"])

    @classmethod
    def start(
        cls,
        directory: Path,
        *,
        config: dict[str, Any] | None = None,
        time_scale: int = 600,
        startup_timeout_s: float = 30.0,
    ) -> Sandbox:
        """Starts amc-sandbox with its state (keys, test CA, log) in
        ``directory`` (made private, mode 0700); ``config`` is its
        ``--config`` document (accounts, instances; docs/sandbox.md);
        ``time_scale``: AMC seconds per real second. Raises RuntimeError
        with the sandbox's log when it does not come up in time."""
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        arguments = [str(path()), "--tls", "--state-dir", str(directory), "--time-scale", str(time_scale)]
        if config is not None:
            (directory / "config.json").write_text(json.dumps(config))
            arguments += ["--config", str(directory / "config.json")]
        with open(directory / "sandbox.log", "wb") as log:
            process = subprocess.Popen(arguments, stdout=log, stderr=log)
        summary = directory / "sandbox.json"
        deadline = time.monotonic() + startup_timeout_s
        while not (summary.exists() and json.loads(summary.read_text() or "{}").get("url")):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"amc-sandbox did not start:\n{(directory / 'sandbox.log').read_text()}")
            time.sleep(0.05)
        return cls(directory, process)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """One call of the admin API (``/_sandbox/<path>``); the decoded answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
            text = answer.read().decode()
        return json.loads(text) if text else None

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The requests the sandbox received (latest 1000), of one operation or all."""
        log = self.admin("GET", "requests?limit=1000")
        entries: list[dict[str, Any]] = log["requests"] if isinstance(log, dict) else log
        return [entry for entry in entries if operation is None or entry.get("operation") == operation]

    def new_grant(self) -> str:
        """A new Login-with-Amazon grant for the sandbox's client: its refresh token."""
        grant = self.admin(
            "POST",
            "grants",
            {"client_id": self.summary["client_id"], "scope": "advertising::campaign_management"},
        )
        return str(grant["refresh_token"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def bundled_config(name: str) -> Path:
    """The path of a configuration the package carries (``two-instances``);
    FileNotFoundError listing the names there are."""
    found = CONFIGS / f"{name}.json"
    if "/" in name or not found.is_file():
        names = sorted(path.stem for path in CONFIGS.glob("*.json"))
        raise FileNotFoundError(
            f"no sandbox configuration {name!r} in the libamc package; it carries: {', '.join(names)}"
        )
    return found


def _bundled_configs(arguments: list[str]) -> list[str]:
    """``--config NAME`` (or ``--config=NAME``) where NAME is no file but a
    configuration the package carries: its path instead. A file of that
    name wins, so a config file of one's own is never shadowed."""
    out = list(arguments)
    for index, argument in enumerate(out):
        if argument == "--config" and index + 1 < len(out):
            position, value, prefix = index + 1, out[index + 1], ""
        elif argument.startswith("--config="):
            position, value, prefix = index, argument.split("=", 1)[1], "--config="
        else:
            continue
        if value and not Path(value).exists() and (CONFIGS / f"{value}.json").is_file():
            out[position] = prefix + str(bundled_config(value))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Runs amc-sandbox in place of this process with ``argv`` (default:
    this process's arguments); returns 1 with a message when it is missing."""
    arguments = _bundled_configs(list(sys.argv[1:] if argv is None else argv))
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
