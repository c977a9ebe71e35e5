#!/bin/bash
# SPDX-License-Identifier: ISC
# deb_test.sh - the Debian package, from build to purge, as a user gets it:
#
#   1. its metadata agrees with the tree (version, build dependencies);
#   2. packaging/build-deb.sh builds it;
#   3. it holds exactly the expected files: the binary with every stub,
#      both manual pages, the units, the sysusers.d file, the completion,
#      the example profile, the copyright file;
#   4. lintian finds no error and no warning that is not overridden (with
#      a reason) in packaging/debian/cshuttle.lintian-overrides;
#   5. it installs (apt), and then cshuttle --version, the man pages, the
#      units (systemd-analyze verify against the installed files) and the
#      completion work, the postinst made the system user cshuttle, and
#      nothing was enabled;
#   6. it purges, leaving none of its files behind but that user, as
#      Debian does; the test then removes the user itself (when it was not
#      there before), so the machine is left as it was.
#
# Usage: deb_test.sh [MUSL_DOWNLOAD_DIR]
# A musl_*.orig.tar.gz in MUSL_DOWNLOAD_DIR (the build tree's) spares the
# package build its download.  Needs root and the packages in
# packaging/debian-build-deps.txt and tests/lab/packages.txt.  Refuses
# (fails) to run when a cshuttle package or /usr/sbin/cshuttle is already
# there, since it would replace and then remove them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"
export DEBIAN_FRONTEND=noninteractive

lab_need_root "it installs the package"
lab_need dpkg-buildpackage dpkg-dev dh debhelper dpkg-parsechangelog dpkg-dev \
	dpkg-deb dpkg lintian lintian apt-get apt systemd-analyze systemd \
	man man-db python3 python3 userdel passwd groupdel passwd
if dpkg-query -W -f='${Status}\n' cshuttle 2>/dev/null | grep -q ' installed$'; then
	lab_die "a cshuttle package is installed: this test would replace and purge it"
fi
[[ ! -e /usr/sbin/cshuttle ]] ||
	lab_die "/usr/sbin/cshuttle exists: this test would overwrite and remove it"

# A cshuttle user made by something else is left alone, and then the
# postinst can only be seen keeping it.
user_before=$(getent passwd cshuttle)
group_before=$(getent group cshuttle)

T=$(mktemp -d /tmp/cs-debtest.XXXXXX) || exit 1
INSTALLED=0
remove_user() {
	if [[ -z $user_before ]] && getent passwd cshuttle >/dev/null; then
		userdel cshuttle >/dev/null 2>&1
	fi
	if [[ -z $group_before ]] && getent group cshuttle >/dev/null; then
		groupdel cshuttle >/dev/null 2>&1
	fi
}
cleanup() {
	if ((INSTALLED)); then
		dpkg --purge cshuttle >/dev/null 2>&1
	fi
	remove_user
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- 1. metadata -----------------------------------------------------------
version=$(sed -n 's/^project(cshuttle VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
check_eq "debian/changelog has the CMake project version" "$version" \
	"$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)"

# Build-Depends (profiles and versions dropped, debhelper-compat is
# debhelper's) = packaging/debian-build-deps.txt less build-essential.
ctl_deps=$(awk '
	/^#/ { next }
	/^Build-Depends:/ { f = 1; sub(/^Build-Depends:/, ""); print; next }
	f && /^[ \t]/ { print; next }
	{ f = 0 }' "$src/packaging/debian/control" |
	tr ',' '\n' | sed -e 's/<[^>]*>//g' -e 's/([^)]*)//g' -e 's/[[:space:]]//g' |
	sed 's/^debhelper-compat$/debhelper/' | grep -v '^$' | sort | tr '\n' ' ')
txt_deps=$(grep -v -e '^#' -e '^build-essential$' -e '^[[:space:]]*$' \
	"$src/packaging/debian-build-deps.txt" | sort | tr '\n' ' ')
check_eq "control's Build-Depends = packaging/debian-build-deps.txt" "$txt_deps" "$ctl_deps"
for s in postinst prerm; do
	check "debian/cshuttle.$s is valid sh" sh -n "$src/packaging/debian/cshuttle.$s"
done

# --- 2. build --------------------------------------------------------------
musl=
for f in "${1:-/nonexistent}"/musl_*.orig.tar.gz; do
	[[ -f $f ]] && musl=$f
done
lab_say "building the package${musl:+ (musl from $musl)}"
t0=$SECONDS
if CSHUTTLE_MUSL_TARBALL=$musl JOBS=${JOBS:-2} \
	bash "$src/packaging/build-deb.sh" "$T/out" >"$T/build.log" 2>&1; then
	lab_ok "packaging/build-deb.sh built it in $((SECONDS - t0)) s"
else
	tail -40 "$T/build.log"
	lab_die "packaging/build-deb.sh failed (log above)"
fi
deb=$T/out/cshuttle_${version}_amd64.deb
changes=$T/out/cshuttle_${version}_amd64.changes
[[ -f $deb && -f $changes ]] || lab_die "no $deb or $changes: $(ls "$T/out")"

# --- 3. contents -----------------------------------------------------------
dpkg-deb -c "$deb" >"$T/contents" || lab_die "dpkg-deb -c failed"
files=$(awk '$1 !~ /^d/ { print $6 }' "$T/contents" | sort | tr '\n' ' ')
check_eq "the package holds exactly the expected files" "$(printf '%s ' \
	./lib/systemd/system/cshuttle.target \
	./lib/systemd/system/cshuttle@.service \
	./usr/lib/sysusers.d/cshuttle.conf \
	./usr/sbin/cshuttle \
	./usr/share/bash-completion/completions/cshuttle \
	./usr/share/doc/cshuttle/README.md.gz \
	./usr/share/doc/cshuttle/changelog.gz \
	./usr/share/doc/cshuttle/copyright \
	./usr/share/doc/cshuttle/examples/example.conf \
	./usr/share/lintian/overrides/cshuttle \
	./usr/share/man/man5/cshuttle.conf.5.gz \
	./usr/share/man/man8/cshuttle.8.gz)" "$files"
check "/usr/sbin/cshuttle is root-owned, mode 0755" \
	grep -qE '^-rwxr-xr-x root/root .* \./usr/sbin/cshuttle$' "$T/contents"
check "/etc/cshuttle is shipped, for the profiles" \
	grep -qE '^drwxr-xr-x root/root .* \./etc/cshuttle/$' "$T/contents"
mkdir "$T/x"
dpkg-deb -x "$deb" "$T/x" || lab_die "dpkg-deb -x failed"
check "the unit is the source's (ExecStart=/usr/sbin/cshuttle)" \
	cmp "$src/packaging/systemd/cshuttle@.service" "$T/x/lib/systemd/system/cshuttle@.service"
check "the sysusers.d file is packaging/sysusers.d/cshuttle.conf" \
	cmp "$src/packaging/sysusers.d/cshuttle.conf" "$T/x/usr/lib/sysusers.d/cshuttle.conf"
mkdir "$T/ctl"
dpkg-deb -e "$deb" "$T/ctl" || lab_die "dpkg-deb -e failed"
check "the postinst runs systemd-sysusers on it" \
	grep -qE '^[[:space:]]*systemd-sysusers .*cshuttle\.conf' "$T/ctl/postinst"
check "the example profile is packaging/cshuttle.conf.example" \
	cmp "$src/packaging/cshuttle.conf.example" "$T/x/usr/share/doc/cshuttle/examples/example.conf"
# Every remote architecture: one ELF image per stub, besides the binary's.
arches=$(sed -n 's/^set(CSHUTTLE_STUB_ARCHES "\([^"]*\)".*/\1/p' "$src/server-stub/CMakeLists.txt")
n_arches=$(tr ';' '\n' <<<"$arches" | grep -c .)
n_elf=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(b"\x7fELF"))' \
	"$T/x/usr/sbin/cshuttle")
check_eq "the binary embeds a stub for each of: ${arches//;/ }" "$((n_arches + 1))" "$n_elf"
depends=$(dpkg-deb -f "$deb" Depends)
lab_say "Depends: $depends"
check "Depends has the shared libraries (\${shlibs:Depends})" \
	grep -qE 'libc6 \(>= [^)]*\).*libssh2-1' <<<"$depends"
check "Depends has a systemd-sysusers" \
	grep -qE '(^|, )systemd \| systemd-standalone-sysusers \| systemd-sysusers(,|$)' <<<"$depends"

# --- 4. lintian ------------------------------------------------------------
# lintian leaves its MLDBM caches in $TMPDIR: keep them in ours.
TMPDIR=$T lintian -I --show-overrides "$changes" >"$T/lintian" 2>&1
lab_say "lintian:"
sed 's/^/    /' "$T/lintian"
check_eq "lintian: no E: or W: line that is not overridden" "" \
	"$(grep -E '^[EW]: ' "$T/lintian")"
check_eq "lintian: every override is still needed" "" \
	"$(grep -E 'unused-override|mismatched-override' "$T/lintian")"

# --- 5. install ------------------------------------------------------------
INSTALLED=1
if apt-get install -y --no-install-recommends "$deb" >"$T/install.log" 2>&1; then
	lab_ok "apt-get install ./cshuttle_${version}_amd64.deb"
else
	cat "$T/install.log"
	lab_die "apt-get install failed (log above)"
fi
check_eq "dpkg says installed" "install ok installed" \
	"$(dpkg-query -W -f='${Status}' cshuttle)"
check_eq "cshuttle --version" "cshuttle $version" "$(/usr/sbin/cshuttle --version 2>&1)"
check_eq "man finds cshuttle(8)" /usr/share/man/man8/cshuttle.8.gz \
	"$(env -u MANPATH man -w 8 cshuttle 2>&1)"
check_eq "man finds cshuttle.conf(5)" /usr/share/man/man5/cshuttle.conf.5.gz \
	"$(env -u MANPATH man -w 5 cshuttle.conf 2>&1)"
check "the units are in /lib/systemd/system" \
	test -f /lib/systemd/system/cshuttle@.service -a -f /lib/systemd/system/cshuttle.target
out=$(cd / && env -u MANPATH systemd-analyze verify /lib/systemd/system/cshuttle@office.service \
	/lib/systemd/system/cshuttle.target 2>&1)
check_eq "systemd-analyze verify of the installed units prints nothing" "" "$out"
check_eq "the installed completion registers itself" "complete -F _cshuttle cshuttle" \
	"$(bash -c 'source /usr/share/bash-completion/completions/cshuttle && complete -p cshuttle' 2>&1)"
pw=$(getent passwd cshuttle)
if [[ -n $user_before ]]; then
	lab_say "a user cshuttle was there before the test: the postinst can only keep it"
	check_eq "the postinst kept the existing user cshuttle" "$user_before" "$pw"
else
	IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
	check "the postinst made a system user cshuttle (uid ${uid:-none} < 1000)" \
		test -n "$uid" -a "${uid:-1000}" -lt 1000
	check_eq "with its own group" "cshuttle:x:$gid:" "$(getent group cshuttle)"
	check_eq "no home, no login shell" "/nonexistent /usr/sbin/nologin" "$home $shell"
	check "and no password" grep -q '^cshuttle:!' /etc/shadow
fi
# A template needs a profile first; the target would start nothing.
check_eq "nothing was enabled" "" "$(find /etc/systemd/system -name '*cshuttle*' 2>/dev/null)"
# systemctl reads the unit files itself when systemd is not running.
check_eq "systemctl: cshuttle.target is disabled" disabled \
	"$(systemctl is-enabled cshuttle.target 2>&1)"
check_eq "systemctl: cshuttle@NAME is disabled" disabled \
	"$(systemctl is-enabled cshuttle@office.service 2>&1)"

# --- 6. purge --------------------------------------------------------------
if apt-get purge -y cshuttle >"$T/purge.log" 2>&1; then
	INSTALLED=0
	lab_ok "apt-get purge cshuttle"
else
	cat "$T/purge.log"
	lab_bad "apt-get purge failed (log above)"
fi
dpkg_knows() { dpkg -L cshuttle >/dev/null 2>&1; }
check_not "dpkg -L cshuttle knows nothing" dpkg_knows
check_eq "dpkg: not installed" "" \
	"$(dpkg-query -W -f='${Status}' cshuttle 2>/dev/null | grep ' installed$')"
check_not "/usr/sbin/cshuttle is gone" test -e /usr/sbin/cshuttle
left=
while read -r path; do
	path=${path#.}
	[[ -n $path && $path != / ]] || continue
	# Directories the package shares with others stay, its own go.
	if [[ -e $path ]] && ! { [[ -d $path ]] && dpkg -S "$path" >/dev/null 2>&1; }; then
		left+="$path "
	fi
done < <(awk '{ print $6 }' "$T/contents")
check_eq "none of the package's files or directories is left" "" "$left"
# Debian keeps a system user on purge (files it owns may remain); the
# test, not the package, removes the one it made.
check_eq "the purge keeps the user cshuttle" "${user_before:-$pw}" "$(getent passwd cshuttle)"
remove_user
if [[ -z $user_before ]]; then
	check_eq "the test removed the user and group it made" "" \
		"$(getent passwd cshuttle; getent group cshuttle)"
fi
check_eq "no maintainer scripts or state left" "" \
	"$(ls /var/lib/dpkg/info/cshuttle.* /var/lib/systemd/deb-systemd-helper-enabled/*cshuttle* \
		/var/lib/systemd/deb-systemd-helper-masked/*cshuttle* 2>/dev/null)"
lab_finish
