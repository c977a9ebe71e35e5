/* SPDX-License-Identifier: ISC */
/*
 * test_filecheck.c - the rule for files cshuttle reads on the user's
 * behalf (filecheck.h): the rule itself on made-up stat results, for any
 * owner; then on real files and directories the running user owns (the
 * test passes for root and for nobody alike); then what the options make
 * of an @file, a -s file and an exclude-from file that break it, which
 * depends on whether the test runs as root.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitcode.h"
#include "filecheck.h"
#include "options.h"

static char	tmp[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/cshuttle-test-fc.XXXXXX");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", tmp, tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static struct stat
st(mode_t mode, uid_t uid)
{
	struct stat	s;

	memset(&s, 0, sizeof(s));
	s.st_mode = mode;
	s.st_uid = uid;
	return s;
}

/* filecheck_rule() for `file` in `dir` as user 1000: the reason, or "". */
static const char *
rule(struct stat file, struct stat dir)
{
	static char	why[256];

	why[0] = '\0';
	if (filecheck_rule(&file, &dir, "/d", 1000, why, sizeof(why)) == 0)
		assert_string_equal(why, "");
	else
		assert_string_not_equal(why, "");
	return why;
}

static void
test_rule(void **state)
{
	struct stat	dir = st(S_IFDIR | 0755, 0);

	(void)state;
	/* Owned by root or by the effective user, writable by them alone. */
	assert_string_equal(rule(st(S_IFREG | 0644, 0), dir), "");
	assert_string_equal(rule(st(S_IFREG | 0600, 1000), dir), "");
	assert_string_equal(rule(st(S_IFREG | 0400, 1000), dir), "");
	assert_string_equal(rule(st(S_IFREG | 0664, 0), dir),
	    "writable by group or others (chmod go-w)");
	assert_string_equal(rule(st(S_IFREG | 0646, 1000), dir),
	    "writable by group or others (chmod go-w)");
	assert_string_equal(rule(st(S_IFREG | 0644, 1001), dir),
	    "owned by uid 1001, neither root nor me");
	assert_string_equal(rule(st(S_IFIFO | 0600, 1000), dir), "not a regular file");
	assert_string_equal(rule(st(S_IFDIR | 0755, 1000), dir), "not a regular file");
	/* Its directory: the same owners, nobody else may write it; a
	 * sticky /tmp is no exception. */
	assert_string_equal(rule(st(S_IFREG | 0644, 0), st(S_IFDIR | 0700, 1000)), "");
	assert_string_equal(rule(st(S_IFREG | 0644, 0), st(S_IFDIR | 0775, 0)),
	    "its directory /d is writable by group or others (chmod go-w)");
	assert_string_equal(rule(st(S_IFREG | 0644, 0), st(S_IFDIR | 01777, 0)),
	    "its directory /d is writable by group or others (chmod go-w)");
	assert_string_equal(rule(st(S_IFREG | 0644, 0), st(S_IFDIR | 0755, 1001)),
	    "its directory /d is owned by uid 1001, neither root nor me");
	/* The file's own problem comes first. */
	assert_string_equal(rule(st(S_IFREG | 0666, 0), st(S_IFDIR | 0777, 1001)),
	    "writable by group or others (chmod go-w)");
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* filecheck_path() on path: the reason, or "". */
static const char *
check(const char *path)
{
	static char	why[512];

	if (filecheck_path(path, why, sizeof(why)) == 0)
		return "";
	return why;
}

static void
test_files(void **state)
{
	char	good[300], bad[300], f[400], g[400], link[400], want[600];

	(void)state;
	snprintf(good, sizeof(good), "%s/good", tmp);
	snprintf(bad, sizeof(bad), "%s/bad", tmp);
	assert_int_equal(mkdir(good, 0755), 0);
	assert_int_equal(mkdir(bad, 0700), 0);
	assert_int_equal(chmod(bad, 0777), 0);
	snprintf(f, sizeof(f), "%s/f", good);
	put(f, "x\n", 0644);
	assert_string_equal(check(f), "");
	assert_int_equal(chmod(f, 0664), 0);
	assert_string_equal(check(f), "writable by group or others (chmod go-w)");
	assert_int_equal(chmod(f, 0600), 0);
	assert_string_equal(check(f), "");

	/* The directory that really holds the file is checked, also through
	 * a symbolic link from a good one. */
	snprintf(g, sizeof(g), "%s/g", bad);
	put(g, "x\n", 0644);
	snprintf(want, sizeof(want), "its directory %s is writable by group or "
	    "others (chmod go-w)", bad);
	assert_string_equal(check(g), want);
	snprintf(link, sizeof(link), "%s/link", good);
	assert_int_equal(symlink(g, link), 0);
	assert_string_equal(check(link), want);
	assert_int_equal(chmod(bad, 0770), 0);
	assert_string_equal(check(g), want);
	assert_int_equal(chmod(bad, 0755), 0);
	assert_string_equal(check(link), "");

	/* Not a file; not there. */
	assert_string_equal(check(good), "not a regular file");
	snprintf(f, sizeof(f), "%s/fifo", good);
	assert_int_equal(mkfifo(f, 0600), 0);
	assert_string_equal(check(f), "not a regular file");
	snprintf(f, sizeof(f), "%s/none", good);
	assert_string_equal(check(f), strerror(ENOENT));
}

/* options_parse() of argv: its result, the message in err. */
static int
parse(char *err, size_t errlen, char **argv)
{
	struct options	o;
	int		argc = 0, r;

	while (argv[argc] != NULL)
		argc++;
	unsetenv("CSHUTTLE_ARGS");
	r = options_parse(&o, argc, argv, err, errlen);
	options_free(&o);
	return r;
}

static void
test_options(void **state)
{
	char	dir[300], args[400], sub[400], exc[400], conf[400], at[410];
	char	err[1024], want[1024];
	bool	root = filecheck_needed();

	(void)state;
	snprintf(dir, sizeof(dir), "%s/opt", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(args, sizeof(args), "%s/args", dir);
	snprintf(sub, sizeof(sub), "%s/subnets", dir);
	snprintf(exc, sizeof(exc), "%s/excludes", dir);
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(at, sizeof(at), "@%s", args);
	put(args, "-r\ngw\n10.0.0.0/8\n", 0664);
	put(sub, "10.1.0.0/16\n", 0646);
	put(exc, "10.2.0.0/16\n", 0620);
	snprintf(want, sizeof(want), "exclude-from %s\nremote gw\nsubnet 0/0\n", exc);
	put(conf, want, 0600);

	/* Run as root, the user's files must be safe; as anybody else,
	 * they are the user's own business. */
	{
		char *argv[] = { "cshuttle", at, NULL };

		assert_int_equal(parse(err, sizeof(err), argv),
		    root ? CSHUTTLE_EXIT_USAGE : CSHUTTLE_EXIT_OK);
		snprintf(want, sizeof(want), "argument file \"%s\": writable by "
		    "group or others (chmod go-w)", args);
		if (root)
			assert_string_equal(err, want);
	}
	{
		char *argv[] = { "cshuttle", "-r", "gw", "-s", sub, NULL };

		assert_int_equal(parse(err, sizeof(err), argv),
		    root ? CSHUTTLE_EXIT_USAGE : CSHUTTLE_EXIT_OK);
		snprintf(want, sizeof(want), "subnet file \"%s\": writable by "
		    "group or others (chmod go-w)", sub);
		if (root)
			assert_string_equal(err, want);
	}
	{
		char *argv[] = { "cshuttle", "--config", conf, NULL };

		assert_int_equal(parse(err, sizeof(err), argv),
		    root ? CSHUTTLE_EXIT_USAGE : CSHUTTLE_EXIT_OK);
		snprintf(want, sizeof(want), "%s:1: exclude file \"%s\": writable "
		    "by group or others (chmod go-w)", conf, exc);
		if (root)
			assert_string_equal(err, want);
	}
	/* Safe files pass either way. */
	assert_int_equal(chmod(args, 0644), 0);
	assert_int_equal(chmod(sub, 0600), 0);
	assert_int_equal(chmod(exc, 0400), 0);
	{
		char *argv1[] = { "cshuttle", at, NULL };
		char *argv2[] = { "cshuttle", "-r", "gw", "-s", sub, NULL };
		char *argv3[] = { "cshuttle", "--config", conf, NULL };

		assert_int_equal(parse(err, sizeof(err), argv1), CSHUTTLE_EXIT_OK);
		assert_int_equal(parse(err, sizeof(err), argv2), CSHUTTLE_EXIT_OK);
		assert_int_equal(parse(err, sizeof(err), argv3), CSHUTTLE_EXIT_OK);
	}
	/* The --config file is checked for everybody, its directory too. */
	assert_int_equal(chmod(dir, 0775), 0);
	{
		char *argv[] = { "cshuttle", "--config", conf, NULL };

		assert_int_equal(parse(err, sizeof(err), argv), CSHUTTLE_EXIT_USAGE);
		snprintf(want, sizeof(want), "%s: its directory %s is writable by "
		    "group or others (chmod go-w)", conf, dir);
		assert_string_equal(err, want);
	}
	assert_int_equal(chmod(dir, 0755), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
