"""The minimal C host example (adapters/c/host_example.c) runs one workflow
against the sandbox: sync, submit, wait, download, manifest. Needs the
library's client and AMC entry points."""

import ctypes
import json
import os
import subprocess

from conftest import HOST_EXAMPLE, LIBRARY, clean_env, fernet_key, run_amcctl


def test_host_example_runs_one_workflow(tmp_path):
    directory = tmp_path / "sandbox"
    directory.mkdir(mode=0o700)
    assert run_amcctl("--sandbox-dir", directory, "--sandbox-time-scale", "600", "sandbox", "start").code == 0
    try:
        summary = json.loads((directory / "sandbox.json").read_text())
        store = {"path": str(tmp_path / "credentials.json"), "fernet_keys": fernet_key()}
        config = {"endpoints": {"amc": summary["url"], "lwa_token": summary["token_url"],
                                "lwa_consent": summary["consent_url"]},
                  "lwa": {"client_id": summary["client_id"],
                          "client_secret": (directory / "client_secret").read_text().strip()},
                  "tls": {"ca_file": summary["ca_file"]}, "store": store}
        (tmp_path / "config.json").write_text(json.dumps(config))
        who = {"credential_id": "host",
               "instance": {"instance_id": summary["instance_id"], "advertiser_id": summary["advertiser_id"],
                            "marketplace_id": summary["marketplace_id"]}}
        (tmp_path / "request.json").write_text(json.dumps(who))
        (tmp_path / "query.sql").write_text("-- sandbox: duration=2s parts=2 rows=10\nSELECT 1 AS one\n")

        # The credential: the sandbox's seeded grant, put into the store
        # through the C ABI (ctypes), as a host would.
        library = ctypes.CDLL(str(LIBRARY))
        library.amc_store_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        library.amc_store_put_credential.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        library.amc_store_free.argtypes = [ctypes.c_void_p]
        handle = ctypes.c_void_p()
        assert library.amc_store_new(json.dumps(store).encode(), ctypes.byref(handle)) == 0
        credential = {"credential_id": "host", "client_id": summary["client_id"],
                      "refresh_token": (directory / "refresh_token").read_text().strip()}
        assert library.amc_store_put_credential(handle, json.dumps(credential).encode()) == 0
        library.amc_store_free(handle)

        env = clean_env(AMC_LIBRARY=str(LIBRARY))
        completed = subprocess.run([str(HOST_EXAMPLE), tmp_path / "config.json", tmp_path / "request.json",
                                    tmp_path / "query.sql", tmp_path / "out"], capture_output=True, text=True,
                                   env=env, timeout=120)
        assert completed.returncode == 0, completed
        manifest_line = [line for line in completed.stdout.splitlines() if line.startswith("manifest: ")]
        assert manifest_line, completed
        manifest = json.loads(manifest_line[0][len("manifest: "):])
        assert manifest["total_rows"] == 10 and len(manifest["files"]) == 2
        assert sorted(os.listdir(tmp_path / "out")) == ["part-1.csv", "part-2.csv"]
    finally:
        run_amcctl("--sandbox-dir", directory, "sandbox", "stop")


def test_host_example_usage():
    completed = subprocess.run([str(HOST_EXAMPLE)], capture_output=True, text=True)
    assert completed.returncode == 2
    assert "usage:" in completed.stderr
