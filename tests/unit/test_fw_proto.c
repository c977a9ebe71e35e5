/* SPDX-License-Identifier: ISC */
/*
 * test_fw_proto.c - the firewall helper's request parser and the client's
 * formatter (firewall/fw_proto.c): round trip, strict validation, and the
 * descriptors each line needs (faked: the parser only sees what the helper
 * found out about them).  The helper's reading of blocked packets is in
 * test_fw_nflog.c.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw.h"
#include "fw_plan.h"
#include "fw_proto.h"

/* A faked descriptor: what the helper would have found out about fd. */
static struct fw_fdinfo
fake(int fd, int type, const char *addr, int port, bool listening)
{
	struct fw_fdinfo f;

	memset(&f, 0, sizeof(f));
	f.fd = fd;
	f.type = type;
	f.protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	f.listening = listening;
	if (addr != NULL) {
		assert_int_equal(addr_parse(&f.local, addr, (size_t)-1, 0,
		    (uint16_t)port), 0);
		f.domain = f.local.family == ADDR_V4 ? AF_INET : AF_INET6;
		f.v6only = f.domain == AF_INET6;
	} else
		f.domain = AF_INET;
	return f;
}

#define TCPL(fd, a, p)	fake((fd), SOCK_STREAM, (a), (p), true)
#define UDP(fd, a, p)	fake((fd), SOCK_DGRAM, (a), (p), false)

/* The descriptors of the round trip, by number. */
static struct fw_fdinfo fds_known[8];
static size_t nfds_known;

static const struct fw_fdinfo *
fd_lookup(int fd)
{
	size_t i;

	for (i = 0; i < nfds_known; i++)
		if (fds_known[i].fd == fd)
			return &fds_known[i];
	fail_msg("unknown descriptor %d", fd);
	return NULL;
}

/* Feed a NUL-terminated line; returns what fw_req_line returned. */
static int
feed(struct fw_req *req, const char *line)
{
	char err[256];
	int r;

	r = fw_req_line(req, line, strlen(line), err, sizeof(err));
	if (r < 0)
		assert_true(err[0] != '\0');
	return r;
}

/* A line and the n descriptors it takes: the result of the second step
 * (or of the first, when it failed or wanted none). */
static int
feed_fds(struct fw_req *req, const char *line, const struct fw_fdinfo *f,
    int n)
{
	char err[256];
	int r;

	if ((r = feed(req, line)) != FW_PROTO_FDS)
		return r;
	assert_int_equal(req->nneed, n);
	r = fw_req_fds(req, f, n, err, sizeof(err));
	if (r < 0)
		assert_true(err[0] != '\0');
	return r;
}

/* Feed every line of a formatted series, each part's descriptors to the
 * line that starts it; the result of the last line. */
static int
feed_all(struct fw_req *req, const struct fw_req_text *t)
{
	struct fw_fdinfo f[FW_PROTO_MAXFDS];
	const struct fw_req_part *p;
	const char *l, *nl, *end;
	char err[256];
	size_t i;
	int r = FW_E_INVAL, k;

	assert_int_equal(t->len, strlen(t->buf));
	for (i = 0; i < t->npart; i++) {
		p = &t->part[i];
		assert_int_equal(p->off, i == 0 ? 0 : t->part[i - 1].off +
		    t->part[i - 1].len);
		end = t->buf + p->off + p->len;
		for (l = t->buf + p->off; l < end; l = nl + 1) {
			nl = memchr(l, '\n', (size_t)(end - l));
			assert_non_null(nl);
			r = fw_req_line(req, l, (size_t)(nl - l), err,
			    sizeof(err));
			if (r == FW_PROTO_FDS) {
				/* only the first line of a part takes some */
				assert_ptr_equal(l, t->buf + p->off);
				assert_int_equal(req->nneed, p->nfd);
				for (k = 0; k < p->nfd; k++)
					f[k] = *fd_lookup(p->fd[k]);
				r = fw_req_fds(req, f, p->nfd, err,
				    sizeof(err));
			}
			if (r < 0)
				fail_msg("line \"%.*s\": %s", (int)(nl - l), l,
				    err);
		}
	}
	assert_int_equal(t->part[t->npart - 1].off + t->part[t->npart - 1].len,
	    t->len);
	return r;
}

/* The listener preamble of a series: IPv4 on 127.0.0.1:12300. */
static void
listen4(struct fw_req *req)
{
	struct fw_fdinfo f = TCPL(5, "127.0.0.1", 12300);

	assert_int_equal(feed_fds(req, "LISTEN", &f, 1), FW_PROTO_MORE);
}

static void
test_roundtrip(void **state)
{
	struct subnet v[3];
	struct subnet_list list = { .v = v, .n = 3, .cap = 3 };
	struct fw_config cfg;
	struct fw_req req;
	struct fw_req_text t;

	nfds_known = 0;
	fds_known[nfds_known++] = TCPL(10, "127.0.0.1", 12300);
	fds_known[nfds_known++] = TCPL(11, "::1", 12300);
	fds_known[nfds_known++] = UDP(20, "127.0.0.1", 12353);
	fds_known[nfds_known++] = TCPL(21, "127.0.0.1", 12353);
	fds_known[nfds_known++] = UDP(22, "::1", 12354);
	fds_known[nfds_known++] = TCPL(23, "::1", 12354);

	memset(&cfg, 0, sizeof(cfg));
	memset(v, 0, sizeof(v));
	cfg.nlisten = 2;
	cfg.listen_fd[0] = 10;
	cfg.listen_fd[1] = 11;
	cfg.prerouting = true;
	cfg.nallow = 2;
	cfg.allow[0].family = 4;
	cfg.allow[0].prefix = 24;
	inet_pton(AF_INET, "192.168.1.77", cfg.allow[0].addr);	/* host bits */
	cfg.allow[1].family = 6;
	cfg.allow[1].prefix = 64;
	inet_pton(AF_INET6, "fd00:1::", cfg.allow[1].addr);
	cfg.subnets = &list;
	v[0].family = 4;
	v[0].prefix = 8;
	v[0].addr[0] = 10;
	v[1].family = 4;
	v[1].prefix = 24;
	inet_pton(AF_INET, "10.20.5.0", v[1].addr);
	v[1].exclude = true;
	v[1].port_lo = 8000;
	v[1].port_hi = 9000;
	v[2].family = 6;
	v[2].prefix = 0;
	v[2].port_lo = 0;
	v[2].port_hi = 65535;
	cfg.nexempt = 2;
	assert_int_equal(addr_parse(&cfg.exempt[0], "192.0.2.7", (size_t)-1, 0, 22), 0);
	assert_int_equal(addr_parse(&cfg.exempt[1], "2001:db8::7", (size_t)-1, 0, 2222), 0);
	cfg.block_leaks = true;
	cfg.ndns = 2;
	/* the port is the helper's to find out: 53 here, 12353 on the socket */
	assert_int_equal(addr_parse(&cfg.dns[0], "127.0.0.53", (size_t)-1, 0, 53), 0);
	assert_int_equal(addr_parse(&cfg.dns[1], "fd00::53", (size_t)-1, 0, 0), 0);
	cfg.dns_udp_fd[0] = 20;
	cfg.dns_tcp_fd[0] = 21;
	cfg.dns_udp_fd[1] = 22;
	cfg.dns_tcp_fd[1] = 23;

	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_string_equal(t.buf,
	    "LISTEN\n"
	    "LISTEN\n"
	    "PREROUTING 1\n"
	    "ALLOW 4 192.168.1.0 24\n"
	    "ALLOW 6 fd00:1:: 64\n"
	    "BLOCKLEAKS 1\n"
	    "SCOPE caller\n"
	    "EXEMPT 4 192.0.2.7 22\n"
	    "EXEMPT 6 2001:db8::7 2222\n"
	    "SUBNET inc 4 10.0.0.0 8 0 65535\n"
	    "SUBNET exc 4 10.20.5.0 24 8000 9000\n"
	    "SUBNET inc 6 :: 0 0 65535\n"
	    "DNS 4 127.0.0.53\n"
	    "DNS 6 fd00::53\n"
	    "APPLY\n");
	/* a part per line with descriptors, and one for the lines between */
	assert_int_equal(t.npart, 5);
	assert_int_equal(t.part[0].nfd, 1);
	assert_int_equal(t.part[0].fd[0], 10);
	assert_int_equal(t.part[0].len, strlen("LISTEN\n"));
	assert_int_equal(t.part[1].fd[0], 11);
	assert_int_equal(t.part[2].nfd, 0);
	assert_int_equal(t.part[3].nfd, 2);
	assert_int_equal(t.part[3].fd[0], 20);
	assert_int_equal(t.part[3].fd[1], 21);
	assert_int_equal(t.part[4].nfd, 2);
	assert_int_equal(t.part[4].fd[1], 23);

	fw_req_init(&req);
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.port, 12300);
	assert_true(req.cfg.ipv4 && req.cfg.ipv6 && req.cfg.prerouting);
	assert_int_equal(req.cfg.nlisten, 2);
	assert_int_equal(req.cfg.listen_fd[1], 11);
	assert_true(addr_equal(&req.cfg.listen[0], &fds_known[0].local));
	assert_int_equal(req.cfg.nallow, 2);
	assert_int_equal(req.cfg.allow[0].addr[3], 0);
	assert_int_equal(req.cfg.allow[1].prefix, 64);
	assert_int_equal(req.scope, FW_SCOPE_CALLER);
	assert_false(req.cfg.host_wide || req.cfg.has_user || req.cfg.has_group);
	assert_int_equal(req.cfg.nexempt, 2);
	assert_true(addr_equal(&req.cfg.exempt[0], &cfg.exempt[0]));
	assert_true(addr_equal(&req.cfg.exempt[1], &cfg.exempt[1]));
	assert_true(req.cfg.block_leaks);
	assert_int_equal(req.cfg.ndns, 2);
	assert_true(addr_same_host(&req.cfg.dns[0], &cfg.dns[0]));
	assert_int_equal(req.cfg.dns[0].port, 12353);
	assert_int_equal(req.cfg.dns[1].port, 12354);
	assert_int_equal(req.cfg.dns_udp_fd[1], 22);
	assert_int_equal(req.cfg.dns_tcp_fd[0], 21);
	assert_true(addr_equal(&req.cfg.dns_listen[1], &fds_known[4].local));
	assert_ptr_equal(req.cfg.subnets, &req.subnets);
	assert_int_equal(req.subnets.n, 3);
	assert_int_equal(req.subnets.v[0].port_hi, 65535);
	v[0].port_hi = 65535;	/* "every port" is sent as 0 65535 */
	assert_memory_equal(req.subnets.v, v, sizeof(v));
	fw_req_text_free(&t);

	/* The next series: no LISTEN; the port and families stay. */
	fw_req_next(&req);
	assert_int_equal(req.subnets.n, 0);
	assert_int_equal(req.seen, 0);
	assert_true(req.later);
	cfg.host_wide = true;
	assert_int_equal(fw_req_format(&cfg, false, &t), 0);
	assert_null(strstr(t.buf, "LISTEN"));
	assert_non_null(strstr(t.buf, "BLOCKLEAKS 1\nSCOPE host\nEXEMPT"));
	assert_int_equal(t.part[0].nfd, 0);
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.port, 12300);
	assert_true(req.cfg.ipv4 && req.cfg.ipv6 && req.cfg.host_wide);
	assert_int_equal(req.scope, FW_SCOPE_HOST);
	fw_req_text_free(&t);
	fw_req_clear(&req);
	assert_false(req.later);

	/* root's --user and --group: no SCOPE */
	cfg.host_wide = false;
	cfg.has_user = true;
	cfg.user = 1001;
	cfg.has_group = true;
	cfg.group = 4294967294U;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "BLOCKLEAKS 1\nUSER 1001\nGROUP "
	    "4294967294\nEXEMPT"));
	assert_null(strstr(t.buf, "SCOPE"));
	fw_req_init(&req);
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_true(req.cfg.has_user && req.cfg.has_group);
	assert_int_equal(req.cfg.user, 1001);
	assert_int_equal(req.cfg.group, 4294967294U);
	assert_int_equal(req.scope, FW_SCOPE_DEFAULT);
	fw_req_clear(&req);
	fw_req_text_free(&t);
	cfg.has_group = false;

	/* an address goes without its scope: the helper takes none */
	cfg.exempt[1].scope = 2;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "EXEMPT 6 2001:db8::7 2222\n"));
	fw_req_text_free(&t);
	cfg.exempt[1].scope = 0;

	/* host bits are cleared before sending */
	list.n = 1;
	v[0].addr[3] = 9;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "SUBNET inc 4 10.0.0.0 8 0 65535\n"));
	fw_req_text_free(&t);

	/* the helper would refuse these: so does the client */
	cfg.has_user = false;
	cfg.host_wide = true;
	cfg.has_group = true;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	assert_null(t.buf);
	cfg.has_group = false;
	cfg.dns[1] = cfg.dns[0];
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	cfg.ndns = 1;
	cfg.dns_tcp_fd[0] = -1;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	cfg.dns_tcp_fd[0] = 21;
	cfg.dns[0].family = 0;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	cfg.ndns = FW_MAX_DNS + 1;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_TOOMANY);
	cfg.nallow = FW_MAX_ALLOW + 1;
	cfg.ndns = 0;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_TOOMANY);
	cfg.nallow = 0;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	cfg.prerouting = false;
	cfg.block_leaks = false;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "BLOCKLEAKS 0\n"));
	assert_null(strstr(t.buf, "DNS"));
	assert_null(strstr(t.buf, "ALLOW"));
	fw_req_text_free(&t);
	cfg.listen_fd[1] = -1;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	assert_int_equal(fw_req_format(&cfg, false, &t), 0);	/* not sent */
	fw_req_text_free(&t);
	cfg.nlisten = 0;
	assert_int_equal(fw_req_format(&cfg, true, &t), FW_E_INVAL);
	assert_null(t.buf);
	fw_req_text_free(&t);
	fw_req_text_free(NULL);
}

static void
test_minimal(void **state)
{
	struct fw_req req;
	struct fw_fdinfo f = TCPL(7, "::1", 1);

	fw_req_init(&req);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	assert_false(req.cfg.ipv4);
	assert_true(req.cfg.ipv6);
	assert_int_equal(req.cfg.port, 1);
	assert_false(req.cfg.prerouting);
	assert_false(req.cfg.block_leaks);	/* the default */
	assert_int_equal(req.cfg.ndns, 0);
	assert_int_equal(req.scope, FW_SCOPE_DEFAULT);
	/* a later series may be just APPLY, but never LISTEN */
	fw_req_next(&req);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.listen_fd[0], 7);
	fw_req_next(&req);
	assert_true(feed(&req, "LISTEN") < 0);
	/* afresh, a series needs its LISTEN again */
	fw_req_clear(&req);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
}

/* Each of these must be refused on its own, after a valid line. */
static void
test_bad_lines(void **state)
{
	static const char *bad[] = {
		"",
		" LISTEN",
		"LISTEN ",
		"LISTEN 12300",
		"listen",
		"PORT 12300",
		"FAMILIES 46",
		"SOCKET 4 udp",
		"PREROUTING 2",
		"PREROUTING yes",
		"PREROUTING  1",
		"PREROUTING\t1",
		"ALLOW 4 192.168.1.0",
		"ALLOW 4 192.168.1.1 24",
		"ALLOW 4 192.168.1.0 33",
		"ALLOW 6 192.168.1.0 24",
		"ALLOW 4 fd00:: 8",
		"ALLOW 5 10.0.0.0 8",
		"ALLOW 4 10.0.0.0/8 8",
		"ALLOW 4 10.0.0.0 08",
		"EXEMPT 4 192.0.2.1",
		"EXEMPT 4 192.0.2.1 65536",
		"EXEMPT 4 2001:db8::1 22",
		"EXEMPT 6 192.0.2.1 22",
		"EXEMPT 5 192.0.2.1 22",
		"EXEMPT 4 192.0.2.256 22",
		"EXEMPT 4 192.0.2 22",
		"EXEMPT 4 0x7f.1 22",
		"EXEMPT 4 192.0.2.1 +22",
		"EXEMPT 4 192.0.2.1 99999999999999999999",
		"SUBNET inc 4 10.0.0.0 8 0",
		"SUBNET inc 4 10.0.0.0 8 0 65535 1",
		"SUBNET include 4 10.0.0.0 8 0 65535",
		"SUBNET inc 4 10.0.0.0 33 0 65535",
		"SUBNET inc 6 fd00:: 129 0 65535",
		"SUBNET inc 4 10.0.0.1 8 0 65535",
		"SUBNET inc 4 10.0.0.0/8 8 0 65535",
		"SUBNET inc 6 fd00::1 64 0 65535",
		"SUBNET inc 6 10.0.0.0 8 0 65535",
		"SUBNET inc 4 10.0.0.0 8 9000 8000",
		"SUBNET inc 4 10.0.0.0 8 0 65536",
		"SUBNET inc 4 10.0.0.0 08 0 65535",
		"APPLY now",
		"DELETE",
		"OK",
		"DNS 4",
		"DNS 4 192.0.2.53 53",
		"DNS 6 192.0.2.53",
		"DNS 4 fd00::53",
		"DNS 4 192.0.2.53/32",
		"DNS 46 192.0.2.53",
		"dns 4 192.0.2.53",
		"BLOCKLEAKS",
		"BLOCKLEAKS 2",
		"BLOCKLEAKS true",
		"BLOCKLEAKS 1 1",
		"SCOPE",
		"SCOPE user",
		"SCOPE HOST",
		"SCOPE host caller",
		"USER",
		"USER alice",
		"USER -1",
		"USER 01",
		"USER 4294967295",
		"USER 99999999999",
		"GROUP 1 2",
		"GROUP root",
		"MARK",		/* inside a series */
		"MARK 4",
		"MARK udp",
	};
	struct fw_req req;
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fw_req_init(&req);
		assert_int_equal(feed(&req, "EXEMPT 4 192.0.2.1 22"),
		    FW_PROTO_MORE);
		if (feed(&req, bad[i]) >= 0)
			fail_msg("accepted \"%s\"", bad[i]);
		fw_req_clear(&req);
	}

	/* an embedded NUL or a high byte */
	fw_req_init(&req);
	memcpy(line, "APPLY\0", 6);
	assert_true(fw_req_line(&req, line, 6, NULL, 0) < 0);
	assert_true(feed(&req, "APPLY\xff") < 0);
	fw_req_clear(&req);
}

static void
test_once_only_and_order(void **state)
{
	struct fw_fdinfo d[2] = { UDP(8, "::1", 12353), TCPL(9, "::1", 12353) };
	struct fw_fdinfo d4[2] = { UDP(10, "127.0.0.1", 12354),
	    TCPL(11, "127.0.0.1", 12354) };
	struct fw_req req;

	fw_req_init(&req);
	assert_int_equal(feed(&req, "PREROUTING 0"), FW_PROTO_MORE);
	assert_true(feed(&req, "PREROUTING 1") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "BLOCKLEAKS 1"), FW_PROTO_MORE);
	assert_true(feed(&req, "BLOCKLEAKS 1") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "SCOPE host"), FW_PROTO_MORE);
	assert_true(feed(&req, "SCOPE caller") < 0);
	assert_true(feed(&req, "USER 0") < 0);
	assert_true(feed(&req, "GROUP 0") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "USER 5"), FW_PROTO_MORE);
	assert_true(feed(&req, "USER 5") < 0);
	assert_int_equal(feed(&req, "GROUP 6"), FW_PROTO_MORE);
	assert_true(feed(&req, "GROUP 6") < 0);
	assert_true(feed(&req, "SCOPE caller") < 0);
	fw_req_clear(&req);

	assert_int_equal(feed(&req, "GROUP 6"), FW_PROTO_MORE);
	assert_true(feed(&req, "SCOPE host") < 0);
	fw_req_clear(&req);

	/* a series without a listener */
	assert_int_equal(feed(&req, "BLOCKLEAKS 0"), FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);

	/* prerouting without a source to serve */
	listen4(&req);
	assert_int_equal(feed(&req, "PREROUTING 1"), FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_int_equal(feed(&req, "PREROUTING 1"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "ALLOW 4 0.0.0.0 0"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	fw_req_clear(&req);

	/* the same nameserver twice */
	assert_int_equal(feed_fds(&req, "DNS 6 fd00::53", d, 2), FW_PROTO_MORE);
	assert_int_equal(feed_fds(&req, "DNS 4 192.0.2.53", d4, 2),
	    FW_PROTO_MORE);
	assert_true(feed(&req, "DNS 6 fd00:0::53") < 0);
	assert_int_equal(req.cfg.ndns, 2);
	fw_req_clear(&req);

	/* the listener's port is not a DNS port; two DNS not on one port */
	listen4(&req);
	d4[0].local.port = d4[1].local.port = 12300;
	assert_int_equal(feed_fds(&req, "DNS 4 192.0.2.53", d4, 2),
	    FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
	listen4(&req);
	d4[0].local.port = d4[1].local.port = 12353;
	assert_int_equal(feed_fds(&req, "DNS 4 192.0.2.53", d4, 2),
	    FW_PROTO_MORE);
	assert_int_equal(feed_fds(&req, "DNS 6 fd00::53", d, 2), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);	/* v4, v6 */
	fw_req_clear(&req);
	listen4(&req);
	assert_int_equal(feed_fds(&req, "DNS 4 192.0.2.53", d4, 2),
	    FW_PROTO_MORE);
	assert_int_equal(feed_fds(&req, "DNS 4 192.0.2.54", d4, 2),
	    FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
}

/* What each line's descriptors must be. */
static void
test_descriptors(void **state)
{
	struct fw_fdinfo f, d[2];
	struct fw_req req;
	char err[256], la[32];
	int i;

	fw_req_init(&req);
	/* LISTEN: a listening TCP socket, IPv4 or IPv6-only, bound */
	f = TCPL(3, "127.0.0.1", 12300);
	f.domain = AF_UNSPEC;		/* not a socket (a pipe, a file) */
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(3, "127.0.0.1", 12300);
	f.domain = AF_UNIX;
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = UDP(3, "127.0.0.1", 12300);
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = UDP(3, "127.0.0.1", 12300);
	f.listening = true;
	f.type = SOCK_STREAM;		/* an SCTP stream socket */
	f.protocol = IPPROTO_SCTP;
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = fake(3, SOCK_STREAM, "127.0.0.1", 12300, false);
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);	/* not listening */
	fw_req_clear(&req);
	f = fake(3, SOCK_STREAM, NULL, 0, true);
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);	/* not bound */
	fw_req_clear(&req);
	f = TCPL(3, "::", 12300);
	f.v6only = false;		/* would take IPv4 too */
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(3, "::", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = TCPL(4, "::1", 12300);	/* the wildcard and another of its family */
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(3, "::", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = TCPL(4, "0.0.0.0", 12301);	/* two ports */
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(3, "::", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = TCPL(4, "0.0.0.0", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	assert_true(addr_is_any(&req.cfg.listen[1]));
	fw_req_clear(&req);
	/* Several of one family, on distinct addresses, up to the limit. */
	for (i = 0; i < FW_MAX_LISTEN; i++) {
		snprintf(la, sizeof(la), "127.0.0.%d", i + 1);
		f = TCPL(3 + i, la, 12300);
		assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	}
	assert_int_equal(feed(&req, "LISTEN"), FW_E_TOOMANY);
	fw_req_clear(&req);
	f = TCPL(3, "127.0.0.1", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = TCPL(4, "127.0.0.1", 12300);	/* one address twice */
	assert_true(feed_fds(&req, "LISTEN", &f, 1) < 0);
	fw_req_clear(&req);

	/* DNS: bound UDP, then listening TCP, same family, address, port */
	d[0] = UDP(3, "127.0.0.1", 12353);
	d[1] = TCPL(4, "127.0.0.1", 12353);
	assert_true(feed_fds(&req, "DNS 6 fd00::53", d, 2) < 0);	/* family */
	fw_req_clear(&req);
	d[0] = TCPL(3, "127.0.0.1", 12353);
	assert_true(feed_fds(&req, "DNS 4 192.0.2.53", d, 2) < 0);	/* order */
	fw_req_clear(&req);
	d[0] = UDP(3, "127.0.0.1", 12353);
	d[1] = fake(4, SOCK_STREAM, "127.0.0.1", 12353, false);
	assert_true(feed_fds(&req, "DNS 4 192.0.2.53", d, 2) < 0);
	fw_req_clear(&req);
	d[1] = TCPL(4, "127.0.0.1", 12354);
	assert_true(feed_fds(&req, "DNS 4 192.0.2.53", d, 2) < 0);	/* ports */
	fw_req_clear(&req);
	d[1] = TCPL(4, "127.0.0.2", 12353);
	assert_true(feed_fds(&req, "DNS 4 192.0.2.53", d, 2) < 0);
	fw_req_clear(&req);
	d[0] = fake(3, SOCK_DGRAM, NULL, 0, false);
	d[1] = TCPL(4, "127.0.0.1", 12353);
	assert_true(feed_fds(&req, "DNS 4 192.0.2.53", d, 2) < 0);	/* unbound */
	fw_req_clear(&req);

	/* the count must be the one asked for */
	assert_int_equal(feed(&req, "LISTEN"), FW_PROTO_FDS);
	assert_true(fw_req_fds(&req, d, 2, err, sizeof(err)) < 0);
	fw_req_clear(&req);
	assert_int_equal(feed(&req, "LISTEN"), FW_PROTO_FDS);
	assert_true(feed(&req, "APPLY") < 0);	/* its descriptor first */
	fw_req_clear(&req);
	assert_true(fw_req_fds(&req, d, 1, err, sizeof(err)) < 0);	/* unasked */
	fw_req_clear(&req);

	/* MARK: our own UDP or TCP socket, bound or not; outside a series */
	f = UDP(3, "::1", 0);
	f.local.family = 0;
	f.v6only = false;
	assert_int_equal(feed_fds(&req, "MARK", &f, 1), FW_PROTO_MARK);
	assert_int_equal(req.mark_fd, 3);
	assert_int_equal(req.seen, 0);	/* no series begun */
	f = TCPL(4, "192.0.2.1", 4000);
	f.listening = false;
	assert_int_equal(feed_fds(&req, "MARK", &f, 1), FW_PROTO_MARK);
	assert_int_equal(req.mark_fd, 4);
	f.domain = AF_UNIX;
	assert_true(feed_fds(&req, "MARK", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(4, "192.0.2.1", 4000);
	f.type = SOCK_RAW;
	assert_true(feed_fds(&req, "MARK", &f, 1) < 0);
	fw_req_clear(&req);
	f = UDP(4, "192.0.2.1", 4000);
	f.protocol = IPPROTO_UDPLITE;
	assert_true(feed_fds(&req, "MARK", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_true(feed(&req, "MARK") < 0);	/* inside a series */
	fw_req_clear(&req);
}

/* UDP: bound, unconnected UDP sockets beside the listeners, first series
 * only, after LISTEN, at most one per listener. */
static void
test_udp(void **state)
{
	struct fw_fdinfo f;
	struct fw_req req;
	char err[256];

	(void)state;
	assert_int_equal(FW_PROTO_VERSION, 4);
	fw_req_init(&req);
	f = UDP(6, "127.0.0.1", 12300);
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);	/* before LISTEN */
	fw_req_clear(&req);

	listen4(&req);
	assert_false(req.cfg.udp4);
	f = UDP(6, "127.0.0.1", 12300);
	assert_int_equal(feed_fds(&req, "UDP", &f, 1), FW_PROTO_MORE);
	assert_int_equal(req.cfg.nudp, 1);
	assert_int_equal(req.cfg.udp_fd[0], 6);
	assert_true(req.cfg.udp4);
	assert_false(req.cfg.udp6);
	assert_int_equal(req.cfg.udp_listen[0].port, 12300);
	f = UDP(7, "127.0.0.1", 12300);		/* a second for one listener */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);

	/* each check of the descriptor */
	listen4(&req);
	f = UDP(6, "127.0.0.1", 12301);		/* another port */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	f = UDP(6, "127.0.0.2", 12300);		/* another address */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	f = TCPL(6, "127.0.0.1", 12300);	/* TCP */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	f = UDP(6, "127.0.0.1", 12300);
	f.connected = true;
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	f = UDP(6, "127.0.0.1", 12300);
	f.protocol = IPPROTO_UDPLITE;
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	listen4(&req);
	f = fake(6, SOCK_DGRAM, NULL, 0, false);	/* unbound */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(5, "::1", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = UDP(6, "::1", 12300);
	f.v6only = false;			/* would take IPv4 too */
	assert_true(feed_fds(&req, "UDP", &f, 1) < 0);
	fw_req_clear(&req);
	f = TCPL(5, "::1", 12300);
	assert_int_equal(feed_fds(&req, "LISTEN", &f, 1), FW_PROTO_MORE);
	f = UDP(6, "::1", 12300);
	assert_int_equal(feed_fds(&req, "UDP", &f, 1), FW_PROTO_MORE);
	assert_true(req.cfg.udp6);
	assert_true(feed(&req, "UDP 1") < 0);	/* no arguments */
	fw_req_clear(&req);

	/* first series only; kept for the later ones */
	listen4(&req);
	f = UDP(6, "127.0.0.1", 12300);
	assert_int_equal(feed_fds(&req, "UDP", &f, 1), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	fw_req_next(&req);
	assert_int_equal(req.cfg.nudp, 1);
	assert_int_equal(req.cfg.udp_fd[0], 6);
	assert_true(req.cfg.udp4);
	assert_true(feed(&req, "UDP") < 0);
	fw_req_clear(&req);

	/* the descriptor is due before the next line */
	listen4(&req);
	assert_int_equal(feed(&req, "UDP"), FW_PROTO_FDS);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_int_equal(feed(&req, "UDP"), FW_PROTO_FDS);
	assert_true(fw_req_fds(&req, &f, 0, err, sizeof(err)) < 0);
	fw_req_clear(&req);
}

/* The client's series carries the UDP sockets after the listeners, in
 * the first series only. */
static void
test_udp_format(void **state)
{
	struct fw_config cfg;
	struct fw_req req;
	struct fw_req_text t;

	(void)state;
	nfds_known = 0;
	fds_known[nfds_known++] = TCPL(10, "127.0.0.1", 12300);
	fds_known[nfds_known++] = TCPL(11, "::1", 12300);
	fds_known[nfds_known++] = UDP(12, "127.0.0.1", 12300);
	fds_known[nfds_known++] = UDP(13, "::1", 12300);
	memset(&cfg, 0, sizeof(cfg));
	cfg.nlisten = 2;
	cfg.listen_fd[0] = 10;
	cfg.listen_fd[1] = 11;
	cfg.nudp = 2;
	cfg.udp_fd[0] = 12;
	cfg.udp_fd[1] = 13;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "LISTEN\nLISTEN\nUDP\nUDP\nPREROUTING 0\n"));
	fw_req_init(&req);
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_true(req.cfg.udp4);
	assert_true(req.cfg.udp6);
	assert_int_equal(req.cfg.nudp, 2);
	fw_req_next(&req);
	fw_req_text_free(&t);
	/* a later series sends none */
	assert_int_equal(fw_req_format(&cfg, false, &t), 0);
	assert_null(strstr(t.buf, "UDP\n"));
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.nudp, 2);
	fw_req_text_free(&t);
	fw_req_clear(&req);
	/* more UDP sockets than listeners, or a missing one */
	cfg.nlisten = 1;
	assert_true(fw_req_format(&cfg, true, &t) != 0);
	cfg.nlisten = 2;
	cfg.udp_fd[1] = -1;
	assert_true(fw_req_format(&cfg, true, &t) != 0);
}

/* TMARK: once, in the first series only, with UDP, a mark that is
 * neither the kernel's table nor cshuttle's own; kept for the later
 * series, and formatted in the first one only. */
static void
test_tmark(void **state)
{
	static const char *const bad[] = {
		"TMARK 0", "TMARK 253", "TMARK 254", "TMARK 255",
		"TMARK 4294967296", "TMARK 0x10", "TMARK 010", "TMARK -1",
		"TMARK", "TMARK 1 2",
		"TMARK 1668481025",	/* 0x63730001: M */
		"TMARK 1668624396",	/* 0x6375300c: T */
		"TMARK 1668743167",	/* 0x6376ffff: R */
	};
	struct fw_config cfg;
	struct fw_fdinfo f;
	struct fw_plan plan;
	struct fw_req req;
	struct fw_req_text t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fw_req_init(&req);
		listen4(&req);
		if (feed(&req, bad[i]) >= 0)
			fail_msg("\"%s\" accepted", bad[i]);
		fw_req_clear(&req);
	}
	fw_req_init(&req);
	listen4(&req);
	f = UDP(6, "127.0.0.1", 12300);
	assert_int_equal(feed_fds(&req, "UDP", &f, 1), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "TMARK 4294967295"), FW_PROTO_MORE);
	assert_int_equal(req.cfg.tmark, 0xffffffffU);
	assert_true(feed(&req, "TMARK 1") < 0);		/* twice */
	fw_req_clear(&req);

	/* before the UDP line is fine; without one, APPLY refuses it */
	fw_req_init(&req);
	listen4(&req);
	assert_int_equal(feed(&req, "TMARK 1"), FW_PROTO_MORE);
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);
	fw_req_init(&req);
	listen4(&req);
	assert_int_equal(feed(&req, "TMARK 252"), FW_PROTO_MORE);
	f = UDP(6, "127.0.0.1", 12300);
	assert_int_equal(feed_fds(&req, "UDP", &f, 1), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "APPLY"), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.tmark, 252);
	/* the plan marks with it, and routes by it */
	req.cfg.port = 12300;
	assert_int_equal(fw_plan_build(&req.cfg, &plan), 0);
	assert_int_equal(plan.tproxy_mark, 252);
	fw_plan_free(&plan);
	/* first series only, kept for the later ones */
	fw_req_next(&req);
	assert_int_equal(req.cfg.tmark, 252);
	assert_true(feed(&req, "TMARK 252") < 0);
	fw_req_clear(&req);
	/* no TMARK: T of the port */
	fw_req_init(&req);
	listen4(&req);
	assert_int_equal(req.cfg.tmark, 0);
	assert_int_equal(fw_plan_build(&req.cfg, &plan), 0);
	assert_int_equal(plan.tproxy_mark, fw_tproxy_mark_for_port(12300));
	fw_plan_free(&plan);
	fw_req_clear(&req);

	/* the client's side */
	nfds_known = 0;
	fds_known[nfds_known++] = TCPL(10, "127.0.0.1", 12300);
	fds_known[nfds_known++] = UDP(12, "127.0.0.1", 12300);
	memset(&cfg, 0, sizeof(cfg));
	cfg.nlisten = 1;
	cfg.listen_fd[0] = 10;
	cfg.nudp = 1;
	cfg.udp_fd[0] = 12;
	cfg.tmark = 0x100;
	assert_int_equal(fw_req_format(&cfg, true, &t), 0);
	assert_non_null(strstr(t.buf, "\nUDP\nTMARK 256\nPREROUTING 0\n"));
	fw_req_init(&req);
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.tmark, 0x100);
	fw_req_next(&req);
	fw_req_text_free(&t);
	assert_int_equal(fw_req_format(&cfg, false, &t), 0);
	assert_null(strstr(t.buf, "TMARK"));
	assert_int_equal(feed_all(&req, &t), FW_PROTO_APPLY);
	assert_int_equal(req.cfg.tmark, 0x100);
	fw_req_text_free(&t);
	fw_req_clear(&req);
	/* what the helper would refuse is never sent */
	cfg.tmark = 254;
	assert_true(fw_req_format(&cfg, true, &t) != 0);
	cfg.tmark = 0x63750001;
	assert_true(fw_req_format(&cfg, true, &t) != 0);
	cfg.tmark = 7;
	cfg.nudp = 0;
	assert_true(fw_req_format(&cfg, true, &t) != 0);
	/* the plan refuses it too */
	memset(&cfg, 0, sizeof(cfg));
	cfg.port = 12300;
	cfg.tmark = 255;
	assert_true(fw_plan_build(&cfg, &plan) != 0);
	fw_plan_free(&plan);
}

/* UDPREPLY: outside a series, an unbound UDP socket of the family. */
static void
test_udpreply(void **state)
{
	struct addr a;
	struct fw_fdinfo f;
	struct fw_req req;
	char buf[FW_PROTO_MAXLINE];
	int e;

	(void)state;
	fw_req_init(&req);
	f = fake(8, SOCK_DGRAM, NULL, 0, false);
	f.local.family = ADDR_V4;	/* getsockname() of an unbound socket */
	assert_int_equal(feed_fds(&req, "UDPREPLY 4 10.30.0.7 4444", &f, 1),
	    FW_PROTO_UDPREPLY);
	assert_int_equal(req.reply_fd, 8);
	assert_int_equal(req.reply_src.family, ADDR_V4);
	assert_int_equal(req.reply_src.port, 4444);
	assert_int_equal(req.seen, 0);
	/* IPv6 needs an IPv6-only socket */
	f.domain = AF_INET6;
	f.local.family = ADDR_V6;
	assert_true(feed_fds(&req, "UDPREPLY 6 fd00::7 53", &f, 1) < 0);
	fw_req_clear(&req);
	f.v6only = true;
	assert_int_equal(feed_fds(&req, "UDPREPLY 6 fd00::7 53", &f, 1),
	    FW_PROTO_UDPREPLY);
	/* the socket's family must be the address's */
	assert_true(feed_fds(&req, "UDPREPLY 4 10.0.0.1 53", &f, 1) < 0);
	fw_req_clear(&req);
	f = UDP(8, "0.0.0.0", 5000);		/* bound already */
	assert_true(feed_fds(&req, "UDPREPLY 4 10.0.0.1 53", &f, 1) < 0);
	fw_req_clear(&req);
	f = fake(8, SOCK_STREAM, NULL, 0, false);	/* TCP */
	assert_true(feed_fds(&req, "UDPREPLY 4 10.0.0.1 53", &f, 1) < 0);
	fw_req_clear(&req);
	f = fake(8, SOCK_DGRAM, NULL, 0, false);
	f.connected = true;
	assert_true(feed_fds(&req, "UDPREPLY 4 10.0.0.1 53", &f, 1) < 0);
	fw_req_clear(&req);
	/* bad lines */
	assert_true(feed(&req, "UDPREPLY 4 10.0.0.1 0") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "UDPREPLY 4 10.0.0.1 65536") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "UDPREPLY 4 fd00::1 53") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "UDPREPLY 5 10.0.0.1 53") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "UDPREPLY 4 10.0.0.1 053") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "UDPREPLY 4 10.0.0.1") < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_true(feed(&req, "UDPREPLY 4 10.0.0.1 53") < 0);	/* in a series */
	fw_req_clear(&req);

	/* the client's line and the replies */
	assert_int_equal(addr_parse(&a, "fd00:30::7", (size_t)-1, 0, 4444), 0);
	assert_int_equal(fw_req_format_udpreply(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "UDPREPLY 6 fd00:30::7 4444\n");
	fw_req_init(&req);
	assert_int_equal(feed(&req, "UDPREPLY 6 fd00:30::7 4444"), FW_PROTO_FDS);
	fw_req_clear(&req);
	a.port = 0;
	assert_true(fw_req_format_udpreply(&a, buf, sizeof(buf)) != 0);
	assert_int_equal(fw_reply_udpreply("UDPREPLY", &e), 1);
	assert_int_equal(fw_reply_udpreply("NOUDPREPLY 22 not carried", &e), 0);
	assert_int_equal(e, EINVAL);
	assert_int_equal(fw_reply_udpreply("NOUDPREPLY 0 x", &e), -1);
	assert_int_equal(fw_reply_udpreply("NOUDPREPLYX 22 x", &e), -1);
	assert_int_equal(fw_reply_udpreply("MARK", &e), -1);
	assert_int_equal(fw_reply_mark("UDPREPLY", &e), -1);
}

/* UDPSEND: outside a series, one end of an AF_UNIX datagram socketpair. */
static void
test_udpsend(void **state)
{
	struct fw_fdinfo f;
	struct fw_req req;
	int e;

	(void)state;
	fw_req_init(&req);
	memset(&f, 0, sizeof(f));
	f.fd = 9;
	f.domain = AF_UNIX;
	f.type = SOCK_DGRAM;
	f.connected = true;
	assert_int_equal(feed_fds(&req, "UDPSEND", &f, 1), FW_PROTO_UDPSEND);
	assert_int_equal(req.send_fd, 9);
	assert_int_equal(req.seen, 0);
	fw_req_clear(&req);
	/* not a socketpair's end: unconnected, a stream, a UDP socket */
	f.connected = false;
	assert_true(feed_fds(&req, "UDPSEND", &f, 1) < 0);
	fw_req_clear(&req);
	f.connected = true;
	f.type = SOCK_STREAM;
	assert_true(feed_fds(&req, "UDPSEND", &f, 1) < 0);
	fw_req_clear(&req);
	f = UDP(9, "127.0.0.1", 5000);
	f.connected = true;
	assert_true(feed_fds(&req, "UDPSEND", &f, 1) < 0);
	fw_req_clear(&req);
	/* bad lines */
	assert_true(feed(&req, "UDPSEND 1") < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_true(feed(&req, "UDPSEND") < 0);	/* in a series */
	fw_req_clear(&req);
	/* the replies */
	assert_int_equal(fw_reply_udpsend("UDPSEND", &e), 1);
	assert_int_equal(fw_reply_udpsend("NOUDPSEND 22 no rules", &e), 0);
	assert_int_equal(e, EINVAL);
	assert_int_equal(fw_reply_udpsend("NOUDPSEND 0 x", &e), -1);
	assert_int_equal(fw_reply_udpsend("UDPREPLY", &e), -1);
}

static void
test_replies(void **state)
{
	uid_t uid;
	int v, e;

	assert_int_equal(fw_reply_ready("READY 2 1001", &v, &uid), 0);
	assert_int_equal(v, 2);
	assert_int_equal(uid, 1001);
	assert_int_equal(fw_reply_ready("READY 2 0", &v, &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(fw_reply_ready("READY 1", &v, &uid), 0);	/* old */
	assert_int_equal(v, 1);
	assert_int_equal(uid, (uid_t)-1);
	assert_int_equal(fw_reply_ready("READY 2 ", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY 2 x", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY 2 1 2", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY 02 1", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY 2 4294967295", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY 0 1", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("READY ", &v, &uid), -1);
	assert_int_equal(fw_reply_ready("OK", &v, &uid), -1);

	assert_int_equal(fw_reply_mark("MARK", &e), 1);
	assert_int_equal(e, 0);
	assert_int_equal(fw_reply_mark("NOMARK 1 Operation not permitted",
	    &e), 0);
	assert_int_equal(e, EPERM);
	assert_int_equal(fw_reply_mark("NOMARK 88", &e), 0);
	assert_int_equal(e, 88);
	assert_int_equal(fw_reply_mark("NOMARK 0 x", &e), -1);
	assert_int_equal(fw_reply_mark("NOMARK 4096 x", &e), -1);
	assert_int_equal(fw_reply_mark("NOMARK -1 x", &e), -1);
	assert_int_equal(fw_reply_mark("NOMARK 99999999 x", &e), -1);
	assert_int_equal(fw_reply_mark("NOMARK x", &e), -1);
	assert_int_equal(fw_reply_mark("NOMARK ", &e), -1);
	assert_int_equal(fw_reply_mark("MARK 1", &e), -1);
	assert_int_equal(fw_reply_mark("OK", &e), -1);
	assert_int_equal(fw_reply_mark("", &e), -1);
}

/* HOST lines and HOSTS, outside a series; the client's lines read back. */
static void
test_hosts(void **state)
{
	struct fw_req	 req;
	struct fw_host	 h[2];
	char		 name[FW_HOSTS_NAME_MAX + 2], line[FW_PROTO_MAXLINE + 8];
	char		*text, *l, *nl;
	size_t		 len;
	int		 r = -1;

	(void)state;
	fw_req_init(&req);
	assert_int_equal(feed(&req, "HOST 4 10.1.0.5 db.internal"),
	    FW_PROTO_MORE);
	assert_int_equal(feed(&req, "HOST 6 fd00::5 db6"), FW_PROTO_MORE);
	assert_int_equal(feed(&req, "HOSTS"), FW_PROTO_HOSTS);
	assert_int_equal(req.nhosts, 2);
	assert_string_equal(req.hosts[0].name, "db.internal");
	assert_int_equal(req.hosts[1].addr.family, ADDR_V6);
	fw_req_hosts_done(&req);
	assert_int_equal(req.nhosts, 0);
	/* none: the block goes */
	assert_int_equal(feed(&req, "HOSTS"), FW_PROTO_HOSTS);
	/* the longest name fits a line */
	memset(name, 'a', sizeof(name));
	for (len = 63; len < FW_HOSTS_NAME_MAX; len += 64)
		name[len] = '.';
	name[FW_HOSTS_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "HOST 6 "
	    "1111:2222:3333:4444:5555:6666:7777:8888 %s", name);
	assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	/* a series line before HOSTS is refused */
	assert_true(feed(&req, "APPLY") < 0);
	fw_req_clear(&req);

	/* bad ones */
	assert_true(feed(&req, "HOST 4 10.1.0.5 Bad") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "HOST 4 10.1.0.5 a..b") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "HOST 6 10.1.0.5 a") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "HOST 5 10.1.0.5 a") < 0);
	fw_req_clear(&req);
	assert_true(feed(&req, "HOST 4 10.1.0.5") < 0);
	fw_req_clear(&req);
	name[FW_HOSTS_NAME_MAX] = 'a';
	name[FW_HOSTS_NAME_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "HOST 4 10.0.0.1 %s", name);
	assert_true(feed(&req, line) < 0);
	fw_req_clear(&req);
	/* not inside a series */
	listen4(&req);
	assert_true(feed(&req, "HOST 4 10.1.0.5 a") < 0);
	fw_req_clear(&req);
	listen4(&req);
	assert_true(feed(&req, "HOSTS") < 0);
	fw_req_clear(&req);
	/* at most FW_MAX_HOSTS */
	for (len = 0; len < FW_MAX_HOSTS; len++)
		assert_int_equal(feed(&req, "HOST 4 10.0.0.1 a"), FW_PROTO_MORE);
	assert_true(feed(&req, "HOST 4 10.0.0.1 a") < 0);
	fw_req_clear(&req);

	/* the client's text */
	memset(h, 0, sizeof(h));
	assert_int_equal(addr_parse(&h[0].addr, "10.1.0.5", (size_t)-1, 0, 0), 0);
	snprintf(h[0].name, sizeof(h[0].name), "db.internal");
	assert_int_equal(addr_parse(&h[1].addr, "fd00::5", (size_t)-1, 0, 0), 0);
	snprintf(h[1].name, sizeof(h[1].name), "db6");
	assert_int_equal(fw_req_format_hosts(h, 2, &text, &len), 0);
	assert_string_equal(text, "HOST 4 10.1.0.5 db.internal\n"
	    "HOST 6 fd00::5 db6\nHOSTS\n");
	assert_int_equal(len, strlen(text));
	for (l = text; (nl = strchr(l, '\n')) != NULL; l = nl + 1)
		r = fw_req_line(&req, l, (size_t)(nl - l), NULL, 0);
	assert_int_equal(r, FW_PROTO_HOSTS);
	assert_int_equal(req.nhosts, 2);
	assert_true(addr_equal(&req.hosts[1].addr, &h[1].addr));
	free(text);
	fw_req_clear(&req);
	assert_int_equal(fw_req_format_hosts(NULL, 0, &text, &len), 0);
	assert_string_equal(text, "HOSTS\n");
	free(text);
	snprintf(h[1].name, sizeof(h[1].name), "No");
	assert_int_equal(fw_req_format_hosts(h, 2, &text, &len), FW_E_INVAL);
	assert_null(text);
}

static void
test_limits(void **state)
{
	struct fw_fdinfo d[2];
	struct fw_req req;
	char line[FW_PROTO_MAXLINE + 16];
	int i;

	fw_req_init(&req);
	for (i = 0; i < FW_MAX_EXEMPT; i++)
		assert_int_equal(feed(&req, "EXEMPT 4 192.0.2.1 22"),
		    FW_PROTO_MORE);
	assert_int_equal(feed(&req, "EXEMPT 4 192.0.2.1 22"), FW_E_TOOMANY);
	fw_req_clear(&req);

	for (i = 0; i < FW_MAX_ALLOW; i++) {
		snprintf(line, sizeof(line), "ALLOW 4 10.%d.0.0 16", i);
		assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	}
	assert_int_equal(feed(&req, "ALLOW 6 :: 0"), FW_E_TOOMANY);
	fw_req_clear(&req);

	for (i = 0; i < FW_MAX_DNS; i++) {
		snprintf(line, sizeof(line), "DNS 4 192.0.2.%d", i + 1);
		d[0] = UDP(3 + 2 * i, "127.0.0.1", 12353 + i);
		d[1] = TCPL(4 + 2 * i, "127.0.0.1", 12353 + i);
		assert_int_equal(feed_fds(&req, line, d, 2), FW_PROTO_MORE);
	}
	assert_int_equal(feed(&req, "DNS 4 192.0.2.99"), FW_E_TOOMANY);
	fw_req_clear(&req);

	for (i = 0; i < FW_MAX_SUBNETS; i++) {
		snprintf(line, sizeof(line), "SUBNET inc 4 10.%d.%d.0 24 0 "
		    "65535", i / 256, i % 256);
		assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	}
	assert_int_equal(req.subnets.n, FW_MAX_SUBNETS);
	assert_int_equal(feed(&req, "SUBNET exc 4 10.0.0.0 8 0 65535"),
	    FW_E_TOOMANY);
	fw_req_clear(&req);

	/* the longest legal line, and one byte more */
	memset(line, 0, sizeof(line));
	snprintf(line, sizeof(line), "SUBNET inc 6 "
	    "1111:2222:3333:4444:5555:6666:7777:8888 128 65535 65535");
	assert_int_equal(feed(&req, line), FW_PROTO_MORE);
	memset(line, 'A', FW_PROTO_MAXLINE);
	line[FW_PROTO_MAXLINE - 1] = '\0';	/* 127 bytes + '\n' = max */
	assert_int_equal(fw_req_line(&req, line, FW_PROTO_MAXLINE - 1, NULL,
	    0), FW_E_INVAL);	/* legal length, unknown keyword */
	line[FW_PROTO_MAXLINE - 1] = 'A';
	assert_int_equal(fw_req_line(&req, line, FW_PROTO_MAXLINE, NULL, 0),
	    FW_E_INVAL);
	fw_req_clear(&req);
	fw_req_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_once_only_and_order),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_udp_format),
		cmocka_unit_test(test_udpreply),
		cmocka_unit_test(test_udpsend),
		cmocka_unit_test(test_tmark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
