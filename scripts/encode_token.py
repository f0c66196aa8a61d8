#!/usr/bin/env python3
"""Print base64(TOKEN): the credential clients send as `Authorization: Bearer <it>`.

Kept for the configuration guide's `uv run scripts/encode_token.py <token>`; the binary's
`apiproxy encode-token TOKEN` does the same without Python.
"""
import base64
import sys

if len(sys.argv) != 2:
    sys.exit("usage: encode_token.py TOKEN")
print(base64.b64encode(sys.argv[1].encode()).decode())
