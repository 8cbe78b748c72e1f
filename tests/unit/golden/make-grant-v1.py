#!/usr/bin/env python3
"""Encode and sign the version-1 golden grant without libjitcore.

Written from the layout described in libjitcore/include/jit/grant.h, so
that the C encoder and this one have to agree byte for byte. Needs the
"cryptography" package for Ed25519. Prints the token and the public key
file text; it does not write any file.
"""

import base64
import hashlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = bytes(range(1, 33))
DOMAIN = b"jit-grant-v1\0"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def strings(items):
    return struct.pack(">H", len(items)) + b"".join(string(i) for i in items)


def command(path, args):
    if args is None:
        return string(path) + b"\0"
    return string(path) + b"\1" + strings(args)


def main():
    private_key = Ed25519PrivateKey.from_private_bytes(SEED)
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.blake2b(public_key, digest_size=32).digest()[:8]

    body = bytes(range(0x10, 0x20))
    body += struct.pack(">qqqB", 1767225600, 1 << 32, 1767225540, 1)
    body += string("alice") + string("dba") + string("r-0001")
    body += string("alice") + string("INC-4711 restore the orders table")
    body += strings(["db1.example.com", "db-*.example.com"])
    body += strings(["bob", "carol"])
    body += strings(["postgres", "root"])
    body += strings(["postgres"])
    body += strings(["sshd"])
    body += struct.pack(">H", 3)
    body += command("/usr/bin/systemctl", ["restart", "postgresql"])
    body += command("/usr/bin/psql", None)
    body += command("/usr/bin/pg_ctlcluster", [])

    header_len = 4 + 1 + 8 + 4
    signed = b"JITG" + b"\1" + key_id + struct.pack(">I", header_len + len(body))
    signed += body
    signature = private_key.sign(DOMAIN + signed)

    print("jitg1." + b64url(signed + signature))
    print("jitpk1." + b64url(public_key))


if __name__ == "__main__":
    main()
