/* SPDX-License-Identifier: ISC */
/*
 * fuzz_stub_dns.c - the stub's DNS forwarder against hostile input from
 * both sides: the client's frames (DNS_CONFIG, DNS_QUERY of any shape) and
 * the nameservers' replies (datagrams and TCP bytes of any shape).  The
 * forwarder's server sockets are socketpairs (its `sock` hook): nothing
 * leaves the machine, and the fuzzer writes the "server" side itself.
 *
 * Invariants: no crash or overrun; every frame the stub sends parses
 * cleanly and is a DNS_ANSWER that passes answer validation or a DNS_FAIL;
 * no descriptor outlives the session.  The input also goes, whole, to the
 * answer validator and the resolv.conf parser.
 *
 * Input: records of [op][len][len bytes]:
 *   op % 6 == 0  link bytes for the stub's mux
 *   op % 6 == 1  a DNS_QUERY frame: id = low byte of len, payload = bytes
 *   op % 6 == 2  bytes from the newest server socket (a datagram for UDP)
 *   op % 6 == 3  one event-loop pass
 *   op % 6 == 4  time passes: every deadline expires
 *   op % 6 == 5  the newest server socket closes
 */
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "stub_dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAX_SOCKS	64

static int	fz_peer[FZ_MAX_SOCKS];
static int	fz_npeer;

static int
fz_sock(int type, const struct addr *s)
{
	int	sv[2];

	if (fz_npeer == FZ_MAX_SOCKS || s->port == 1)
		return -ECONNREFUSED;
	if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		return -EMFILE;
	fz_peer[fz_npeer++] = sv[1];
	return sv[0];
}


/* Everything the stub queued must parse; its DNS replies must be sound.
 * (Link bytes may also draw PONG, OPEN_RESULT or CLOSE.) */
static void
fz_check_out(struct mux *m)
{
	struct proto_frame	 f;
	const uint8_t		*p;
	size_t			 len, off = 0;
	int			 r;

	p = mux_link_data(m, &len);
	if (len == 0)
		return;
	while (off < len) {
		r = proto_parse(p + off, len - off, &f);
		if (r <= 0)
			abort();
		if (f.type == PROTO_DNS_ANSWER &&
		    (f.bad != 0 || f.stream == 0 || f.len < PROTO_DNS_MIN_QUERY ||
		    !(f.payload[2] & 0x80)))
			abort();
		if (f.type == PROTO_DNS_FAIL && (f.bad != 0 || f.stream == 0))
			abort();
		if (f.type == PROTO_DNS_CONFIG || f.type == PROTO_DNS_QUERY)
			abort();
		off += (size_t)r;
	}
	mux_link_consume(m, len);
}

/* OPEN frames in the link bytes: refused, nothing is connected. */
static int
fz_open(struct mux *m, const struct proto_open *o)
{
	return -ECONNREFUSED;
}

static const struct mux_ops fz_ops = { .open = fz_open, .dns = stub_dns_frame };

static void
fz_feed(struct mux *m, const uint8_t *p, size_t len)
{
	uint8_t	*in;
	size_t	 room;

	if (mux_error(m)[0] != '\0')
		return;
	in = mux_in_space(m, &room);
	if (len > room)
		len = room;
	memcpy(in, p, len);
	(void)mux_in_commit(m, len);
}

static void
fz_session(const uint8_t *data, size_t size)
{
	static const uint8_t hello[] = {
		0x01, 0, 0, 20, 0, 0, 0, 0,
		'C', 'S', 'H', 'U', 'T', 'T', 'L', 'E', 1, 0, 0, 0,
		0, 0, 0, 1, 0, 1, 0, 0 };
	static uint8_t		 frame[PROTO_MAX_FRAME];
	struct addr		 ns[3];
	struct ev_loop		 loop;
	struct mux		*m;
	struct stub_dns		 d;
	size_t			 off = 0, len;
	uint8_t			 op;
	int			 i, n, type;
	socklen_t		 tl = sizeof(type);

	fz_npeer = 0;
	if (ev_init(&loop) != 0 ||
	    (m = mux_new(&loop, PROTO_ROLE_STUB, 65536, &fz_ops, NULL)) == NULL ||
	    stub_dns_init(&d, &loop, m) != 0)
		abort();
	mux_set_dns_arg(m, &d);
	/* Announce DNS as stub.c does: DNS frames need it in both HELLOs. */
	if (mux_send_hello(m, PROTO_FEAT_KNOWN) != 0)
		abort();
	d.sock = fz_sock;
	d.resolv_path = "/nonexistent/resolv.conf";
	fz_feed(m, hello, sizeof(hello));
	/* A configuration first unless the input starts with op 0 (which
	 * may send its own, or none: then the default server is used). */
	if (size > 0 && data[0] % 6 != 0) {
		memset(ns, 0, sizeof(ns));
		ns[0].family = ns[1].family = ADDR_V4;
		ns[2].family = ADDR_V6;
		ns[0].port = 1;		/* refuses: fz_sock fails */
		ns[1].port = ns[2].port = 53;
		ns[1].bytes[0] = 192;
		ns[2].bytes[0] = 0xfd;
		n = proto_put_dns_config(frame, sizeof(frame), ns, 3);
		fz_feed(m, frame, (size_t)n);
	}
	while (off + 2 <= size && mux_error(m)[0] == '\0') {
		op = data[off];
		len = data[off + 1];
		off += 2;
		if (op % 6 <= 2 && op & 0x80 && off < size)	/* long records */
			len = len << 8 | data[off++];
		if (len > size - off)
			len = size - off;
		switch (op % 6) {
		case 0:
			fz_feed(m, data + off, len);
			break;
		case 1:
			n = proto_put_dns(frame, sizeof(frame), PROTO_DNS_QUERY,
			    (uint32_t)(len & 0xff), data + off, len);
			if (n > 0)
				fz_feed(m, frame, (size_t)n);
			break;
		case 2:
			if (fz_npeer > 0)
				(void)send(fz_peer[fz_npeer - 1], data + off, len,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		case 3:
			(void)ev_run_once(&loop, 0);
			stub_dns_collect(&d);
			break;
		case 4:
			stub_dns_expire(&d, clock_ms() + 60000);
			break;
		case 5:
			if (fz_npeer > 0 && getsockopt(fz_peer[fz_npeer - 1], SOL_SOCKET,
			    SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
				(void)shutdown(fz_peer[fz_npeer - 1], SHUT_RDWR);
			break;
		}
		off += len;
		if (d.nq > STUB_DNS_MAX)
			abort();
		fz_check_out(m);
	}
	stub_dns_free(&d);
	mux_free(m);
	ev_close(&loop);
	for (i = 0; i < fz_npeer; i++)
		close(fz_peer[i]);
}

static int
fz_fds(void)
{
	struct dirent	*de;
	DIR		*dir;
	int		 n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		abort();
	while ((de = readdir(dir)) != NULL)
		n++;
	closedir(dir);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t		 q[12] = { 0x12, 0x34, 0x01 };
	static int			 quiet;
	struct addr			 s[PROTO_DNS_MAX_SERVERS];
	int				 before, after;

	if (!quiet) {
		log_init("fuzz_stub_dns", -1);
		quiet = 1;
	}
	/* Bytes from the network as a server's answer to a fixed query,
	 * and as a resolv.conf. */
	(void)stub_dns_check_answer(q, data, size);
	if (stub_dns_parse_resolv((const char *)data, size, s, PROTO_DNS_MAX_SERVERS) >
	    PROTO_DNS_MAX_SERVERS)
		abort();

	before = fz_fds();
	fz_session(data, size);
	after = fz_fds();
	if (after != before)
		abort();
	return 0;
}
