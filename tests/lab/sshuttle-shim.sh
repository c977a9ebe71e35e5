#!/bin/bash
# SPDX-License-Identifier: ISC
#
# sshuttle-shim.sh - run sshuttle behind cshuttle's command line, to check
# the integration tests themselves against an established implementation:
#
#   CSHUTTLE_BIN=tests/lab/sshuttle-shim.sh LAB_TABLE_RE='cshuttle|sshuttle' \
#       bash tests/integration/routing_test.sh ext
#
# Translates the options the tests use, always uses the external ssh
# (sshuttle has no built-in transport) and prints "cshuttle: connected"
# when sshuttle reports its connection.  Checks that are specific to
# cshuttle (exit codes, message wording, 198.19/16 shorthand) are expected
# to fail with sshuttle.  SSHUTTLE_METHOD picks sshuttle's method (default
# nft; tproxy carries UDP too, given the policy routing it does not set up).

args=(--method "${SSHUTTLE_METHOD:-nft}")
subnets=()
cfg=
sshcmd=

while (($#)); do
	case $1 in
	--ssh-config) cfg=$2; shift 2 ;;
	-e|--ssh-cmd) sshcmd=$2; shift 2 ;;
	-r|-x|-X|-l|-s) args+=("$1" "$2"); shift 2 ;;
	-v|-vv) args+=("$1"); shift ;;
	--no-ipv6) args+=(--disable-ipv6); shift ;;
	--dns) args+=(--dns); shift ;;
	--ns-hosts|--to-ns) args+=("$1" "$2"); shift 2 ;;
	# sshuttle never blocks leaks: what the option asks for is its
	# only behaviour.  (--dns-domains has no counterpart: unsupported.)
	--no-block-leaks) shift ;;
	-*) echo "cshuttle: shim: unsupported option $1" >&2; exit 2 ;;
	*) subnets+=("$1"); shift ;;
	esac
done
if [[ -z $sshcmd ]]; then
	sshcmd="ssh${cfg:+ -F $cfg}"
fi

# sshuttle wants every option before the subnets.
exec sshuttle -e "$sshcmd" "${args[@]}" "${subnets[@]}" 2> >(
	while IFS= read -r line; do
		printf '%s\n' "$line" >&2
		if [[ $line == *"Connected to server"* ]]; then
			# sshuttle says so before its firewall helper has
			# installed the rules (cshuttle only after): wait
			# until its ruleset has stopped changing.
			prev='' i=0
			while ((i++ < 50)); do
				cur=$(nft list ruleset 2>/dev/null | grep -A1000 sshuttle)
				[[ -n $cur && $cur == "$prev" ]] && break
				prev=$cur
				sleep 0.1
			done
			echo "cshuttle: connected" >&2
		fi
	done
)
