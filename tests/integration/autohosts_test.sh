#!/bin/bash
# SPDX-License-Identifier: ISC
#
# autohosts_test.sh builtin|ext - -H/--auto-hosts with --dns: names that
# only SERVER's hosts file knows become resolvable on CLIENT (getent, dig),
# answered by the DNS capture itself (PRIV's resolver is not asked);
# names whose addresses are outside the forwarded subnets, or inside an
# exclude, are not; a name added on SERVER is taken at the next session;
# the SSH server's own name is never taken from SERVER; a neighbour of
# SERVER (a static entry in its neighbour table) gets the name PRIV's
# resolver gives its address in a reverse lookup, an IPv6 neighbour too
# (rtnetlink); --seed-hosts: a name in neither SERVER's hosts file nor
# its neighbour tables, looked up by the stub through PRIV's resolver,
# and an address named by its PTR record, become names of -H (answered
# by the capture itself).  (-H without --dns, the hosts file:
# autohosts_file_test.sh.)
# (The lab's resolvers: lab_dns_up in tests/lab/lab_dns.sh.)

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils
lab_up
lab_dns_up || lab_die "the lab's DNS servers did not start"

# shellcheck disable=SC2317  # called through check
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
# dig in CLIENT, bounded; the answers sorted on one line.
answers() {
	in_client dig +time=3 +tries=1 +short "$@" | grep -v '^;' | sort | tr '\n' ' ' |
	    sed 's/ $//'
}
# The addresses glibc gives (getent ahosts), sorted, on one line.
ge_hosts() {
	in_client getent ahosts "$1" | awk '{print $1}' | sort -u | tr '\n' ' ' |
	    sed 's/ $//'
}
# The flags of dig's answer ("qr aa rd ra").
flags() {
	in_client dig +time=3 +tries=1 "$@" | sed -n 's/.*flags: \([a-z ]*\);.*/\1/p'
}

# SERVER's hosts file is bind-mounted by `ip netns exec` for sshd: append
# (same inode) so that the stub sees it.
hosts_s=/etc/netns/$LAB_NS_S/hosts
printf '%s\n' "198.19.0.2 onlyremote.lab.internal intranet" \
    "fd5e:0:0:2::2 onlyremote.lab.internal" \
    "192.0.2.99 outside.lab.internal" \
    "198.19.1.9 excluded.lab.internal" \
    "127.0.0.1 loopy.lab.internal" >>"$hosts_s" ||
    lab_die "cannot extend SERVER's hosts file"

# A neighbour only PRIV's resolver can name (PTR only, no A record).
in_server ip neigh replace 198.19.0.50 lladdr 02:00:00:00:00:50 dev "${LAB_ID}s1" \
    nud permanent || lab_die "cannot add SERVER's neighbour"
# And an IPv6 one: no /proc file lists it, the stub asks rtnetlink.
in_server ip -6 neigh replace fd5e:0:0:2::50 lladdr 02:00:00:00:00:51 \
    dev "${LAB_ID}s1" nud permanent || lab_die "cannot add SERVER's IPv6 neighbour"

lab_say "without cshuttle"
check_eq "neighbour.lab.internal does not resolve on CLIENT" "" \
    "$(ge_hosts neighbour.lab.internal)"
check_eq "onlyremote.lab.internal does not resolve on CLIENT" "" \
    "$(ge_hosts onlyremote.lab.internal)"
check_eq "seeded.lab.internal does not resolve on CLIENT" "" \
    "$(ge_hosts seeded.lab.internal)"

seeds=seeded.lab.internal,198.19.0.62
lab_say "cshuttle -H --seed-hosts $seeds --dns -x 198.19.1.0/24 -r labhost 198.19.0.0/16 fd5e:0:0:2::/64"
start_cshuttle -H --seed-hosts "$seeds" --dns -x 198.19.1.0/24 -r labhost \
    198.19.0.0/16 fd5e:0:0:2::/64 || lab_die "cshuttle did not start"
check "the names are logged" \
    lab_wait_for 10 logged 0 '^cshuttle: auto-hosts: [0-9]+ names of [0-9]+ in the forwarded subnets'
mark_p=$(lab_log_mark "$LAB_DNS_LOG_P")
check_eq "getent ahosts onlyremote.lab.internal: both families" \
    "198.19.0.2 fd5e:0:0:2::2" "$(ge_hosts onlyremote.lab.internal)"
check_eq "getent hosts onlyremote.lab.internal (gethostbyname)" "fd5e:0:0:2::2" \
    "$(in_client getent hosts onlyremote.lab.internal | awk '{print $1}')"
check_eq "dig A intranet" 198.19.0.2 "$(answers A intranet)"
check_eq "dig AAAA onlyremote.lab.internal" fd5e:0:0:2::2 \
    "$(answers AAAA onlyremote.lab.internal)"
check_eq "dig +tcp onlyremote.lab.internal" 198.19.0.2 \
    "$(answers +tcp onlyremote.lab.internal)"
check "the answer is the capture's own (aa)" \
    grep -qw aa <<<"$(flags onlyremote.lab.internal)"
check_not "PRIV's resolver was not asked for it" \
    grep -q 'onlyremote\.lab\.internal' <<<"$(lab_log_since "$LAB_DNS_LOG_P" "$mark_p")"
check_eq "neighbour.lab.internal: SERVER's neighbour, named by PRIV's PTR record" \
    198.19.0.50 "$(ge_hosts neighbour.lab.internal)"
check "PRIV's resolver was asked for the neighbour's name" \
    grep -q 'query\[PTR\] 50\.0\.19\.198\.in-addr\.arpa' <<<"$(lab_log_since "$LAB_DNS_LOG_P" 0)"
check_eq "neighbour6.lab.internal: SERVER's IPv6 neighbour, named by PRIV's PTR record" \
    fd5e:0:0:2::50 "$(ge_hosts neighbour6.lab.internal)"
check "the name of the IPv6 neighbour is the capture's own (aa)" \
    grep -qw aa <<<"$(flags AAAA neighbour6.lab.internal)"
check_eq "--seed-hosts seeded.lab.internal: its A and AAAA through SERVER's resolver" \
    "198.19.0.61 fd5e:0:0:2::61" "$(ge_hosts seeded.lab.internal)"
check "the seed's name is the capture's own (aa), as -H's names are" \
    grep -qw aa <<<"$(flags seeded.lab.internal)"
check "the stub asked PRIV's resolver for the seed (from SERVER)" \
    grep -Eq 'query\[AAAA\] seeded\.lab\.internal from (198\.19\.0\.1|fd5e:0:0:2::1)$' \
    <<<"$(lab_log_since "$LAB_DNS_LOG_P" 0)"
check_eq "--seed-hosts 198.19.0.62: the name of its PTR record" 198.19.0.62 \
    "$(ge_hosts seedaddr.lab.internal)"
check "the seed address's name is the capture's own (aa)" \
    grep -qw aa <<<"$(flags seedaddr.lab.internal)"
check_eq "outside.lab.internal (192.0.2.99, not forwarded) is not added" "" \
    "$(ge_hosts outside.lab.internal)"
check_eq "excluded.lab.internal (inside -x 198.19.1.0/24) is not added" "" \
    "$(ge_hosts excluded.lab.internal)"
check_eq "loopy.lab.internal (loopback) is not added" "" \
    "$(ge_hosts loopy.lab.internal)"
check_eq "other names still go to the remote resolver" 198.19.0.2 \
    "$(answers secret.lab.internal)"
check_eq "curl http://onlyremote.lab.internal/small.txt through the tunnel" \
    "hello from the private network" \
    "$(lab_curl http://onlyremote.lab.internal/small.txt)"

lab_say "a name added on SERVER is taken at the next session"
echo "198.19.0.2 later.lab.internal" >>"$hosts_s"
check_eq "later.lab.internal is not known yet" "" "$(ge_hosts later.lab.internal)"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_kill_sessions KILL
check "reconnected" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt 1\)'
check "the new set is logged" \
    lab_wait_for 10 logged "$m" '^cshuttle: auto-hosts: '
check_eq "later.lab.internal resolves" 198.19.0.2 "$(ge_hosts later.lab.internal)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check_eq "onlyremote.lab.internal no longer resolves" "" \
    "$(ge_hosts onlyremote.lab.internal)"

# The SSH server's own name is always asked locally: SERVER's hosts file
# giving it a forwarded address must not steer a reconnect into the tunnel.
lab_say "-r by host name that SERVER's hosts file names too"
hk=$(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")
echo "sshgw.lab.test $hk" >>"$LAB_DIR/known_hosts"
printf 'Host labhost-byname\n\tHostName sshgw.lab.test\n' >>"$LAB_SSHCFG"
echo "198.19.0.2 sshgw.lab.test" >>"$hosts_s"
start_cshuttle -H --dns -r labhost-byname 198.19.0.0/16 ||
    lab_die "cshuttle did not start"
check_eq "sshgw.lab.test: CLIENT's own answer" 198.18.0.2 "$(answers sshgw.lab.test)"
check_eq "onlyremote.lab.internal resolves" 198.19.0.2 \
    "$(answers onlyremote.lab.internal)"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_kill_sessions KILL
check "reconnected" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt 1\)'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
