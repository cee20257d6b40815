"""Crash loops (issue 23, Deliver point 3): a process doing libamc work is
killed with SIGKILL at a random moment, again and again, and what it left
behind is checked each time.

    python3 tests/tools/crash_loops.py [--iterations 200] [--loops store,rotation,download] [--seed N]

Three loops, --iterations kills each:
  store     a child puts credentials one after another (a new id each
            time) and says which puts returned; killed 0-50 ms after its
            first put returned. Then
            the store opens, and every credential whose put returned is
            there with its refresh token (readable), or set aside
            (state "quarantined" or "damaged", kept, never deleted): never
            lost.
  rotation  a store of 25 credentials under two keys A and B; a child
            rotates it again and again, alternately to A first and to B
            first (every rotation re-encrypts every record); killed 0-50 ms
            after its first rotation. Then every credential reads back with its refresh token
            under "A,B": none lost, none left unreadable.
  download  a SUCCEEDED execution with 5 result parts (about 2 MB); a
            child downloads its results into a fresh folder and is killed
            at a random moment of the download (0 to 1.2 times how long a
            whole one took). Then every file named as a finished part
            (part-N.csv) holds exactly that part's bytes (a part still
            being written is part-N.csv.partial); and a new download into
            the same folder returns a manifest whose every file is the
            whole part, as AMC's result holds it.
Prints one summary line per loop (kills, how many landed mid-work, what
was checked) and exits 1 on the first record lost or partial file taken
for complete, naming it. ctest runs a short version (20 each).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import libamc_session as session
from libamc_session import libamc

HERE = pathlib.Path(__file__).resolve()
CLIENT_ID = "amzn1.application-oa2-client.crashloop"


def secret_of(credential_id: str) -> str:
    return f"Atzr|crash-loop-{credential_id}-" + "r" * 64


# -- children: run by this script with --child, killed by the parent --------
def child(mode: str, arguments: list[str]) -> None:
    if mode == "store":
        path, keys, first = arguments[0], arguments[1], int(arguments[2])
        with libamc.Store({"path": path, "fernet_keys": keys}) as store:
            print("ready", flush=True)
            for index in range(first, first + 1_000_000):
                credential_id = f"rec-{index}"
                store.put_credential(
                    {"credential_id": credential_id, "client_id": CLIENT_ID, "refresh_token": secret_of(credential_id)}
                )
                print(f"acked {credential_id}", flush=True)
    elif mode == "rotation":
        path, first_keys, second_keys = arguments
        with libamc.Store({"path": path, "fernet_keys": first_keys}) as one, libamc.Store(
            {"path": path, "fernet_keys": second_keys}
        ) as other:
            print("ready", flush=True)
            for _round in range(1_000_000):
                for store in (one, other):
                    report = store.rotate_keys()
                    print(f"rotated {report.get('rotated')}", flush=True)
    elif mode == "download":
        config, request = json.loads(arguments[0]), json.loads(arguments[1])
        with libamc.Client(config) as client:
            client.set_log(None)
            print("ready", flush=True)
            manifest = client.results_download(request)
            print("manifest " + json.dumps(manifest), flush=True)


def start_child(mode: str, *arguments: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE), "--child", mode, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the {mode} child did not start: {line}{process.stderr.read() if process.stderr else ''}")
    return process


def kill_after(process: subprocess.Popen[str], seconds: float, first: str = "") -> tuple[list[str], bool]:
    """SIGKILL `seconds` after the child's first line starting with `first`
    (at once without one: the work has begun when the child said "ready");
    the child's output lines, and whether it was still running (killed
    mid-work) rather than already done."""
    assert process.stdout is not None
    early: list[str] = []
    while first:
        line = process.stdout.readline()
        if not line:
            break
        early.append(line.rstrip("\n"))
        if line.startswith(first):
            break
    time.sleep(seconds)
    running = process.poll() is None
    if running:  # a child that is done was reaped by poll(): its pid may be another's now
        os.kill(process.pid, signal.SIGKILL)
    out, _err = process.communicate()
    return early + out.splitlines(), running


class Failure(Exception):
    pass


# -- the loops ----------------------------------------------------------------
def store_loop(root: pathlib.Path, iterations: int, chance: random.Random) -> str:
    path = root / "store.json"
    keys = session.fernet_key()
    acked: list[str] = []
    mid_work = 0
    first = 0
    for iteration in range(iterations):
        process = start_child("store", str(path), keys, str(first))
        # Once the writes are under way: a random moment of one of them.
        lines, running = kill_after(process, chance.uniform(0.0, 0.05), "acked ")
        mid_work += running
        new = [line.split()[1] for line in lines if line.startswith("acked ")]
        acked += new
        first += len(new) + 1  # the put under way when killed may have landed: never reuse its id
        with libamc.Store({"path": str(path), "fernet_keys": keys}) as store:
            states = {record["credential_id"]: record.get("state") for record in store.list_credentials()}
            for credential_id in acked:
                if credential_id not in states:
                    raise Failure(f"store, kill {iteration + 1}: credential {credential_id} was put and is lost")
                if states[credential_id] in ("quarantined", "damaged"):
                    continue  # set aside, kept
                got = store.get_credential(credential_id, include_secrets=True)
                if got.get("refresh_token") != secret_of(credential_id):
                    raise Failure(f"store, kill {iteration + 1}: credential {credential_id} reads back wrong")
    set_aside = 0
    with libamc.Store({"path": str(path), "fernet_keys": keys}) as store:
        set_aside = sum(1 for record in store.list_credentials() if record.get("state") in ("quarantined", "damaged"))
    return (
        f"store: {iterations} kills ({mid_work} mid-write), {len(acked)} acknowledged puts all there "
        f"({set_aside} set aside), the store opened every time"
    )


def rotation_loop(root: pathlib.Path, iterations: int, chance: random.Random) -> str:
    path = root / "rotation.json"
    key_a, key_b = session.fernet_key(), session.fernet_key()
    ids = [f"rot-{index}" for index in range(25)]
    with libamc.Store({"path": str(path), "fernet_keys": key_a}) as store:
        for credential_id in ids:
            store.put_credential(
                {"credential_id": credential_id, "client_id": CLIENT_ID, "refresh_token": secret_of(credential_id)}
            )
    mid_work = 0
    rotations = 0
    for iteration in range(iterations):
        process = start_child("rotation", str(path), f"{key_b},{key_a}", f"{key_a},{key_b}")
        lines, running = kill_after(process, chance.uniform(0.0, 0.05), "rotated ")
        mid_work += running
        rotations += sum(1 for line in lines if line.startswith("rotated "))
        with libamc.Store({"path": str(path), "fernet_keys": f"{key_a},{key_b}"}) as store:
            records = {record["credential_id"]: record for record in store.list_credentials()}
            for credential_id in ids:
                record = records.get(credential_id)
                if record is None:
                    raise Failure(f"rotation, kill {iteration + 1}: credential {credential_id} is lost")
                if record.get("state") in ("quarantined", "damaged"):
                    raise Failure(
                        f"rotation, kill {iteration + 1}: credential {credential_id} is {record.get('state')} "
                        "although both keys are there"
                    )
                got = store.get_credential(credential_id, include_secrets=True)
                if got.get("refresh_token") != secret_of(credential_id):
                    raise Failure(f"rotation, kill {iteration + 1}: credential {credential_id} reads back wrong")
    return (
        f"rotation: {iterations} kills ({mid_work} mid-rotation), {rotations} rotations finished, "
        f"all {len(ids)} credentials readable every time"
    )


def download_loop(root: pathlib.Path, iterations: int, chance: random.Random) -> str:
    sandbox = session.start_sandbox(root / "sandbox")
    try:
        store = {"path": str(root / "credentials.json"), "fernet_keys": session.fernet_key()}
        session.put_credential(sandbox, store)
        config = session.client_config(sandbox, store)
        who = {"credential_id": session.CREDENTIAL, "instance": session.INSTANCE}
        with libamc.Client(config) as client:
            client.set_log(None)
            submitted = client.execution_submit(
                {**who, "request": {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: duration=1s parts=5 rows=30000"}}}
            )
            amc_id = submitted["amc_execution_id"]
            client.execution_wait({**who, "amc_execution_id": amc_id, "first_poll_ms": 10, "timeout_ms": 60_000})
            reference = root / "reference"
            started = time.monotonic()
            manifest = client.results_download({**who, "amc_execution_id": amc_id, "directory": str(reference)})
            whole = time.monotonic() - started
            parts = {pathlib.Path(entry["path"]).name: pathlib.Path(entry["path"]).read_bytes() for entry in manifest["files"]}
            mid_work = 0
            seen_finished = 0
            seen_partial = 0
            for iteration in range(iterations):
                folder = root / f"download-{iteration}"
                request = {**who, "amc_execution_id": amc_id, "directory": str(folder)}
                process = start_child("download", json.dumps(config), json.dumps(request))
                lines, running = kill_after(process, chance.uniform(0.0, 1.2 * whole))
                mid_work += running
                reported = [json.loads(line[len("manifest ") :]) for line in lines if line.startswith("manifest ")]
                present = sorted(os.listdir(folder)) if folder.exists() else []
                for name in present:
                    if name.endswith(".partial"):
                        seen_partial += 1
                        continue
                    if name not in parts:
                        raise Failure(f"download, kill {iteration + 1}: an unexpected file {name}")
                    seen_finished += 1
                    if (folder / name).read_bytes() != parts[name]:
                        raise Failure(
                            f"download, kill {iteration + 1}: {name} is named as finished but is not the whole part"
                        )
                for finished in reported:
                    check_manifest(finished, parts, f"download, kill {iteration + 1} (the child's own manifest)")
                # Downloading again into the same folder finishes the job.
                again = client.results_download(request)
                check_manifest(again, parts, f"download, kill {iteration + 1}, downloaded again")
                shutil.rmtree(folder)
        return (
            f"download: {iterations} kills ({mid_work} mid-download; a whole download took {whole * 1000:.0f} ms), "
            f"{seen_finished} finished and {seen_partial} .partial files found, every finished one whole; every "
            "download again gave the whole result"
        )
    finally:
        sandbox.stop()


def check_manifest(manifest: dict[str, Any], parts: dict[str, bytes], where: str) -> None:
    names = sorted(pathlib.Path(entry["path"]).name for entry in manifest["files"])
    if names != sorted(parts):
        raise Failure(f"{where}: the manifest lists {names}, not {sorted(parts)}")
    for entry in manifest["files"]:
        path = pathlib.Path(entry["path"])
        data = path.read_bytes()
        if data != parts[path.name] or entry["bytes"] != len(data):
            raise Failure(f"{where}: {path.name} in the manifest is not the whole part")


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--loops", default="store,rotation,download")
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    chance = random.Random(seed)
    loops = {"store": store_loop, "rotation": rotation_loop, "download": download_loop}
    print(f"crash loops: {arguments.iterations} kills each, seed {seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="amc-crash-") as folder:
        for name in arguments.loops.split(","):
            started = time.monotonic()
            try:
                summary = loops[name](pathlib.Path(folder), arguments.iterations, chance)
            except Failure as problem:
                print(f"CRASH LOOP FAILED: {problem} (seed {seed})", file=sys.stderr)
                return 1
            print(f"{summary} [{time.monotonic() - started:.1f} s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
