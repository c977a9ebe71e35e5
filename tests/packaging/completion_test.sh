#!/bin/bash
# SPDX-License-Identifier: ISC
# completion_test.sh - packaging/bash-completion/cshuttle: the script
# parses, and completing a few command lines gives what a user would see
# on pressing Tab (options, option arguments, hosts from a private
# ~/.ssh/config and known_hosts, file names, @FILE).
#
# Usage: completion_test.sh COMPLETION_FILE [CSHUTTLE_BINARY]
# With the binary, the options offered must be exactly those its --help
# lists (less the internal --firewall), so that the two cannot drift.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"
comp=${1:-$src/packaging/bash-completion/cshuttle}
bin=${2:-}

check "bash -n parses the completion script" bash -n "$comp"

T=$(mktemp -d /tmp/cs-comp.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home/.ssh" "$T/files/sub"
cat >"$T/home/.ssh/config" <<'CFG'
Host pi bastion
    HostName 192.0.2.7
host *.corp.example !nope
Host=office-gw
  HOST "quoted-host"
Match host foo
CFG
cat >"$T/home/.ssh/known_hosts" <<'KH'
# a comment
alpha.example,192.0.2.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample
[beta.example]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIExample
|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 AAAAC3Nz
@cert-authority *.ca.example ssh-ed25519 AAAAC3Nz
@revoked gamma.example ssh-ed25519 AAAAC3Nz
KH
cat >"$T/other_config" <<'CFG'
Host only-in-other
CFG
touch "$T/files/prof.conf" "$T/files/profile2.conf" "$T/files/sub/x"

# complete WORDS...: run the completion function for a command line whose
# last word is the one being completed; prints the sorted candidates,
# space-separated.
complete_line() {
	HOME=$T/home bash -c '
		source "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_cshuttle cshuttle "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
	' complete_line "$comp" "$@"
}

check_eq "registered for cshuttle" "complete -F _cshuttle cshuttle" \
	"$(bash -c 'source "$1"; complete -p cshuttle' x "$comp")"
check_eq "long options" "--dns --dns-domains" "$(complete_line cshuttle --dn)"
check_eq "the new options" "--daemon" "$(complete_line cshuttle --dae)"
check_eq "--alive-*" "--alive-interval --alive-timeout" "$(complete_line cshuttle --ali)"
check_eq "--no-*" "--no-block-leaks --no-cmd-delimiter --no-ipv6 --no-reconnect --no-udp" "$(complete_line cshuttle --no-)"
check_eq "sshuttle's names" "--disable-ipv6" "$(complete_line cshuttle --disa)"
check_eq "--method: its values" "auto nft" "$(complete_line cshuttle --method '')"
check_eq "--sudoers-user %GROUP" "%root" "$(complete_line cshuttle --sudoers-user %roo)"
check_eq "--sudoers-*" "--sudoers --sudoers-no-modify --sudoers-user" "$(complete_line cshuttle --sudo)"
check_eq "short option -D" "-D" "$(complete_line cshuttle -D)"
check_eq "no internal --firewall" "" "$(complete_line cshuttle --fire)"
check_eq "-r: hosts from ssh config and known_hosts" \
	"192.0.2.9 alpha.example bastion beta.example:2222 gamma.example office-gw pi quoted-host" \
	"$(complete_line cshuttle -r '')"
check_eq "-r with a prefix" "bastion beta.example:2222" "$(complete_line cshuttle -r b)"
check_eq "--remote after user@" "root@pi" "$(complete_line cshuttle --remote root@p)"
check_eq "--remote=HOST" "office-gw" "$(complete_line cshuttle --remote = off)"
check_eq "-r from the --ssh-config file given" "only-in-other" \
	"$(complete_line cshuttle --ssh-config "$T/other_config" -r o)"
check_eq "--config completes files" "$T/files/prof.conf $T/files/profile2.conf" \
	"$(complete_line cshuttle --config "$T/files/pro")"
check_eq "--config=FILE" "$T/files/prof.conf $T/files/profile2.conf" \
	"$(complete_line cshuttle --config = "$T/files/pro")"
check_eq "--pidfile completes files" "$T/files/sub" "$(complete_line cshuttle --pidfile "$T/files/s")"
check_eq "@FILE" "@$T/files/prof.conf @$T/files/profile2.conf" \
	"$(complete_line cshuttle "@$T/files/pro")"
check_eq "--alive-timeout takes a number: nothing offered" "" \
	"$(complete_line cshuttle --alive-timeout '')"
check_eq "a subnet: nothing offered" "" "$(complete_line cshuttle -r pi 10)"
check_eq "the status command" "status" "$(complete_line cshuttle st)"
check_eq "a subnet starting with s is no command after the first word" "" \
	"$(complete_line cshuttle -r pi s)"
check_eq "status: its own options" "--help --json --watch" "$(complete_line cshuttle status --)"
mkdir -p "$T/run"
"$(command -v python3)" -c 'import socket, sys
for n in sys.argv[1:]:
    socket.socket(socket.AF_UNIX).bind(n)' "$T/run/office.sock" "$T/run/12300.sock"
touch "$T/run/office.lock"
check_eq "status: the tunnels' names" "12300 office" \
	"$(CSHUTTLE_RUNTIME_DIR=$T/run complete_line cshuttle status '')"
check_eq "status --json NAME" "office" \
	"$(CSHUTTLE_RUNTIME_DIR=$T/run complete_line cshuttle status --json of)"
check_eq "--name takes a new name: nothing offered" "" "$(complete_line cshuttle --name '')"
check_eq "--max-streams and --buffer-budget take numbers: nothing offered" "" \
	"$(complete_line cshuttle --max-streams '')$(complete_line cshuttle --buffer-budget '')"
if [[ -n $bin ]]; then
	help_opts=$("$bin" --help | grep -oE '^ +(-[A-Za-z], )?--[a-z0-9-]+' |
		grep -oE -- '-{1,2}[A-Za-z0-9-]+' | grep -vx -- --firewall | sort | tr '\n' ' ')
	comp_opts=$(complete_line cshuttle - | tr ' ' '\n' | sort | tr '\n' ' ')
	check_eq "the options offered are those of cshuttle --help" "$help_opts" "$comp_opts"
fi
lab_finish
