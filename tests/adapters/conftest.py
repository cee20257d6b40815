"""Shared fixtures for the adapters/c tests: the programs under test, a
runner that returns exit code, stdout and stderr, one amc-sandbox per test
module (`sandbox`) and the check that no secret was printed.

Environment (set by tests/adapters/CMakeLists.txt):
  AMCCTL            the amcctl executable
  AMC_HOST_EXAMPLE  the amc_host_example executable
  AMC_TEST_LIBRARY  libamc.so.1 (for ctypes set-up and the host example)
  AMC_SANDBOX       the amc-sandbox executable
  AMC_EXAMPLES_DIR  adapters/c/examples
"""

import base64
import ctypes
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _env_path(name, fallback):
    value = os.environ.get(name)
    return pathlib.Path(value) if value else fallback


AMCCTL = _env_path("AMCCTL", REPO / "build" / "cli" / "adapters" / "c" / "amcctl")
HOST_EXAMPLE = _env_path("AMC_HOST_EXAMPLE", REPO / "build" / "cli" / "adapters" / "c" / "amc_host_example")
LIBRARY = _env_path("AMC_TEST_LIBRARY", REPO / "build" / "cli" / "capi" / "libamc.so.1")
EXAMPLES = _env_path("AMC_EXAMPLES_DIR", REPO / "adapters" / "c" / "examples")


def fernet_key():
    """A fresh Fernet key, made at test time (never committed)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def store_put_credential(store_config, credential):
    """Puts one credential into a store through the library's C ABI
    (ctypes), as any host would."""
    library = ctypes.CDLL(str(LIBRARY))
    library.amc_store_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    library.amc_store_put_credential.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    library.amc_store_free.argtypes = [ctypes.c_void_p]
    library.amc_last_error.restype = ctypes.c_char_p
    store = ctypes.c_void_p()
    assert library.amc_store_new(json.dumps(store_config).encode(), ctypes.byref(store)) == 0, library.amc_last_error()
    assert library.amc_store_put_credential(store, json.dumps(credential).encode()) == 0, library.amc_last_error()
    library.amc_store_free(store)


def clean_env(**extra):
    """The environment without anything that would steer amcctl from outside
    the test."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AMC_LIBRARY", "AMC_CONFIG", "AMC_CREDENTIAL", "AMC_INSTANCE_ID", "AMC_ADVERTISER_ID",
                        "AMC_MARKETPLACE_ID", "AMC_FERNET_KEYS", "AMC_FERNET_KEY_FILE", "AMC_SANDBOX_DIR",
                        "AMCCTL_PROFILE")}
    # Never the user's own default config file (~/.config/amcctl).
    env["XDG_CONFIG_HOME"] = "/nonexistent/amcctl-test-config"
    # Under ASan a test whose Python loads libamc through ctypes runs with
    # ASan's runtime preloaded (tests/adapters/CMakeLists.txt). amcctl is
    # instrumented itself and needs none, and the programs it starts must
    # not get it: curl (the sandbox login) hangs with it preloaded.
    env.pop("LD_PRELOAD", None)
    env.update(extra)
    return env


class Result:
    def __init__(self, completed):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def run_amcctl(*args, env=None, stdin=None, timeout=120, program=None):
    completed = subprocess.run([str(program or AMCCTL), *map(str, args)], input=stdin, capture_output=True,
                               text=True, env=env if env is not None else clean_env(), timeout=timeout)
    return Result(completed)


@pytest.fixture
def amcctl():
    assert AMCCTL.exists(), f"{AMCCTL} is not built"
    return run_amcctl


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """One sandbox for the module, started by `amcctl sandbox start`; every
    call reuses it through --sandbox-dir, then `sandbox stop`."""
    directory = tmp_path_factory.mktemp("amcctl-sandbox")
    os.chmod(directory, 0o700)
    result = run_amcctl("--sandbox-dir", directory, "sandbox", "start")
    assert result.code == 0, result
    summary = json.loads((directory / "sandbox.json").read_text())
    assert summary["url"].startswith("https://127.0.0.1:")

    def amcctl(*args, **kwargs):
        return run_amcctl("--sandbox", "--sandbox-dir", directory, *args, **kwargs)

    amcctl.directory = directory
    amcctl.summary = summary
    yield amcctl
    run_amcctl("--sandbox-dir", directory, "sandbox", "stop")


def no_secrets(result, sandbox):
    secret = (sandbox.directory / "client_secret").read_text().strip()
    key = (sandbox.directory / "fernet.key").read_text().strip()
    text = result.out + result.err
    assert secret not in text and key not in text
    assert "Atzr|" not in text and "Atza|" not in text
