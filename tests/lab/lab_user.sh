# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_user.sh - the local-user extra of the lab (sourced by lab.sh): a
# throw-away user and its sudoers rule.  Named after the lab id, so
# lab_destroy removes them (lab_user_destroy), also for a stale lab.

# lab_user_add: a throw-away system user, LAB_USER ("csu" and the lab id's
# hex digits), whose home, LAB_USER_HOME, is inside the lab directory (made
# traversable for it).  No subordinate ids, no mail spool, no password.
lab_user_add() {
	local i

	lab_need useradd passwd userdel passwd setpriv util-linux
	LAB_USER=csu${LAB_ID#cs}
	LAB_USER_HOME=$LAB_DIR/home
	chmod 711 "$LAB_DIR" || return 1
	mkdir -m 700 "$LAB_USER_HOME" || return 1
	# Parallel runs may hold the lock on /etc/passwd for a moment.
	for ((i = 0; i < 50; i++)); do
		useradd --system --user-group --no-create-home \
		    --home-dir "$LAB_USER_HOME" --shell /bin/sh \
		    --comment "cshuttle lab $LAB_ID" "$LAB_USER" 2>/dev/null &&
		    break
		getent passwd "$LAB_USER" >/dev/null && return 1
		sleep 0.1
	done
	getent passwd "$LAB_USER" >/dev/null || return 1
	chown "$LAB_USER:$LAB_USER" "$LAB_USER_HOME" || return 1
	# sudo looks up its host name, and warns when CLIENT's hosts file
	# (the lab's own) does not have it, as Debian's /etc/hosts would.
	echo "127.0.1.1 $(hostname)" >>"/etc/netns/$LAB_NS_C/hosts"
	# The prefix that runs a command as the user, with the environment
	# of a fresh login (HOME, USER, LOGNAME, SHELL, PATH).
	# shellcheck disable=SC2034  # for the tests
	LAB_ASUSER=(setpriv --reuid="$LAB_USER" --regid="$LAB_USER"
	    --init-groups --reset-env)
	lab_say "user $LAB_USER, home $LAB_USER_HOME"
}

# The sudoers drop-in for the lab's user (its name has no dot, or sudo
# would skip it).
lab_sudoers_file() { printf '/etc/sudoers.d/cshuttle-lab-%s\n' "$1"; }

# lab_user_sudoers LINE: install LINE as the lab user's sudoers rules,
# validated with visudo before it goes live (a broken file would break
# sudo for everybody).
lab_user_sudoers() {
	local f tmp
	lab_need visudo sudo
	f=$(lab_sudoers_file "$LAB_ID")
	# A name with a dot: sudo ignores it while it is being checked.
	tmp=$f.new
	printf '%s\n' "$1" >"$tmp" || return 1
	chmod 0440 "$tmp" || { rm -f "$tmp"; return 1; }
	if ! visudo -qcf "$tmp" >&2; then
		rm -f "$tmp"
		return 1
	fi
	mv -f "$tmp" "$f"
}

lab_user_sudoers_remove() {
	rm -f "$(lab_sudoers_file "$LAB_ID")" "$(lab_sudoers_file "$LAB_ID").new"
}

# Remove what lab_user_add and lab_user_sudoers made for lab $1: only a
# user whose home is in that lab (its processes are gone by now: they ran
# in the lab's namespaces).
lab_user_destroy() {
	local id=$1 user f home
	user=csu${id#cs}
	f=$(lab_sudoers_file "$id")
	rm -f "$f" "$f.new"
	home=$(getent passwd "$user" | cut -d: -f6)
	[[ -n "$home" && $home == "${LAB_BASE:?}/$id/"* ]] || return 0
	rm -f "/run/sudo/ts/$user"
	# Its control sockets' directory when it had no $XDG_RUNTIME_DIR
	# (client/control.c).
	rm -rf "/tmp/cshuttle-$(id -u "$user")"
	userdel "$user" 2>/dev/null || {
		sleep 0.5
		userdel "$user"
	}
}

# lab_private_up: a mount namespace inside CLIENT (kept alive by a process
# of the lab) with an /etc of its own (an overlay whose changes live in that
# namespace alone) and a /run of its own (an empty tmpfs, with the lab's
# directories bound back into it), and LAB_PRIVATE, the prefix that runs a
# command there (as root; add LAB_ASUSER for the user).  The helper's
# policy file (/etc/cshuttle/helper.conf, lab_private_policy) and its slot
# files (/run/cshuttle/helper) never reach the host's /etc and /run, so
# tests can run in parallel and leave nothing behind: the namespace goes
# with its last process.  CLIENT's own resolv.conf and hosts are bound over
# the overlay's, as `ip netns exec` binds them.  Changes the host makes to
# /etc afterwards may not show through the overlay: call it again (a fresh
# namespace) after such a change, e.g. a new sudoers rule.
lab_private_up() {
	local d=$LAB_DIR/private i t
	lab_need unshare util-linux nsenter util-linux
	if [[ -n "${LAB_PRIVATE_PID:-}" ]]; then
		kill "$LAB_PRIVATE_PID" 2>/dev/null
		wait "$LAB_PRIVATE_PID" 2>/dev/null
	fi
	mkdir -p "$d" || return 1
	t=$(mktemp -d /tmp/cshuttle-lab-run.XXXXXX) || return 1
	: >"$d.ready"
	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_C" unshare -m --propagation private -- /bin/sh -c '
		set -e
		mount -n -t tmpfs -o mode=0755 cshuttle-lab "$1"
		mkdir -m 0755 "$1/etc" "$1/etcw"
		mount -n -t overlay cshuttle-lab \
		    -o "lowerdir=/etc,upperdir=$1/etc,workdir=$1/etcw" /etc
		for f in /etc/netns/"$2"/*; do
			[ -f "$f" ] && mount -n --bind "$f" "/etc/${f##*/}"
		done
		mkdir -p -m 0755 /etc/cshuttle
		rm -f /etc/cshuttle/helper.conf
		mount -n -t tmpfs -o mode=0755 cshuttle-lab "$3"
		case $4 in
		/run/*)	mkdir -p "$3/${4#/run/}"
			mount -n --rbind "$4" "$3/${4#/run/}" ;;
		esac
		mount -n --move "$3" /run
		echo ready >&3
		exec sleep 86400' sh "$d" "$LAB_NS_C" "$t" "$LAB_BASE" \
	    3>"$d.ready" </dev/null >>"$LAB_DIR/private.log" 2>&1 &
	LAB_PRIVATE_PID=$!
	LAB_PIDS+=("$LAB_PRIVATE_PID")
	for ((i = 0; i < 100; i++)); do
		grep -qs ready "$d.ready" && break
		lab_alive "$LAB_PRIVATE_PID" || break
		sleep 0.05
	done
	rmdir "$t"
	grep -qs ready "$d.ready" || {
		cat "$LAB_DIR/private.log" >&2
		return 1
	}
	# shellcheck disable=SC2034  # for the tests
	LAB_PRIVATE=(nsenter "--mount=/proc/$LAB_PRIVATE_PID/ns/mnt"
	    "--net=/proc/$LAB_PRIVATE_PID/ns/net" --)
}

# lab_private_policy [MODE]: the helper's policy file in the private
# namespace, from standard input (MODE, default 0644, root's); with no
# input at all, no file.
lab_private_policy() {
	local text
	text=$(cat)
	if [[ -z $text ]]; then
		"${LAB_PRIVATE[@]}" rm -f /etc/cshuttle/helper.conf
		return
	fi
	printf '%s\n' "$text" | "${LAB_PRIVATE[@]}" sh -c \
	    'cat >/etc/cshuttle/helper.conf && chmod "$1" /etc/cshuttle/helper.conf' \
	    sh "${1:-0644}"
}
