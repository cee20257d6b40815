"""amcctl store list / rotate-keys against a file store made at test time,
with Fernet keys generated here (never committed). The credential is put in
through the library's own C ABI (ctypes), as any host would."""

import json

from conftest import clean_env, fernet_key, store_put_credential


def put_credential(store_config, credential_id):
    store_put_credential(store_config, {"credential_id": credential_id,
                                        "client_id": "amzn1.application-oa2-client.test",
                                        "refresh_token": "Atzr|test-refresh-token-not-real"})


def write_config(path, store_path, keys, defaults=None):
    config = {"store": {"path": str(store_path), "fernet_keys": ",".join(keys)}}
    if defaults is not None:
        config["defaults"] = defaults
    path.write_text(json.dumps(config))
    return path


def test_store_list_and_rotate_keys(amcctl, tmp_path):
    store_path = tmp_path / "credentials.json"
    old_key, new_key = fernet_key(), fernet_key()
    put_credential({"path": str(store_path), "fernet_keys": old_key}, "alice")
    put_credential({"path": str(store_path), "fernet_keys": old_key}, "bob")

    # "defaults" is amcctl's own section: it must not reach the library.
    config = write_config(tmp_path / "old.json", store_path, [old_key], defaults={"credential_id": "alice"})
    result = amcctl("--config", config, "store", "list")
    assert result.code == 0, result
    assert "alice\tactive" in result.out and "bob\tactive" in result.out
    assert "Atzr|" not in result.out + result.err

    result = amcctl("--config", config, "--json", "store", "list")
    assert result.code == 0, result
    listed = json.loads(result.out)
    assert [c["credential_id"] for c in listed["credentials"]] == ["alice", "bob"]

    # Rotate: new key first, old key still configured to read.
    rotating = write_config(tmp_path / "rotating.json", store_path, [new_key, old_key])
    result = amcctl("--config", rotating, "--json", "store", "rotate-keys")
    assert result.code == 0, result
    report = json.loads(result.out)
    assert report["total"] == 2 and report["rotated"] == 2 and report["failed"] == []
    assert old_key not in store_path.read_text() and new_key not in store_path.read_text()

    # After rotation the new key alone reads every record.
    only_new = write_config(tmp_path / "new.json", store_path, [new_key])
    result = amcctl("--config", only_new, "store", "rotate-keys")
    assert result.code == 0, result
    assert "re-encrypted 2 of 2" in result.out


def test_config_from_environment_variable(amcctl, tmp_path):
    store_path = tmp_path / "credentials.json"
    key = fernet_key()
    put_credential({"path": str(store_path), "fernet_keys": key}, "carol")
    config = write_config(tmp_path / "config.json", store_path, [key])
    result = amcctl("store", "list", env=clean_env(AMC_CONFIG=str(config)))
    assert result.code == 0, result
    assert "carol" in result.out


def test_store_without_a_key_is_a_config_error(amcctl, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"store": {"path": str(tmp_path / "credentials.json")}}))
    result = amcctl("--config", config, "store", "list")
    assert result.code == 9, result
    assert result.err.startswith("amcctl: AMC_E_CONFIG: "), result


def test_store_with_an_unknown_field_is_an_invalid_argument(amcctl, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"store": {"path": str(tmp_path / "c.json"), "fernet_keys": fernet_key(),
                                            "colour": "blue"}}))
    result = amcctl("--config", config, "store", "list")
    assert result.code == 2, result
    assert "AMC_E_INVALID_ARGUMENT" in result.err


def test_sandbox_store_needs_no_running_sandbox(amcctl, tmp_path):
    sandbox_dir = tmp_path / "sandbox"
    sandbox_dir.mkdir(mode=0o700)
    result = amcctl("--sandbox", "--sandbox-dir", sandbox_dir, "store", "list")
    assert result.code == 0, result
    assert "(no credentials)" in result.out
    key_file = sandbox_dir / "fernet.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert key_file.read_text() not in result.out + result.err


def test_sandbox_directory_must_be_private(amcctl, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    result = amcctl("--sandbox", "--sandbox-dir", shared, "store", "list")
    assert result.code == 9, result
    assert "0700" in result.err
