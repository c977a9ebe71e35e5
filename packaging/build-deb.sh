#!/bin/bash
# SPDX-License-Identifier: ISC
#
# build-deb.sh - build the Debian package of this source tree.
#
# Usage: packaging/build-deb.sh OUTDIR
#
# Copies the tree (without .git and build directories) to a temporary
# directory, links packaging/debian there as debian/, runs
# `dpkg-buildpackage -us -uc -b` and moves the results (.deb, .changes,
# .buildinfo) to OUTDIR.  The source tree is not written to, and the
# temporary directory is removed however the build ends.
#
# Needs the packages in packaging/debian-build-deps.txt (debhelper among
# them).  Environment: JOBS (parallel jobs, default 2),
# CSHUTTLE_MUSL_TARBALL (a local musl_1.2.3.orig.tar.gz instead of the
# download), DEB_BUILD_OPTIONS (as for any package).
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
jobs=${JOBS:-2}

for tool in dpkg-buildpackage dh dpkg-parsechangelog; do
	if ! command -v "$tool" >/dev/null; then
		echo "build-deb.sh: $tool not found: install debhelper and dpkg-dev" >&2
		exit 1
	fi
done

work=$(mktemp -d /tmp/cshuttle-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree=$work/cshuttle

# Anchored patterns: only the top-level build directories (build*/ as in
# .gitignore, obj-* from an earlier dh run), not packaging/build-deb.sh.
mkdir "$tree"
tar -C "$src" --anchored --exclude=./.git --exclude='./build*' \
	--exclude='./obj-*' --exclude=./debian -cf - . | tar -C "$tree" -xf -
ln -s packaging/debian "$tree/debian"

version=$(cd "$tree" && dpkg-parsechangelog -S Version)
echo "build-deb.sh: building cshuttle $version in $tree"
(cd "$tree" && dpkg-buildpackage -us -uc -b -j"$jobs")

shopt -s nullglob
results=("$work"/*.deb "$work"/*.changes "$work"/*.buildinfo)
if [[ ${#results[@]} -eq 0 ]]; then
	echo "build-deb.sh: dpkg-buildpackage left no package" >&2
	exit 1
fi
mv -f "${results[@]}" "$out"/
for f in "${results[@]}"; do
	echo "build-deb.sh: $out/${f##*/}"
done
