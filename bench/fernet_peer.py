"""The Python peer of bench/crypto_store_bench.cpp: the same Fernet
operations on the same size of secret, timed with Python's `cryptography`
(what Airflow and most Python AMC services use). Prints JSON:
{"name": [ns per operation, one figure per repetition], ...}.
Usage: fernet_peer.py [repetitions]
"""
import base64
import json
import os
import sys
import timeit

from cryptography.fernet import Fernet, MultiFernet


def per_op_ns(statement, repetitions):
    timer = timeit.Timer(statement)
    loops, _ = timer.autorange()  # enough loops for >= 0.2 s
    return [t / loops * 1e9 for t in timer.repeat(repeat=repetitions, number=loops)]


def main():
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    secret = ("Atzr|" + base64.urlsafe_b64encode(os.urandom(260)).decode())[:355].encode()
    key = Fernet(Fernet.generate_key())
    token = key.encrypt(secret)
    old = Fernet(Fernet.generate_key())
    keys = MultiFernet([Fernet(Fernet.generate_key()), old])
    old_token = old.encrypt(secret)
    figures = {
        "FernetEncrypt": per_op_ns(lambda: key.encrypt(secret), repetitions),
        "FernetDecrypt": per_op_ns(lambda: key.decrypt(token), repetitions),
        "MultiFernetDecryptWithTheOldKey": per_op_ns(lambda: keys.decrypt(old_token), repetitions),
        "MultiFernetRotate": per_op_ns(lambda: keys.rotate(old_token), repetitions),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
