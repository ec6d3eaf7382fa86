#!/usr/bin/env python3
"""An independent reference for `parse`: the event rules of docs/parse.md written out plainly in Python
(standard library only, dicts and sets, one packet at a time), sharing no code with the Deno
implementation. tests/cli/parse_reference_test.ts runs it and `parse` on the same captures and
compares every event field by field.

    _reference_parse.py CAPTURE... [--timeout S] [--threshold N] [--uniques N] [--rate PPS]
                        [--telescope-size N] [--samples N] [--seed N]

Reads classic pcap (either byte order, µs or ns; gzip allowed) with Ethernet (802.1Q too),
IPv4 and IPv6; several captures are one packet stream, in order. Prints one JSON object per event in
output order (each sweep's by last packet, then key): the fields `parse` writes
(except Samples and the enrichment fields) plus "SampleFrames", the SHA-1s of the frames the
samples must be: the N of lowest rank (a seeded hash of the packet, docs/parse.md), in packet
order.
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


def tcp_options(t):
    """(kinds in order, MSS, window scale, timestamp value) of a TCP header's options: at most
    eight kinds, ending at End of options or at an option cut short or malformed (its kind
    kept)."""
    doff = (t[12] >> 4) * 4
    end = min(doff, len(t))
    kinds, mss, ws, tsval = [], 0, None, 0
    p = 20
    while p < end and len(kinds) < 8:
        kind = t[p]
        kinds.append(kind)
        if kind == 0:
            break
        if kind == 1:
            p += 1
            continue
        if p + 1 >= end:
            break
        n = t[p + 1]
        if n < 2 or p + n > end:
            break
        if kind == 2 and n == 4:
            mss = struct.unpack(">H", t[p + 2:p + 4])[0]
        elif kind == 3 and n == 3:
            ws = t[p + 2]
        elif kind == 8 and n == 10:
            tsval = struct.unpack(">I", t[p + 2:p + 6])[0]
        p += n
    return kinds, mss, ws, tsval, end - 20


def transport(proto, t, v6):
    """The fields of a transport header `t`: traffic and port as Merit's tool classifies them,
    and what the attribution reads."""
    f = {"traffic": UNKNOWN, "port": 0, "seq": 0, "sport": 0, "dport": 0, "window": 0,
         "kinds": [], "mss": 0, "ws": None, "tsval": 0, "optlen": 0, "payload": b"",
         "flags": 0, "udp_len": 0, "icmp_type": None}
    if proto == 6 and len(t) >= 20:
        sport, dport, seq = struct.unpack(">HHI", t[:8])
        flags = ((t[12] & 1) << 8) | t[13]
        traffic, port = {0x002: (11, dport), 0x012: (12, sport), 0x010: (13, dport),
                         0x004: (14, sport)}.get(flags, (15, dport))
        f.update(traffic=traffic, port=port, seq=seq, sport=sport, dport=dport, flags=flags,
                 window=struct.unpack(">H", t[14:16])[0])
        if t[12] >> 4 > 5:
            kinds, mss, ws, tsval, optlen = tcp_options(t)
            f.update(kinds=kinds, mss=mss, ws=ws, tsval=tsval, optlen=optlen)
    elif proto == 17 and len(t) >= 8:
        sport, dport = struct.unpack(">HH", t[:4])
        f.update(traffic=16, port=dport, sport=sport, dport=dport, payload=t[8:],
                 udp_len=struct.unpack(">H", t[4:6])[0])
    elif proto == 1 and not v6 and len(t) >= 8:
        f.update(traffic=ICMP4.get(t[0], 10), payload=t[8:], icmp_type=t[0])
    elif proto == 58 and v6 and len(t) >= 4:
        f.update(traffic=ICMP6.get(t[0], 10), payload=t[8:], icmp_type=t[0])
    return f


def decode(frame):
    """A dict of the packet's fields (version, src, dst, ttl, ip_id and the transport's), or
    None for non-IP frames."""
    etype, p = struct.unpack(">H", frame[12:14])[0], 14
    while etype in (0x8100, 0x88A8):
        etype, p = struct.unpack(">H", frame[p + 2:p + 4])[0], p + 4
    if etype == 0x0800:
        ihl = (frame[p] & 15) * 4
        total, ip_id, frag = struct.unpack(">HHH", frame[p + 2:p + 8])
        proto = frame[p + 9]
        src, dst = struct.unpack(">II", frame[p + 12:p + 20])
        end = p + total if 0 < total and p + total <= len(frame) else len(frame)
        f = transport(proto if frag & 0x1FFF == 0 else -1, frame[p + ihl:end], False)
        f.update(version=4, src=src, dst=dst, ttl=frame[p + 8], ip_id=ip_id, dst_word=dst,
                 proto=proto, ip_len=total, fragment=(frag & 0xBFFF) != 0)
        return f
    if etype == 0x86DD:
        src = int.from_bytes(frame[p + 8:p + 24], "big")
        dst = int.from_bytes(frame[p + 24:p + 40], "big")
        payload = struct.unpack(">H", frame[p + 4:p + 6])[0]
        end = p + 40 + payload if 0 < payload and p + 40 + payload <= len(frame) else len(frame)
        nh, q = frame[p + 6], p + 40
        fragment = False
        for _ in range(16):  # at most 16 extension headers; a longer chain stays Unknown
            if nh in (0, 43, 60, 135, 139, 140):  # options, routing, mobility, HIP, shim6
                nh, q = frame[q], q + (frame[q + 1] + 1) * 8
            elif nh == 51:  # authentication header
                nh, q = frame[q], q + (frame[q + 1] + 2) * 4
            elif nh == 44:  # fragment: only the first is classified
                off_m = struct.unpack(">H", frame[q + 2:q + 4])[0]
                fragment = (off_m & 0xFFF9) != 0
                if off_m >> 3 != 0:
                    nh = frame[q]
                    f = transport(-1, b"", True)
                    f.update(version=6, src=src, dst=dst, ttl=frame[p + 7], ip_id=0,
                             dst_word=dst & 0xFFFFFFFF, proto=nh, ip_len=min(40 + payload, 65535),
                             fragment=True)
                    return f
                nh, q = frame[q], q + 8
            else:
                break
        f = transport(nh, frame[q:end], True)
        f.update(version=6, src=src, dst=dst, ttl=frame[p + 7], ip_id=0,
                 dst_word=dst & 0xFFFFFFFF, proto=nh, ip_len=min(40 + payload, 65535),
                 fragment=fragment)
        return f
    return None


# Scanner attribution (docs/attribution.md): each tool's rule, the traffic it applies to, whether
# it applies to IPv6, the matched packets its attribution needs, and for rules about a sequence
# the value that must repeat.
DAY = 86400


def zmap(k, sec):
    old = k["ip_id"] == 54321 and k["ttl"] > 128
    young = k["ttl"] <= 64
    if k["traffic"] == 16:
        return old
    if k["traffic"] == 0:
        pl = k["payload"]
        zero = all(b == 0 for b in pl[:64])
        return zero and ((old and len(pl) == 12) or (young and len(pl) == 20))
    if k["window"] != 65535:
        return False
    if k["optlen"] == 0:
        return old
    kinds, n, ws = k["kinds"], k["optlen"], k["ws"]
    if k["mss"] != 1460:
        return False
    if n == 4 and kinds == [2]:
        return old or young
    near = 0 <= sec - k["tsval"] + DAY < 32 * DAY
    return young and ((n == 12 and kinds == [2, 1, 3, 1, 1, 4] and ws == 8)
                      or (n == 20 and kinds == [2, 4, 8, 1, 3] and ws == 7 and near)
                      or (n == 24 and kinds == [2, 1, 3, 1, 1, 8, 4, 0] and ws == 6 and near))


def masscan(k, _):
    if k["traffic"] == 11:
        return k["ip_id"] == (k["dst"] ^ k["dport"] ^ k["seq"]) & 0xFFFF
    pl = k["payload"]  # UDP: a DNS query whose transaction id ties to the IP ID
    return k["dport"] == 53 and len(pl) >= 2 and \
        k["ip_id"] == (k["dst"] ^ 53 ^ struct.unpack(">H", pl[:2])[0]) & 0xFFFF


TOOLS = [  # name, traffic, IPv6 too, matches needed, test, repeating value
    ("zmap", (11, 0, 16), True, 3, zmap, None),
    ("masscan", (11, 16), False, 2, masscan, None),
    ("nmap", (11,), True, 1,
     lambda k, _: k["window"] in (1024, 2048, 3072, 4096) and k["optlen"] == 4
     and k["kinds"] == [2] and k["mss"] == 1460, lambda k: k["seq"]),
    ("unicornscan", (11,), False, 1,
     lambda k, _: k["window"] == 16384 and k["optlen"] == 24
     and k["kinds"] == [2, 1, 1, 4, 1, 3, 1, 1] and k["ws"] == 0,
     lambda k: (k["seq"] ^ k["dst"] ^ ((k["dport"] << 16) + k["sport"])) & 0xFFFFFFFF),
    ("mirai", (11,), False, 1, lambda k, _: k["seq"] == k["dst"], None),
]


def signature(k):
    kinds = "-".join("x" if x > 13 else str(x) for x in k["kinds"]) or "00"
    mss = k["mss"] if 2 in k["kinds"] else "00"
    ws = "00" if k["ws"] is None or k["ws"] == 255 else k["ws"]
    return f"{k['window']}_{kinds}_{mss}_{ws}"


def ipid_class(ids):
    pairs = len(ids) - 1
    if pairs <= 0:
        return ""
    steps = [(b - a) & 0xFFFF for a, b in zip(ids, ids[1:])]
    equal = sum(1 for d in steps if d == 0)
    small = sum(1 for d in steps if 1 <= d <= 1024)
    if equal == pairs:
        return "constant"
    if small == pairs:
        return "incrementing"
    if equal <= pairs // 4096 and small <= pairs // 16 + 1:
        return "random"
    return "mixed"


# Traffic tags (README "Traffic tags"), from the rule table's wording.
TAG_NAMES = ["spoofed", "erratic", "unroutable", "large-scale-scan"]
NORMAL_FLAGS = {"S", "A", "R", "F", "SF", "SA", "FA", "AP", "FAP"}
SPECIAL = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
    "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001:2::/48", "2001:10::/28",
    "2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8")]


def flag_letters(flags):
    return "".join(c for c, bit in (("S", 2), ("F", 1), ("A", 16), ("R", 4), ("P", 8), ("U", 32))
                   if flags & bit)


def bittorrent(pl, ip_len, udp_len):
    w = [struct.unpack(">I", pl[i:i + 4])[0] if len(pl) >= i + 4 else None for i in range(0, 40, 4)]
    first = struct.unpack(">H", pl[:2])[0] if len(pl) >= 2 else None
    if udp_len >= 20 and len(pl) >= 12 and pl[:4] in (b"d1:a", b"d1:r") and pl[4:12] == b"d2:id20:":
        return True
    if udp_len >= 48 and len(pl) >= 40 and pl[20:40] == b"\x13BitTorrent protocol":
        return True
    if ip_len >= 58 and first in (0x4102, 0x2102, 0x3102, 0x1102) and len(pl) >= udp_len - 8 \
            and len(pl) >= 10 and pl[-10:] == b"\x00\x08" + bytes(8):
        return True
    if ip_len == 48 and first in (0x4100, 0x2100, 0x3102, 0x1100):
        return True
    return ip_len == 61 and len(pl) >= 32 and w[3:8] == [0x7FFFFFFF, 0xAB020400, 0x01000000,
                                                       0x08000000, 0]


def traffic_tags(d, sec):
    """The tags of one decoded packet, as a set of names."""
    v, proto, traffic, ttl = d["version"], d["proto"], d["traffic"], d["ttl"]
    tcp, udp = 11 <= traffic <= 15, traffic == 16
    icmp = proto == (1 if v == 4 else 58)
    sport, dport, pl, ip_len = d["sport"], d["dport"], d["payload"], d["ip_len"]
    large = tcp and d["flags"] & 0x12 == 0x02 and d["optlen"] == 0 and ttl >= 200 \
        and d["window"] == 1024
    is_masscan = v == 4 and traffic in (11, 16) and masscan(d, sec)
    normal = (6, 17, 1, 41) if v == 4 else (6, 17, 58)
    spoofed = [
        proto not in normal or (tcp and flag_letters(d["flags"] & 0x3F) not in NORMAL_FLAGS),
        not icmp and ttl >= 200 and not large and not is_masscan,
        d["fragment"],
        v == 4 and d["src"] & 0xFF == 0,
        v == 4 and d["src"] & 0xFF == 0xFF,
        d["src"] == d["dst"],
        udp and 0 in (sport, dport),
        tcp and 0 in (sport, dport),
        udp and dport == 80,
    ]
    erratic = [
        not icmp and ttl >= 200,
        udp and ip_len == 58 and pl[:10] == bytes(8) + b"\x31\x00",
        udp and sport == 5060 and dport == 5060 and pl[:7] == b"SIP/2.0",
        udp and v == 4 and ip_len in (96, 1500),
        (tcp or udp) and 53 in (sport, dport),
        tcp and bool({23, 80, 5000} & {sport, dport}),
        udp and ip_len > 42 and len(pl) >= 12 and struct.unpack(">H", pl[2:4])[0] & 0xFFF0 == 0x8180
        and all(c < 10 for c in struct.unpack(">HHHH", pl[4:12])),
        udp and sport == 137 and dport == 137 and ip_len > 48 and pl[12:20] == b" CKAAAAA",
        (udp and sport == 53) or (tcp and (d["flags"] & 0x12 == 0x12 or d["flags"] & 4 != 0))
        or (icmp and d["icmp_type"] in ((0, 3, 4, 5, 11, 12, 14, 16, 18) if v == 4
                                        else (129, 1, 137, 3, 4))),
        udp and bittorrent(pl, ip_len, d["udp_len"]),
    ]
    out = set()
    if any(spoofed):
        out |= {"spoofed", "erratic"}
    if any(erratic):
        out.add("erratic")
    src = ipaddress.IPv4Address(d["src"]) if v == 4 else ipaddress.IPv6Address(d["src"])
    if any(src in n for n in SPECIAL if n.version == v):
        out.add("unroutable")
    if large:
        out.add("large-scale-scan")
    return out


def rfc3339(sec, nsec):
    t = datetime.fromtimestamp(sec, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{t}.{nsec:09d}Z"


M32 = 0xFFFFFFFF


def mix(h):
    """The 32-bit finaliser (murmur3's fmix32)."""
    h &= M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def event_seed(seed, version, src, traffic, port):
    k1 = (traffic << 16) | port
    if version == 4:
        return mix(seed ^ mix(src ^ mix(k1)))
    w = [(src >> (96 - 32 * i)) & M32 for i in range(4)]
    return mix(seed ^ mix(w[0] ^ mix(w[1] ^ mix(w[2] ^ mix(w[3] ^ mix(k1))))))


def hash_dest6(dst):
    w = [(dst >> (96 - 32 * i)) & M32 for i in range(4)]
    return mix(w[0] ^ mix(w[1] ^ mix(w[2] ^ mix(w[3]))))


def packet_rank(event_seed_, sec, nsec, dst, caplen):
    """A packet's rank in its event: the samples are the lowest ranks (ties: the earlier packet)."""
    return mix(event_seed_ ^ mix(nsec ^ mix(dst ^ ((sec * 0x9E3779B1) & M32) ^ caplen)))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("captures", nargs="+")
    a.add_argument("--timeout", type=float, default=624)
    a.add_argument("--threshold", type=int, default=0)
    a.add_argument("--uniques", type=int, default=0)
    a.add_argument("--rate", type=float, default=0)
    a.add_argument("--telescope-size", type=int, default=475136)
    a.add_argument("--samples", type=int, default=0)
    a.add_argument("--seed", type=int, default=1)
    o = a.parse_args()
    timeout = int(o.timeout * 1e9)
    events = {}  # key (version, src, traffic, port) -> dict
    out = []
    pending = []
    latest = sweep_at = None

    def finish(key, e):
        duration = (e["last"] - e["first"]) / 1e9
        scale = 2 ** 32 / o.telescope_size if key[0] == 4 else 1
        rate = e["packets"] * scale / duration if duration > 0 else float("inf")
        if e["packets"] < o.threshold or len(e["dests"]) < o.uniques or rate < o.rate:
            return
        version, src, traffic, port = key
        name = NAMES[traffic]
        pending.append((e["last"], key, {
            "SourceIP": str(ipaddress.ip_address(src) if version == 4 else ipaddress.IPv6Address(src)),
            "Port": port, "Traffic": traffic,
            "First": rfc3339(*divmod(e["first"], 10 ** 9)),
            "Last": rfc3339(*divmod(e["last"], 10 ** 9)),
            "Packets": e["packets"], "Bytes": e["bytes"], "UniqueDests": len(e["dests"]),
            "UniqueDest24s": len({d >> (8 if version == 4 else 64) for d in e["dests"]}),
            "Zmap": e["syn4"] and e["zmap"], "Masscan": e["syn4"] and e["masscan"],
            "Mirai": e["syn4"] and e["mirai"],
            "TCP": name if 11 <= traffic <= 15 else "", "ICMP": name if traffic <= 10 else "",
            "Tools": {t[0]: [e["matched"][j], e["packets"]]
                      for j, t in enumerate(TOOLS) if e["matched"][j] > 0},
            "Tool": attribute(e["matched"]),
            "SynSignature": e["signature"],
            "IPIDClass": ipid_class(e["ids"]) if version == 4 else "",
            "Tags": {t: e["tags"][t] for t in TAG_NAMES if e["tags"].get(t)},
            "SampleFrames": [sha for _, _, sha in sorted(e["kept"], key=lambda x: x[1])],
        }))

    def attribute(matched):
        ok = [(m, t[0]) for m, t in zip(matched, TOOLS) if m >= t[3]]
        if not ok:
            return ""
        best = max(m for m, _ in ok)
        names = [n for m, n in ok if m == best]
        return names[0] if len(names) == 1 else ""

    def flush():
        # A sweep hands out what it ended and what gaps ended since the last one, by last packet,
        # then key (IPv4 before IPv6, source, traffic, port).
        out.extend(e for _, _, e in sorted(pending, key=lambda x: x[:2]))
        pending.clear()

    def sweep(now):
        for key in sorted(k for k, e in events.items() if now - e["last"] > timeout):
            finish(key, events.pop(key))
        flush()

    for sec, nsec, frame in (p for c in o.captures for p in packets(c)):
        d = decode(frame)
        if d is None:
            continue
        version, src, dst, traffic, port = (d[x] for x in ("version", "src", "dst", "traffic", "port"))
        ip_id, seq, dport = d["ip_id"], d["seq"], d["dport"]
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
                               "masscan": True, "mirai": True, "kept": [], "n": 0,
                               "seed": event_seed(o.seed, version, src, traffic, port),
                               "matched": [0] * len(TOOLS), "prev": [None] * len(TOOLS),
                               "signature": signature(d) if traffic == 11 else "", "ids": [],
                               "tags": {}}
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
        if o.samples > 0:
            d6 = hash_dest6(dst) if version == 6 else dst
            r = packet_rank(e["seed"], sec, nsec, d6, len(frame))
            cand = (r, e["n"])
            if len(e["kept"]) < o.samples or cand < max(x[:2] for x in e["kept"]):
                e["kept"].append((r, e["n"], hashlib.sha1(frame).hexdigest()))
                e["kept"] = sorted(e["kept"])[:o.samples]
        e["n"] += 1
        for t in traffic_tags(d, sec):
            e["tags"][t] = e["tags"].get(t, 0) + 1
        if version == 4:
            e["ids"].append(ip_id)
        for j, (_, traffic_of, v6_too, _, test, value) in enumerate(TOOLS):
            if traffic not in traffic_of or (version == 6 and not v6_too) or not test(d, sec):
                continue
            if value is None:
                e["matched"][j] += 1
                continue
            v = value(d)
            prev = e["prev"][j]
            if prev is not None and prev[0] == v and prev[1] != d["dst_word"]:
                e["matched"][j] += 1
            e["prev"][j] = (v, d["dst_word"])
    if latest is not None:
        sweep(latest)  # end of input: the idle ones are finished first
    for key in sorted(events):
        finish(key, events[key])
    flush()
    for e in out:
        print(json.dumps(e))


if __name__ == "__main__":
    sys.exit(main())
