/* SPDX-License-Identifier: ISC */
/*
 * bootstrap_script.c - the stub bootstrap's remote script, run for real
 * under dash (/bin/sh) and under `busybox sh`, and the external-command
 * transport's bootstrap under busybox sh.
 *
 * The script gets the client's side of the exchange on stdin and its
 * answers are read from stdout; images are fake stubs (shell scripts that
 * answer the probe and say where they ran from, or misbehave on purpose)
 * and, for the "cc" mode, small C programs the host's compiler builds.
 * The "remote" is a directory and `ssh` is this program (tests/bootfake.h).
 * The noexec cases mount tmpfs noexec in a private mount namespace: they
 * need root.  busybox-static, cc and root are requirements here: their
 * absence fails the test (tests/testutil.h).  The transport's cases
 * that need neither busybox nor root are in tests/unit/test_transport_cmd.c.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "bootfake.h"
#include "bootstrap.h"
#include "transport.h"

/* Says where it ran from; removes itself. */
static const char img_self[] = "#!/bin/sh\n" BOOTFAKE_PROBE_OK
    "if [ $# -gt 0 ]; then rm -f \"$1\"; echo \"ran $1\"; else echo \"ran cached\"; fi\n";
/* Says where it ran from; stays (the script must not remove it). */
static const char img_keep[] = "#!/bin/sh\n" BOOTFAKE_PROBE_OK "echo \"ran $*\"\n";
static const char img_silent[] = "#!/bin/sh\nexit 0\n";
/* An ELF header for a machine that does not exist (e_machine 0xbeef):
 * execve() fails with ENOEXEC, as a stub for the wrong CPU would. */
static const char img_badelf[64] = "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\2\0\357\276\1\0\0\0";

/* For the "cc" mode: a stub in C, and one that does not compile. */
static const char src_good[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
    "int main(int argc, char **argv) {\n"
    "\tif (getenv(\"CSHUTTLE_STUB_PROBE\") != NULL) { puts(\"CSHUTTLE-PROBE-OK\"); return 0; }\n"
    "\tif (argc > 1) unlink(argv[1]);\n"
    "\tprintf(\"compiled stub ran with %d arguments\\n\", argc - 1);\n"
    "\treturn 0;\n}\n";
static const char src_bad[] =
    "int main(void)\n{\n\treturn 0\n}\n";

static void
need_busybox(void)
{
	test_need(BOOTFAKE_BUSYBOX, "busybox-static");
}

static void
need_root(void)
{
	test_need_root("noexec mounts in a private mount namespace");
}

/* ---- the script, driven directly ---- */

/*
 * Run the script under `shell` with `input` on stdin (then EOF) and
 * return its stdout (malloc'd).  Root only: with `noexec_dir` the child
 * first mounts a noexec tmpfs over that directory in a private mount
 * namespace; with `noexec_all` over /tmp, /var/tmp and /dev/shm, where it
 * then recreates the test's directories (all in /tmp) on the noexec
 * tmpfs.
 */
static char *
run_script(const char *shell, const char *input, size_t inlen, const char *noexec_dir,
    int noexec_all, int *status)
{
	static const char	*const all[] = { "/tmp", "/var/tmp", "/dev/shm" };
	const char		*again[] = { bootfake_root, bootfake_xdg, bootfake_tmp,
				      bootfake_rdir };
	int			 in[2], out[2];
	pid_t			 pid;
	char			*buf;
	size_t			 len = 0, cap = 65536;
	ssize_t			 n;
	unsigned		 i;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (noexec_dir != NULL || noexec_all) {
			if (unshare(CLONE_NEWNS) != 0 ||
			    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
				_exit(99);
			for (i = 0; noexec_all && i < 3; i++)
				if (mount("tmpfs", all[i], "tmpfs", MS_NOEXEC, "mode=1777") != 0)
					_exit(99);
			for (i = 0; noexec_all && i < 4; i++)
				if (mkdir(again[i], 0700) != 0)
					_exit(99);
			if (noexec_dir != NULL &&
			    mount("tmpfs", noexec_dir, "tmpfs", MS_NOEXEC, "mode=0700") != 0)
				_exit(99);
		}
		if (strcmp(shell, "busybox") == 0)
			execl(BOOTFAKE_BUSYBOX, "sh", "-c", bootstrap_script(), (char *)NULL);
		else
			execl("/bin/sh", "sh", "-c", bootstrap_script(), (char *)NULL);
		_exit(98);
	}
	close(in[0]);
	close(out[1]);
	/* The script may exit before reading it all (errors, cache hits). */
	if (inlen > 0)
		(void)!write(in[1], input, inlen);
	close(in[1]);
	buf = malloc(cap + 1);
	assert_non_null(buf);
	while ((n = read(out[0], buf + len, cap - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	if (bootfake_verbose)
		fprintf(stderr, "---- script (%s) ----\n%s--------------------\n", shell, buf);
	if (WIFEXITED(*status) && WEXITSTATUS(*status) >= 98)
		fail_msg("could not set up the script's child (exit %d)", WEXITSTATUS(*status));
	return buf;
}

/*
 * The client's side of the exchange as one input: the UPLOAD line, then
 * `send` bytes of the body (mode run|cache|cc, dir "-" for none).
 */
static char *
upload_input(const void *image, size_t size, const char *hash_override, size_t send,
    const char *mode, const char *dir, size_t *len)
{
	char	hex[65], *in;

	bootstrap_sha256_hex(image, size, hex);
	in = malloc(size + 1024);
	assert_non_null(in);
	snprintf(in, 1024, "UPLOAD %zu %s %s %s\n", size,
	    hash_override ? hash_override : hex, mode, dir);
	*len = strlen(in);
	memcpy(in + *len, image, send);
	*len += send;
	return in;
}

/* Run `image` through the script in `mode` with `dir`; stdout returned. */
static char *
run_upload(const char *shell, const void *image, size_t size, const char *mode,
    const char *dir, const char *noexec_dir, int noexec_all, int *st)
{
	char	*in, *out;
	size_t	 len;

	in = upload_input(image, size, NULL, size, mode, dir, &len);
	out = run_script(shell, in, len, noexec_dir, noexec_all, st);
	free(in);
	return out;
}

static void
assert_exit(int st, int code)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != code)
		fail_msg("script status 0x%x, want exit %d", st, code);
}

static void
script_errors(const char *shell)
{
	char	*in, *out, want[2048], boot[128];
	size_t	 len;
	int	 st;

	/* The greeting names the compiler (the host has cc). */
	test_need("cc", "gcc");
	snprintf(boot, sizeof(boot), "CSHUTTLE-BOOT 2 Linux ");
	out = run_script(shell, "ABORT unsupported architecture x\n",
	    strlen("ABORT unsupported architecture x\n"), NULL, 0, &st);
	assert_true(strncmp(out, boot, strlen(boot)) == 0);
	assert_non_null(strstr(out, " cc\n"));
	/* ABORT: quiet exit 0, nothing left. */
	assert_null(strstr(out, "CSHUTTLE-ERR"));
	assert_exit(st, 0);
	free(out);

	/* Wrong hash. */
	in = upload_input(img_keep, sizeof(img_keep) - 1,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    sizeof(img_keep) - 1, "run", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR checksum mismatch\n");
	bootfake_assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	free(in);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* Short upload (the client went away). */
	in = upload_input(img_keep, sizeof(img_keep) - 1, NULL, 5, "run", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR short upload (5 of %zu bytes)\n",
	    sizeof(img_keep) - 1);
	bootfake_assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
	free(in);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* A size that is not a number. */
	out = run_script(shell, "UPLOAD x abc run -\n", strlen("UPLOAD x abc run -\n"),
	    NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR bad upload size\n");
	assert_exit(st, 1);
	free(out);

	/* A good upload runs the image with its own path as argument, from
	 * the first candidate directory, which the EXEC line names. */
	out = run_upload(shell, img_keep, sizeof(img_keep) - 1, "run", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", bootfake_xdg,
	    bootfake_xdg);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	/* This image does not remove itself: exactly one file is there. */
	assert_int_equal(bootfake_dir_entries(bootfake_xdg), 1);
	assert_int_equal(system("rm -f \"$XDG_RUNTIME_DIR\"/.cshuttle.*"), 0);

	/* The same after the line the client sends first, as it does. */
	in = upload_input(img_keep, sizeof(img_keep) - 1, NULL, sizeof(img_keep) - 1,
	    "run", "-", &len);
	{
		const char	*first = bootstrap_client_line();
		char		*both = malloc(strlen(first) + len);

		assert_non_null(both);
		memcpy(both, first, strlen(first));
		memcpy(both + strlen(first), in, len);
		out = run_script(shell, both, strlen(first) + len, NULL, 0, &st);
		free(both);
	}
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	free(in);
	assert_int_equal(bootfake_dir_entries(bootfake_xdg), 1);
	assert_int_equal(system("rm -f \"$XDG_RUNTIME_DIR\"/.cshuttle.*"), 0);
}

static void
test_script_errors_dash(void **state)
{
	script_errors("sh");
}

static void
test_script_errors_busybox(void **state)
{
	need_busybox();
	script_errors("busybox");
}

/* A stub that does not answer the probe is not exec'd, and not left. */
static void
script_probe(const char *shell)
{
	char	*out, k[400];
	int	 st;

	out = run_upload(shell, bootfake_img_noprobe, bootfake_img_noprobe_len, "run", "-", NULL, 0,
	    &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: not a stub\n");
	bootfake_assert_lacks(out, "CSHUTTLE-EXEC");
	bootfake_assert_lacks(out, "second line");
	assert_exit(st, 1);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);

	out = run_upload(shell, img_silent, sizeof(img_silent) - 1, "run", "-", NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: no output\n");
	assert_exit(st, 1);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* A binary for another machine: whatever the shell makes of it,
	 * the user learns that the stub cannot start. */
	out = run_upload(shell, img_badelf, sizeof(img_badelf), "run", "-", NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR the stub cannot start: ");
	bootfake_assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* The same in cache mode: nothing stored. */
	setenv("XDG_CACHE_HOME", bootfake_cache, 1);
	out = run_upload(shell, bootfake_img_noprobe, bootfake_img_noprobe_len, "cache", "-",
	    NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-SEND\nCSHUTTLE-ERR the stub cannot start: "
	    "not a stub\n");
	assert_exit(st, 1);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);
	assert_int_equal(bootfake_dir_entries(bootfake_cache), 1);	/* the cshuttle dir */
	snprintf(k, sizeof(k), "%s/cshuttle", bootfake_cache);
	bootfake_assert_empty_dir(k);
}

static void
test_script_probe_dash(void **state)
{
	script_probe("sh");
}

static void
test_script_probe_busybox(void **state)
{
	need_busybox();
	script_probe("busybox");
}

/* --remote-tmpdir: tried first, checked, "~/" expanded on the remote. */
static void
script_tmpdir(const char *shell)
{
	char	*out, want[2048], dir[400];
	int	 st;

	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", bootfake_rdir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", bootfake_rdir,
	    bootfake_rdir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(bootfake_rdir);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* A directory that does not exist is an error that names it. */
	snprintf(dir, sizeof(dir), "%s/nonexistent", bootfake_root);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	bootfake_assert_contains(out, want);
	bootfake_assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);

	/* A regular file is not a directory either. */
	snprintf(dir, sizeof(dir), "%s/afile", bootfake_root);
	assert_int_equal(close(open(dir, O_CREAT | O_WRONLY, 0600)), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
	unlink(dir);

	/* "~/" is the remote user's $HOME. */
	snprintf(dir, sizeof(dir), "%s/rt", bootfake_home);
	assert_int_equal(mkdir(dir, 0700), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "~/rt", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", dir, dir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(dir);
	rmdir(dir);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "~/rt", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR --remote-tmpdir %s is not a writable "
	    "directory\n", dir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 1);
	free(out);

	/* Spaces in the name survive the UPLOAD line and the quoting. */
	snprintf(dir, sizeof(dir), "%s/my  stub dir", bootfake_root);
	assert_int_equal(mkdir(dir, 0700), 0);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", dir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", dir, dir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(dir);
	rmdir(dir);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

static void
test_script_tmpdir_dash(void **state)
{
	script_tmpdir("sh");
}

static void
test_script_tmpdir_busybox(void **state)
{
	need_busybox();
	script_tmpdir("busybox");
}

static void
script_noexec(const char *shell)
{
	char	*out, want[2048];
	int	 st;

	need_root();
	/* $XDG_RUNTIME_DIR is noexec: the stub lands in $TMPDIR. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "-", bootfake_xdg, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", bootfake_tmp,
	    bootfake_tmp);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(bootfake_tmp);

	/* A noexec --remote-tmpdir: on to the usual candidates. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", bootfake_rdir,
	    bootfake_rdir, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\nran %s/.cshuttle.", bootfake_xdg,
	    bootfake_xdg);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);

	/* Everything noexec: a clear error, nothing left behind. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", "-", NULL, 1, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR cannot execute files in %s %s /tmp "
	    "/var/tmp /dev/shm (mounted noexec?); name a directory that allows it with "
	    "--remote-tmpdir\n", bootfake_xdg, bootfake_tmp);
	bootfake_assert_contains(out, want);
	assert_exit(st, 1);
	free(out);

	/* ... with --remote-tmpdir named first. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "run", bootfake_rdir, NULL, 1, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-ERR cannot execute files in %s %s %s /tmp "
	    "/var/tmp /dev/shm (mounted noexec?); ", bootfake_rdir, bootfake_xdg, bootfake_tmp);
	bootfake_assert_contains(out, want);
	assert_exit(st, 1);
	free(out);
}

static void
test_script_noexec_dash(void **state)
{
	script_noexec("sh");
}

static void
test_script_noexec_busybox(void **state)
{
	need_busybox();
	script_noexec("busybox");
}

static void
script_cache(const char *shell)
{
	char	*in, *out, want[2048], k[400], path[600];
	size_t	 len;
	ino_t	 ino, ino2;
	FILE	*f;
	int	 st;

	setenv("XDG_CACHE_HOME", bootfake_cache, 1);
	snprintf(k, sizeof(k), "%s/cshuttle", bootfake_cache);

	/* An older stub is there: replaced. */
	assert_int_equal(mkdir(k, 0700), 0);
	snprintf(path, sizeof(path), "%s/stub-0123", k);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);

	/* First run: the body is asked for, stored, run without argument. */
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_cache_holds(k, img_self, sizeof(img_self) - 1, &ino);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);

	/* Second run: only the UPLOAD line; the cached copy runs. */
	in = upload_input(img_self, sizeof(img_self) - 1, NULL, 0, "cache", "-", &len);
	out = run_script(shell, in, len, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s cached\nran cached\n", k);
	bootfake_assert_contains(out, want);
	bootfake_assert_lacks(out, "CSHUTTLE-SEND");
	assert_exit(st, 0);
	free(out);
	free(in);
	bootfake_assert_cache_holds(k, img_self, sizeof(img_self) - 1, &ino2);
	assert_true(ino == ino2);

	/* A corrupted copy (same size, other bytes) is replaced. */
	snprintf(path, sizeof(path), "%s/stub-", k);
	bootstrap_sha256_hex(img_self, sizeof(img_self) - 1, path + strlen(path));
	assert_non_null(f = fopen(path, "r+"));
	assert_int_equal(fseek(f, -2, SEEK_END), 0);
	fputs("X\n", f);
	fclose(f);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_cache_holds(k, img_self, sizeof(img_self) - 1, NULL);

	/* Another stub (an upgrade): the old one goes. */
	out = run_upload(shell, img_keep, sizeof(img_keep) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran \n", k);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_cache_holds(k, img_keep, sizeof(img_keep) - 1, NULL);

	/* Without $XDG_CACHE_HOME: ~/.cache. */
	unsetenv("XDG_CACHE_HOME");
	snprintf(k, sizeof(k), "%s/.cache/cshuttle", bootfake_home);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-SEND\nCSHUTTLE-EXEC %s\nran cached\n", k);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_cache_holds(k, img_self, sizeof(img_self) - 1, NULL);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

static void
test_script_cache_dash(void **state)
{
	script_cache("sh");
}

static void
test_script_cache_busybox(void **state)
{
	need_busybox();
	script_cache("busybox");
}

/* No usable cache: a note, then the body goes to a temp file as usual. */
static void
script_cache_unusable(const char *shell)
{
	char	*out, want[2048], file[400];
	int	 st;

	/* $HOME is a file (not writable even for root): no ~/.cache. */
	snprintf(file, sizeof(file), "%s/homefile", bootfake_root);
	assert_int_equal(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	setenv("HOME", file, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-NOTE cannot keep the stub in "
	    "%s/.cache/cshuttle (not writable, or noexec)\nCSHUTTLE-SEND\n"
	    "CSHUTTLE-EXEC %s\nran %s/.cshuttle.", file, bootfake_xdg, bootfake_xdg);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);
	setenv("HOME", bootfake_home, 1);

	/* The note does not stop the --remote-tmpdir checks. */
	setenv("XDG_CACHE_HOME", file, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", "/nonexistent/cs",
	    NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-SEND\nCSHUTTLE-ERR --remote-tmpdir "
	    "/nonexistent/cs is not a writable directory\n");
	assert_exit(st, 1);
	free(out);
	unlink(file);

	/* A noexec cache directory. */
	need_root();
	setenv("XDG_CACHE_HOME", bootfake_cache, 1);
	out = run_upload(shell, img_self, sizeof(img_self) - 1, "cache", bootfake_rdir,
	    bootfake_cache, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-NOTE cannot keep the stub in "
	    "%s/cshuttle (not writable, or noexec)\nCSHUTTLE-SEND\n"
	    "CSHUTTLE-EXEC %s\nran %s/.cshuttle.", bootfake_cache, bootfake_rdir, bootfake_rdir);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	bootfake_assert_empty_dir(bootfake_rdir);
	bootfake_assert_empty_dir(bootfake_cache);
	bootfake_assert_empty_dir(bootfake_xdg);
}

static void
test_script_cache_unusable_dash(void **state)
{
	script_cache_unusable("sh");
}

static void
test_script_cache_unusable_busybox(void **state)
{
	need_busybox();
	script_cache_unusable("busybox");
}

/* Mode cc: the remote compiles the source it is sent. */
static void
script_cc(const char *shell)
{
	char	*out, want[2048], *line, *eol;
	int	 st;

	test_need("cc", "gcc");
	out = run_upload(shell, src_good, sizeof(src_good) - 1, "cc", "-", NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\ncompiled stub ran with 1 "
	    "arguments\n", bootfake_xdg);
	bootfake_assert_contains(out, want);
	assert_exit(st, 0);
	free(out);
	/* The source is gone, the binary removed itself, the compiler's
	 * temporary files ($TMPDIR) are gone. */
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);

	out = run_upload(shell, src_good, sizeof(src_good) - 1, "cc", bootfake_rdir, NULL, 0, &st);
	snprintf(want, sizeof(want), "\nCSHUTTLE-EXEC %s\ncompiled stub ran", bootfake_rdir);
	bootfake_assert_contains(out, want);
	free(out);
	bootfake_assert_empty_dir(bootfake_rdir);

	/* A syntax error: the compiler's error line, nothing left. */
	out = run_upload(shell, src_bad, sizeof(src_bad) - 1, "cc", "-", NULL, 0, &st);
	bootfake_assert_contains(out, "\nCSHUTTLE-ERR compiling the stub with cc failed: ");
	bootfake_assert_lacks(out, "CSHUTTLE-EXEC");
	assert_exit(st, 1);
	line = strstr(out, "CSHUTTLE-ERR");
	eol = strchr(line, '\n');
	assert_non_null(eol);
	*eol = '\0';
	/* gcc: ".../.cshuttle.XXXXXX:3:17: error: expected ';' before '}' token" */
	bootfake_assert_contains(line, "error");
	bootfake_assert_contains(line, ":3:");
	bootfake_assert_contains(line, "expected");
	free(out);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

static void
test_script_cc_dash(void **state)
{
	script_cc("sh");
}

static void
test_script_cc_busybox(void **state)
{
	need_busybox();
	script_cc("busybox");
}

/* ---- transport_cmd + bootstrap under busybox sh ---- */

static void
test_cmd_busybox(void **state)
{
	need_busybox();
	bootfake_cmd_roundtrip("busybox");
}

static void
test_cmd_cache(void **state)
{
	struct transport	*t;
	enum transport_fail	 fail;
	char			 err[512], want[600], k[400], *log;
	ino_t			 ino, ino2;
	int			 i;

	setenv("XDG_CACHE_HOME", bootfake_cache, 1);
	snprintf(k, sizeof(k), "%s/cshuttle", bootfake_cache);
	bootfake_options(true, NULL);
	for (i = 0; i < 2; i++) {
		bootfake_capture_begin();
		t = bootfake_open(i == 0 ? "sh" : "busybox", "somewhere", &fail, err, sizeof(err));
		log = bootfake_capture_end();
		if (t == NULL)
			fail_msg("open %d failed: %s", i, err);
		if (i == 0) {
			snprintf(want, sizeof(want), "uploading the x86_64 stub (%zu bytes) "
			    "into the remote cache\n", bootfake_img_echo_len);
			bootfake_assert_contains(log, want);
			bootfake_assert_lacks(log, "using the cached");
		} else {
			snprintf(want, sizeof(want), "using the cached x86_64 stub in %s\n", k);
			bootfake_assert_contains(log, want);
			bootfake_assert_lacks(log, "uploading");
		}
		snprintf(want, sizeof(want), "stub started on the remote host from %s\n", k);
		bootfake_assert_contains(log, want);
		free(log);
		bootfake_roundtrip(t, 64 * 1024 + 3);
		t->ops->free(t);
		bootfake_assert_cache_holds(k, bootfake_img_echo, bootfake_img_echo_len,
		    i == 0 ? &ino : &ino2);
	}
	/* The second session ran the very file the first one stored. */
	assert_true(ino == ino2);
	bootfake_assert_empty_dir(bootfake_xdg);
	bootfake_assert_empty_dir(bootfake_tmp);
}

int
main(int argc, char **argv)
{
#define DIRS(f)	cmocka_unit_test_setup_teardown(f, bootfake_setup, bootfake_teardown)
	const struct CMUnitTest tests[] = {
		DIRS(test_script_errors_dash),
		DIRS(test_script_errors_busybox),
		DIRS(test_script_probe_dash),
		DIRS(test_script_probe_busybox),
		DIRS(test_script_tmpdir_dash),
		DIRS(test_script_tmpdir_busybox),
		DIRS(test_script_noexec_dash),
		DIRS(test_script_noexec_busybox),
		DIRS(test_script_cache_dash),
		DIRS(test_script_cache_busybox),
		DIRS(test_script_cache_unusable_dash),
		DIRS(test_script_cache_unusable_busybox),
		DIRS(test_script_cc_dash),
		DIRS(test_script_cc_busybox),
		DIRS(test_cmd_busybox),
		DIRS(test_cmd_cache),
	};
#undef DIRS
	int	status;

	if (bootfake_main(argc, argv, "bootstrap_script", &status))
		return status;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
