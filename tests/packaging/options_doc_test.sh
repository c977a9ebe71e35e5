#!/bin/bash
# SPDX-License-Identifier: ISC
# options_doc_test.sh - every option that `cshuttle --help` lists (less
# the internal --firewall) is documented in man/cshuttle.8 (as an item of
# OPTIONS) and in README.md (a row of the option table), so that a new
# option cannot ship undocumented; every option of sshuttle 1.3 has an
# answer in both (the man page's text, README's sshuttle table); the man
# page renders the subnet forms as written and passes mandoc's lint, and
# it shows how to install the sudoers rule.
#
# Usage: options_doc_test.sh /path/to/cshuttle
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"

bin=${1:-}
[[ -x $bin ]] || lab_die "usage: $0 /path/to/cshuttle"
# "-v, --verbose" -> "-v --verbose"; "--dns" -> "--dns".
mapfile -t pairs < <("$bin" --help | grep -oE '^ +(-[A-Za-z], )?--[a-z0-9-]+' |
	sed -e 's/^ *//' -e 's/,//' | grep -v -- '--firewall$')
((${#pairs[@]} > 0)) || lab_die "no options found in cshuttle --help"
# Man page items are ".It Fl x , Fl \-long ...": Fl itself adds one dash.
man_items=$(grep '^\.It Fl' "$src/man/cshuttle.8" | sed 's/\\-/-/g')
readme_rows=$(grep '^| `-' "$src/README.md")
for p in "${pairs[@]}"; do
	long=${p##* }
	check "cshuttle.8 has an item for $long" grep -qE -- "Fl ${long#-}( |\$)" <<<"$man_items"
	case $long in --help | --version) continue ;; esac
	found=0
	for o in $p; do
		grep -qF -- "\`$o" <<<"$readme_rows" && found=1
	done
	check_eq "README.md's option table has a row for $p" 1 "$found"
done

# sshuttle 1.3's options (sshuttle/options.py there).
sshuttle_opts="-l --listen -H --auto-hosts -N --auto-nets --dns --ns-hosts
	--to-ns --method --python -r --remote -x --exclude -X --exclude-from
	-v --verbose -V --version -e --ssh-cmd --no-cmd-delimiter --remote-shell
	--seed-hosts --no-latency-control --latency-buffer-size --wrap
	--disable-ipv6 -D --daemon -s --subnets --syslog --pidfile --user
	--group --firewall --hostwatch --sudoers-no-modify --sudoers-user
	--no-sudo-pythonpath -t --tmark --namespace --namespace-pid -h --help"
# Without overstrike (bold and underline are "x\bx" and "_\bx").
man_text=$(mandoc -T ascii "$src/man/cshuttle.8" | sed -e $'s/.\b//g')
compat=$(sed -n '/^SSHUTTLE OPTIONS/,/^USERS AND PRIVILEGES/p' <<<"$man_text")
options=$(sed -n '/^OPTIONS/,/^SSHUTTLE OPTIONS/p' <<<"$man_text")
readme_compat=$(sed -n '/^| sshuttle 1.3 | cshuttle |/,/^$/p' "$src/README.md")
for o in $sshuttle_opts; do
	found=0
	grep -qE -- "(^|[ ,])$o([ ,.]|\$)" <<<"$compat$options" && found=1
	check_eq "cshuttle.8 answers sshuttle's $o" 1 "$found"
	found=0
	grep -qE -- "\`$o[\` ]" <<<"$readme_compat" && found=1
	check_eq "README.md's sshuttle table has $o" 1 "$found"
done

# Nested Op would render "ipv4[/prefix[:ports]]".
check "cshuttle.8: ipv4[/prefix][:ports]" grep -qF 'ipv4[/prefix][:ports]' <<<"$man_text"
check "cshuttle.8: [ipv6[/prefix]]:ports" grep -qF '[ipv6[/prefix]]:ports' <<<"$man_text"
check_eq "mandoc -T lint -W warning cshuttle.8" "" \
	"$(mandoc -T lint -W warning "$src/man/cshuttle.8" 2>&1)"
check "cshuttle.8 shows the sudoers rule and how to install it" \
	grep -qF 'visudo -cf cshuttle.sudoers' <<<"$man_text"
lab_finish
