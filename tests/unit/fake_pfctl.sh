#!/bin/sh
# SPDX-License-Identifier: ISC
# fake_pfctl.sh - pfctl(8) for test_fw_pfctl: each call is recorded in
# $FAKE_PFCTL_LOG ("pfctl ARGS", then the rules read on stdin between
# "<<<" and ">>>"), and answered the way macOS's and FreeBSD's pfctl do,
# from the environment: FAKE_PFCTL_STATUS (Enabled/Disabled, -s info),
# FAKE_PFCTL_NAT and FAKE_PFCTL_RULES (the main ruleset, -s nat and -s
# rules), FAKE_PFCTL_ANCHORS (-a cshuttle -s Anchors).  The call whose
# arguments equal FAKE_PFCTL_FAIL fails: "pfctl: $FAKE_PFCTL_FAIL_MSG" on
# stderr, status 1.
log=${FAKE_PFCTL_LOG:?}
printf 'pfctl %s\n' "$*" >>"$log"
if [ "$*" = "${FAKE_PFCTL_FAIL:-}" ]; then
	# Gone without reading its input, as a pfctl that dies would be:
	# the caller must not be killed by SIGPIPE for it.
	echo "pfctl: ${FAKE_PFCTL_FAIL_MSG:-failed}" >&2
	exit 1
fi
case "$*" in
-E)		printf 'No ALTQ support in kernel\npf enabled\nToken : 4242\n' >&2 ;;
"-X "*)		echo "pf disabled" >&2 ;;
-e)		echo "pf enabled" >&2 ;;
-d)		echo "pf disabled" >&2 ;;
"-s info")	echo "Status: ${FAKE_PFCTL_STATUS:-Disabled} for 0 days 00:00:01" ;;
"-s nat")	printf '%s\n' "${FAKE_PFCTL_NAT:-}" ;;
"-s rules")	printf '%s\n' "${FAKE_PFCTL_RULES:-}" ;;
"-a cshuttle -s Anchors") printf '%s\n' "${FAKE_PFCTL_ANCHORS:-}" ;;
"-a "*" -F all") echo "rules cleared" >&2 ;;
"-a "*" -f -")	{ echo "<<<"; cat; echo ">>>"; } >>"$log" ;;
*)		echo "pfctl: unexpected arguments: $*" >&2; exit 2 ;;
esac
exit 0
