#!/bin/sh
# SPDX-License-Identifier: ISC
# uname for the lab's "unsupported architecture" chroot: a Linux machine
# that says it is a sparc64, for which cshuttle has no stub.
s=Linux n=labsparc r=6.1.0 v='#1 SMP' m=sparc64 o=GNU/Linux
out=
add() { out="${out:+$out }$1"; }
[ $# -eq 0 ] && set -- -s
for arg; do
	case $arg in
	--kernel-name) add "$s" ;;
	--nodename) add "$n" ;;
	--kernel-release) add "$r" ;;
	--kernel-version) add "$v" ;;
	--machine|--processor|--hardware-platform) add "$m" ;;
	--operating-system) add "$o" ;;
	--all) add "$s $n $r $v $m $o" ;;
	-*)
		flags=${arg#-}
		while [ -n "$flags" ]; do
			c=${flags%"${flags#?}"}
			flags=${flags#?}
			case $c in
			s) add "$s" ;; n) add "$n" ;; r) add "$r" ;; v) add "$v" ;;
			m|p|i) add "$m" ;; o) add "$o" ;;
			a) add "$s $n $r $v $m $o" ;;
			*) echo "uname: invalid option -- '$c'" >&2; exit 1 ;;
			esac
		done
		;;
	*) echo "uname: extra operand '$arg'" >&2; exit 1 ;;
	esac
done
echo "$out"
