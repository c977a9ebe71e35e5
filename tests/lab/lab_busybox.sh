# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_busybox.sh - bare remotes for the lab (sourced by lab.sh): roots with
# busybox-static and nothing else, x86_64 and aarch64 (qemu-user).
#
# lab_busybox_up (after lab_up): two more roots, served by a second sshd
# in SERVER, each holding only a static busybox with links for its applets
# (/bin/sh among them), an /etc/passwd, /root, /tmp and /var/tmp (1777) and
# /dev/null: no libc, no dash, nothing of coreutils.
#
#   port 2224, alias labhost-bb    $LAB_BB_ROOT_x86_64: the host's own
#                                  /bin/busybox (busybox-static)
#   port 2225, alias labhost-bb64  $LAB_BB_ROOT_aarch64: an aarch64 busybox
#                                  ($CSHUTTLE_LAB_BUSYBOX_aarch64, fetched
#                                  at build time by fetch-busybox.sh), run
#                                  by qemu-aarch64-static through binfmt_misc
#                                  (qemu-user-static)
#
# sshd starts commands with the account's login shell as the *host's*
# passwd says (root: /bin/bash, which busybox is not), so this sshd runs in
# a mount namespace of its own in which /etc/passwd gives root /bin/sh, as
# on a busybox system.  That passwd sits in the upper layer of an overlay
# on /etc, not in a bind mount on /etc/passwd: useradd and userdel (other
# tests, run in parallel) replace /etc/passwd by rename(2), and the kernel
# detaches a mount whose mount point is renamed over, in every namespace.  The roots' mounts (/dev/null, the tests' noexec
# tmpfs) live in that namespace too: lab_bb_ns runs a command there, and
# lab_bb_listing lists a root as the sessions see it.
#
# The binfmt_misc handler, LAB_BB_BINFMT (cshuttle-<lab id>-aarch64), has
# the F flag: the kernel opens qemu-aarch64-static when it is registered,
# so it runs inside a chroot that has no such file.  And the P flag, with
# the interpreter name that tells qemu so ($LAB_QEMU_AARCH64): busybox's
# sh runs most applets by executing /proc/self/exe (qemu makes that the
# guest binary) with the applet's name as argv[0], which the kernel would
# otherwise replace with the file name (`wc -c` would run `sh -c`).
# binfmt_misc is mounted for it in sshd's namespace only when the host has
# not mounted it: the host's mounts are never touched (unmounting the last
# mount of binfmt_misc drops every handler, other runs' too), and a handler
# registered there dies with that namespace.  lab_destroy writes -1 to it
# all the same, for a host that has binfmt_misc mounted, where it would
# outlive sshd.  The newest handler for a format wins, so one the machine
# may already have (e.g. systemd's qemu-aarch64, without F) does not get
# in the way.

LAB_BB_ROOT_x86_64=
LAB_BB_ROOT_aarch64=
LAB_BB_SSHD_PID=
LAB_BB_BINFMT=
LAB_QEMU_AARCH64=${LAB_QEMU_AARCH64:-/usr/libexec/qemu-binfmt/aarch64-binfmt-P}

# e_machine of ELF file FILE, in decimal (62 x86_64, 183 aarch64); fails
# when FILE is not a 64-bit little-endian ELF file.
lab_elf_machine() {
	local m
	[[ "$(head -c 4 "$1" 2>/dev/null)" == $'\x7fELF' ]] || return 1
	[[ "$(od -An -tu1 -j4 -N2 "$1" | tr -s ' ')" == " 2 1" ]] || return 1
	m=$(od -An -tu1 -j18 -N2 "$1" | tr -s ' ') || return 1
	# shellcheck disable=SC2086
	set -- $m
	printf '%s\n' $(($1 + 256 * $2))
}

# lab_bb_root ROOT BUSYBOX: a root with nothing but BUSYBOX and its applets.
# The applet list is the host busybox's (the same Debian version; the
# caller compares them).  Every component is root-owned and not group or
# world writable, as ChrootDirectory demands.
lab_bb_root() {
	local root=$1 bb=$2 a
	mkdir -m 755 "$root" "$root"/{bin,etc,dev,var} || return 1
	mkdir -m 700 "$root/root" || return 1
	mkdir -m 1777 "$root/tmp" "$root/var/tmp" || return 1
	cp "$bb" "$root/bin/busybox" || return 1
	chmod 755 "$root/bin/busybox" || return 1
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] && continue
		ln -s busybox "$root/bin/$a" || return 1
	done
	[[ -L $root/bin/sh ]] || return 1
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	# The mount point of the bind mount of /dev/null (in sshd's namespace).
	: >"$root/dev/null"
}

lab_busybox_up() {
	local d=$LAB_DIR/bb bb64=${CSHUTTLE_LAB_BUSYBOX_aarch64:-} v1 v2 reg
	local magic mask

	lab_need /bin/busybox busybox-static "$LAB_QEMU_AARCH64" qemu-user-static
	if [[ $(lab_elf_machine /bin/busybox) != 62 ]] ||
	    ldd /bin/busybox >/dev/null 2>&1; then
		echo "lab: /bin/busybox is not a static x86_64 busybox (install busybox-static)" >&2
		return 1
	fi
	if [[ -z $bb64 ]]; then
		echo "lab: CSHUTTLE_LAB_BUSYBOX_aarch64 is not set (the build fetches it: tests/lab/fetch-busybox.sh)" >&2
		return 1
	fi
	if [[ ! -f $bb64 || $(lab_elf_machine "$bb64") != 183 ]]; then
		echo "lab: $bb64 is not an aarch64 busybox" >&2
		return 1
	fi
	if [[ $LAB_QEMU_AARCH64 != *-binfmt-P ]]; then
		echo "lab: $LAB_QEMU_AARCH64 is not qemu's binfmt-P wrapper" >&2
		return 1
	fi
	v1=$(grep -ao -m1 'BusyBox v[0-9][^ ]* ([^)]*)' /bin/busybox | head -n 1)
	v2=$(grep -ao -m1 'BusyBox v[0-9][^ ]* ([^)]*)' "$bb64" | head -n 1)
	if [[ "${v1%% (*}" != "${v2%% (*}" ]]; then
		# The applet links of both roots come from the host's busybox.
		echo "lab: warning: $bb64 is '$v2', the host's busybox '$v1'" >&2
	fi

	mkdir -m 700 "$d" || return 1
	LAB_BB_ROOT_x86_64=$LAB_DIR/bb-x86_64
	LAB_BB_ROOT_aarch64=$LAB_DIR/bb-aarch64
	lab_bb_root "$LAB_BB_ROOT_x86_64" /bin/busybox || return 1
	lab_bb_root "$LAB_BB_ROOT_aarch64" "$bb64" || return 1

	# The host's accounts (sshd needs its privilege separation user),
	# root's shell being busybox's /bin/sh.
	mkdir -m 755 "$d/etc" "$d/etc-work" || return 1
	awk -F: -v OFS=: '$1 == "root" { $7 = "/bin/sh" } { print }' \
	    /etc/passwd >"$d/etc/passwd" || return 1
	chmod 644 "$d/etc/passwd"

	# ELF, 64-bit, little-endian, version 1, executable or shared object
	# (static-pie), machine 183 (aarch64): what Debian's own qemu-aarch64
	# entry matches.  The kernel decodes the \x escapes.
	magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
	mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
	LAB_BB_BINFMT=cshuttle-$LAB_ID-aarch64
	reg=":$LAB_BB_BINFMT:M::$magic:$mask:$LAB_QEMU_AARCH64:PF"

	{
		echo "ListenAddress 198.18.0.2"
		echo "Port 2224"
		echo "Port 2225"
		echo "HostKey $LAB_DIR/host_key"
		echo "PidFile none"
		echo "AuthorizedKeysFile $LAB_DIR/authorized_keys"
		echo "PermitRootLogin prohibit-password"
		echo "StrictModes no"
		echo "PubkeyAuthentication yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "UsePAM no"
		echo "UseDNS no"
		echo "PrintMotd no"
		echo "PrintLastLog no"
		echo "MaxStartups 100:30:200"
		echo "LogLevel VERBOSE"
		echo "Match LocalPort 2224"
		printf '\tChrootDirectory %s\n' "$LAB_BB_ROOT_x86_64"
		echo "Match LocalPort 2225"
		printf '\tChrootDirectory %s\n' "$LAB_BB_ROOT_aarch64"
	} >"$d/sshd_config"
	/usr/sbin/sshd -t -f "$d/sshd_config" || return 1

	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_S" unshare -m --propagation private -- \
	    /bin/sh -c '
		b=/proc/sys/fs/binfmt_misc
		mount -t overlay cshuttle-lab -o "lowerdir=/etc,upperdir=$1/bb/etc,workdir=$1/bb/etc-work" /etc &&
		mount --bind /dev/null "$1/bb-x86_64/dev/null" &&
		mount --bind /dev/null "$1/bb-aarch64/dev/null" &&
		{ [ -e $b/register ] || mount -t binfmt_misc cshuttle-lab $b; } &&
		printf "%s\n" "$2" >$b/register &&
		exec /usr/sbin/sshd -D -f "$1/bb/sshd_config" -E "$1/bb/sshd.log"' \
	    sh "$LAB_DIR" "$reg" </dev/null &
	LAB_BB_SSHD_PID=$!
	LAB_PIDS+=("$LAB_BB_SSHD_PID")
	lab_wait_for 10 lab_listening "$LAB_NS_S" 2224 || return 1
	lab_wait_for 5 lab_listening "$LAB_NS_S" 2225 || return 1
	lab_bb_ns test -e "/proc/sys/fs/binfmt_misc/$LAB_BB_BINFMT" || return 1
	lab_say "busybox remotes are up: labhost-bb (x86_64), labhost-bb64 (aarch64, binfmt_misc $LAB_BB_BINFMT)"
}

# Run CMD in the mount namespace of the busybox sshd and its sessions.
lab_bb_ns() { nsenter -t "$LAB_BB_SSHD_PID" -m -- "$@"; }

# Every file of busybox root ROOT as its sessions see it (with the tests'
# mounts), one per line: type (f, d, l, c or ?), mode, size (of regular
# files, else -), path.  stat, not find's -type: find takes the type from
# the directory entry, which for a mount point is that of the file below.
lab_bb_listing() {
	lab_bb_ns find "$1" -exec stat -c '%F|%a|%s|%n' {} + |
	    awk -F'|' '{
		t = "?"
		if ($1 ~ /^regular/) t = "f"
		else if ($1 == "directory") t = "d"
		else if ($1 == "symbolic link") t = "l"
		else if ($1 == "character special file") t = "c"
		print t, $2, (t == "f" ? $3 : "-"), $4
	    }' | sort
}

# Remove the binfmt_misc handler of lab ID, wherever binfmt_misc is
# mounted: a private mount of it shares the live instance, if any is left.
lab_binfmt_remove() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare -m --propagation private -- /bin/sh -c '
		b=/proc/sys/fs/binfmt_misc
		[ -e $b/register ] ||
		    mount -t binfmt_misc cshuttle-lab $b 2>/dev/null || exit 0
		if [ -e "$b/$1" ]; then echo -1 >"$b/$1"; fi' \
	    sh "cshuttle-$1-aarch64"
}
