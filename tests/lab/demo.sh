#!/bin/bash
# SPDX-License-Identifier: ISC
#
# demo.sh BIN - show cshuttle at work in a throw-away lab (needs root).
#
# Builds three network namespaces (a client, an SSH server, and a private
# network only the server can reach), shows that the client cannot open a
# web page on the private network, starts `BIN -r labhost 198.19.0.0/24`,
# opens the page again through the tunnel, stops cshuttle and removes
# everything.  Exit status 0 when every step behaved as shown.

set -uo pipefail

if (($# != 1)); then
	echo "usage: $0 path/to/cshuttle" >&2
	exit 2
fi
CSHUTTLE_BIN=$(readlink -f "$1")
LAB_TRANSPORT=builtin
# shellcheck source=SCRIPTDIR/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
lab_need_root "it creates network namespaces"

if [[ -t 1 ]]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi
step() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
cmd()  { printf '  client$ %s\n' "$*"; }
good() { printf '  %s-> %s%s\n' "$G" "$*" "$N"; }
oops() { printf '  %s-> %s%s\n' "$R" "$*" "$N"; status=1; }
status=0

if [[ ! -x "$CSHUTTLE_BIN" ]]; then
	echo "demo: $1 is not an executable" >&2
	exit 2
fi

step "Building the lab (three network namespaces)"
lab_up || exit 1
cat <<EOF
  client  198.18.0.1 ---- 198.18.0.2  SSH server ---- 198.19.0.0/24  private network
                                      (sshd)                         web server 198.19.0.2
  The SSH server does not route: the client has no way to the private
  network except through SSH.  ssh config: Host labhost -> 198.18.0.2.
EOF

url=http://198.19.0.2/
step "1. Without a tunnel"
cmd "curl --connect-timeout 2 $url"
if lab_curl_fails "$url"; then
	good "no answer: 198.19.0.2 is unreachable, as expected"
else
	oops "it answered, but it should not have"
fi

step "2. Start the tunnel"
cmd "cshuttle -r labhost 198.19.0.0/24"
if start_cshuttle -r labhost 198.19.0.0/24 >/dev/null; then
	sed 's/^/  /' "$CSHUTTLE_LOG"
	good "connected (pid $CSHUTTLE_PID)"
	printf '  firewall rules cshuttle installed on the client:\n'
	in_client nft list tables | sed 's/^/    /'
else
	oops "cshuttle did not start:"
	sed 's/^/    /' "$CSHUTTLE_LOG"
	exit 1
fi

step "3. The same request, now through the tunnel"
cmd "curl $url"
if page=$(lab_curl "$url"); then
	printf '%s\n' "$page" | sed 's/^/    | /'
	text=$(printf '%s' "$page" | sed -e 's/<[^>]*>/ /g' | tr -s ' \n' ' ')
	good "the page says:${text%% }"
else
	oops "the request failed"
fi
cmd "curl ${url}small.txt"
if small=$(lab_curl "${url}small.txt"); then
	good "\"$small\""
else
	oops "the request failed"
fi

step "4. Stop cshuttle (Ctrl-C)"
stop_cshuttle INT
if [[ "$CSHUTTLE_RC" == 0 ]]; then
	good "exit status 0"
else
	oops "exit status $CSHUTTLE_RC"
fi
if assert_no_tables 2>/dev/null; then
	good "its firewall rules are gone"
else
	oops "firewall rules are left behind"
fi

step "5. Without the tunnel again"
cmd "curl --connect-timeout 2 $url"
if lab_curl_fails "$url"; then
	good "unreachable again"
else
	oops "it still answers"
fi

step "Cleaning up"
lab_down 0
good "namespaces, daemons and files removed"

echo
if ((status == 0)); then
	echo "${G}demo: everything worked${N}"
else
	echo "${R}demo: something did not behave as shown above${N}"
fi
exit "$status"
