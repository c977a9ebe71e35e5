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
