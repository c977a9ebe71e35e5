/* SPDX-License-Identifier: ISC */
/*
 * bootfake.c - a remote host in a directory (see bootfake.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bootfake.h"
#include "bootstrap.h"
#include "clock.h"
#include "log.h"
#include "stubs.h"
#include "transport.h"

const char	bootfake_img_echo[] = "#!/bin/sh\n" BOOTFAKE_PROBE_OK
    "if [ $# -gt 0 ]; then rm -f \"$1\"; fi\nexec cat\n";
const size_t	bootfake_img_echo_len = sizeof(bootfake_img_echo) - 1;
const char	bootfake_img_noprobe[] =
    "#!/bin/sh\necho not a stub\necho second line\nexit 3\n";
const size_t	bootfake_img_noprobe_len = sizeof(bootfake_img_noprobe) - 1;

char	bootfake_root[256], bootfake_xdg[300], bootfake_tmp[300], bootfake_home[300];
char	bootfake_cache[300], bootfake_rdir[300];
int	bootfake_verbose;

static char	 bootfake_self[4096];
static char	*bootfake_saved_home, *bootfake_saved_cache;

static struct stub_image	 bootfake_image;
static const char		*bootfake_data;
static size_t			 bootfake_size;
static struct transport_open_opts bootfake_opts;

/* ---- fake ssh ---- */

/*
 * --fake-ssh MODE ARGS... : MODE is "sh" (remote /bin/sh is dash),
 * "busybox" (remote /bin/sh is busybox sh) or "nosh" (there is no
 * /bin/sh).  The last argument is the remote command, run by a "login
 * shell" (dash) as sshd would.  With $FAKE_SSH_ARGS set, the arguments
 * are written there first.
 */
static int
bootfake_ssh_main(int argc, char **argv)
{
	const char	*mode = argv[2], *cmd = argv[argc - 1], *log = getenv("FAKE_SSH_ARGS");
	const char	*prefix = "exec /bin/sh -c ";
	char		*rewritten;
	FILE		*f;
	int		 i;

	if (log != NULL && (f = fopen(log, "w")) != NULL) {
		for (i = 3; i < argc - 1; i++)
			fprintf(f, "%s\n", argv[i]);
		fclose(f);
	}
	if ((rewritten = malloc(strlen(cmd) + 64)) == NULL)
		return 255;
	if (strcmp(mode, "sh") == 0)
		strcpy(rewritten, cmd);
	else if (strncmp(cmd, prefix, strlen(prefix)) != 0)
		return 255;
	else
		sprintf(rewritten, "exec %s -c %s",
		    strcmp(mode, "busybox") == 0 ? BOOTFAKE_BUSYBOX " sh" : "/nonexistent/sh",
		    cmd + strlen(prefix));
	execl("/bin/sh", "sh", "-c", rewritten, (char *)NULL);
	return 255;
}

bool
bootfake_main(int argc, char **argv, const char *prog, int *status)
{
	ssize_t	n;

	if (argc >= 3 && strcmp(argv[1], "--fake-ssh") == 0) {
		*status = bootfake_ssh_main(argc, argv);
		return true;
	}
	*status = 0;
	if ((n = readlink("/proc/self/exe", bootfake_self, sizeof(bootfake_self) - 1)) <= 0) {
		*status = 1;
		return true;
	}
	bootfake_self[n] = '\0';
	signal(SIGPIPE, SIG_IGN);
	bootfake_verbose = getenv("TEST_VERBOSE") != NULL;
	log_init(prog, bootfake_verbose ? 2 : -1);
	return false;
}

/* ---- fake stub images ---- */

static const struct stub_image *
bootfake_find(const char *machine)
{
	if (bootfake_data == NULL)
		return NULL;
	bootfake_image.arch = machine;
	bootfake_image.machines = machine;
	bootfake_image.data = (const unsigned char *)bootfake_data;
	bootfake_image.size = bootfake_size;
	return &bootfake_image;
}

void
bootfake_set_image(const char *data, size_t size)
{
	bootfake_data = data;
	bootfake_size = size;
}

void
bootfake_options(bool cache, const char *tmpdir)
{
	memset(&bootfake_opts, 0, sizeof(bootfake_opts));
	bootfake_opts.stub_cache = cache;
	bootfake_opts.remote_tmpdir = tmpdir;
}

void
bootfake_ssh_cmd(const char *mode, char *cmd, size_t len)
{
	snprintf(cmd, len, "'%s' --fake-ssh %s", bootfake_self, mode);
}

struct transport *
bootfake_open(const char *mode, const char *remote, enum transport_fail *fail, char *err,
    size_t errlen)
{
	char	cmd[8192];

	bootfake_ssh_cmd(mode, cmd, sizeof(cmd));
	return transport_cmd_open(cmd, remote, NULL, &bootfake_opts, fail, err, errlen);
}

/* ---- directories ---- */

int
bootfake_dir_entries(const char *path)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

void
bootfake_assert_empty_dir(const char *path)
{
	char	cmd[600];
	int	n = bootfake_dir_entries(path);

	if (n != 0) {
		snprintf(cmd, sizeof(cmd), "ls -la '%s' >&2", path);
		(void)!system(cmd);
		fail_msg("%s: %d entries left, want none", path, n);
	}
}

static void
bootfake_rm_rf(const char *path)
{
	char	cmd[600];

	if (path[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	(void)!system(cmd);
}

static void
bootfake_restore_env(const char *name, char **saved)
{
	if (*saved != NULL)
		setenv(name, *saved, 1);
	else
		unsetenv(name);
	free(*saved);
	*saved = NULL;
}

int
bootfake_setup(void **state)
{
	const char	*v;

	snprintf(bootfake_root, sizeof(bootfake_root), "/tmp/csboot.XXXXXX");
	if (mkdtemp(bootfake_root) == NULL)
		return -1;
	snprintf(bootfake_xdg, sizeof(bootfake_xdg), "%s/xdg", bootfake_root);
	snprintf(bootfake_tmp, sizeof(bootfake_tmp), "%s/tmp", bootfake_root);
	snprintf(bootfake_home, sizeof(bootfake_home), "%s/home", bootfake_root);
	snprintf(bootfake_cache, sizeof(bootfake_cache), "%s/cache", bootfake_root);
	snprintf(bootfake_rdir, sizeof(bootfake_rdir), "%s/rdir", bootfake_root);
	if (mkdir(bootfake_xdg, 0700) != 0 || mkdir(bootfake_tmp, 0700) != 0 ||
	    mkdir(bootfake_home, 0700) != 0 || mkdir(bootfake_cache, 0700) != 0 ||
	    mkdir(bootfake_rdir, 0700) != 0)
		return -1;
	bootfake_saved_home = (v = getenv("HOME")) != NULL ? strdup(v) : NULL;
	bootfake_saved_cache = (v = getenv("XDG_CACHE_HOME")) != NULL ? strdup(v) : NULL;
	setenv("XDG_RUNTIME_DIR", bootfake_xdg, 1);
	setenv("TMPDIR", bootfake_tmp, 1);
	setenv("HOME", bootfake_home, 1);
	unsetenv("XDG_CACHE_HOME");
	bootstrap_set_stubs(bootfake_find, "fakearch");
	bootfake_options(false, NULL);
	bootfake_set_image(bootfake_img_echo, bootfake_img_echo_len);
	return 0;
}

int
bootfake_teardown(void **state)
{
	/* The tests check for leftovers themselves; this only cleans up
	 * after a failed one. */
	bootfake_rm_rf(bootfake_root);
	bootfake_restore_env("HOME", &bootfake_saved_home);
	bootfake_restore_env("XDG_CACHE_HOME", &bootfake_saved_cache);
	unsetenv("FAKE_SSH_ARGS");
	bootfake_options(false, NULL);
	return 0;
}

/* ---- the client's log ---- */

static int	bootfake_cap_saved = -1, bootfake_cap_fd = -1;
static char	bootfake_cap_path[400];

void
bootfake_capture_begin(void)
{
	snprintf(bootfake_cap_path, sizeof(bootfake_cap_path), "%s/log", bootfake_root);
	bootfake_cap_fd = open(bootfake_cap_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(bootfake_cap_fd >= 0);
	bootfake_cap_saved = dup(STDERR_FILENO);
	assert_true(bootfake_cap_saved >= 0);
	assert_true(dup2(bootfake_cap_fd, STDERR_FILENO) == STDERR_FILENO);
	/* debug: the bootstrap says where the stub runs at info or debug */
	log_init(NULL, bootfake_verbose ? 2 : 1);
}

char *
bootfake_capture_end(void)
{
	char	*buf;
	off_t	 size;
	ssize_t	 n;

	dup2(bootfake_cap_saved, STDERR_FILENO);
	close(bootfake_cap_saved);
	log_init(NULL, bootfake_verbose ? 2 : -1);
	size = lseek(bootfake_cap_fd, 0, SEEK_END);
	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	n = pread(bootfake_cap_fd, buf, (size_t)size, 0);
	assert_int_equal(n, size);
	buf[n] = '\0';
	close(bootfake_cap_fd);
	unlink(bootfake_cap_path);
	if (bootfake_verbose)
		fprintf(stderr, "---- client log ----\n%s--------------------\n", buf);
	return buf;
}

void
bootfake_assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

void
bootfake_assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("\"%s\" unexpectedly found in:\n%s", needle, hay);
}

/* ---- data through the transport ---- */

void
bootfake_roundtrip(struct transport *t, size_t total)
{
	unsigned char	*out, *in;
	size_t		 woff = 0, roff = 0, len;
	ssize_t		 n;
	int64_t		 deadline = (int64_t)clock_ms() + 60000;
	size_t		 i;

	out = malloc(total);
	in = malloc(total);
	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < total; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 11));
	while (roff < total) {
		assert_true((int64_t)clock_ms() < deadline);
		while (woff < total) {
			len = total - woff < TRANSPORT_MAX_WRITE ? total - woff : TRANSPORT_MAX_WRITE;
			n = transport_write(t, out + woff, len);
			if (n == TRANSPORT_AGAIN)
				break;
			assert_true(n > 0);
			woff += (size_t)n;
		}
		for (;;) {
			n = transport_read(t, in + roff, total - roff);
			if (n == TRANSPORT_AGAIN)
				break;
			assert_true(n > 0);
			roff += (size_t)n;
			if (roff == total)
				break;
		}
		t->ops->service(t);
		if (roff < total)
			(void)bootstrap_wait(t, deadline, 100);
	}
	assert_memory_equal(in, out, total);
	free(out);
	free(in);
}

void
bootfake_cmd_roundtrip(const char *mode)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], *log;

	bootfake_capture_begin();
	t = bootfake_open(mode, "user@somewhere:2222", &fail, err, sizeof(err));
	log = bootfake_capture_end();
	if (t == NULL)
		fail_msg("open failed: %s", err);
	assert_int_equal(fail, TRANSPORT_F_NONE);
	assert_int_equal(t->peer.family, 0);
	snprintf(want, sizeof(want), "uploading the x86_64 stub (%zu bytes)\n",
	    bootfake_img_echo_len);
	bootfake_assert_contains(log, want);
	snprintf(want, sizeof(want), "stub started on the remote host from %s\n",
	    bootfake_xdg);
	bootfake_assert_contains(log, want);
	free(log);
	bootfake_roundtrip(t, 100);
	/* The stub removed its file before doing anything else. */
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_roundtrip(t, 3 * 1024 * 1024 + 17);
	t->ops->free(t);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

/* ---- the cache ---- */

void
bootfake_assert_cache_holds(const char *k, const void *img, size_t size, ino_t *ino)
{
	char		 path[600], hex[65], *data;
	struct stat	 sb;
	FILE		*f;

	bootstrap_sha256_hex(img, size, hex);
	snprintf(path, sizeof(path), "%s/stub-%s", k, hex);
	if (stat(path, &sb) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(S_ISREG(sb.st_mode));
	if ((sb.st_mode & 07777) != 0700)
		fail_msg("%s has mode %04o, want 0700", path, (unsigned)(sb.st_mode & 07777));
	assert_int_equal(sb.st_size, size);
	data = malloc(size + 1);
	assert_non_null(data);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(data, 1, size + 1, f), size);
	fclose(f);
	assert_memory_equal(data, img, size);
	free(data);
	if (bootfake_dir_entries(k) != 1)
		fail_msg("%s: %d entries, want only stub-%s", k, bootfake_dir_entries(k), hex);
	if (ino != NULL)
		*ino = sb.st_ino;
}
