/* SPDX-License-Identifier: ISC */
/*
 * test_fw_hosts.c - the helper's block of the hosts file
 * (firewall/fw_hosts.c): the rewrite as a pure function (insert,
 * replace, remove, stale blocks, a file without a final newline, CRLF
 * lines kept), the name check, this process's id, and an update of a
 * file in a temporary directory keeping its mode.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw_hosts.h"

#define ME	"pid100-5000"
#define DEAD	"pid200-6000"
#define LIVE	"pid300-7000"

/* DEAD is gone; every other id runs. */
static bool
fake_live(const char *id, void *arg)
{
	(void)arg;
	return strcmp(id, DEAD) != 0;
}

static void
host(struct fw_host *h, const char *addr, const char *name)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(addr_parse(&h->addr, addr, (size_t)-1, 0, 0), 0);
	snprintf(h->name, sizeof(h->name), "%s", name);
}

static void
rewrite_is(const char *in, const char *id, const struct fw_host *h, size_t n,
    const char *want)
{
	char	*out;
	size_t	 len;

	assert_int_equal(fw_hosts_rewrite(in, strlen(in), id, h, n, fake_live,
	    NULL, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out, want);
	free(out);
}

static void
test_rewrite(void **state)
{
	struct fw_host	h[2];
	const char	*base = "127.0.0.1 localhost\n::1 localhost\n";

	(void)state;
	host(&h[0], "10.1.0.5", "db.internal");
	host(&h[1], "fd00::5", "db6");
	/* insert */
	rewrite_is(base, ME, h, 2,
	    "127.0.0.1 localhost\n::1 localhost\n"
	    "# cshuttle " ME " begin\n10.1.0.5 db.internal\nfd00::5 db6\n"
	    "# cshuttle " ME " end\n");
	/* replace: the block moves to the end, the rest stays */
	rewrite_is("a\n# cshuttle " ME " begin\n10.0.0.1 old\n"
	    "# cshuttle " ME " end\nb\n", ME, h, 1,
	    "a\nb\n# cshuttle " ME " begin\n10.1.0.5 db.internal\n"
	    "# cshuttle " ME " end\n");
	/* remove */
	rewrite_is("a\n# cshuttle " ME " begin\n10.0.0.1 old\n"
	    "# cshuttle " ME " end\nb\n", ME, NULL, 0, "a\nb\n");
	/* nothing of ours: unchanged */
	rewrite_is(base, ME, NULL, 0, base);
	rewrite_is("", ME, NULL, 0, "");
	/* a stale block goes, a live helper's stays */
	rewrite_is("a\n# cshuttle " DEAD " begin\n10.0.0.1 x\n"
	    "# cshuttle " DEAD " end\n# cshuttle " LIVE " begin\n10.0.0.2 y\n"
	    "# cshuttle " LIVE " end\nb\n", ME, NULL, 0,
	    "a\n# cshuttle " LIVE " begin\n10.0.0.2 y\n"
	    "# cshuttle " LIVE " end\nb\n");
	/* no final newline: one is added before the block */
	rewrite_is("127.0.0.1 localhost", ME, h, 1,
	    "127.0.0.1 localhost\n# cshuttle " ME " begin\n"
	    "10.1.0.5 db.internal\n# cshuttle " ME " end\n");
	/* ... and kept when there is nothing to add */
	rewrite_is("a\n# cshuttle " ME " begin\n10.0.0.1 old\n"
	    "# cshuttle " ME " end\nb", ME, NULL, 0, "a\nb");
	/* CRLF lines are kept as they are */
	rewrite_is("a\r\nb\r\n", ME, h, 1, "a\r\nb\r\n# cshuttle " ME
	    " begin\n10.1.0.5 db.internal\n# cshuttle " ME " end\n");
	/* a begin or end line without its partner goes alone; markers of
	 * another shape stay */
	rewrite_is("# cshuttle " ME " begin\n10.0.0.1 x\n", ME, NULL, 0,
	    "10.0.0.1 x\n");
	rewrite_is("a\n# cshuttle " DEAD " end\nb\n", ME, NULL, 0, "a\nb\n");
	rewrite_is("a\n# cshuttle " LIVE " end\nb\n", ME, NULL, 0,
	    "a\n# cshuttle " LIVE " end\nb\n");
	rewrite_is("# cshuttle foo begin\n1.2.3.4 x\n# cshuttle foo end\n", ME,
	    NULL, 0, "# cshuttle foo begin\n1.2.3.4 x\n# cshuttle foo end\n");
	/* a block ends at its first end line; a stray end goes alone, and
	 * a second pass changes nothing */
	rewrite_is("# cshuttle " ME " begin\nx\n# cshuttle " ME " begin\n"
	    "10.0.0.1 old\n# cshuttle " ME " end\ny\n# cshuttle " ME " end\n"
	    "z\n", ME, h, 1, "y\nz\n# cshuttle " ME " begin\n"
	    "10.1.0.5 db.internal\n# cshuttle " ME " end\n");
	rewrite_is("y\nz\n# cshuttle " ME " begin\n10.1.0.5 db.internal\n"
	    "# cshuttle " ME " end\n", ME, h, 1, "y\nz\n# cshuttle " ME
	    " begin\n10.1.0.5 db.internal\n# cshuttle " ME " end\n");
	/* another id's end does not close our block */
	rewrite_is("# cshuttle " ME " begin\n# cshuttle " LIVE " end\n"
	    "# cshuttle " ME " end\nz\n", ME, NULL, 0, "z\n");
}

static void
test_rewrite_bad(void **state)
{
	struct fw_host	h;
	char		*out;
	size_t		 len;

	(void)state;
	host(&h, "10.1.0.5", "Bad Name");
	assert_int_equal(fw_hosts_rewrite("", 0, ME, &h, 1, fake_live, NULL,
	    &out, &len), -1);
	assert_null(out);
	host(&h, "10.1.0.5", "ok");
	assert_int_equal(fw_hosts_rewrite("", 0, "me", &h, 1, fake_live, NULL,
	    &out, &len), -1);
	h.addr.family = 0;
	assert_int_equal(fw_hosts_rewrite("", 0, ME, &h, 1, fake_live, NULL,
	    &out, &len), -1);
}

static void
test_name(void **state)
{
	char	long_name[300];

	(void)state;
	assert_true(fw_hosts_name_ok("a", 1));
	assert_true(fw_hosts_name_ok("db-1.corp_x.example", 19));
	assert_false(fw_hosts_name_ok("", 0));
	assert_false(fw_hosts_name_ok("A", 1));
	assert_false(fw_hosts_name_ok("a..b", 4));
	assert_false(fw_hosts_name_ok("a.", 2));
	assert_false(fw_hosts_name_ok("a b", 3));
	assert_false(fw_hosts_name_ok("a#b", 3));
	memset(long_name, 'a', sizeof(long_name));
	assert_false(fw_hosts_name_ok(long_name, 64));
	assert_true(fw_hosts_name_ok(long_name, 63));
}

static void
test_self(void **state)
{
	char	id[FW_HOSTS_ID_MAX];

	(void)state;
	assert_int_equal(fw_hosts_self_id(id, sizeof(id)), 0);
	assert_true(fw_hosts_id_live(id, NULL));
	/* pid 1 runs, but not since tick 1 */
	assert_false(fw_hosts_id_live("pid1-1", NULL));
	assert_false(fw_hosts_id_live("pid2147483646-5", NULL));
}

static void
test_update(void **state)
{
	char		 dir[] = "/tmp/test_fw_hosts.XXXXXX", path[64], id[32];
	char		 buf[512], err[256];
	struct fw_host	 h;
	struct stat	 st;
	ssize_t		 r;
	int		 fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hosts", dir);
	assert_int_not_equal(fd = open(path, O_WRONLY | O_CREAT, 0640), -1);
	assert_int_equal(write(fd, "127.0.0.1 lo\n# cshuttle pid1-1 begin\n"
	    "1.1.1.1 stale\n# cshuttle pid1-1 end\n", 73), 73);
	close(fd);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(fw_hosts_self_id(id, sizeof(id)), 0);
	host(&h, "10.9.8.7", "far");
	assert_int_equal(fw_hosts_update(path, id, &h, 1, err, sizeof(err)), 0);
	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(r > 0);
	buf[r] = '\0';
	assert_non_null(strstr(buf, "10.9.8.7 far\n"));
	assert_null(strstr(buf, "stale"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(fw_hosts_update(path, id, NULL, 0, err, sizeof(err)),
	    0);
	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[r] = '\0';
	assert_string_equal(buf, "127.0.0.1 lo\n");
	/* a symbolic link is not followed */
	snprintf(buf, sizeof(buf), "%s/link", dir);
	assert_int_equal(symlink(path, buf), 0);
	assert_int_equal(fw_hosts_update(buf, id, &h, 1, err, sizeof(err)), -1);
	unlink(buf);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_bad),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
