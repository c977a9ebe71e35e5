/* SPDX-License-Identifier: ISC */
/*
 * bootfake.h - a remote host in a directory, for the tests of the stub
 * bootstrap (tests/integration/bootstrap_script.c) and of the
 * external-command transport (tests/unit/test_transport_cmd.c).
 *
 * The test program doubles as a fake `ssh` (argv[1] == "--fake-ssh",
 * see bootfake_ssh_main()) that ignores the host and hands the remote
 * command to a local shell, so the bootstrap script runs for real under
 * dash (/bin/sh) or under `busybox sh`.  The stubs it uploads are fake
 * images (shell scripts that answer the probe, remove their file and
 * echo stdin, or misbehave on purpose) served through
 * bootstrap_set_stubs().  Each test gets a private directory holding what
 * stands in for $XDG_RUNTIME_DIR, $TMPDIR, $HOME, $XDG_CACHE_HOME and
 * --remote-tmpdir.
 *
 * Include after <cmocka.h>: the assertions end the running test.
 */
#ifndef CSHUTTLE_BOOTFAKE_H
#define CSHUTTLE_BOOTFAKE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "transport.h"

#define BOOTFAKE_BUSYBOX	"/bin/busybox"	/* busybox-static */

/* What every image that means to run starts with: the bootstrap runs it
 * once with CSHUTTLE_STUB_PROBE set and wants exactly this answer. */
#define BOOTFAKE_PROBE_OK \
	"[ -n \"$CSHUTTLE_STUB_PROBE\" ] && { echo CSHUTTLE-PROBE-OK; exit 0; }\n"

/* The default image: removes its file when given one (not from the
 * cache), then echoes stdin. */
extern const char	bootfake_img_echo[];
extern const size_t	bootfake_img_echo_len;
/* Does not answer the probe; would run fine otherwise. */
extern const char	bootfake_img_noprobe[];
extern const size_t	bootfake_img_noprobe_len;

/* The test's directories (all below bootfake_root), set by bootfake_setup. */
extern char	bootfake_root[256];	/* also holds the captured log */
extern char	bootfake_xdg[300];	/* $XDG_RUNTIME_DIR */
extern char	bootfake_tmp[300];	/* $TMPDIR */
extern char	bootfake_home[300];	/* $HOME */
extern char	bootfake_cache[300];	/* for $XDG_CACHE_HOME (unset at first) */
extern char	bootfake_rdir[300];	/* for --remote-tmpdir */
/* TEST_VERBOSE is set: scripts' output and client logs go to stderr. */
extern int	bootfake_verbose;

/*
 * The program's start.  With "--fake-ssh" in argv[1] the program is the
 * fake ssh: it runs, and true is returned with its exit status in
 * *status.  Otherwise the program's own path is kept for bootfake_open()
 * and logging is set up as `prog`: false, or true with *status 1 when
 * the path cannot be read.  On true, main returns *status.
 */
bool	bootfake_main(int argc, char **argv, const char *prog, int *status);

/* cmocka setup/teardown: fresh directories and environment, the default
 * image, no --stub-cache, no --remote-tmpdir. */
int	bootfake_setup(void **state);
int	bootfake_teardown(void **state);

/* The image the next open uploads (NULL: no stub for any architecture). */
void	bootfake_set_image(const char *data, size_t size);
/* --stub-cache and --remote-tmpdir of the next open. */
void	bootfake_options(bool cache, const char *tmpdir);
/* transport_cmd_open() through the fake ssh; mode "sh" (the remote's
 * /bin/sh is dash), "busybox" or "nosh" (there is no /bin/sh). */
struct transport *bootfake_open(const char *mode, const char *remote,
	    enum transport_fail *fail, char *err, size_t errlen);
/* The fake ssh command line for `mode`, for transport_cmd_open(). */
void	bootfake_ssh_cmd(const char *mode, char *cmd, size_t len);

/* The client's log (stderr) between the two calls; the result is
 * malloc'd. */
void	bootfake_capture_begin(void);
char	*bootfake_capture_end(void);

/* Write `total` bytes through t and read them back (the echo image). */
void	bootfake_roundtrip(struct transport *t, size_t total);
/* Open through the fake ssh in `mode`, check what the log says, move
 * data both ways; nothing may be left on the "remote". */
void	bootfake_cmd_roundtrip(const char *mode);

/* Entries of a directory (-1 when it cannot be read). */
int	bootfake_dir_entries(const char *path);
/* Fails the test (with the directory's listing) unless path is empty. */
void	bootfake_assert_empty_dir(const char *path);
void	bootfake_assert_contains(const char *hay, const char *needle);
void	bootfake_assert_lacks(const char *hay, const char *needle);
/* The cache directory k holds exactly stub-<sha256 of img>, mode 0700,
 * with img's bytes; its inode in *ino when ino is not NULL. */
void	bootfake_assert_cache_holds(const char *k, const void *img, size_t size,
	    ino_t *ino);

#endif
