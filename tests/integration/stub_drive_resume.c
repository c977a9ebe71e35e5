/* SPDX-License-Identifier: ISC */
/*
 * stub_drive_resume.c - a stub whose link is lost waits for a new one
 * (docs/PROTOCOL.md section 11): RESUME_SETUP gets a token (a private
 * socket, a 0700 directory); a stream's data survives the lost link; a
 * fresh stub given ATTACH with a wrong secret, or a path where nothing
 * waits, says so and carries on as a fresh stub; with the right secret
 * it hands its link over and exits, and the waiting stub resumes there
 * (its HELLO, RESUME entries, RESUME_END, then the stream's data that
 * was not delivered); BYE makes it end with its link, and the grace
 * running out too; its socket and directory go with it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "stub_drive.h"

#define DRV_WINDOW	65536

/* The next frame that is not CREDIT or ACK. */
static void
drv_next(struct proto_frame *f, uint8_t *copy, uint8_t type, uint32_t stream)
{
	do {
		if (!drv_recv(f, 10000, copy))
			drv_fatal("stub closed while %s was expected", proto_type_name(type));
	} while (f->type == PROTO_CREDIT || f->type == PROTO_ACK);
	if (f->type != type || f->stream != stream)
		drv_fatal("expected %s on stream %u, got %s on stream %u",
		    proto_type_name(type), stream, proto_type_name(f->type), f->stream);
}

/* Our HELLO with the resume bit, after the stub's, which must have it. */
static void
drv_resume_hello(struct proto_frame *f, uint8_t *copy)
{
	struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT, PROTO_FEAT_RESUME,
	    DRV_WINDOW };
	uint8_t			b[64];

	drv_next(f, copy, PROTO_HELLO, 0);
	if (!(f->u.hello.features & PROTO_FEAT_RESUME))
		drv_fatal("the stub's HELLO lacks the RESUME bit");
	drv_send(b, proto_put_hello(b, sizeof(b), &h));
}

static void
drv_data(uint32_t id, const char *text)
{
	uint8_t	b[256];
	int	n = proto_put_data_hdr(b, sizeof(b), id, (uint16_t)strlen(text));

	memcpy(b + n, text, strlen(text));
	drv_send(b, n + (int)strlen(text));
}

static void
drv_expect_data(struct proto_frame *f, uint8_t *copy, uint32_t id, const char *text)
{
	drv_next(f, copy, PROTO_DATA, id);
	if (f->len != strlen(text) || memcmp(f->payload, text, f->len) != 0)
		drv_fatal("stream %u: got %.*s, want %s", id, (int)f->len,
		    (const char *)f->payload, text);
}

/* A fresh stub that is told to ATTACH to path with secret: its answer. */
static uint8_t
drv_attach(const char *src, char *tmpl, char **argv, const uint8_t *secret,
    const char *path, pid_t *pid, struct proto_frame *f, uint8_t *copy)
{
	uint8_t	b[256];

	drv_copy(src, tmpl);
	*pid = drv_start_stub(argv, tmpl);
	drv_resume_hello(f, copy);
	drv_send(b, proto_put_token(b, sizeof(b), PROTO_ATTACH, secret, path));
	drv_next(f, copy, PROTO_ATTACHED, 0);
	return f->u.attached;
}

/* The stub exits with status 0 within 10 s. */
static void
drv_exits(pid_t pid, const char *what)
{
	int	status;

	if ((status = drv_wait(pid)) != 0)
		drv_fatal("%s: exit status %d, want 0", what, status);
}

void
drv_resume_checks(const char *src, char *tmpl, char **argv, uint16_t echo_port)
{
	static uint8_t		copy[PROTO_MAX_FRAME];
	struct proto_frame	f;
	struct proto_open	o;
	struct proto_resume	e;
	struct stat		sb;
	uint8_t			b[256], secret[PROTO_SECRET_LEN], bad[PROTO_SECRET_LEN];
	char			dir[] = "/tmp/cshuttle-resumetest.XXXXXX";
	char			path[PROTO_TOKEN_PATH_MAX + 1], sockdir[PROTO_TOKEN_PATH_MAX + 1];
	pid_t			a, j;
	int			link_a, n;

	/* The stubs make their directories here: what is left shows. */
	if (mkdtemp(dir) == NULL || setenv("TMPDIR", dir, 1) != 0)
		drv_fatal("mkdtemp: %s", strerror(errno));

	drv_copy(src, tmpl);
	a = drv_start_stub(argv, tmpl);
	link_a = drv_link();
	drv_resume_hello(&f, copy);
	drv_send(b, proto_put_resume_setup(b, sizeof(b), 30));
	drv_next(&f, copy, PROTO_RESUME_TOKEN, 0);
	memcpy(secret, f.u.token.secret, sizeof(secret));
	snprintf(path, sizeof(path), "%s", f.u.token.path);
	snprintf(sockdir, sizeof(sockdir), "%s", path);
	if (strrchr(sockdir, '/') != NULL)
		*strrchr(sockdir, '/') = '\0';
	if (strncmp(path, dir, strlen(dir)) != 0 || stat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode))
		drv_fatal("RESUME_TOKEN names %s: not a socket under %s", path, dir);
	if (stat(sockdir, &sb) != 0 || (sb.st_mode & 0777) != 0700)
		drv_fatal("the socket's directory %s is not 0700", sockdir);
	drv_ok("RESUME_SETUP: a token naming a socket in a 0700 directory under $TMPDIR");

	memset(&o, 0, sizeof(o));
	o.ipproto = 6;
	addr_set(&o.dst, ADDR_V4, "\x7f\0\0\x01", echo_port);
	drv_send(b, proto_put_open(b, sizeof(b), 1, &o));
	drv_data(1, "abc");
	drv_next(&f, copy, PROTO_OPEN_RESULT, 1);
	drv_expect_data(&f, copy, 1, "abc");
	/* Sent, then the link goes: the echo comes back while there is none. */
	drv_data(1, "defgh");
	usleep(100000);
	close(link_a);
	usleep(300000);
	if (waitpid(a, &n, WNOHANG) != 0)
		drv_fatal("the stub ended with its link instead of waiting");
	drv_ok("a lost link is waited for");

	memcpy(bad, secret, sizeof(bad));
	bad[0] ^= 1;
	if (drv_attach(src, tmpl, argv, bad, path, &j, &f, copy) != PROTO_ATTACH_REFUSED)
		drv_fatal("ATTACH with a wrong secret: status %u, want refused", f.u.attached);
	drv_send(b, proto_put_ping(b, sizeof(b), PROTO_PING, (const uint8_t *)"12345678"));
	drv_next(&f, copy, PROTO_PONG, 0);
	close(drv_link());
	drv_exits(j, "the refused joiner, on EOF");
	drv_ok("ATTACH with a wrong secret is refused; that stub carries on as a fresh one");
	if (drv_attach(src, tmpl, argv, secret, "/nonexistent/s", &j, &f, copy) !=
	    PROTO_ATTACH_NOSTUB)
		drv_fatal("ATTACH where nothing waits: status %u, want 1", f.u.attached);
	close(drv_link());
	drv_exits(j, "the joiner with nothing to join, on EOF");
	drv_ok("ATTACH where nothing waits says so");

	if (drv_attach(src, tmpl, argv, secret, path, &j, &f, copy) != PROTO_ATTACH_JOINED)
		drv_fatal("ATTACH with the secret: status %u, want joined", f.u.attached);
	/* From here on the waiting stub speaks on this link. */
	drv_next(&f, copy, PROTO_HELLO, 0);
	if (f.u.hello.role != PROTO_ROLE_STUB || !(f.u.hello.features & PROTO_FEAT_RESUME))
		drv_fatal("the resumed HELLO is not a stub's with the RESUME bit");
	drv_next(&f, copy, PROTO_RESUME, 0);
	if (f.u.resumes != 1)
		drv_fatal("RESUME lists %u streams, want 1", f.u.resumes);
	proto_resume_get(&f, 0, &e);
	if (e.id != 1 || e.received != 8 || !(e.flags & PROTO_RS_UP) || (e.flags & PROTO_RS_EOF))
		drv_fatal("RESUME entry: stream %u, received %llu, flags %u; want 1, 8, up",
		    e.id, (unsigned long long)e.received, e.flags);
	drv_next(&f, copy, PROTO_RESUME_END, 0);
	if (f.u.last_id != 1)
		drv_fatal("RESUME_END says stream %u, want 1", f.u.last_id);
	usleep(200000);
	if (waitpid(j, &n, WNOHANG) != 0)
		drv_fatal("the joiner exited while its link is in use (sshd would stop "
		    "writing to it)");
	drv_ok("ATTACH with the secret: ATTACHED, the waiting stub resumes on this "
	    "link (HELLO, RESUME, RESUME_END), the joiner stays");

	/* Our side: 3 bytes arrived, the window is all we granted. */
	{
		struct proto_hello	h = { PROTO_VERSION, PROTO_ROLE_CLIENT,
		    PROTO_FEAT_RESUME, DRV_WINDOW };
		struct proto_resume	mine = { 1, 3, DRV_WINDOW, PROTO_RS_UP };

		drv_send(b, proto_put_hello(b, sizeof(b), &h));
		drv_send(b, proto_put_resume(b, sizeof(b), &mine, 1));
		drv_send(b, proto_put_resume_end(b, sizeof(b), 1));
	}
	drv_expect_data(&f, copy, 1, "defgh");
	drv_send(b, proto_put_eof(b, sizeof(b), 1));
	drv_next(&f, copy, PROTO_EOF, 1);
	drv_send(b, proto_put_ack(b, sizeof(b), 1, 8, PROTO_ACK_EOF));
	drv_ok("the data sent before the link was lost comes back on the new one, then EOF");

	drv_send(b, proto_put_bye(b, sizeof(b)));
	drv_send(b, proto_put_ping(b, sizeof(b), PROTO_PING, (const uint8_t *)"12345678"));
	drv_next(&f, copy, PROTO_PONG, 0);
	close(drv_link());
	drv_exits(a, "the stub told BYE, on EOF");
	drv_exits(j, "the joiner, once the stub it joined has ended");
	if (stat(path, &sb) == 0 || stat(sockdir, &sb) == 0)
		drv_fatal("%s is left behind", sockdir);
	drv_ok("BYE: the stub ends with its link, its socket and directory with it");

	/* The grace running out. */
	drv_copy(src, tmpl);
	a = drv_start_stub(argv, tmpl);
	drv_resume_hello(&f, copy);
	drv_send(b, proto_put_resume_setup(b, sizeof(b), 1));
	drv_next(&f, copy, PROTO_RESUME_TOKEN, 0);
	close(drv_link());
	drv_exits(a, "the stub whose grace of 1 s ran out");
	if (rmdir(dir) != 0)
		drv_fatal("%s is not empty after the stubs ended: %s", dir, strerror(errno));
	drv_ok("the grace runs out: the stub ends and leaves nothing in $TMPDIR");
	(void)unsetenv("TMPDIR");
}
