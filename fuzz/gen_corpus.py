#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ from the core's test data.

Run from anywhere: python3 fuzz/gen_corpus.py. Seeds are derived from the SDK-computed
vectors (plivo-webhook-core/tests/data/plivo-v3-v2.json) and the fixture bodies
(plivo-webhook-core/tests/data/fixtures/*.form). The input layouts are documented in
fuzz/src/lib.rs and fuzz/README.md. Regression inputs (crash-*, regress-*) are written by
hand or by the fuzzer and are never touched by this script.
"""

import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "plivo-webhook-core", "tests", "data")
CORPUS = os.path.join(HERE, "corpus")
MAX_SEED = 4096

SEP = b"\x1e"
PAIR_SEP = b"\x1f"
KV_SEP = b"\x1d"

VERIFY_HEADERS = [
    "X-Plivo-Signature-V3",
    "X-Plivo-Signature-Ma-V3",
    "X-Plivo-Signature-V3-Nonce",
    "X-Plivo-Signature-V2",
    "X-Plivo-Signature-Ma-V2",
    "X-Plivo-Signature-V2-Nonce",
    "Content-Type",
    "Host",
    "Forwarded",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
]


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def clear_seeds():
    for target in ("verify", "form_decode", "parse_callback", "roundtrip"):
        directory = os.path.join(CORPUS, target)
        if os.path.isdir(directory):
            for name in os.listdir(directory):
                if name.startswith("seed-"):
                    os.remove(os.path.join(directory, name))


def split_url(url):
    scheme, rest = url.split("://", 1)
    rest = rest.split("#", 1)[0]
    end = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    authority = rest[:end].rsplit("@", 1)[-1]
    return scheme, authority, rest[end:]


def verify_input(flags, method, token, base, target, headers, body):
    fields = [flags, method.encode(), token.encode(), base.encode(), target.encode()]
    for name in VERIFY_HEADERS:
        value = headers.get(name)
        if value is None:
            fields.append(b"")
        elif isinstance(value, tuple):  # duplicated header
            fields.append(b"*" + value[0].encode())
        else:
            fields.append(b"=" + value.encode())
    fields.append(body.encode())
    return SEP.join(fields)


def roundtrip_input(flags, token, nonce, host, path, query, pairs):
    params = PAIR_SEP.join(k.encode() + KV_SEP + v.encode() for k, v in pairs)
    return SEP.join(
        [bytes(flags), token.encode(), nonce.encode(), host.encode(), path.encode(),
         query.encode(), params]
    )


def main():
    clear_seeds()
    with open(os.path.join(DATA, "plivo-v3-v2.json")) as f:
        vectors = json.load(f)["vectors"]
    fixtures_dir = os.path.join(DATA, "fixtures")
    fixtures = sorted(n for n in os.listdir(fixtures_dir) if n.endswith(".form"))
    bodies = {}
    for name in fixtures:
        with open(os.path.join(fixtures_dir, name), "rb") as f:
            bodies[name[: -len(".form")]] = f.read().strip(b"\r\n")

    # form_decode and parse_callback: every fixture body, plus a few vector bodies and
    # GET queries, plus the decoder's cross-check string.
    for name, body in bodies.items():
        write("form_decode", name, body)
        write("parse_callback", name, body)
    seen = set()
    for v in vectors:
        group = v["id"].rsplit("-", 1)[0]
        if group in seen or len(v["body"]) > MAX_SEED:
            continue
        seen.add(group)
        raw = v["body"] if v["method"] == "POST" else split_url(v["url"])[2].partition("?")[2]
        if raw and group.split("-", 2)[2] in (
            "equiv", "plus", "specials", "repeat", "get", "query", "inbound", "voice", "mms"
        ):
            write("form_decode", v["id"], raw.encode())
            write("parse_callback", v["id"], raw.encode())
    write("form_decode", "crosscheck",
          b"a=1&&b=2&=x&c&d=%e2%82%ac&e=%zz&f=a=b&g=%FF%FEabc&h=a+b%2B&i=%E2%82&j=%")
    write("form_decode", "raw-invalid-utf8", b"k=\xff\xfeok&\xc3=\xa9&%C3%A9=%c3%a9")
    write("parse_callback", "timestamps",
          b"MessageUUID=u&From=f&To=t&Status=sent&MessageTime=2024-01-08+09%3A19%3A52.123%2B05%3A30"
          b"&QueuedTime=1704705592&SentTime=2024-01-08T09%3A19%3A52Z&TotalRate=-0.0065&Units=x")

    # verify: one vector per group, alternately as an absolute and an origin-form target,
    # with Host and X-Forwarded-* so that every policy reaches the HMAC.
    seen = set()
    count = 0
    for v in vectors:
        group = v["id"].rsplit("-", 1)[0]
        if group in seen or len(v["body"]) > MAX_SEED:
            continue
        seen.add(group)
        scheme, authority, origin = split_url(v["url"])
        headers = dict(v["headers"])
        headers["Host"] = authority
        headers["X-Forwarded-Proto"] = scheme
        headers["X-Forwarded-Host"] = authority
        target = v["url"] if count % 2 == 0 else (origin or "/")
        flags = bytes([(1 if count % 3 == 0 else 0) | (2 if v["scheme"] == "v2" else 0)])
        write("verify", v["id"], verify_input(
            flags, v["method"], v["auth_token"], f"{scheme}://{authority}", target, headers,
            v["body"]))
        count += 1
    v = vectors[0]
    scheme, authority, origin = split_url(v["url"])
    forwarded = dict(v["headers"])
    forwarded["Forwarded"] = f'for=1.2.3.4;proto={scheme};host="{authority}", for=5.6.7.8'
    forwarded["Host"] = "127.0.0.1:3000"
    write("verify", "forwarded", verify_input(
        b"\x01", "POST", v["auth_token"], "https://other.example", origin, forwarded, v["body"]))
    duplicated = dict(v["headers"])
    duplicated["X-Plivo-Signature-V3"] = (duplicated["X-Plivo-Signature-V3"],)
    write("verify", "duplicate-header", verify_input(
        b"\x00", "POST", v["auth_token"], "", v["url"], duplicated, v["body"]))
    write("verify", "body-limit", verify_input(
        b"\x04\x10", "POST", v["auth_token"], "", v["url"], v["headers"], v["body"]))
    write("verify", "put-method", verify_input(
        b"\x00", "PUT", v["auth_token"], "", v["url"], v["headers"], v["body"]))

    # roundtrip: fixture bodies as parameter lists, URLs and nonces from vectors, every
    # mutation kind and a few encoding styles.
    post_vectors = [v for v in vectors if v["scheme"] == "v3" and v["valid"]]
    for i, (name, body) in enumerate(bodies.items()):
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        url = post_vectors[(7 * i) % len(post_vectors)]
        scheme, authority, origin = split_url(url["url"])
        path, _, query = origin.partition("?")
        host, _, port = authority.partition(":")
        opts = (2 if scheme == "https" else 0) | (16 if query else 0)
        opts |= 1 if i % 5 == 4 else 0  # some GETs
        opts |= 8 if i % 6 == 5 else 0  # some main-account signatures
        port_bytes = [0, 0]
        if port.isdigit():
            opts |= 4
            port_bytes = list(int(port).to_bytes(2, "little"))
        mutation = i % 7
        position = (37 * i) & 0xFFFF
        flags = [opts, (i * 3) % 16, mutation, position & 0xFF, position >> 8, 0x41 + i] + port_bytes
        write("roundtrip", name, roundtrip_input(
            flags, url["auth_token"], url["nonce"], host, path, query, pairs))
    for i, v in enumerate(v for v in post_vectors if "equiv" in v["id"] or "plus" in v["id"]):
        scheme, authority, origin = split_url(v["url"])
        path, _, query = origin.partition("?")
        pairs = urllib.parse.parse_qsl(v["body"], keep_blank_values=True)
        flags = [(2 if scheme == "https" else 0) | (16 if query else 0), 1 + 4 * (i % 4), 6, i, 0, 9]
        write("roundtrip", v["id"], roundtrip_input(
            flags, v["auth_token"], v["nonce"], authority, path, query, pairs))


if __name__ == "__main__":
    main()
