#!/bin/bash
# SPDX-License-Identifier: ISC
#
# udp_test.sh builtin|ext - UDP through the tunnel (docs/PROTOCOL.md section
# 10): datagrams to the forwarded subnets reach the private network, IPv4
# and IPv6, from the SSH server's address, one source port per local
# socket (one local socket talking to two destinations keeps its port, two
# sockets get two); large datagrams; a checked bulk transfer with its loss;
# 1,000 flows at once; datagrams to a closed port or to an address the
# remote cannot reach are dropped and counted while that flow and the
# others carry on; ports and excludes are honoured as for TCP; idle flows
# time out (--udp-timeout) and leave `cshuttle status`; --max-udp-flows
# bounds the flows open at once; a local program holding the port of a
# tunnelled destination neither breaks the replies nor receives them; the
# capture's ip rules and routes go with cshuttle.
# (Services: lab_udp_up, tests/lab/lab_udp.sh.)

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need jq jq
lab_up
lab_udp_up || lab_die "the UDP services did not start"

E=$LAB_UDP_ECHO
name=udp
st() { lab_udp_status "$name" "$1"; }
# The datagrams the tunnel counted as dropped, whatever the reason.
drops() { st '[.udp // {} | paths(numbers) as $p | select($p | map(tostring) | join(".") | test("drop")) | getpath($p)] | add // 0'; }

# ask_ok DESC EXPECTED_SOURCE_IP ADDR PORT [ask options]: the echo answers,
# and saw EXPECTED_SOURCE_IP; the output is left in $out.
ask_ok() {
	local desc=$1 want=$2 dst=$3 port=$4 seen
	shift 4
	out=$(lab_udp_ask "$dst" "$port" "$@")
	seen=$(lab_udp_seen "$out" "$dst" "$port")
	check_eq "$desc" "$want" "${seen% *}"
}

lab_say "without cshuttle"
out=$(lab_udp_ask 198.19.0.2 "$E" --wait 1)
check_eq "UDP to 198.19.0.2:$E gets no answer (PRIV is reachable only through SSH)" \
    timeout "$(lab_udp_result "$out" 198.19.0.2 "$E")"

lab_say "cshuttle -r labhost 198.19.0.0/16 fd5e:0:0:2::/63"
start_cshuttle --name $name -r labhost 198.19.0.0/16 fd5e:0:0:2::/63 ||
    lab_die "cshuttle did not start"
P=$(lab_udp_port)
check "the listener port is known from the nft table (cshuttle_$P)" test -n "$P"

check_eq "status: udp is reported, no flow yet" 0 "$(st .udp.flows)"

ask_ok "IPv4: the echo at 198.19.0.2 answers, and saw the SSH server's 198.19.0.1" \
    198.19.0.1 198.19.0.2 "$E"
lab_udp_show <<<"$out"
ask_ok "IPv6: the echo at [fd5e:0:0:2::2] answers, and saw the SSH server's fd5e:0:0:2::1" \
    fd5e:0:0:2::1 fd5e:0:0:2::2 "$E"
lab_udp_show <<<"$out"
check "the echo's log has both" eval 'grep -q "^src 198.19.0.1 [0-9]* dst 198.19.0.2 $E\$" "$LAB_DIR/udpecho.log" &&
    grep -q "^src fd5e:0:0:2::1 [0-9]* dst fd5e:0:0:2::2 $E\$" "$LAB_DIR/udpecho.log"'

lab_say "source ports: one per local socket"
o1=$(lab_udp_ask 198.19.0.2 "$E")
o2=$(lab_udp_ask 198.19.0.2 "$E")
p1=$(lab_udp_seen "$o1" 198.19.0.2 "$E")
p2=$(lab_udp_seen "$o2" 198.19.0.2 "$E")
check "two local sockets: two source ports on the remote network ($p1, $p2)" \
    eval '[[ -n ${p1#* } && -n ${p2#* } && ${p1#* } != "${p2#* }" ]]'
out=$(lab_udp_ask 198.19.0.2 "$E" --to 198.19.1.1 "$E" --to 198.19.0.2 "$E")
lab_udp_show <<<"$out"
a=$(lab_udp_seen "$out" 198.19.0.2 "$E")
b=$(lab_udp_seen "$out" 198.19.1.1 "$E")
check "one local socket, two destinations: both answer ($a; $b)" \
    eval '[[ -n $a && -n $b ]]'
check_eq "one local socket, two destinations: both saw the same source" "$a" "$b"
check "and the echo's log says so (one port for 198.19.0.2 and 198.19.1.1)" \
    eval '[[ $(grep -c "^src $a dst 198.19.1.1 $E\$" "$LAB_DIR/udpecho.log") == 1 &&
        $(grep -c "^src $a dst 198.19.0.2 $E\$" "$LAB_DIR/udpecho.log") == 2 ]]'
out=$(lab_udp_ask fd5e:0:0:2::2 "$E" --to fd5e:0:0:3::1 "$E")
a=$(lab_udp_seen "$out" fd5e:0:0:2::2 "$E")
b=$(lab_udp_seen "$out" fd5e:0:0:3::1 "$E")
check "IPv6, one local socket, two destinations: the same source ($a; $b)" \
    eval '[[ -n $a && $a == "$b" ]]'

lab_say "datagram sizes"
for size in 1 1400 8000 30000; do
	ask_ok "IPv4, a $size-byte datagram and its echo" 198.19.0.1 198.19.0.2 "$E" --size $size
done
ask_ok "IPv6, a 30000-byte datagram and its echo" fd5e:0:0:2::1 fd5e:0:0:2::2 "$E" --size 30000
d0=$(drops)
out=$(lab_udp_ask 198.19.0.2 "$E" --size 40000 --wait 1)
check_eq "a 40000-byte datagram (longer than a frame) is not carried" timeout \
    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
ask_ok "and the next one is" 198.19.0.1 198.19.0.2 "$E"
check "status counts it as dropped ($d0 -> $(drops))" eval 'lab_num_gt "$(drops)" "$d0"'

lab_say "bulk: numbered datagrams, checked by the sink"
out=$(lab_udp_blast 198.19.0.2 "$LAB_UDP_SINK" --size 1000 --rate 5000 --seconds 4)
lab_udp_show <<<"$out"
sink=$(grep '^sink: run' <<<"$out")
check "IPv4, 20,000 x 1000 bytes at 5,000/s: the sink's summary came back" test -n "$sink"
loss=$(lab_udp_loss "$sink")
check "loss ${loss:-?} % is under 1 %" awk -v l="${loss:-100}" 'BEGIN { exit !(l < 1) }'
check "no datagram corrupt or duplicated" eval '[[ $sink == *"duplicates 0, corrupt 0,"* ]]'
out=$(lab_udp_blast fd5e:0:0:2::2 "$LAB_UDP_SINK" --size 1200 --rate 5000 --seconds 2)
lab_udp_show <<<"$out"
sink=$(grep '^sink: run' <<<"$out")
loss=$(lab_udp_loss "$sink")
check "IPv6, 10,000 x 1200 bytes: loss ${loss:-?} % under 1 %, none corrupt" \
    eval 'awk -v l="${loss:-100}" "BEGIN { exit !(l < 1) }" && [[ $sink == *"corrupt 0,"* ]]'

lab_say "1,000 flows at once"
t0=$(st .udp.total)
f0=$(st .udp.flows)
out=$(in_client "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 1000 --wait 30)
lab_say "$out"
check "1,000 sockets: each answered, each seen with a source port of its own" \
    eval '[[ $out == "answered 1000 of 1000, distinct source ports 1000, ports changed 0,"* ]]'
check "status: at least 1,000 flows open ($(st .udp.flows))" eval 'lab_num_ge "$(st .udp.flows)" 1000'
# A new socket may get the port of an earlier, closed one whose flow is
# still open: the same local address and port, so the same flow.
check "status: 1,000 more flows in all, but for those reused ($t0 -> $(st .udp.total), $f0 were open)" \
    eval 'lab_num_ge "$(st .udp.total)" "$t0" $((1000 - f0))'
check "status (text) shows the UDP flows" \
    eval 'in_client "$CSHUTTLE_BIN" status $name | grep -qi "udp"'
in_client "$CSHUTTLE_BIN" status $name | grep -i udp | sed 's/^/    | /'

lab_say "what cannot be delivered is dropped and counted; the flow carries on"
d0=$(drops)
out=$(lab_udp_ask 198.19.0.2 "$LAB_UDP_CLOSED" --to 198.19.0.2 "$E" --wait 1)
lab_udp_show <<<"$out"
check_eq "to closed port $LAB_UDP_CLOSED: no answer" timeout \
    "$(lab_udp_result "$out" 198.19.0.2 "$LAB_UDP_CLOSED")"
check_eq "the same socket (flow) then reaches the echo" seen \
    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
check "status counts the datagram that came back unreachable ($d0 -> $(drops))" \
    lab_wait_for 3 eval 'lab_num_gt "$(drops)" "$d0"'
d0=$(drops)
out=$(lab_udp_ask 198.19.9.9 "$E" --to 198.19.0.2 "$E" --wait 1)
lab_udp_show <<<"$out"
check_eq "to 198.19.9.9 (the remote has no route): no answer" timeout \
    "$(lab_udp_result "$out" 198.19.9.9 "$E")"
check_eq "the same socket (flow) then reaches the echo" seen \
    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
check "status counts it ($d0 -> $(drops))" lab_wait_for 3 eval 'lab_num_gt "$(drops)" "$d0"'
out=$(in_client "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 100 --wait 10)
check "100 other flows carry on ($out)" eval '[[ $out == "answered 100 of 100,"* ]]'
check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"

lab_say "the capture's policy routing (port $P, mark $(lab_udp_mark "$P"))"
check_eq "an ip rule per family: fwmark $(lab_udp_mark "$P") lookup the same table" 2 \
    "$(lab_udp_rules "$P" | grep -c "lookup $(($(lab_udp_mark "$P")))\|lookup $(lab_udp_mark "$P")")"
check "a local default route on lo in that table, per family" \
    eval '[[ $(lab_udp_routes "$P" | grep -c "local default dev lo") == 2 ]]'
lab_udp_fw_left | lab_udp_show

# A program here holding the wildcard address of the echo's port (no
# SO_REUSEADDR): a reply socket bound to 198.19.0.2:$E cannot be had, and
# the answer leaves through the helper's send channel instead.  The asks
# are connected sockets, so an answer proves it came from 198.19.0.2:$E.
lab_say "a local program on the port of a tunnelled destination (*:$E here)"
: >"$LAB_DIR/udpecho-local.log"
# The reply sockets of the flows above hold 198.19.0.2:$E for 2 s after
# their last answer, and a wildcard bind without SO_REUSEADDR fails while
# they do (README, "Known limits"): wait until they are gone.
check "the reply sockets of earlier answers from port $E close within 5 s" \
    lab_wait_for 5 eval '[[ -z $(in_client ss -Huan "sport = :$E") ]]'
lab_udp_serve "$LAB_NS_C" udpecho-local echo "$E" --log "$LAB_DIR/udpecho-local.log" ||
    lab_die "the local echo did not start"
lpid=${LAB_PIDS[-1]}
ask_ok "the local program answers at 127.0.0.1:$E" 127.0.0.1 127.0.0.1 "$E" --tries 3
ask_ok "the local program answers at [::1]:$E" ::1 ::1 "$E" --tries 3
ask_ok "IPv4: 198.19.0.2:$E still answers through the tunnel" \
    198.19.0.1 198.19.0.2 "$E" --tries 3
lab_udp_show <<<"$out"
ask_ok "IPv6: [fd5e:0:0:2::2]:$E still answers through the tunnel" \
    fd5e:0:0:2::1 fd5e:0:0:2::2 "$E" --tries 3
lab_udp_show <<<"$out"
check "the local program got only its own datagrams" \
    eval '! grep -qv "^src \(127\.0\.0\.1\|::1\) " "$LAB_DIR/udpecho-local.log"'
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
ask_ok "after it exits, 198.19.0.2:$E answers through the tunnel" \
    198.19.0.1 198.19.0.2 "$E" --tries 3
check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"

stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "no ip rule or route of the capture left" lab_wait_for 3 lab_udp_fw_clean
out=$(lab_udp_ask 198.19.0.2 "$E" --wait 1)
check_eq "UDP to 198.19.0.2 gets no answer again" timeout "$(lab_udp_result "$out" 198.19.0.2 "$E")"

lab_say "ports and excludes, as for TCP"
start_cshuttle --name "$name" -r labhost 198.19.0.0/16 -x 198.19.1.0/24 \
    '[fd5e:0:0:2::/64]:7006-7010' || lab_die "cshuttle did not start"
out=$(lab_udp_ask 198.19.1.1 "$E" --wait 1)
check_eq "198.19.1.1 (excluded) is not carried" timeout "$(lab_udp_result "$out" 198.19.1.1 "$E")"
ask_ok "198.19.0.2 is" 198.19.0.1 198.19.0.2 "$E"
out=$(lab_udp_ask fd5e:0:0:2::2 "$E" --wait 1)
check_eq "[fd5e:0:0:2::2]:$E (outside the port range 7006-7010) is not carried" timeout \
    "$(lab_udp_result "$out" fd5e:0:0:2::2 "$E")"
out=$(lab_udp_blast fd5e:0:0:2::2 "$LAB_UDP_SINK" --size 100 --rate 1000 --seconds 1)
check "[fd5e:0:0:2::2]:$LAB_UDP_SINK (in the range) is: $(grep '^sink:' <<<"$out")" \
    eval '[[ $out == *"sink: run "*"(lost 0, 0.00 %)"* ]]'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"

lab_say "idle flows time out: --udp-timeout 2; --max-udp-flows 50"
start_cshuttle --name "$name" --udp-timeout 2 --max-udp-flows 50 -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
ask_ok "the echo answers" 198.19.0.1 198.19.0.2 "$E"
in_client "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 10 >/dev/null
check_eq "status: 11 flows open" 11 "$(st .udp.flows)"
sleep 1
ask_ok "one more, a second later" 198.19.0.1 198.19.0.2 "$E"
check "the first 11 are gone within 4 s, the last one is not" \
    lab_wait_for 4 eval '[[ $(st .udp.flows) == 1 ]]'
check "status: no flow open 3 s after the last datagram" \
    lab_wait_for 4 eval '[[ $(st .udp.flows) == 0 ]]'
check_eq "status: 12 flows in all" 12 "$(st .udp.total)"
ask_ok "a new datagram opens a new flow" 198.19.0.1 198.19.0.2 "$E"
check_eq "status: 1 flow open" 1 "$(st .udp.flows)"
# 100 sockets against a limit of 50: never more than 50 flows open, and
# with the idle ones timing out, every socket gets its turn.
ip netns exec "$LAB_NS_C" "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 100 --wait 20 \
    </dev/null >"$LAB_DIR/flows100.out" 2>&1 &
fpid=$!
most=0
while lab_alive "$fpid"; do
	n=$(st .udp.flows)
	[[ $n =~ ^[0-9]+$ ]] && ((n > most)) && most=$n
	sleep 0.1
done
wait "$fpid"
check "--max-udp-flows 50: at most 50 flows open at once (most seen: $most)" \
    eval '((most > 0 && most <= 50))'
check "every socket got its answer in turn ($(cat "$LAB_DIR/flows100.out"))" \
    grep -q "^answered 100 of 100," "$LAB_DIR/flows100.out"
check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle KILL
check "SIGKILL: no table left" assert_no_tables
check "SIGKILL: no ip rule or route of the capture left within 3 s" \
    lab_wait_for 3 lab_udp_fw_clean
lab_udp_fw_left | lab_udp_show

lab_finish
