#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/bench_delay.sh - the delayed path, sourced by bench.sh and
# compare.sh after tests/lab/lab.sh and lab_up: delay_relay in SERVER in
# front of sshd, and the ssh alias "labslow" for it.

# bench_delay_up DELAY_MS PORT RELAY: start the relay (RELAY: the tree's
# build; when it is missing, compiled here, for an installed cshuttle has
# no build tree next to it) with DELAY_MS each way on PORT.
bench_delay_up() {
	local delay=$1 port=$2 relay=$3 src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/delay_relay.c
	if [[ ! -x $relay ]]; then
		relay=$LAB_DIR/delay_relay
		cc -O2 -Wall -o "$relay" "$src" ||
		    lab_die "cannot compile bench/delay_relay.c"
	fi
	ip netns exec "$LAB_NS_S" "$relay" -d "$delay" \
	    "198.18.0.2:$port" 198.18.0.2:22 \
	    </dev/null >>"$LAB_DIR/delay_relay.log" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 lab_listening "$LAB_NS_S" "$port" ||
	    lab_die "delay_relay did not start: $(cat "$LAB_DIR/delay_relay.log")"
	# Appended after "Host *": that block sets neither HostName nor Port.
	printf 'Host labslow\n\tHostName 198.18.0.2\n\tPort %s\n' "$port" \
	    >>"$LAB_SSHCFG"
	echo "[198.18.0.2]:$port $(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")" \
	    >>"$LAB_DIR/known_hosts"
}
