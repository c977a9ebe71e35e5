#!/bin/bash
# SPDX-License-Identifier: ISC
#
# resolved_test.sh builtin|ext - a systemd-resolved host under 0/0 --dns.
# CLIENT's resolv.conf names 127.0.0.53, where a stand-in for resolved's
# stub (dnsmasq, also on resolved's other address 127.0.0.54) forwards to
# the upstream server that a resolved-style file names
# ($CSHUTTLE_RESOLVED_CONF, lab.sh, for /run/systemd/resolve/resolv.conf,
# which every network namespace shares).  That upstream is SERVER's port
# 53, a sink that must see nothing: queries to the stub, queries straight
# to the upstream and the stub's own upstream queries are all answered
# through the tunnel (by PRIV's resolver, which SERVER's resolv.conf
# names), and leak protection blocks nothing.  Without the file, the
# stub's upstream queries are what leak protection blocks: the check that
# the capture is what makes the difference.

# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils dnsmasq dnsmasq-base
lab_up

upstream=198.18.0.2
lab_dnsmasq "$LAB_NS_P" priv 198.19.0.2 53 --local=/lab.internal/ \
    --host-record=stub.lab.internal,198.19.0.11 \
    --host-record=up.lab.internal,198.19.0.12 \
    --host-record=direct.lab.internal,198.19.0.13 \
    --host-record=tcp.lab.internal,198.19.0.14 ||
    lab_die "PRIV's resolver did not start"
lab_remote_resolv 198.19.0.2 || lab_die "cannot write SERVER's resolv.conf"
lab_sink "$LAB_NS_S" ssink 53 || lab_die "SERVER's sink did not start"
sink_log=$LAB_DIR/ssink.log
# The stub keeps no cache, so that every query it gets goes upstream.
lab_dnsmasq "$LAB_NS_C" stub 127.0.0.53 53 --listen-address=127.0.0.54 \
    --server=$upstream --cache-size=0 ||
    lab_die "the stand-in stub resolver did not start"
lab_wait_for 5 eval "in_client ss -Hlun 'sport = :53' | grep -qF ' 127.0.0.54:53 '" ||
    lab_die "the stand-in stub resolver does not listen on 127.0.0.54"
stub_log=$LAB_DIR/dns-stub.log
echo "nameserver 127.0.0.53" >"/etc/netns/$LAB_NS_C/resolv.conf" ||
    lab_die "cannot write CLIENT's resolv.conf"

# q SERVER NAME [DIG-ARGS...]: the A record, as CLIENT's dig gets it.
q() {
	local server=$1 name=$2
	shift 2
	in_client dig +short +time=3 +tries=1 "$@" "@$server" "$name" 2>&1
}

# What leak protection blocked so far, as the helper logs it (with -v).
blocked() { grep -c '(leak protection)$' "$CSHUTTLE_LOG"; }

lab_say "without cshuttle: the upstream is SERVER's sink, which never answers"
check "the stub's query goes unanswered" \
    eval '[[ $(q 127.0.0.53 stub.lab.internal) != 198.19.* ]]'
check "SERVER's sink got it" lab_wait_for 5 grep -q . "$sink_log"
: >"$sink_log"

lab_say "cshuttle -r labhost 0/0 --dns, resolved's upstream file names $upstream"
echo "nameserver $upstream" >"$CSHUTTLE_RESOLVED_CONF"
start_cshuttle -v -r labhost 0/0 --dns || lab_die "cshuttle did not start"
check "cshuttle says it captures resolved's upstreams" grep -q \
    "resolv.conf names systemd-resolved's stub: capturing the upstream servers of $CSHUTTLE_RESOLVED_CONF too" \
    "$CSHUTTLE_LOG"
before=$(blocked)
# shellcheck disable=SC2034  # used in the check's eval
mark=$(lab_log_mark "$stub_log")
check_eq "a query to the stub (127.0.0.53) is answered through the tunnel" \
    198.19.0.11 "$(q 127.0.0.53 stub.lab.internal)"
check_eq "the stub's own upstream query (asked on 127.0.0.54) too" \
    198.19.0.12 "$(q 127.0.0.54 up.lab.internal)"
check "the stub asked its upstream for it" \
    eval 'lab_log_since "$stub_log" "$mark" | grep -q "forwarded up.lab.internal to $upstream"'
check_eq "a query straight to the upstream too" \
    198.19.0.13 "$(q $upstream direct.lab.internal)"
check_eq "and over TCP" 198.19.0.14 "$(q $upstream tcp.lab.internal +tcp)"
sleep 1
check_eq "leak protection blocked nothing" "$before" "$(blocked)"
check "SERVER's sink saw nothing" eval '! grep -q . "$sink_log"'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

# With --no-udp, so that the uncaptured upstream query is blocked rather
# than carried through the tunnel as plain UDP.
lab_say "the same without resolved's file (and --no-udp): the stub's upstream queries leak"
rm -f "$CSHUTTLE_RESOLVED_CONF"
start_cshuttle -v -r labhost 0/0 --dns --no-udp || lab_die "cshuttle did not start"
check "no resolved upstreams this time" \
    eval '! grep -q "capturing the upstream servers" "$CSHUTTLE_LOG"'
check_eq "a query to the stub is still answered through the tunnel" \
    198.19.0.11 "$(q 127.0.0.53 stub.lab.internal)"
before=$(blocked)
check "the stub's upstream query fails" \
    eval '[[ $(q 127.0.0.54 up.lab.internal) != 198.19.* ]]'
check "leak protection blocked it" \
    lab_wait_for 5 eval '(($(blocked) > before))'
check "SERVER's sink saw nothing" eval '! grep -q . "$sink_log"'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
