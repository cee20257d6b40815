"""The ctypes binding (libamc.binding): loading, ABI check, typed
exceptions with the library's message, strings freed, callbacks, the
context-managed client, a fresh client after fork; and that it imports
without Airflow."""

from __future__ import annotations

import ctypes
import json
import os
import pathlib
import re
import subprocess
import sys
import threading

import pytest
from conftest import ADVERTISER, INSTANCES, MARKETPLACE, REPO, Sandbox, client_config, fernet_key

from libamc import binding
from libamc.exceptions import (
    STATUS_EXCEPTIONS,
    AmcAuthRequired,
    AmcError,
    AmcExecutionFailed,
    AmcForbidden,
    AmcInvalidArgument,
    AmcLibraryError,
    AmcNotFound,
    AmcThrottled,
    Status,
)


def config(sandbox: Sandbox, store: pathlib.Path) -> dict[str, object]:
    return {**client_config(sandbox, store), "retry": {"max_attempts": 2, "base_delay_ms": 50, "max_total_ms": 2000}}


INSTANCE = {"instance_id": INSTANCES[0], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


@pytest.fixture
def client(sandbox: Sandbox, tmp_path: pathlib.Path) -> binding.Client:
    with binding.Client(config(sandbox, tmp_path / "store.json")) as native:
        native.auth_import("c", sandbox.new_grant())
        yield native


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_imports_without_airflow() -> None:
    # A meta path hook refuses every airflow module: the binding must not need one.
    code = (
        "import sys\n"
        "class NoAirflow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'airflow' or name.startswith('airflow.'):\n"
        "            raise ImportError('airflow is not here')\n"
        "sys.meta_path.insert(0, NoAirflow())\n"
        "from libamc import binding\n"
        "print(binding.version())\n"
    )
    completed = run_python(code)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().startswith(f"{binding.ABI_MAJOR}.")


def test_the_wheel_carries_the_library() -> None:
    packaged = pathlib.Path(binding.__file__).parent / binding.SONAME
    assert packaged.is_file() and not packaged.is_symlink()
    completed = run_python("from libamc import binding; binding.library(); print('ok')", AMC_LIBRARY="")
    assert completed.stdout.strip() == "ok", completed.stderr


def test_the_wheel_library_needs_only_glibc() -> None:
    # The manylinux promise: libstdc++, OpenSSL and {fmt} are linked
    # in, so Amazon Linux 2023 or RHEL 9 load it as they are.
    packaged = pathlib.Path(binding.__file__).parent / binding.SONAME
    headers = subprocess.run(
        ["objdump", "-p", str(packaged)], capture_output=True, check=True, text=True
    ).stdout
    needed = set(re.findall(r"^\s*NEEDED\s+(\S+)$", headers, re.MULTILINE))
    # glibc's libraries, and libgcc_s (every manylinux policy has it).
    glibc = {
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "ld-linux-x86-64.so.2",
        "libgcc_s.so.1",
    }
    assert needed and needed <= glibc, needed - glibc


def test_a_wrong_library_lists_every_path_tried(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "nowhere" / "libamc.so.1"
    completed = run_python("from libamc import binding; binding.library()", AMC_LIBRARY=str(missing))
    assert completed.returncode != 0
    assert "AmcLibraryError" in completed.stderr and str(missing) in completed.stderr
    assert "AMC_LIBRARY" in completed.stderr


def test_another_library_is_refused(tmp_path: pathlib.Path) -> None:
    # libc exists but is not libamc: refused, naming what it lacks.
    libc = ctypes.util.find_library("c") or "libc.so.6"
    completed = run_python("from libamc import binding; binding.library()", AMC_LIBRARY=libc)
    assert completed.returncode != 0 and "lacks amc_" in completed.stderr


def test_abi_major_is_checked() -> None:
    library = binding.library()
    assert library.amc_version_number() // 10000 == binding.ABI_MAJOR
    assert AmcLibraryError.__mro__[1] is AmcError


def test_every_function_is_declared() -> None:
    library = binding.library()
    for name, (restype, argtypes) in binding._FUNCTIONS.items():
        function = getattr(library, name)
        assert function.restype is restype and function.argtypes == argtypes, name


def amc_h() -> str:
    return (REPO / "include" / "amc" / "amc.h").read_text()


def header_statuses() -> dict[str, int]:
    """amc.h's enum amc_status, name -> code: the one list of statuses."""
    found = re.search(r"typedef enum amc_status \{(.*?)\} amc_status;", amc_h(), re.DOTALL)
    assert found, "amc.h has no enum amc_status"
    body = re.sub(r"/\*.*?\*/", "", found.group(1), flags=re.DOTALL)
    return {name: int(code) for name, code in re.findall(r"\b(AMC_\w+)\s*=\s*(\d+)", body)}


def test_every_function_of_amc_h_is_declared_once() -> None:
    """One ctypes table for the whole header (client, poller, host store)."""
    functions = re.findall(r"^AMC_API\b[^(]*?\b(amc_\w+)\s*\(", amc_h(), re.MULTILINE)
    assert functions and list(binding._FUNCTIONS) == functions


# amc.h's C types -> the ctypes type the binding must declare for them.
_HANDLE_TYPES = ("amc_store", "amc_client", "amc_cancel_token", "amc_poller")


def ctypes_of(c_type: str) -> object:
    c_type = " ".join(c_type.replace("*", " * ").split())
    simple: dict[str, object] = {
        "void": None,
        "int": ctypes.c_int,
        "amc_status": ctypes.c_int,
        "uint64_t": ctypes.c_uint64,
        "uint64_t *": ctypes.POINTER(ctypes.c_uint64),
        "const char *": ctypes.c_char_p,
        "char * *": ctypes.POINTER(ctypes.c_void_p),
        "void *": ctypes.c_void_p,
        "amc_log_callback": binding.LOG_CALLBACK,
        "amc_progress_callback": binding.PROGRESS_CALLBACK,
        "const amc_store_callbacks *": ctypes.POINTER(binding.StoreCallbacks),
        "const amc_watch_options *": ctypes.POINTER(binding.WatchOptions),
    }
    for handle in _HANDLE_TYPES:
        simple[f"{handle} *"] = ctypes.c_void_p
        simple[f"{handle} * *"] = ctypes.POINTER(ctypes.c_void_p)
    assert c_type in simple, f"no ctypes mapping for the C type {c_type!r}: extend ctypes_of"
    return simple[c_type]


def header_prototypes() -> dict[str, tuple[str, list[str]]]:
    """amc.h's functions: name -> (return type, parameter types)."""
    text = re.sub(r"/\*.*?\*/", "", amc_h(), flags=re.DOTALL)
    found: dict[str, tuple[str, list[str]]] = {}
    for returned, name, parameters in re.findall(r"^AMC_API\s+([^(]*?)\s*\b(amc_\w+)\s*\(([^)]*)\)", text, re.M):
        types = []
        for parameter in " ".join(parameters.split()).split(","):
            parameter = parameter.strip()
            if parameter in ("void", ""):
                continue
            # Drop the parameter's name: the last identifier.
            types.append(re.sub(r"\s*\b\w+$", "", parameter))
        found[name] = (returned.strip(), types)
    return found


def test_every_declaration_has_amc_hs_types() -> None:
    """Return and argument types of every ctypes declaration, one by one,
    against the prototypes of amc.h: a changed prototype fails here."""
    prototypes = header_prototypes()
    assert list(prototypes) == list(binding._FUNCTIONS)
    for name, (returned, parameters) in prototypes.items():
        restype, argtypes = binding._FUNCTIONS[name]
        assert restype is ctypes_of(returned), f"{name} returns {returned}"
        assert len(argtypes) == len(parameters), f"{name} takes {parameters}"
        for position, (declared, c_type) in enumerate(zip(argtypes, parameters, strict=True)):
            assert declared is ctypes_of(c_type), f"{name} argument {position + 1} is {c_type}"


def test_structures_have_amc_hs_members() -> None:
    text = amc_h()
    for struct, mirror in (("amc_store_callbacks", binding.StoreCallbacks), ("amc_watch_options", binding.WatchOptions)):
        body = re.search(r"typedef struct " + struct + r" \{(.*?)\} " + struct + ";", text, re.DOTALL)
        assert body, struct
        members = re.findall(r"(\w+)\s*(?:\)\s*\([^)]*\))?;", re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.DOTALL))
        assert [field[0] for field in mirror._fields_] == members, struct


def test_statuses_agree_with_amc_h() -> None:
    """amc.h's enum is the source: the library's names, the Python enum and
    the typed exceptions follow it code for code."""
    statuses = header_statuses()
    assert list(statuses.values()) == list(range(len(statuses))), statuses
    assert {status.name: status.value for status in Status} == statuses
    for name, code in statuses.items():
        assert binding.status_name(code) == name
        if code != 0:
            assert STATUS_EXCEPTIONS[code].status == code, name
    assert binding.status_name(len(statuses)) == "AMC_E_UNKNOWN"
    assert set(STATUS_EXCEPTIONS) == set(statuses.values()) - {0}


def test_workflow_id_from_name_and_invalid_argument() -> None:
    assert binding.workflow_id_from_name("daily_sales") == "wf_daily_sales"
    derived = binding.workflow_id_from_name("Daily Sales (EU)")
    assert derived.startswith("wf_daily_sales_eu_")
    with pytest.raises(AmcInvalidArgument) as problem:
        binding.workflow_id_from_name("")
    assert problem.value.status == 1 and problem.value.status_name == "AMC_E_INVALID_ARGUMENT"
    assert problem.value.message


def test_typed_errors_carry_the_library_message_and_detail(client: binding.Client) -> None:
    with pytest.raises(AmcInvalidArgument) as problem:
        client.workflow_list({"credential_id": "c", "instance": INSTANCE, "no_such_field": 1})
    assert "no_such_field" in str(problem.value)
    with pytest.raises(AmcNotFound):
        client.execution_get({"credential_id": "c", "instance": INSTANCE, "amc_execution_id": "nope"})
    with pytest.raises(AmcForbidden) as forbidden:
        client.workflow_list(
            {"credential_id": "c", "instance": {**INSTANCE, "advertiser_id": "ENTITYNOTOURS"}}
        )
    assert forbidden.value.detail.get("status") == "AMC_E_FORBIDDEN"


def test_revoked_grant_is_auth_required(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    with binding.client(config(sandbox, tmp_path / "store.json")) as native:
        token = sandbox.new_grant()
        native.auth_import("revoked", token)
        sandbox.admin("POST", "grants/revoke", {"refresh_token": token})
        with pytest.raises(AmcAuthRequired) as problem:
            native.auth_refresh("revoked")
        assert "revoked" in str(problem.value)
        assert "Atzr|" not in str(problem.value) and token not in json.dumps(problem.value.detail)


def test_throttled_beyond_the_retry_policy(sandbox: Sandbox, client: binding.Client) -> None:
    sandbox.admin(
        "POST", "faults", {"kind": "rate_limit", "operation": "listWorkflows", "count": -1, "retry_after": 0}
    )
    try:
        with pytest.raises(AmcThrottled) as problem:
            client.workflow_list({"credential_id": "c", "instance": INSTANCE})
        assert problem.value.status == 7
    finally:
        sandbox.admin("DELETE", "faults")


def test_submit_wait_progress_download(client: binding.Client, tmp_path: pathlib.Path) -> None:
    request = {
        "credential_id": "c",
        "instance": INSTANCE,
        "execution_id": "binding_run_1",
        "request": {"workflow": {"sqlQuery": "-- sandbox: duration=1m parts=2 rows=10\nSELECT 1"}},
    }
    submitted = client.execution_submit(request)
    assert client.execution_submit(request)["reattached"] is True
    events: list[dict[str, object]] = []
    threads: set[int] = set()

    def on_event(event: dict[str, object]) -> None:
        events.append(event)
        threads.add(threading.get_ident())

    with binding.CancelToken() as token:
        done = client.execution_wait(
            {
                "credential_id": "c",
                "instance": INSTANCE,
                "execution_id": "binding_run_1",
                "first_poll_ms": 100,
                "max_poll_ms": 200,
            },
            cancel=token,
            progress=on_event,
        )
    assert done["status"] == "SUCCEEDED" and done["workflowExecutionId"] == submitted["amc_execution_id"]
    assert any(event.get("event") == "status" for event in events)
    manifest = client.results_download(
        {
            "credential_id": "c",
            "instance": INSTANCE,
            "execution_id": "binding_run_1",
            "directory": str(tmp_path / "out"),
        },
        progress=on_event,
    )
    assert manifest["total_rows"] == 10 and len(manifest["files"]) == 2
    assert all(pathlib.Path(part["path"]).is_file() for part in manifest["files"])


def submit_adhoc(client: binding.Client, execution_id: str, sql: str) -> dict[str, object]:
    """Submits `sql` ad hoc under `execution_id`; returns the wait request."""
    client.execution_submit(
        {
            "credential_id": "c",
            "instance": INSTANCE,
            "execution_id": execution_id,
            "request": {"workflow": {"sqlQuery": sql}},
        }
    )
    return {
        "credential_id": "c",
        "instance": INSTANCE,
        "execution_id": execution_id,
        "first_poll_ms": 100,
        "max_poll_ms": 100,
    }


def test_failed_execution_carries_amc_reason(client: binding.Client) -> None:
    wait = submit_adhoc(
        client, "binding_failed", '-- sandbox: duration=1m fail "Table x_missing does not exist"\nSELECT 1'
    )
    with pytest.raises(AmcExecutionFailed) as problem:
        client.execution_wait(wait)
    assert "Table x_missing does not exist" in str(problem.value)
    assert problem.value.execution.get("status") == "FAILED"


def test_a_wait_is_cancelled_from_another_thread(client: binding.Client) -> None:
    wait = submit_adhoc(client, "binding_cancel", "-- sandbox: duration=10h\nSELECT 1")
    with binding.CancelToken() as token:
        timer = threading.Timer(0.3, token.cancel)
        timer.start()
        with pytest.raises(AmcError) as problem:
            client.execution_wait(wait, cancel=token)
        timer.join()
    assert problem.value.status_name == "AMC_E_CANCELLED"
    client.execution_cancel({"credential_id": "c", "instance": INSTANCE, "execution_id": "binding_cancel"})


def test_an_exception_in_a_callback_comes_back_to_the_caller(client: binding.Client) -> None:
    wait = submit_adhoc(client, "binding_callback", "-- sandbox: duration=1m\nSELECT 1")

    def broken(_event: dict[str, object]) -> None:
        raise RuntimeError("callback broke")

    with pytest.raises(RuntimeError, match="callback broke"):
        client.execution_wait(wait, progress=broken)


def test_log_callback_is_kept_alive_and_masks_secrets(client: binding.Client, sandbox: Sandbox) -> None:
    lines: list[str] = []
    client.set_log(lambda level, line: lines.append(line), 10)
    import gc

    gc.collect()  # the callback must survive: the client holds it
    client.auth_refresh("c")
    client.workflow_list({"credential_id": "c", "instance": INSTANCE})
    assert lines
    assert not any("Atza|" in line or "Atzr|" in line for line in lines)
    client.set_log(None)


def test_closed_client_is_refused(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    native = binding.Client(config(sandbox, tmp_path / "store.json"))
    native.close()
    native.close()
    with pytest.raises(AmcError, match="closed"):
        native.metrics()


def test_a_forked_child_gets_a_fresh_client(client: binding.Client) -> None:
    client.auth_refresh("c")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            listing = client.workflow_list({"credential_id": "c", "instance": INSTANCE})
            os.write(writer, json.dumps({"ok": "workflows" in listing}).encode())
        except BaseException as problem:
            os.write(writer, json.dumps({"error": str(problem)}).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        answer = json.loads(pipe.read() or "{}")
    os.waitpid(pid, 0)
    assert answer == {"ok": True}
    # The parent's client still works.
    assert "workflows" in client.workflow_list({"credential_id": "c", "instance": INSTANCE})


def test_strings_that_would_change_meaning_are_refused_before_the_library(tmp_path: pathlib.Path) -> None:
    """Issue 23 kind 5: ctypes passes a str as a C string, so a NUL ended it
    early (deleting credential "c2\\0zz" deleted "c2"). Every string crossing
    the binding goes through binding.c_text: NUL, a lone surrogate (no UTF-8
    form) or more than MAX_TEXT_BYTES is a ValueError, and nothing reaches
    the library.

    searched: every str the binding hands to ctypes: credential ids
    (get_credential, delete_credential, auth_refresh, auth_status), the
    workflow name of workflow_id_from_name, request and config JSON
    (_encode: json.dumps escapes NUL and surrogates, a str request does not),
    and the host store document shared_tokens.py puts back in its read
    callback. amcctl's arguments are wt04's (issue 22) and not covered here.
    """
    with binding.Store({"path": str(tmp_path / "store.json"), "fernet_keys": fernet_key()}) as store:
        for credential_id in ("c2", "c2zz"):
            store.put_credential(
                {"credential_id": credential_id, "client_id": "amzn1.app", "refresh_token": "Atzr|x"}
            )
        with pytest.raises(ValueError, match="NUL character at index 2"):
            store.delete_credential("c2\0zz")
        with pytest.raises(ValueError, match="lone surrogate"):
            store.get_credential("c2\udc80")
        with pytest.raises(ValueError, match="more than"):
            store.put_credential({"credential_id": "c3", "refresh_token": "x" * binding.MAX_TEXT_BYTES})
        with pytest.raises(ValueError, match="NUL character"):
            store.put_credential('{"credential_id": "c4\0", "refresh_token": "Atzr|x"}')  # type: ignore[arg-type]
        assert sorted(c["credential_id"] for c in store.list_credentials()) == ["c2", "c2zz"]
    with pytest.raises(ValueError, match="the workflow name contains a NUL"):
        binding.workflow_id_from_name("sales\0report")
    with pytest.raises(TypeError):
        binding.c_text(b"bytes", "the credential id")  # type: ignore[arg-type]
