#!/bin/bash
# SPDX-License-Identifier: ISC
#
# fetch-busybox.sh DEB_ARCH OUTFILE - download Debian's busybox-static for
# the Debian architecture DEB_ARCH (e.g. arm64) and install its
# /bin/busybox as OUTFILE.  For the lab's foreign-architecture remote
# (lab_busybox_up); run at build time, like any other download of a
# build dependency, so that the tests themselves never download anything.
#
# The system's apt state is left alone: no `dpkg --add-architecture`, no
# change to its lists or caches.  apt runs on a private, temporary
# directory with a sources list of its own that names only DEB_ARCH.
#
# Environment: CSHUTTLE_BUSYBOX_SUITE (default bookworm, the suite of the
# lab's machines, so the applets match the host's busybox-static),
# CSHUTTLE_BUSYBOX_MIRROR (default: the system's Debian mirror, else
# http://deb.debian.org/debian).

set -euo pipefail

if (($# != 2)); then
	echo "usage: $0 DEB_ARCH OUTFILE" >&2
	exit 2
fi
arch=$1
out=$2
suite=${CSHUTTLE_BUSYBOX_SUITE:-bookworm}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

case $arch in
*[!a-z0-9]* | '')
	echo "fetch-busybox: bad Debian architecture '$arch'" >&2
	exit 2
	;;
esac
[[ -r $keyring ]] || {
	echo "fetch-busybox: $keyring missing (package debian-archive-keyring)" >&2
	exit 1
}

# The mirror the system already uses for Debian's main archive (it may be
# the only one reachable), from a deb822 .sources file or sources.list.
system_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk '/^URIs:/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f"
	done
	if [[ -r /etc/apt/sources.list ]]; then
		awk '$1 == "deb" { for (i = 2; i <= NF; i++)
			if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' \
		    /etc/apt/sources.list
	fi
}
mirror=${CSHUTTLE_BUSYBOX_MIRROR:-$(system_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

R=$(mktemp -d "${TMPDIR:-/tmp}/cshuttle-busybox.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/lists/partial" "$R/cache" "$R/archives/partial" "$R/dl" "$R/x" \
    "$R/empty"
: >"$R/status"
echo "deb [arch=$arch signed-by=$keyring] $mirror $suite main" >"$R/sources.list"

apt_opts=(
	-o "Dir::Etc::SourceList=$R/sources.list"
	-o "Dir::Etc::SourceParts=$R/empty"
	-o "Dir::Etc::Preferences=$R/empty/preferences"
	-o "Dir::Etc::PreferencesParts=$R/empty"
	-o "Dir::State::Lists=$R/lists"
	-o "Dir::State::status=$R/status"
	-o "Dir::Cache=$R/cache"
	-o "Dir::Cache::Archives=$R/archives"
	-o "APT::Architecture=$arch"
	-o "APT::Architectures::=$arch"
	-o Acquire::Languages=none
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root
)

apt-get -q "${apt_opts[@]}" update >"$R/update.log" 2>&1 || {
	cat "$R/update.log" >&2
	echo "fetch-busybox: apt-get update failed ($mirror $suite, $arch)" >&2
	exit 1
}
(cd "$R/dl" && apt-get -q "${apt_opts[@]}" download "busybox-static:$arch") || {
	echo "fetch-busybox: cannot download busybox-static:$arch" >&2
	exit 1
}
deb=$(find "$R/dl" -name 'busybox-static_*.deb' | head -n 1)
[[ -n $deb ]] || {
	echo "fetch-busybox: apt-get download left no .deb" >&2
	exit 1
}
dpkg-deb -x "$deb" "$R/x"
[[ -f $R/x/bin/busybox ]] || {
	echo "fetch-busybox: no bin/busybox in ${deb##*/}" >&2
	exit 1
}

# Atomic: a build interrupted half-way leaves no truncated binary behind
# for the next one to take as done.
mkdir -p "$(dirname "$out")"
cp "$R/x/bin/busybox" "$out.tmp.$$"
chmod 755 "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "fetch-busybox: ${deb##*/} -> $out"
