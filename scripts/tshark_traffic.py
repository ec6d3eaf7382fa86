#!/usr/bin/env python3
# Regenerates testdata/expected/tshark_traffic.txt: per-file traffic-code counts computed from
# tshark's own dissection (first IP layer, no reassembly), for tests/decode/tshark_agreement_test.ts.
# Usage: python3 scripts/tshark_traffic.py $(cat testdata/expected/tshark_files.txt) > testdata/expected/tshark_traffic.txt
import subprocess, sys
# Classify each frame from tshark's own decoding (first IP layer only), into Merit's codes.
F=["frame.protocols","ip.frag_offset","ip.proto","ipv6.nxt","tcp.flags","icmp.type","icmpv6.type","ipv6.fraghdr.offset"]
ICMP4={8:0,0:1,3:2,4:3,5:4,11:5,12:6,14:7,16:8,18:9}
ICMP6={128:0,129:1,1:2,137:4,3:5,4:6}
def first(x): return x.split(",")[0] if x else ""
for f in sys.argv[1:]:
    out=subprocess.run(["tshark","-r",f,"-n","-o","ip.defragment:FALSE","-o","ipv6.defragment:FALSE","-T","fields"]+sum([["-e",x] for x in F],[]),capture_output=True,text=True).stdout
    c=[0]*18; nonip=0
    for line in out.splitlines():
        protos,frag,ipp,nxt,flags,it,i6t,f6=(line.split("\t")+[""]*8)[:8]
        pl=protos.split(":")
        l3=next((p for p in pl if p in("ip","ipv6")),None)
        if l3 is None: nonip+=1; continue
        after=pl[pl.index(l3)+1:]
        nxtp = after[0] if after else ""
        # skip ipv6 extension header names
        while nxtp in ("ipv6.hopopts","ipv6.routing","ipv6.dstopts","ipv6.fraghdr","ah") and after:
            after=after[1:]; nxtp=after[0] if after else ""
        if l3=="ip" and first(frag) not in ("","0"): c[17]+=1; continue
        if l3=="ipv6" and first(f6) not in ("","0"): c[17]+=1; continue
        if nxtp=="tcp" and flags:
            fl=int(first(flags),16)&0x1ff
            c[{0x002:11,0x012:12,0x010:13,0x004:14}.get(fl,15)]+=1
        elif nxtp=="udp": c[16]+=1
        elif nxtp=="icmp" and l3=="ip" and it: c[ICMP4.get(int(first(it)),10)]+=1
        elif nxtp=="icmpv6" and l3=="ipv6" and i6t: c[ICMP6.get(int(first(i6t)),10)]+=1
        else: c[17]+=1
    print(f.replace("testdata/",""), ",".join(map(str,c)), "nonip=%d"%nonip)
