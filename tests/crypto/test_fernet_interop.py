"""Fernet interop between libamc and Python's cryptography, both ways.

libamc's side runs in amc_test_tool (path in AMC_TEST_TOOL); keys are made
here at run time, tokens travel on stdin/stdout, never as arguments.
"""
import base64
import os
import random
import subprocess
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

TOOL = os.environ.get("AMC_TEST_TOOL", "")


def libamc(command, keys, data, *args):
    env = dict(os.environ, AMC_FERNET_KEYS=keys)
    result = subprocess.run([TOOL, command, *args], input=data.encode(), env=env,
                            capture_output=True, timeout=30)
    return result.returncode, result.stdout.decode().strip(), result.stderr.decode()


@pytest.fixture(scope="module", autouse=True)
def tool_exists():
    assert TOOL and os.access(TOOL, os.X_OK), "AMC_TEST_TOOL must name the built amc_test_tool"


@pytest.mark.parametrize("plaintext", ["Atzr|refresh-token", "", "x" * 5000, "unicode: é ü 中"])
def test_python_encrypts_libamc_decrypts(plaintext):
    key = Fernet.generate_key().decode()
    token = Fernet(key).encrypt(plaintext.encode()).decode()
    code, out, err = libamc("fernet-decrypt", key, token)
    assert code == 0, err
    assert out == plaintext.strip()


@pytest.mark.parametrize("plaintext", ["Atzr|refresh-token", "", "y" * 5000, "unicode: é ü 中"])
def test_libamc_encrypts_python_decrypts(plaintext):
    key = Fernet.generate_key().decode()
    code, token, err = libamc("fernet-encrypt", key, plaintext)
    assert code == 0, err
    assert Fernet(key).decrypt(token.encode()).decode() == plaintext.strip()
    # A fresh token: timestamp within a few seconds of now.
    assert abs(Fernet(key).extract_timestamp(token.encode()) - time.time()) < 30


def test_airflow_style_key_list_both_ways():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys = f"{new},{old}"
    python_multi = MultiFernet([Fernet(k) for k in keys.split(",")])
    old_token = Fernet(old).encrypt(b"old").decode()
    assert libamc("fernet-decrypt", keys, old_token)[1] == "old"
    code, token, _ = libamc("fernet-encrypt", keys, "from libamc")
    assert code == 0
    assert Fernet(new).decrypt(token.encode()) == b"from libamc"
    assert python_multi.decrypt(token.encode()) == b"from libamc"
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(token.encode())


def test_rotation_keeps_timestamp_like_python():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_token = Fernet(old).encrypt_at_time(b"secret", 1_000_000).decode()
    code, rotated, err = libamc("fernet-rotate", f"{new},{old}", old_token)
    assert code == 0, err
    assert Fernet(new).extract_timestamp(rotated.encode()) == 1_000_000
    assert Fernet(new).decrypt(rotated.encode()) == b"secret"
    # And Python's rotation of a libamc token decrypts in libamc.
    _, libamc_token, _ = libamc("fernet-encrypt", old, "made by libamc")
    python_rotated = MultiFernet([Fernet(new), Fernet(old)]).rotate(libamc_token.encode()).decode()
    assert libamc("fernet-decrypt", new, python_rotated)[1] == "made by libamc"


def test_ttl_rule_matches_python():
    key = Fernet.generate_key().decode()
    token = Fernet(key).encrypt_at_time(b"aged", 5_000).decode()
    for now, ok in [(5_060, True), (5_061, False), (4_940, True), (4_939, False)]:
        with_python = True
        try:
            Fernet(key).decrypt_at_time(token.encode(), 60, now)
        except InvalidToken:
            with_python = False
        code, _, _ = libamc("fernet-decrypt", key, token, "60", str(now))
        assert with_python == ok
        assert (code == 0) == ok, f"now={now}"


def test_a_token_from_a_fast_clock_decrypts_in_both_without_a_ttl():
    """Python checks the clock skew only together with a TTL; so do we."""
    key = Fernet.generate_key().decode()
    future = int(time.time()) + 86_400
    token = Fernet(key).encrypt_at_time(b"from a fast clock", future).decode()
    assert Fernet(key).decrypt(token.encode()) == b"from a fast clock"
    code, out, err = libamc("fernet-decrypt", key, token)
    assert (code, out) == (0, "from a fast clock"), err
    with pytest.raises(InvalidToken):
        Fernet(key).decrypt(token.encode(), ttl=3600)
    assert libamc("fernet-decrypt", key, token, "3600", str(int(time.time())))[0] != 0


def test_wrong_key_refused_without_quoting_it():
    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Fernet(key).encrypt(b"x").decode()
    code, out, err = libamc("fernet-decrypt", other, token)
    assert code == 1
    assert "signature" in err
    assert other not in err and key not in err and other not in out


def test_store_file_secrets_decrypt_with_python(tmp_path):
    """A credential written by libamc's store is readable with Python's
    cryptography and the same key list, as Airflow would read it."""
    key = Fernet.generate_key().decode()
    path = tmp_path / "creds.json"
    refresh = "Atzr|" + os.urandom(12).hex()
    code, _, err = libamc("store-put", key, refresh, str(path), "conn_1", "amzn1.client")
    assert code == 0, err
    text = path.read_text()
    assert refresh not in text
    import json
    sealed = json.loads(text)["credentials"]["conn_1"]["refresh_token_fernet"]
    assert Fernet(key).decrypt(sealed.encode()).decode() == refresh
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def python_accepts(key_text):
    """Whether Python's Fernet takes the key as Airflow passes it (UTF-8 bytes)."""
    try:
        Fernet(key_text.encode("utf-8"))
        return True
    except ValueError:
        return False


def standard_alphabet_key():
    """32 random bytes in standard base64, holding at least one '+' or '/'."""
    while True:
        key = base64.b64encode(os.urandom(32)).decode()
        if "+" in key or "/" in key:
            return key


def test_standard_alphabet_keys_work_both_ways():
    key = standard_alphabet_key()
    assert python_accepts(key)
    same_key_url_safe = key.replace("+", "-").replace("/", "_")
    token = Fernet(key).encrypt(b"made by python").decode()
    code, out, err = libamc("fernet-decrypt", key, token)
    assert (code, out) == (0, "made by python"), err
    code, token, err = libamc("fernet-encrypt", key, "made by libamc")
    assert code == 0, err
    assert Fernet(same_key_url_safe).decrypt(token.encode()) == b"made by libamc"
    # In a key list, next to a url-safe key, as an Airflow fernet_key.
    other = Fernet.generate_key().decode()
    code, out, _ = libamc("fernet-decrypt", f"{other},{key}", Fernet(key).encrypt(b"old").decode())
    assert (code, out) == (0, "old")


def spellings(rng, key):
    """Ways to write (or miswrite) a key, each with a name that never holds it."""
    yield "as is", key
    yield "no padding", key.rstrip("=")
    yield "double padding", key + "="
    yield "one symbol short", key[:42] + "="
    yield "one symbol long", key[:43] + "A="
    yield "data after padding", key + "AAAA"
    yield "leading space", " " + key
    yield "inner newline", key[:10] + "\n" + key[10:]
    yield "non-ASCII inside", key[:5] + "é" + key[5:]
    yield "padding in the middle", key[:21] + "=" + key[21:]
    yield "empty", ""
    junk = "=!.* \t-_+/é"
    for round_number in range(120):
        text = list(key)
        for _ in range(rng.randint(1, 3)):
            action = rng.choice(["insert", "delete", "replace"])
            at = rng.randrange(len(text) + 1)
            if action == "insert":
                text.insert(at, rng.choice(junk))
            elif text and at < len(text):
                if action == "delete":
                    del text[at]
                else:
                    text[at] = rng.choice(junk)
        yield f"random mutation #{round_number}", "".join(text)


def test_libamc_accepts_exactly_the_keys_python_accepts():
    """Every spelling Python's Fernet accepts works in libamc as the same key
    (Python decrypts what libamc encrypts); every one it refuses, libamc
    refuses too."""
    rng = random.Random(os.urandom(8))
    for key in (Fernet.generate_key().decode(), standard_alphabet_key()):
        for name, text in spellings(rng, key):
            accepted = python_accepts(text)
            code, token, err = libamc("fernet-encrypt", text, "probe")
            assert (code == 0) == accepted, f"{name}: python accepts={accepted}, libamc exit={code}"
            if accepted:
                assert Fernet(text.encode("utf-8")).decrypt(token.encode()) == b"probe", name
            else:
                assert "Fernet key #1" in err, name
                assert not text.strip() or text.strip() not in err, f"{name}: the key was quoted"
