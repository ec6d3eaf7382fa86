#!/usr/bin/env python3
"""An independent reference for `parse`: the event rules of docs/parse.md written out plainly in Python
(standard library only, dicts and sets, one packet at a time), sharing no code with the Deno
implementation. tests/cli/parse_reference_test.ts runs it and `parse` on the same captures and
compares every event field by field.

    _reference_parse.py CAPTURE... [--timeout S] [--threshold N] [--uniques N] [--rate PPS]
                        [--telescope-size N]

Reads classic pcap (either byte order, µs or ns; gzip allowed) with Ethernet (802.1Q too),
IPv4 and IPv6; several captures are one packet stream, in order. Prints one JSON object per event in output order: the fields `parse` writes
(except Samples and the enrichment fields) plus "Frames", the SHA-1 of every frame of the event,
so that the test can check each sample is one of them.
"""

import argparse
import gzip
import hashlib
import ipaddress
import json
import struct
import sys
from datetime import datetime, timezone

NAMES = ["ICMPEchoRequest", "ICMPEchoReply", "ICMPDestinationUnreachable", "ICMPSourceQuench",
         "ICMPRedirect", "ICMPTimeExceeded", "ICMPParameterProblem", "ICMPTimestampReply",
         "ICMPInfoReply", "ICMPAddressMaskReply", "ICMPOther", "TCPSYN", "TCPSYNACK", "TCPACK",
         "TCPRST", "TCPOther", "UDP", "Unknown"]
ICMP4 = {8: 0, 0: 1, 3: 2, 4: 3, 5: 4, 11: 5, 12: 6, 14: 7, 16: 8, 18: 9}
ICMP6 = {128: 0, 129: 1, 1: 2, 137: 4, 3: 5, 4: 6}
UNKNOWN = 17


def packets(path):
    """Yields (seconds, nanoseconds, frame) for every record."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic = data[:4]
    order, scale = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
                    b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}[magic]
    assert struct.unpack(order + "I", data[20:24])[0] == 1, "Ethernet captures only"
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(order + "IIII", data[off:off + 16])
        yield sec, frac * scale, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def transport(proto, t, v6):
    """(traffic, port, seq, dport) of a transport header `t`, as Merit's tool classifies it."""
    if proto == 6 and len(t) >= 20:
        sport, dport, seq = struct.unpack(">HHI", t[:8])
        flags = ((t[12] & 1) << 8) | t[13]
        if flags == 0x002:
            return 11, dport, seq, dport
        if flags == 0x012:
            return 12, sport, seq, dport
        if flags == 0x010:
            return 13, dport, seq, dport
        if flags == 0x004:
            return 14, sport, seq, dport
        return 15, dport, seq, dport
    if proto == 17 and len(t) >= 8:
        return 16, struct.unpack(">H", t[2:4])[0], 0, 0
    if proto == 1 and not v6 and len(t) >= 8:
        return ICMP4.get(t[0], 10), 0, 0, 0
    if proto == 58 and v6 and len(t) >= 4:
        return ICMP6.get(t[0], 10), 0, 0, 0
    return UNKNOWN, 0, 0, 0


def decode(frame):
    """(version, src, dst, traffic, port, ip_id, seq, dport) or None for non-IP frames."""
    etype, p = struct.unpack(">H", frame[12:14])[0], 14
    while etype in (0x8100, 0x88A8):
        etype, p = struct.unpack(">H", frame[p + 2:p + 4])[0], p + 4
    if etype == 0x0800:
        ihl = (frame[p] & 15) * 4
        total, ip_id, frag = struct.unpack(">HHH", frame[p + 2:p + 8])
        proto = frame[p + 9]
        src, dst = struct.unpack(">II", frame[p + 12:p + 20])
        end = p + total if 0 < total and p + total <= len(frame) else len(frame)
        if frag & 0x1FFF != 0:
            return 4, src, dst, UNKNOWN, 0, ip_id, 0, 0
        traffic, port, seq, dport = transport(proto, frame[p + ihl:end], False)
        return 4, src, dst, traffic, port, ip_id, seq, dport
    if etype == 0x86DD:
        src = int.from_bytes(frame[p + 8:p + 24], "big")
        dst = int.from_bytes(frame[p + 24:p + 40], "big")
        payload = struct.unpack(">H", frame[p + 4:p + 6])[0]
        end = p + 40 + payload if 0 < payload and p + 40 + payload <= len(frame) else len(frame)
        nh, q = frame[p + 6], p + 40
        for _ in range(16):  # at most 16 extension headers; a longer chain stays Unknown
            if nh in (0, 43, 60, 135, 139, 140):  # options, routing, mobility, HIP, shim6
                nh, q = frame[q], q + (frame[q + 1] + 1) * 8
            elif nh == 51:  # authentication header
                nh, q = frame[q], q + (frame[q + 1] + 2) * 4
            elif nh == 44:  # fragment: only the first is classified
                if struct.unpack(">H", frame[q + 2:q + 4])[0] >> 3 != 0:
                    return 6, src, dst, UNKNOWN, 0, 0, 0, 0
                nh, q = frame[q], q + 8
            else:
                break
        traffic, port, _, _ = transport(nh, frame[q:end], True)
        return 6, src, dst, traffic, port, 0, 0, 0
    return None


def rfc3339(sec, nsec):
    t = datetime.fromtimestamp(sec, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{t}.{nsec:09d}Z"


def main():
    a = argparse.ArgumentParser()
    a.add_argument("captures", nargs="+")
    a.add_argument("--timeout", type=float, default=624)
    a.add_argument("--threshold", type=int, default=0)
    a.add_argument("--uniques", type=int, default=0)
    a.add_argument("--rate", type=float, default=0)
    a.add_argument("--telescope-size", type=int, default=475136)
    o = a.parse_args()
    timeout = int(o.timeout * 1e9)
    events = {}  # key (version, src, traffic, port) -> dict
    out = []
    latest = sweep_at = None

    def finish(key, e):
        duration = (e["last"] - e["first"]) / 1e9
        scale = 2 ** 32 / o.telescope_size if key[0] == 4 else 1
        rate = e["packets"] * scale / duration if duration > 0 else float("inf")
        if e["packets"] < o.threshold or len(e["dests"]) < o.uniques or rate < o.rate:
            return
        version, src, traffic, port = key
        name = NAMES[traffic]
        out.append({
            "SourceIP": str(ipaddress.ip_address(src) if version == 4 else ipaddress.IPv6Address(src)),
            "Port": port, "Traffic": traffic,
            "First": rfc3339(*divmod(e["first"], 10 ** 9)),
            "Last": rfc3339(*divmod(e["last"], 10 ** 9)),
            "Packets": e["packets"], "Bytes": e["bytes"], "UniqueDests": len(e["dests"]),
            "UniqueDest24s": len({d >> (8 if version == 4 else 64) for d in e["dests"]}),
            "Zmap": e["syn4"] and e["zmap"], "Masscan": e["syn4"] and e["masscan"],
            "Mirai": e["syn4"] and e["mirai"],
            "TCP": name if 11 <= traffic <= 15 else "", "ICMP": name if traffic <= 10 else "",
            "Frames": e["frames"],
        })

    def sweep(now):
        for key in sorted(k for k, e in events.items() if now - e["last"] > timeout):
            finish(key, events.pop(key))

    for sec, nsec, frame in (p for c in o.captures for p in packets(c)):
        d = decode(frame)
        if d is None:
            continue
        version, src, dst, traffic, port, ip_id, seq, dport = d
        ts = sec * 10 ** 9 + nsec
        if latest is None or ts > latest:
            latest = ts
            if sweep_at is None:
                sweep_at = ts
            elif ts - sweep_at > timeout / 2:  # exact: Python compares int and float exactly
                sweep(ts)
                sweep_at = ts
        key = (version, src, traffic, port)
        e = events.get(key)
        if e is not None and ts - e["last"] > timeout:
            finish(key, events.pop(key))
            e = None
        if e is None:
            e = events[key] = {"first": ts, "last": ts, "packets": 0, "bytes": 0, "dests": set(),
                               "syn4": version == 4 and traffic == 11, "zmap": True,
                               "masscan": True, "mirai": True, "frames": []}
        elif ts < e["last"]:
            e["first"] = min(e["first"], ts)  # out of order: joins, Last stays
        else:
            e["last"] = ts
        e["packets"] += 1
        e["bytes"] += len(frame)
        e["dests"].add(dst)
        e["zmap"] &= ip_id == 54321
        e["masscan"] &= ip_id == (dst ^ dport ^ seq) & 0xFFFF
        e["mirai"] &= seq == dst
        e["frames"].append(hashlib.sha1(frame).hexdigest())
    if latest is not None:
        sweep(latest)  # end of input: the idle ones are finished first
    for key in sorted(events):
        finish(key, events[key])
    for e in out:
        print(json.dumps(e))


if __name__ == "__main__":
    sys.exit(main())
