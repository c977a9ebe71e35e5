/* SPDX-License-Identifier: ISC */
/*
 * test_control.c - the control socket (client/control.c) in a directory
 * of the test's own ($CSHUTTLE_RUNTIME_DIR): where it lives and who may
 * use that directory, the default name, a live name refused and a stale
 * socket replaced, and the server in a real event loop: greeting, status
 * replies in a row, refused requests, too many connections, a client
 * that never reads.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "ev.h"
#include "evsel.h"
#include "testutil.h"

static char	tmpdir[] = "/tmp/test_control.XXXXXX";
static char	rundir[256];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(rundir, sizeof(rundir), "%s/run", tmpdir);
	setenv(CONTROL_ENV_DIR, rundir, 1);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_dir(void **state)
{
	struct stat	st;
	char		dir[256], err[256], link[300];

	(void)state;
	assert_int_equal(control_dir(dir, sizeof(dir), false, err, sizeof(err)), 0);
	assert_string_equal(dir, rundir);
	assert_int_equal(stat(rundir, &st), -1);	/* only the path */
	assert_int_equal(control_dir(dir, sizeof(dir), true, err, sizeof(err)), 0);
	assert_int_equal(stat(rundir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Writable by others: refused. */
	chmod(rundir, 0777);
	assert_int_equal(control_dir(dir, sizeof(dir), true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by group or others"));
	chmod(rundir, 0700);
	/* A symbolic link: refused. */
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(symlink(rundir, link), 0);
	setenv(CONTROL_ENV_DIR, link, 1);
	assert_int_equal(control_dir(dir, sizeof(dir), true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
	/* Relative: refused. */
	setenv(CONTROL_ENV_DIR, "run", 1);
	assert_int_equal(control_dir(dir, sizeof(dir), false, err, sizeof(err)), -1);
	/* A trailing slash is dropped. */
	snprintf(link, sizeof(link), "%s/", rundir);
	setenv(CONTROL_ENV_DIR, link, 1);
	assert_int_equal(control_dir(dir, sizeof(dir), true, err, sizeof(err)), 0);
	assert_string_equal(dir, rundir);
	setenv(CONTROL_ENV_DIR, rundir, 1);
}

static void
test_name_default(void **state)
{
	char	name[CONTROL_NAME_MAX + 1];

	(void)state;
	control_name_default("/etc/cshuttle/office.conf", 12300, name, sizeof(name));
	assert_string_equal(name, "office");
	control_name_default("/home/u/tunnels/home-pi", 12300, name, sizeof(name));
	assert_string_equal(name, "home-pi");
	control_name_default("/etc/cshuttle/bad name.conf", 12301, name, sizeof(name));
	assert_string_equal(name, "12301");
	control_name_default("/etc/cshuttle/.conf", 12302, name, sizeof(name));
	assert_string_equal(name, "12302");
	control_name_default(NULL, 12303, name, sizeof(name));
	assert_string_equal(name, "12303");
}

static void
test_open_live_stale(void **state)
{
	struct control		*a = NULL, *b = NULL;
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 err[512], path[300];
	int			 fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/t1.sock", rundir);
	assert_int_equal(control_open("t1", &a, err, sizeof(err)), 0);
	assert_string_equal(control_path(a), path);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The name is taken. */
	assert_int_equal(control_open("t1", &b, err, sizeof(err)), CONTROL_E_LIVE);
	assert_null(b);
	assert_non_null(strstr(err, "running already"));
	assert_int_equal(control_open("../x", &b, err, sizeof(err)), -1);
	control_close(a);
	assert_int_equal(stat(path, &st), -1);
	/* A socket left by a tunnel that died: replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(control_open("t1", &a, err, sizeof(err)), 0);
	control_close(a);
}

/* ---- the server in a loop ---- */

static void
fake_fill(void *arg, struct control_status *st)
{
	int	*calls = arg;

	(*calls)++;
	snprintf(st->remote, sizeof(st->remote), "root@gw");
	st->state = CONTROL_STATE_CONNECTED;
	st->streams = 7;
}

static void
fake_bytes(void *arg, uint64_t *in, uint64_t *out)
{
	(void)arg;
	*in = 1000;
	*out = 10;
}

static void
hook(struct ev_loop *loop, void *arg)
{
	(void)loop;
	control_collect(arg);
}

static void
spin(struct ev_loop *loop, int passes)
{
	while (passes-- > 0)
		assert_true(ev_run_once(loop, 5) >= 0);
}

static int
client(const char *path)
{
	struct sockaddr_un	sun;
	int			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Everything the server sent so far (the loop spun meanwhile). */
static size_t
drain(struct ev_loop *loop, int fd, char *buf, size_t len)
{
	size_t	got = 0;
	ssize_t	n;
	int	i;

	for (i = 0; i < 20; i++) {
		spin(loop, 2);
		while ((n = recv(fd, buf + got, len - 1 - got, 0)) > 0)
			got += (size_t)n;
		if (n == 0)
			break;
	}
	buf[got] = '\0';
	return got;
}

static void
test_serve(void **state)
{
	struct control		*c = NULL;
	struct control_status	*st = calloc(1, sizeof(*st));
	struct ev_loop		 loop;
	char			*buf = malloc(CONTROL_PROTO_MAXREPLY * 3), err[512], big[300];
	int			 fd, fds[CONTROL_MAX_CLIENTS + 1], calls = 0, i, n;
	size_t			 len;

	(void)state;
	assert_int_equal(control_open("serve", &c, err, sizeof(err)), 0);
	test_ev_init(&loop);
	loop.before_sleep = hook;
	loop.hook_arg = c;
	assert_int_equal(control_start(c, &loop, fake_fill, fake_bytes, &calls), 0);

	fd = client(control_path(c));
	len = drain(&loop, fd, buf, CONTROL_PROTO_MAXREPLY);
	assert_string_equal(buf, "cshuttle-control 1\n");
	/* Two requests at once: two replies, one after the other. */
	assert_int_equal(send(fd, "status\nstatus\n", 14, 0), 14);
	len = drain(&loop, fd, buf, CONTROL_PROTO_MAXREPLY * 3);
	n = control_proto_reply_len(buf, len);
	assert_true(n > 0);
	assert_int_equal(control_proto_parse(buf, (size_t)n, st, err, sizeof(err)), 0);
	assert_string_equal(st->name, "serve");
	assert_int_equal(st->pid, (uint64_t)getpid());
	assert_string_equal(st->remote, "root@gw");
	assert_int_equal(st->streams, 7);
	assert_int_equal(control_proto_reply_len(buf + n, len - (size_t)n), (int)len - n);
	assert_int_equal(calls, 2);
	/* An unknown request: an error, then the end. */
	assert_int_equal(send(fd, "reboot\n", 7, 0), 7);
	len = drain(&loop, fd, buf, CONTROL_PROTO_MAXREPLY);
	assert_string_equal(buf, "error unknown request\n");
	assert_int_equal(recv(fd, buf, 10, 0), 0);
	close(fd);

	/* A line longer than a request may be: refused. */
	fd = client(control_path(c));
	(void)drain(&loop, fd, buf, 100);
	memset(big, 'x', sizeof(big));
	(void)send(fd, big, sizeof(big), MSG_NOSIGNAL);
	len = drain(&loop, fd, buf, CONTROL_PROTO_MAXREPLY);
	assert_string_equal(buf, "error over the control protocol's limits\n");
	close(fd);

	/* One more than the limit: "error busy". */
	for (i = 0; i <= CONTROL_MAX_CLIENTS; i++) {
		fds[i] = client(control_path(c));
		spin(&loop, 2);
	}
	len = drain(&loop, fds[CONTROL_MAX_CLIENTS], buf, 100);
	assert_string_equal(buf, "error busy\n");
	len = drain(&loop, fds[0], buf, 100);
	assert_string_equal(buf, "cshuttle-control 1\n");
	for (i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	spin(&loop, 4);
	/* Those that went are counted out: there is room again. */
	fd = client(control_path(c));
	len = drain(&loop, fd, buf, 100);
	assert_string_equal(buf, "cshuttle-control 1\n");
	close(fd);

	control_stop(c);
	control_close(c);
	ev_close(&loop);
	free(buf);
	free(st);
}

/* A client that asks and never reads is dropped after CONTROL_STALL_MS,
 * and holds no more than one reply meanwhile. */
static void
test_stall(void **state)
{
	struct control	*c = NULL;
	struct ev_loop	 loop;
	char		 err[512], *buf = malloc(CONTROL_PROTO_MAXREPLY);
	int		 fd, calls = 0, i, sndbuf = 4096;
	uint64_t	 start;
	ssize_t		 n;
	size_t		 got = 0;
	bool		 closed = false;

	(void)state;
	assert_int_equal(control_open("stall", &c, err, sizeof(err)), 0);
	test_ev_init(&loop);
	loop.before_sleep = hook;
	loop.hook_arg = c;
	assert_int_equal(control_start(c, &loop, fake_fill, fake_bytes, &calls), 0);
	fd = client(control_path(c));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	/* Far more requests than the socket buffers hold replies for. */
	for (i = 0; i < 400; i++) {
		if (send(fd, "status\n", 7, MSG_DONTWAIT) != 7)
			break;
		spin(&loop, 1);
	}
	start = ev_now();
	while (ev_now() - start < CONTROL_STALL_MS + 2 * CONTROL_TICK_MS)
		spin(&loop, 10);
	/* The replies are bounded by what the buffers took, not the
	 * requests sent; then the end. */
	assert_true(calls < 400);
	while ((n = recv(fd, buf, CONTROL_PROTO_MAXREPLY, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	closed = n == 0 || (n < 0 && errno == ECONNRESET);
	assert_true(closed);
	assert_true(got > 0);
	close(fd);
	control_stop(c);
	control_close(c);
	ev_close(&loop);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_name_default),
		cmocka_unit_test(test_open_live_stale),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_stall),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
