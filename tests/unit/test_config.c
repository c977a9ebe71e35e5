/* SPDX-License-Identifier: ISC */
/*
 * test_config.c - config.c: the configuration file's syntax (comments,
 * white space, CRLF, "key value" and "key=value"), config_parse() itself,
 * and the file as a whole: missing, not a file, unsafe, too big, lines too
 * long or too many.
 *
 * What each key means has test_options_config.c; optfix.h is the fixture.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "exitcode.h"
#include "options.h"
#include "optfix.h"

/* Comments, white space, CRLF, "key value", "key=value", repeats. */
static void
test_syntax(void **state)
{
	struct options o;
	char err[512];

	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "\xef\xbb\xbf# cshuttle.conf\r\n"
	    "\r\n"
	    "   # indented comment = with an equals sign\r\n"
	    "\tremote\t=\tgw1 \t\r\n"
	    "remote=gw2   # the last one wins\r\n"
	    "subnet 10/8# not a comment: a#b stays one word\r\n"
	    "subnet=10.9/16\n"
	    "   \t  \n"
	    "remote-tmpdir = /tmp/a#b # but this is one\n"
	    "alive-interval=3\n"
	    "verbose 1\n"
	    "verbose 3\n"
	    "#remote = commented\n"
	    "ssh-cmd ssh\t-v", NULL), CSHUTTLE_EXIT_USAGE);
	/* "10/8#" is not a subnet: the '#' was kept. */
	assert_non_null(strstr(err, "bad subnet \"10/8#\""));
	options_free(&o);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s:6: ", optfix_conf);
		assert_memory_equal(err, want, strlen(want));
	}

	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "\xef\xbb\xbf# cshuttle.conf\r\n"
	    "\r\n"
	    "   # indented comment = with an equals sign\r\n"
	    "\tremote\t=\tgw1 \t\r\n"
	    "remote=gw2   # the last one wins\r\n"
	    "subnet 10/8 # office\r\n"
	    "subnet=10.9/16\n"
	    "   \t  \n"
	    "remote-tmpdir = /tmp/a#b # but this is one\n"
	    "alive-interval=3\n"
	    "verbose 1\n"
	    "verbose 3\n"
	    "#remote = commented\n"
	    "ssh-cmd ssh\t-v", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw2");
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 10.9.0.0/16");
	assert_string_equal(o.remote_tmpdir, "/tmp/a#b");
	assert_int_equal(o.alive_interval_ms, 3000);
	assert_int_equal(o.verbose, 3);
	/* No final newline; inner tab kept. */
	assert_string_equal(o.ssh_cmd, "ssh\t-v");
	options_free(&o);

	/* An empty file, and one of comments only, set nothing. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), "", "-r", "gw",
	    "0/0", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	options_free(&o);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "# nothing\n\n#\n", "-r", "gw", "0/0", NULL), CSHUTTLE_EXIT_OK);
	options_free(&o);

	/* The file alone is enough. */
	optfix_expect_error("# nothing\n", -1, "missing -r/--remote", NULL);
	optfix_expect_error("remote gw\n", -1, "no subnets to forward", NULL);
}

/* config_parse() itself: keys, values, NULL for a key alone, lines. */
static void
test_split(void **state)
{
	static const char text[] =
	    "a = 1\n"
	    "\n"
	    "b\n"
	    "c =\n"
	    "d=\t x  y \r\n"
	    "e= =\n"
	    "f # g = h\n"
	    "  i  j\n";
	struct config c;
	char err[256];

	assert_int_equal(config_parse(&c, "t.conf", "/etc", text,
	    strlen(text), err, sizeof(err)), 0);
	assert_string_equal(c.name, "t.conf");
	assert_string_equal(c.dir, "/etc");
	assert_int_equal(c.n, 7);
	assert_string_equal(c.v[0].key, "a");
	assert_string_equal(c.v[0].value, "1");
	assert_int_equal(c.v[0].line, 1);
	assert_string_equal(c.v[1].key, "b");
	assert_null(c.v[1].value);
	assert_int_equal(c.v[1].line, 3);
	assert_string_equal(c.v[2].key, "c");
	assert_string_equal(c.v[2].value, "");
	assert_string_equal(c.v[3].key, "d");
	assert_string_equal(c.v[3].value, "x  y");
	assert_int_equal(c.v[3].line, 5);
	assert_string_equal(c.v[4].value, "=");
	assert_string_equal(c.v[5].key, "f");
	assert_null(c.v[5].value);
	assert_string_equal(c.v[6].key, "i");
	assert_string_equal(c.v[6].value, "j");
	assert_int_equal(c.v[6].line, 8);
	config_free(&c);
	config_free(&c);	/* twice is fine */

	assert_int_equal(config_parse(&c, "t.conf", NULL, "x\n= y\n", 6,
	    err, sizeof(err)), CSHUTTLE_EXIT_USAGE);
	assert_string_equal(err, "t.conf:2: missing key before '='");
	config_free(&c);
	/* A NUL byte is a control character like any other. */
	assert_int_equal(config_parse(&c, "t.conf", NULL, "a\nb\0c\n", 6,
	    err, sizeof(err)), CSHUTTLE_EXIT_USAGE);
	assert_string_equal(err, "t.conf:2: control character 0x00");
	config_free(&c);
}

/* The file itself: missing, not a file, unsafe, too big, too long. */
static void
test_file_errors(void **state)
{
	struct options o;
	char err[1024], want[512], path[256], *big;
	size_t i, n;

	/* Unreadable: "FILE: strerror", FILE as given. */
	snprintf(path, sizeof(path), "%s/nx.conf", optfix_tmpdir);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	{
		char *argv[] = { "cshuttle", "--config", path, NULL };

		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_USAGE);
		assert_string_equal(err, want);
		options_free(&o);
	}
	{
		char *argv[] = { "cshuttle", "--config", optfix_tmpdir, NULL };

		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_USAGE);
		snprintf(want, sizeof(want), "%s: not a regular file",
		    optfix_tmpdir);
		assert_string_equal(err, want);
		options_free(&o);
	}

	/* Its ssh-cmd runs as root: only its owner may write it. */
	optfix_write_file("c.conf", "remote gw\nsubnet 0/0\n");
	assert_int_equal(chmod(optfix_conf, 0664), 0);
	{
		char *argv[] = { "cshuttle", "--config", optfix_conf, NULL };

		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_USAGE);
		snprintf(want, sizeof(want), "%s: writable by group or others "
		    "(chmod go-w)", optfix_conf);
		assert_string_equal(err, want);
		options_free(&o);
		assert_int_equal(chmod(optfix_conf, 0646), 0);
		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_USAGE);
		assert_string_equal(err, want);
		options_free(&o);
		/* Readable by others is fine, and so is 0400. */
		assert_int_equal(chmod(optfix_conf, 0400), 0);
		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		options_free(&o);
		if (geteuid() == 0) {
			assert_int_equal(chown(optfix_conf, 65534, 65534), 0);
			assert_int_equal(options_parse(&o, 3, argv, err,
			    sizeof(err)), CSHUTTLE_EXIT_USAGE);
			snprintf(want, sizeof(want), "%s: owned by uid 65534, "
			    "neither root nor me", optfix_conf);
			assert_string_equal(err, want);
			options_free(&o);
			assert_int_equal(chown(optfix_conf, 0, 0), 0);
		}
		assert_int_equal(chmod(optfix_conf, 0644), 0);
	}

	/* Lines of 4096 bytes are fine (CR LF aside), 4097 are not. */
	big = malloc(2 * CONFIG_MAX_FILE);
	assert_non_null(big);
	n = (size_t)snprintf(big, 64, "remote gw\nsubnet 0/0\n#");
	memset(big + n, 'x', CONFIG_MAX_LINE - 1);
	n += CONFIG_MAX_LINE - 1;
	memcpy(big + n, "\r\nremote gw2\n", 14);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), big, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw2");
	options_free(&o);
	n = (size_t)snprintf(big, 64, "remote gw\nsubnet 0/0\n");
	memset(big + n, 'x', CONFIG_MAX_LINE + 1);
	memcpy(big + n, "remote ", 7);
	strcpy(big + n + CONFIG_MAX_LINE + 1, "\n");
	optfix_expect_error(big, 3, "line longer than 4096 bytes", NULL);

	/* 10000 lines are fine, 10001 are not. */
	n = 0;
	for (i = 0; i < CONFIG_MAX_LINES - 2; i++)
		big[n++] = '\n';
	strcpy(big + n, "remote gw\nsubnet 0/0\n");
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), big, NULL),
	    CSHUTTLE_EXIT_OK);
	options_free(&o);
	strcpy(big + n, "remote gw\nsubnet 0/0\n#");
	optfix_expect_error(big, 10001, "more than 10000 lines", NULL);

	/* At most 1 MiB. */
	memset(big, '#', CONFIG_MAX_FILE + 1);
	big[0] = '\n';
	for (i = 1; i < CONFIG_MAX_FILE + 1; i += 200)
		big[i] = '\n';
	big[CONFIG_MAX_FILE + 1] = '\0';
	optfix_expect_error(big, 0, "larger than 1048576 bytes", NULL);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syntax, optfix_conf_setup,
		    optfix_teardown),
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_file_errors,
		    optfix_conf_setup, optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
