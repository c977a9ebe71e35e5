# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_lan.sh - the LAN extra of the lab (sourced by lab.sh): a fourth
# namespace behind CLIENT.  Named after the lab id, so lab_destroy removes
# it, also for a stale lab.

# lab_lan_up: a fourth namespace, LAN, whose default routes go through
# CLIENT, like a host on the network of a machine that runs cshuttle for
# its neighbours (-l 0.0.0.0:PORT).  CLIENT forwards for it, so without
# the tunnel LAN's traffic to PRIV ends at SERVER like CLIENT's own (it
# does not forward).  SERVER gets routes back to LAN, and its hello
# service also on [fd5e:0:0:1::2]:7000.
#
#   CLIENT  198.18.5.1/24  fd5e:0:0:5::1/64
#   LAN     198.18.5.2/24  fd5e:0:0:5::2/64
lab_lan_up() {
	local C=$LAB_NS_C L=$LAB_ID-l

	LAB_NS_L=$L
	ip netns add "$L" || return 1
	ip -n "$L" link set lo up || return 1
	mkdir -p "/etc/netns/$L" || mkdir -p "/etc/netns/$L" || return 1
	cp "/etc/netns/$C/resolv.conf" "/etc/netns/$C/hosts" "/etc/netns/$L/" ||
	    return 1
	ip link add "${LAB_ID}c1" netns "$C" type veth \
	    peer name "${LAB_ID}l0" netns "$L" || return 1
	ip -n "$C" addr add 198.18.5.1/24 dev "${LAB_ID}c1" || return 1
	ip -n "$C" addr add fd5e:0:0:5::1/64 dev "${LAB_ID}c1" nodad || return 1
	ip -n "$L" addr add 198.18.5.2/24 dev "${LAB_ID}l0" || return 1
	ip -n "$L" addr add fd5e:0:0:5::2/64 dev "${LAB_ID}l0" nodad || return 1
	ip -n "$C" link set "${LAB_ID}c1" up || return 1
	ip -n "$L" link set "${LAB_ID}l0" up || return 1
	ip -n "$L" route add default via 198.18.5.1 || return 1
	ip -n "$L" -6 route add default via fd5e:0:0:5::1 || return 1
	ip netns exec "$C" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 || return 1
	# SERVER answers LAN directly (its hello services): proof that the
	# routing works, and what traffic that is not tunnelled does.
	ip -n "$LAB_NS_S" route add 198.18.5.0/24 via 198.18.0.1 || return 1
	ip -n "$LAB_NS_S" -6 route add fd5e:0:0:5::/64 via fd5e:0:0:1::1 ||
	    return 1
	lab_labsrv "$LAB_NS_S" server6 --name server \
	    --hello '[fd5e:0:0:1::2]:7000' || return 1
	lab_say "LAN namespace $L is up"
}

in_lan() { ip netns exec "$LAB_NS_L" "$@"; }

# HTTP GET from LAN; prints the body.  lab_lan_curl URL [curl options]
lab_lan_curl() {
	local url=$1
	shift
	in_lan curl -sS -f --connect-timeout 5 -m 30 "$@" "$url"
}

# Does an HTTP GET from LAN fail?  lab_lan_curl_fails URL [curl options]
lab_lan_curl_fails() {
	local url=$1
	shift
	! in_lan curl -s -f -o /dev/null --connect-timeout 2 -m 4 "$@" "$url"
}

# Read the hello line of a service from LAN: lab_lan_hello HOST PORT
lab_lan_hello() {
	in_lan "$LAB_PY" "$LAB_SRC/labcli.py" --timeout 10 hello "$1" "$2"
}
