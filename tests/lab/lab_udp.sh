# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_udp.sh - the UDP extra of the lab (sourced by lab.sh): UDP services
# (tests/integration/udp_tool.c) and what the UDP tests look at: the
# server-side leak counters, the policy routing of the TPROXY capture and
# the tunnel's UDP counters.
#
# lab_udp_up (after lab_up) starts, on every address (IPv4 and IPv6):
#
#   PRIV    7005  echo: answers "seen IP PORT" (the source it saw) and the
#                 datagram; logs "src IP PORT dst IP PORT" to
#                 $LAB_DIR/udpecho.log
#           7006  sink: counts numbered datagrams (udp_tool blast) and
#                 answers the blaster's end marker with its summary; its
#                 lines also go to $LAB_DIR/udpsink.log
#           7007  a receiver that never reads (its buffer fills)
#   SERVER  7005  echo (log $LAB_DIR/udpecho-server.log)
#
# Nothing listens on UDP port 7099 anywhere (a closed port: ICMP port
# unreachable), and SERVER has no route to 198.19.9.0/24 (a destination
# the remote side cannot reach).
#
# lab_udp_leak_watch: an nft table in SERVER (labudp_<id>) whose counters
# count the UDP packets SERVER receives from CLIENT's addresses (198.18.0.1,
# fd5e:0:0:1::1): with UDP carried by the tunnel there are none, anything
# counted went around it.  lab_udp_leaks prints the count since the start
# or the last lab_udp_leak_reset.
#
# The capture's policy routing (docs/PROTOCOL.md section 10, firewall):
# per listener port P an `ip rule` "fwmark 0x6375PPPP lookup 0x6375PPPP"
# per family, and a "local default dev lo" route in that table.
# lab_udp_mark P prints that number in hex; lab_udp_rules [P] the rules of
# CLIENT (of P, or all of cshuttle's range); lab_udp_routes [P] the routes
# in those tables; lab_udp_fw_left what is left of either.

# shellcheck disable=SC2034  # for the tests
LAB_UDP_TOOL=
LAB_UDP_ECHO=7005
LAB_UDP_SINK=7006
LAB_UDP_HOLE=7007
LAB_UDP_CLOSED=7099

# The udp_tool binary: $CSHUTTLE_UDP_TOOL (ctest sets it), the build
# tree's next to $CSHUTTLE_BIN, or compiled into the lab directory.
lab_udp_tool() {
	local t
	[[ -n $LAB_UDP_TOOL ]] && return 0
	for t in "${CSHUTTLE_UDP_TOOL:-}" \
	    "$(dirname "${CSHUTTLE_BIN:-.}")/../tests/integration/udp_tool"; do
		if [[ -n $t && -x $t ]]; then
			LAB_UDP_TOOL=$t
			return 0
		fi
	done
	lab_need cc gcc
	cc -O2 -Wall -o "$LAB_DIR/udp_tool" "$LAB_SRC/../integration/udp_tool.c" ||
	    return 1
	LAB_UDP_TOOL=$LAB_DIR/udp_tool
}

# lab_udp_serve NS TAG MODE PORT [ARGS...]: udp_tool MODE on every address
# of NS, stdout to $LAB_DIR/TAG.out; waits until it is bound.
lab_udp_serve() {
	local ns=$1 tag=$2 mode=$3 port=$4
	shift 4
	ip netns exec "$ns" "$LAB_UDP_TOOL" "$mode" '*' "$port" \
	    --ready "$LAB_DIR/$tag.ready" "$@" </dev/null \
	    >>"$LAB_DIR/$tag.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 test -e "$LAB_DIR/$tag.ready"
}

lab_udp_up() {
	lab_udp_tool || return 1
	: >"$LAB_DIR/udpecho.log"
	: >"$LAB_DIR/udpsink.log"
	lab_udp_serve "$LAB_NS_P" udpecho echo $LAB_UDP_ECHO \
	    --log "$LAB_DIR/udpecho.log" || return 1
	lab_udp_serve "$LAB_NS_P" udpsink sink $LAB_UDP_SINK \
	    --log "$LAB_DIR/udpsink.log" || return 1
	lab_udp_serve "$LAB_NS_P" udphole sink $LAB_UDP_HOLE --no-read || return 1
	lab_udp_serve "$LAB_NS_S" udpecho-server echo $LAB_UDP_ECHO \
	    --log "$LAB_DIR/udpecho-server.log" || return 1
	lab_say "UDP services are up (udp_tool $LAB_UDP_TOOL)"
}

# lab_udp_ask [-n NS] ADDR PORT [udp_tool ask options]: ask from CLIENT
# (or NS); prints udp_tool's lines.
lab_udp_ask() {
	local ns=$LAB_NS_C
	if [[ $1 == -n ]]; then
		ns=$2
		shift 2
	fi
	ip netns exec "$ns" "$LAB_UDP_TOOL" ask "$@"
}

# lab_udp_seen OUTPUT DST PORT: the "IP PORT" the echo saw for the
# exchange with DST PORT in lab_udp_ask's OUTPUT (empty if none).
lab_udp_seen() {
	awk -v d="$2" -v p="$3" '$1 == d && $2 == p && $3 == "seen" { print $4, $5; exit }' <<<"$1"
}

# lab_udp_result OUTPUT DST PORT: "seen", "timeout", "error ENAME" or
# "bad ..." for that exchange.
lab_udp_result() {
	awk -v d="$2" -v p="$3" '$1 == d && $2 == p {
		if ($3 == "error" || $3 == "bad") print $3, $4; else print $3; exit }' <<<"$1"
}

# lab_udp_blast [-n NS] ADDR PORT [udp_tool blast options]: prints the
# blaster's line and the sink's.
lab_udp_blast() {
	local ns=$LAB_NS_C
	if [[ $1 == -n ]]; then
		ns=$2
		shift 2
	fi
	ip netns exec "$ns" "$LAB_UDP_TOOL" blast "$@"
}

# Indented lines of output, for the log: lab_udp_show <<<"$out".
lab_udp_show() { sed 's/^/    | /'; }

# lab_udp_loss SINKLINE: the loss in per cent in a sink summary line.
lab_udp_loss() { sed -n 's/.*(lost [0-9]*, \([0-9.]*\) %).*/\1/p' <<<"$1"; }

lab_udp_leak_watch() {
	local t=labudp_${LAB_ID}
	in_server nft -f - <<EOF
table inet $t {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 198.18.0.1 meta l4proto udp counter
		ip6 saddr fd5e:0:0:1::1 meta l4proto udp counter
	}
}
EOF
}

# The UDP packets SERVER received from CLIENT since lab_udp_leak_watch
# or lab_udp_leak_reset.
LAB_UDP_LEAK_BASE=0
lab_udp_leak_total() {
	in_server nft list table inet "labudp_${LAB_ID}" 2>/dev/null |
	    awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
	        END { print n + 0 }'
}
lab_udp_leaks() { echo $(($(lab_udp_leak_total) - LAB_UDP_LEAK_BASE)); }
lab_udp_leak_reset() { LAB_UDP_LEAK_BASE=$(lab_udp_leak_total); }

# lab_udp_mark P: the fwmark and table number of listener port P, in hex.
lab_udp_mark() { printf '0x6375%04x\n' "$1"; }

# lab_udp_rules [P]: CLIENT's ip rules (both families) with cshuttle's
# fwmarks (of port P only, with P), one a line, "4 RULE" or "6 RULE".
lab_udp_rules() {
	local fam re='fwmark 0x6375[0-9a-f]{4}'
	[[ -n ${1:-} ]] && re="fwmark $(lab_udp_mark "$1")"
	for fam in 4 6; do
		in_client ip -"$fam" rule show 2>/dev/null | grep -E "$re( |/|$)" |
		    sed "s/^/$fam /"
	done
}

# lab_udp_routes [P]: CLIENT's routes in cshuttle's tables (P's only).
lab_udp_routes() {
	local fam lo=$((0x63750000)) hi=$((0x6375ffff))
	if [[ -n ${1:-} ]]; then
		lo=$(($(lab_udp_mark "$1")))
		hi=$lo
	fi
	for fam in 4 6; do
		in_client ip -"$fam" route show table all 2>/dev/null |
		    awk -v lo="$lo" -v hi="$hi" -v f="$fam" '{
			for (i = 1; i < NF; i++)
				if ($i == "table" && $(i + 1) ~ /^[0-9]+$/ &&
				    $(i + 1) + 0 >= lo && $(i + 1) + 0 <= hi)
					print f, $0
		    }'
	done
}

# What is left of the capture's policy routing in CLIENT (empty: nothing).
lab_udp_fw_left() {
	lab_udp_rules ""
	lab_udp_routes ""
}
lab_udp_fw_clean() { [[ -z "$(lab_udp_fw_left)" ]]; }

# The listener port of the tunnel whose nft table is the only one, or
# of table NAME: cshuttle_<P>.
lab_udp_port() {
	lab_tables | awk '{ print $3 }' | sed -n 's/^cshuttle_\([0-9]*\)$/\1/p'
}

# lab_udp_status NAME [JQ]: the tunnel's status (--json), or one value;
# "?" when there is none.
lab_udp_status() {
	local j
	if ! j=$(in_client "$CSHUTTLE_BIN" status --json "$1" 2>/dev/null); then
		echo "?"
		return
	fi
	jq -r "${2:-.}" <<<"$j" 2>/dev/null || echo "?"
}

# lab_num_ge A B [N], lab_num_gt A B [N]: A and B are numbers and A >= B
# + N (A > B + N); N defaults to 0.
lab_num_ge() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && (($1 >= $2 + ${3:-0})); }
lab_num_gt() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && (($1 > $2 + ${3:-0})); }
