#!/bin/bash
# SPDX-License-Identifier: ISC
# options_doc_test.sh - every option that `cshuttle --help` lists (less
# the internal --firewall) is documented in man/cshuttle.8 (as an item of
# OPTIONS) and in README.md (a row of the option table), so that a new
# option cannot ship undocumented.
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
lab_finish
