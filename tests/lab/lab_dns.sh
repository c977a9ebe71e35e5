# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_dns.sh - DNS servers for the lab (sourced by lab.sh).
#
# lab_dns_up (after lab_up; for the --dns tests and the benchmark): three
# dnsmasq servers that never ask anybody else (--no-resolv --no-hosts) and
# answer only from their command lines.  LAB_DNS_QUIET=1 leaves out the
# query logs (the benchmark's millions of queries).
#
#   PRIV   198.19.0.2, fd5e:0:0:2::2   the remote side's resolver: SERVER's
#          port 53, UDP and TCP        resolv.conf names it, so whatever
#                                      sshd starts (the stub) asks it.
#            secret.lab.internal    A     198.19.0.2
#            www.lab.internal       A     198.19.0.2
#                                   AAAA  fd5e:0:0:2::2
#            big.lab.internal       TXT   $LAB_DNS_BIG_N strings of 247
#                                         bytes (lab_dns_big_txt): more than
#                                         any UDP answer may carry, so UDP
#                                         answers are truncated (TC)
#            public.example         A     198.19.0.77
#            notlab.internal        A     198.19.0.78
#            q1..q$LAB_DNS_QN.lab.internal  A  198.19.3.N
#            198.19.0.50            PTR   neighbour.lab.internal (no A:
#                                         only a reverse lookup finds it;
#                                         for auto-hosts)
#            fd5e:0:0:2::50         PTR   neighbour6.lab.internal (likewise,
#                                         an IPv6 neighbour)
#            seeded.lab.internal    A     198.19.0.61 (for --seed-hosts)
#                                   AAAA  fd5e:0:0:2::61
#            198.19.0.62            PTR   seedaddr.lab.internal (no A: a
#                                         --seed-hosts address)
#            anything else under lab.internal or example: NXDOMAIN
#   PRIV   198.19.1.1 port 5353        a second resolver (--to-ns ip:port):
#            secret.lab.internal    A     198.19.1.53
#   PRIV   $LAB_DNS_SILENT (198.19.1.2) reads DNS queries and never
#          answers; at $LAB_DNS_REFUSED (198.19.1.3) nothing listens on
#          port 53 (ICMP port unreachable): dead resolvers.
#   CLIENT 127.0.0.53 port 53          the local resolver, where
#                                      systemd-resolved would listen; CLIENT's
#                                      resolv.conf names it.  Other answers
#                                      for the same names:
#            secret.lab.internal    A     203.0.113.66
#            public.example         A     198.18.0.77
#            notlab.internal        A     198.18.0.78
#            sshgw.lab.test         A     198.18.0.2 (the SSH server
#                                         by name, for DNS-capturing
#                                         reconnects)
#            anything else: REFUSED (it has no upstream); no
#            AAAA for these names (NOERROR, no data)
#
# Query logs (dnsmasq's log-queries: "query[A] NAME from ADDR"):
# $LAB_DNS_LOG_P (PRIV), $LAB_DNS_LOG_ALT (PRIV :5353), $LAB_DNS_LOG_C
# (CLIENT); lab_log_mark FILE and lab_log_since FILE MARK read what came
# after a point.
#
# SERVER's resolv.conf lives in /etc/netns/<SERVER>/resolv.conf, which
# `ip netns exec` bind-mounted over /etc/resolv.conf for sshd; it is
# rewritten in place (same inode), so sessions that start afterwards see
# the new text: lab_remote_resolv ADDR... (e.g. $LAB_DNS_SILENT, for the
# dead-resolver tests).  lab_remote_resolv_seen prints it
# as sshd's mount namespace sees it.

LAB_DNS_BIG_N=12
LAB_DNS_QN=50
LAB_DNS_SILENT=198.19.1.2
# shellcheck disable=SC2034  # for the tests
LAB_DNS_REFUSED=198.19.1.3
# shellcheck disable=SC2034  # for the tests (so are the three below)
LAB_DNS_LOG_P=
LAB_DNS_LOG_ALT=
LAB_DNS_LOG_C=

# The strings of big.lab.internal's TXT records, one a line, sorted.
lab_dns_big_txt() {
	local i fill
	fill=$(printf '0123456789abcdef%.0s' {1..15})
	for ((i = 1; i <= LAB_DNS_BIG_N; i++)); do
		printf 'big-%02d-%s\n' "$i" "$fill"
	done
}

# lab_dnsmasq NS TAG ADDR PORT ARGS...: dnsmasq in NS on ADDR:PORT (UDP
# and TCP), in the foreground (so lab_kill_ns finds it), logging to
# $LAB_DIR/dns-TAG.log; waits until it listens.
lab_dnsmasq() {
	local ns=$1 tag=$2 addr=$3 port=$4 log
	shift 4
	log=$LAB_DIR/dns-$tag.log
	local q=(--log-queries)
	[[ -n "${LAB_DNS_QUIET:-}" ]] && q=()
	ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	    --user=root --no-resolv --no-hosts --no-poll --bind-interfaces \
	    --listen-address="$addr" --port="$port" \
	    --pid-file="$LAB_DIR/dns-$tag.pid" --log-facility="$log" "${q[@]}" \
	    "$@" </dev/null >>"$LAB_DIR/dns-$tag.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 eval "ip netns exec $ns ss -Hlun 'sport = :$port' |
	    grep -qF ' ${addr}:$port ' &&
	    ip netns exec $ns ss -Hltn 'sport = :$port' | grep -qF ' ${addr}:$port '"
}

lab_dns_up() {
	local P=$LAB_NS_P i rec=() t

	lab_need dnsmasq dnsmasq-base socat socat
	for ((i = 1; i <= LAB_DNS_QN; i++)); do
		rec+=("--host-record=q$i.lab.internal,198.19.3.$i")
	done
	while read -r t; do
		rec+=("--txt-record=big.lab.internal,$t")
	done < <(lab_dns_big_txt)
	# One instance per address: with --bind-interfaces, dnsmasq binds
	# each listen-address itself.
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_P=$LAB_DIR/dns-priv.log
	lab_dnsmasq "$P" priv 198.19.0.2 53 --listen-address=fd5e:0:0:2::2 \
	    --local=/lab.internal/ --local=/example/ \
	    --host-record=secret.lab.internal,198.19.0.2 \
	    --host-record=www.lab.internal,198.19.0.2,fd5e:0:0:2::2 \
	    --host-record=public.example,198.19.0.77 \
	    --host-record=notlab.internal,198.19.0.78 \
	    --ptr-record=50.0.19.198.in-addr.arpa,neighbour.lab.internal \
	    --ptr-record=0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.0.0.0.0.0.0.e.5.d.f.ip6.arpa,neighbour6.lab.internal \
	    --host-record=seeded.lab.internal,198.19.0.61,fd5e:0:0:2::61 \
	    --ptr-record=62.0.19.198.in-addr.arpa,seedaddr.lab.internal \
	    "${rec[@]}" || return 1
	lab_wait_for 5 eval "in_priv ss -Hlun 'sport = :53' | grep -qF '[fd5e:0:0:2::2]:53'" ||
	    return 1
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_ALT=$LAB_DIR/dns-alt.log
	lab_dnsmasq "$P" alt 198.19.1.1 5353 \
	    --host-record=secret.lab.internal,198.19.1.53 || return 1
	ip netns exec "$P" socat -u "UDP4-RECV:53,bind=$LAB_DNS_SILENT" \
	    OPEN:/dev/null </dev/null >>"$LAB_DIR/dns-silent.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 5 eval "in_priv ss -Hlun 'sport = :53' | grep -qF ' $LAB_DNS_SILENT:53 '" ||
	    return 1
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_C=$LAB_DIR/dns-client.log
	lab_dnsmasq "$LAB_NS_C" client 127.0.0.53 53 \
	    --local=/secret.lab.internal/ --local=/public.example/ \
	    --local=/notlab.internal/ --local=/sshgw.lab.test/ \
	    --host-record=sshgw.lab.test,198.18.0.2 \
	    --host-record=secret.lab.internal,203.0.113.66 \
	    --host-record=public.example,198.18.0.77 \
	    --host-record=notlab.internal,198.18.0.78 || return 1

	echo "nameserver 127.0.0.53" >"/etc/netns/$LAB_NS_C/resolv.conf" ||
	    return 1
	lab_remote_resolv 198.19.0.2 || return 1
	[[ "$(lab_remote_resolv_seen)" == "nameserver 198.19.0.2" ]] || {
		echo "lab: sshd does not see SERVER's resolv.conf" >&2
		return 1
	}
	lab_say "DNS is up: PRIV 198.19.0.2 (SERVER's resolver), 198.19.1.1:5353, CLIENT 127.0.0.53 (CLIENT's resolver)"
}

# lab_remote_resolv ADDR...: the nameservers of SERVER's resolv.conf, for
# sessions that start from now on.
lab_remote_resolv() {
	local a
	# Written in place: sshd sees this very file through a bind mount.
	for a in "$@"; do echo "nameserver $a"; done \
	    >"/etc/netns/$LAB_NS_S/resolv.conf"
}

lab_remote_resolv_seen() {
	nsenter -t "$LAB_SSHD_PID" -m cat /etc/resolv.conf
}

# Byte size of FILE (a mark for lab_log_since).
lab_log_mark() { stat -c %s "$1" 2>/dev/null || echo 0; }

# What FILE got after MARK.
lab_log_since() { tail -c +$(($2 + 1)) "$1" 2>/dev/null; }
