# SPDX-License-Identifier: ISC
# shellcheck shell=sh
#
# need.sh - the one rule for what a test needs and does not find: it
# fails, never skips (tests/lab/README.md, "Missing tools").  POSIX sh,
# so that sh scripts can source it as well as lab.sh, which does.
#
#   lab_need TOOL PACKAGE [TOOL PACKAGE]...
#       Each TOOL (a name looked up on PATH, or a path) must be an
#       executable; for each that is not, one line
#           FAIL: needs TOOL (package PACKAGE; see tests/lab/packages.txt)
#       then exit 1.  PACKAGE is the Debian package that has it, which
#       tests/lab/packages.txt lists.
#   lab_need_root WHY
#       Unless running as root: "FAIL: needs root (WHY)", exit 1.
#
# tests/testutil.h's test_need() and test_need_root() are the same for
# the cmocka programs.

lab_need() {
	_lab_need_missing=0
	while [ $# -ge 2 ]; do
		case $1 in
		*/*) [ -x "$1" ] ;;
		*) command -v "$1" >/dev/null 2>&1 ;;
		esac || {
			printf 'FAIL: needs %s (package %s; see tests/lab/packages.txt)\n' \
			    "$1" "$2"
			_lab_need_missing=1
		}
		shift 2
	done
	if [ $# -ne 0 ]; then
		echo "FAIL: lab_need: '$1' has no package (usage: lab_need TOOL PACKAGE...)"
		exit 1
	fi
	[ "$_lab_need_missing" = 0 ] || exit 1
}

lab_need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "FAIL: needs root ($*)"
	exit 1
}
