#!/usr/bin/env bash
# Records testdata/real-scanners/: a capture of real scanners and real backscatter arriving at a
# small darknet, and the ground truth for parse's events counted by tcpdump's own filters
# (libpcap BPF, independent of this project's decoder).
#
#   sudo scripts/record_real_scanners.sh [OUTDIR]     (default testdata/real-scanners)
#
# Two network namespaces joined by a veth pair: "scan" (10.250.0.1/24) runs ZMap, Masscan, nmap
# and hping3; "dark" (10.250.0.254) routes 198.18.0.0/24 (RFC 2544 benchmarking space), where
# only 198.18.0.1 is a live host: a TCP listener on port 80, ports 81 and 82 closed, UDP 9999
# closed. hping3 sends it SYNs, ACKs and UDP from random spoofed sources, so its kernel answers
# those sources with SYN-ACKs (port 80), RST+ACKs (SYN to 81), bare RSTs (ACK to 82) and ICMP port
# unreachables: real backscatter. tcpdump on the darknet side
# captures both directions. Nothing leaves the namespaces (neither forwards).
#
# hping3's random sources include reserved addresses (0/8, 127/8, 224/3) that the kernel does
# not answer, so the backscatter holds a little fewer packets than were sent.
# Needs root and the Debian packages iproute2, tcpdump, zmap, masscan, nmap, hping3, and deno.
set -euo pipefail
out=${1:-testdata/real-scanners}
mkdir -p "$out"
pcap="$out/scanners.pcap"
S=dkn-scan
D=dkn-dark
tmp=$(mktemp -d)
cleanup() {
  set +e
  [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null
  [ -n "${capture:-}" ] && kill "$capture" 2>/dev/null
  ip netns del "$S" 2>/dev/null
  ip netns del "$D" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$D"
ip link add dkns type veth peer name dknd
ip link set dkns netns "$S"
ip link set dknd netns "$D"
ip -n "$S" addr add 10.250.0.1/24 dev dkns
ip -n "$D" addr add 10.250.0.254/24 dev dknd
ip -n "$D" addr add 198.18.0.1/32 dev lo
for ns in "$S" "$D"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set dkns up
ip -n "$D" link set dknd up
gw_mac=$(ip netns exec "$D" cat /sys/class/net/dknd/address)
ip -n "$S" neigh add 10.250.0.254 lladdr "$gw_mac" dev dkns nud permanent
ip -n "$S" route add 198.18.0.0/24 via 10.250.0.254 dev dkns
ip -n "$D" route add default via 10.250.0.1 dev dknd
# One answer per probe: no SYN-ACK retransmissions, no ICMP rate limit.
ip netns exec "$D" sysctl -q net.ipv4.tcp_synack_retries=0 net.ipv4.icmp_ratelimit=0

ip netns exec "$D" deno eval \
  'for await (const c of Deno.listen({ hostname: "198.18.0.1", port: 80 })) c.close();' &
listener=$!
rm -f "$pcap"
ip netns exec "$D" tcpdump -i dknd -U -s 262144 -w "$pcap" 2>/dev/null &
capture=$!
sleep 2

: >"$tmp/empty.conf"
run() { ip netns exec "$S" "$@" >/dev/null 2>&1; }
# ZMap: TCP SYN to port 80 and ICMP echo, from two source addresses.
run zmap -i dkns -S 10.250.0.11 -G "$gw_mac" -p 80 -r 2000 -b "$tmp/empty.conf" -c 1 -o /dev/null 198.18.0.0/24
run zmap -i dkns -S 10.250.0.14 -G "$gw_mac" -M icmp_echoscan -r 2000 -b "$tmp/empty.conf" -c 1 -o /dev/null 198.18.0.0/24
# Masscan: two ports.
run masscan 198.18.0.0/24 -p23,8080 --adapter dkns --adapter-ip 10.250.0.12 --router-mac "$gw_mac" --rate 2000 --wait 1
# nmap SYN scan (no fingerprint), from the interface's own address.
run nmap -sS -n -Pn -p 22 --max-retries 0 -T5 198.18.0.0/24
# hping3 from random spoofed sources: SYNs to the open port, SYNs to a closed one, UDP to a closed one.
run hping3 -S -p 80 --rand-source -c 200 -i u2000 198.18.0.1
run hping3 -S -p 81 --rand-source -c 200 -i u2000 198.18.0.1
run hping3 -A -p 82 --rand-source -c 200 -i u2000 198.18.0.1
run hping3 -2 -p 9999 --rand-source -c 200 -i u2000 198.18.0.1
sleep 1
kill "$capture"
wait "$capture" 2>/dev/null || true
capture=

# Ground truth per event, from tcpdump's filters alone.
count() { tcpdump -nr "$pcap" "$1" 2>/dev/null | wc -l; }
dests() { tcpdump -nr "$pcap" "$1" 2>/dev/null | awk '{print $5}' | cut -d. -f"$2" | tr -d : | sort -u | wc -l; }
stamp() { tcpdump -tt -nr "$pcap" "$1" 2>/dev/null | sed -n "$2" | awk '{print $1}'; }
bytes() { tcpdump -e -nr "$pcap" "$1" 2>/dev/null | sed -E 's/.*, length ([0-9]+):.*/\1/' | awk '{s += $1} END {print s + 0}'; }
same() { [ "$(count "$1 and ($2)")" -eq "$(count "$1")" ] && echo true || echo false; }
SYN='tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst|tcp-fin) == tcp-syn'
ZMAP='ip[4:2] == 54321'
MASSCAN='ip[4:2] == ((ip[16:4] ^ tcp[2:2] ^ tcp[4:4]) & 0xffff)'
MIRAI='tcp[4:4] == ip[16:4]'
RST='tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst|tcp-fin) == tcp-rst'
RSTACK='src host 198.18.0.1 and tcp[tcpflags] & (tcp-rst|tcp-ack) == (tcp-rst|tcp-ack)'
event() { # name, source, traffic code, port, filter, tcp-syn?
  local f=$5 z=false m=false r=false
  if [ "$6" = syn ]; then z=$(same "$f" "$ZMAP"); m=$(same "$f" "$MASSCAN"); r=$(same "$f" "$MIRAI"); fi
  printf '  {"name": "%s", "filter": "%s", "SourceIP": "%s", "Traffic": %s, "Port": %s, "Packets": %s, "Bytes": %s, "UniqueDests": %s, "UniqueDest24s": %s, "First": "%s", "Last": "%s", "Zmap": %s, "Masscan": %s, "Mirai": %s}' \
    "$1" "$f" "$2" "$3" "$4" "$(count "$f")" "$(bytes "$f")" "$(dests "$f" 1-4)" "$(dests "$f" 1-3)" \
    "$(stamp "$f" 1p)" "$(stamp "$f" '$p')" "$z" "$m" "$r"
}
{
  echo "{"
  # A closed port answers a SYN with RST+ACK (to hping3's SYNs on port 81, and to the scanners'
  # probes of 198.18.0.1): as in Merit's tool that is TCPOther, keyed by the destination port
  # (the prober's source port), not TCPRST (RST alone).
  printf '"rstAck": {"filter": "%s", "packets": %s},\n' "$RSTACK" "$(count "$RSTACK")"
  echo '"events": ['
  event "ZMap TCP SYN" 10.250.0.11 11 80 "src host 10.250.0.11 and tcp dst port 80 and $SYN" syn
  echo ","
  event "ZMap ICMP echo" 10.250.0.14 0 0 "src host 10.250.0.14 and icmp[icmptype] == icmp-echo" no
  echo ","
  event "Masscan port 23" 10.250.0.12 11 23 "src host 10.250.0.12 and tcp dst port 23 and $SYN" syn
  echo ","
  event "Masscan port 8080" 10.250.0.12 11 8080 "src host 10.250.0.12 and tcp dst port 8080 and $SYN" syn
  echo ","
  event "nmap SYN" 10.250.0.1 11 22 "src host 10.250.0.1 and tcp dst port 22 and $SYN" syn
  echo ","
  event "SYN-ACK backscatter" 198.18.0.1 12 80 "src host 198.18.0.1 and tcp src port 80 and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)" no
  echo ","
  event "RST backscatter" 198.18.0.1 14 82 "src host 198.18.0.1 and tcp src port 82 and $RST" no
  echo ","
  event "ICMP unreachable backscatter" 198.18.0.1 2 0 "src host 198.18.0.1 and icmp[icmptype] == icmp-unreach" no
  echo
  echo "]}"
} >"$out/expected.json"
{
  echo "Recorded $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/record_real_scanners.sh with:"
  for t in zmap masscan nmap hping3 tcpdump; do
    printf '  %s %s\n' "$t" "$(dpkg-query -W -f='${Version}' "$t" 2>/dev/null)"
  done
  echo "  Linux $(uname -r) (the backscatter's TCP/IP stack)"
} >"$out/RECORDED.txt"
echo "wrote $pcap ($(count '') packets), $out/expected.json"
