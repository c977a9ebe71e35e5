/* SPDX-License-Identifier: ISC */
/*
 * test_control_proto.c - the control protocol's lines (client/control_proto.c):
 * greeting, requests, the status reply formatted and parsed back, and
 * every way a reply can be wrong.
 */
#include <stdbool.h>
#include <stdint.h>

#include "control_proto.h"
#include "testutil.h"

static void
fill(struct control_status *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "office");
	st->pid = 4242;
	snprintf(st->version, sizeof(st->version), "0.1.0");
	snprintf(st->remote, sizeof(st->remote), "root@gw.example");
	snprintf(st->transport, sizeof(st->transport), "libssh2");
	st->state = CONTROL_STATE_RECONNECTING;
	st->uptime_s = 3600;
	st->reconnects = 2;
	st->attempt = 3;
	snprintf(st->last_reason, sizeof(st->last_reason), "the server closed the connection");
	snprintf(st->last_error, sizeof(st->last_error), "cannot connect: refused");
	st->subnets[0].exclude = false;
	snprintf(st->subnets[0].text, sizeof(st->subnets[0].text), "10.0.0.0/8");
	st->subnets[1].exclude = true;
	snprintf(st->subnets[1].text, sizeof(st->subnets[1].text), "10.1.0.0/16");
	st->subnets[2].exclude = false;
	snprintf(st->subnets[2].text, sizeof(st->subnets[2].text), "[fd00::/64]:443");
	st->nsubnets = 3;
	st->streams = 1;
	st->streams_waiting = 2;
	st->streams_total = 100;
	st->streams_failed = 4;
	st->bytes_in = UINT64_MAX;
	st->bytes_out = 12345;
	st->rate_in = 1000;
	st->rate_out = 0;
	st->has_dns = true;
	st->dns_queries = 42;
	st->dns_failures = 1;
}

static void
test_greeting(void **state)
{
	char	buf[64];
	int	n;

	(void)state;
	n = control_proto_greeting(buf, sizeof(buf));
	assert_string_equal(buf, "cshuttle-control 1\n");
	assert_int_equal(n, 19);
	assert_int_equal(control_proto_parse_greeting(buf, (size_t)n - 1), 1);
	assert_int_equal(control_proto_parse_greeting("cshuttle-control 2", 18),
	    CONTROL_E_VERSION);
	assert_int_equal(control_proto_parse_greeting("cshuttle-control 01", 19),
	    CONTROL_E_INVAL);
	assert_int_equal(control_proto_parse_greeting("cshuttle-control 0", 18),
	    CONTROL_E_INVAL);
	assert_int_equal(control_proto_parse_greeting("cshuttle-control", 16),
	    CONTROL_E_INVAL);
	assert_int_equal(control_proto_parse_greeting("SSH-2.0-OpenSSH", 15), CONTROL_E_INVAL);
	assert_int_equal(control_proto_greeting(buf, 5), CONTROL_E_TOOBIG);
}

static void
test_request(void **state)
{
	char	big[CONTROL_PROTO_MAXREQ + 1];

	(void)state;
	assert_int_equal(control_proto_request("status", 6), CONTROL_REQ_STATUS);
	assert_int_equal(control_proto_request("status ", 7), CONTROL_E_UNKNOWN);
	assert_int_equal(control_proto_request("STATUS", 6), CONTROL_E_UNKNOWN);
	assert_int_equal(control_proto_request("", 0), CONTROL_E_UNKNOWN);
	assert_int_equal(control_proto_request("sta\x01us", 6), CONTROL_E_INVAL);
	memset(big, 'a', sizeof(big));
	assert_int_equal(control_proto_request(big, CONTROL_PROTO_MAXREQ), CONTROL_E_TOOBIG);
}

static void
test_roundtrip(void **state)
{
	struct control_status	*a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char			*buf = malloc(CONTROL_PROTO_MAXREPLY), err[256];
	int			 n;

	(void)state;
	fill(a);
	n = control_proto_format(a, buf, CONTROL_PROTO_MAXREPLY);
	assert_true(n > 0);
	assert_int_equal(control_proto_reply_len(buf, (size_t)n), n);
	assert_int_equal(control_proto_parse(buf, (size_t)n, b, err, sizeof(err)), 0);
	assert_memory_equal(a, b, sizeof(*a));
	/* The text as documented in docs/CONTROL.md. */
	assert_non_null(strstr(buf, "status\nname office\npid 4242\n"));
	assert_non_null(strstr(buf, "state reconnecting\n"));
	assert_non_null(strstr(buf, "include 10.0.0.0/8\nexclude 10.1.0.0/16\n"
	    "include [fd00::/64]:443\n"));
	assert_non_null(strstr(buf, "bytes_in 18446744073709551615\n"));
	assert_non_null(strstr(buf, "dns_queries 42\ndns_failures 1\nend\n"));
	assert_null(strstr(buf, "session_uptime"));
	assert_null(strstr(buf, "udp_flows"));
	/* Too small a buffer. */
	assert_int_equal(control_proto_format(a, buf, 100), CONTROL_E_TOOBIG);
	free(a);
	free(b);
	free(buf);
}

static void
test_format_sanitises(void **state)
{
	struct control_status	*a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char			*buf = malloc(CONTROL_PROTO_MAXREPLY), err[256];
	int			 n;

	(void)state;
	fill(a);
	snprintf(a->last_reason, sizeof(a->last_reason), "line\nbreak\x7f\xff");
	n = control_proto_format(a, buf, CONTROL_PROTO_MAXREPLY);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "last_reason line?break??\n"));
	assert_int_equal(control_proto_parse(buf, (size_t)n, b, err, sizeof(err)), 0);
	assert_string_equal(b->last_reason, "line?break??");
	free(a);
	free(b);
	free(buf);
}

/* Every subnet a reply may hold, in the largest form: it still fits. */
static void
test_format_largest(void **state)
{
	struct control_status	*a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char			*buf = malloc(CONTROL_PROTO_MAXREPLY), err[256];
	size_t			 i;
	int			 n;

	(void)state;
	fill(a);
	memset(a->remote, 'r', sizeof(a->remote) - 1);
	memset(a->last_reason, 'x', sizeof(a->last_reason) - 1);
	memset(a->last_error, 'y', sizeof(a->last_error) - 1);
	for (i = 0; i < CONTROL_MAX_SUBNETS; i++) {
		memset(a->subnets[i].text, '1', sizeof(a->subnets[i].text) - 1);
		a->subnets[i].exclude = i % 2;
	}
	a->nsubnets = CONTROL_MAX_SUBNETS;
	a->subnets_omitted = 7;
	a->has_session = a->has_udp = true;
	n = control_proto_format(a, buf, CONTROL_PROTO_MAXREPLY);
	assert_true(n > 0);
	assert_int_equal(control_proto_parse(buf, (size_t)n, b, err, sizeof(err)), 0);
	assert_memory_equal(a, b, sizeof(*a));
	free(a);
	free(b);
	free(buf);
}

/* parse(text): the result code, with the reason in err. */
static int
parse(const char *text, char *err, size_t errlen)
{
	struct control_status	*st = calloc(1, sizeof(*st));
	int			 r;

	r = control_proto_parse(text, strlen(text), st, err, errlen);
	free(st);
	return r;
}

static void
test_parse_errors(void **state)
{
	char	err[256];

	(void)state;
	assert_int_equal(parse("status\nname a\nstate connected\nend\n", err, sizeof(err)), 0);
	/* Unknown keys are skipped (a newer tunnel). */
	assert_int_equal(parse("status\nname a\nfuture_key 1 2 3\nstate connected\nend\n",
	    err, sizeof(err)), 0);
	assert_int_equal(parse("status\nname a\nend\n", err, sizeof(err)), CONTROL_E_INVAL);
	assert_string_equal(err, "no state in the reply");
	assert_int_equal(parse("status\nstate connected\nend\n", err, sizeof(err)),
	    CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nname b\nstate connected\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_string_equal(err, "name twice");
	assert_int_equal(parse("status\nname a\nstate sleeping\nend\n", err, sizeof(err)),
	    CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\npid 01\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\npid -1\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\npid 18446744073709551616\n"
	    "end\n", err, sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname ../x\nstate connected\nend\n", err, sizeof(err)),
	    CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nremote \x01\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nremote \nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nBad 1\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nnovalue\nend\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\n", err, sizeof(err)),
	    CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nend", err, sizeof(err)),
	    CONTROL_E_INVAL);
	assert_int_equal(parse("status\nname a\nstate connected\nend\nmore\n", err,
	    sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("hello\nend\n", err, sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("error busy\n", err, sizeof(err)), CONTROL_E_REMOTE);
	assert_string_equal(err, "busy");
	assert_int_equal(parse("error busy\nend\n", err, sizeof(err)), CONTROL_E_INVAL);
	assert_int_equal(parse("", err, sizeof(err)), CONTROL_E_INVAL);
}

static void
test_parse_limits(void **state)
{
	char	*text = malloc(CONTROL_PROTO_MAXREPLY * 2), err[256];
	size_t	 len = 0, i;

	(void)state;
	/* One subnet too many. */
	len += (size_t)sprintf(text, "status\nname a\nstate connected\n");
	for (i = 0; i <= CONTROL_MAX_SUBNETS; i++)
		len += (size_t)sprintf(text + len, "include 10.0.0.%zu/32\n", i % 256);
	len += (size_t)sprintf(text + len, "end\n");
	assert_int_equal(parse(text, err, sizeof(err)), CONTROL_E_TOOBIG);
	/* A line over the limit. */
	len = (size_t)sprintf(text, "status\nname a\nstate connected\nremote ");
	memset(text + len, 'x', CONTROL_PROTO_MAXLINE);
	len += CONTROL_PROTO_MAXLINE;
	len += (size_t)sprintf(text + len, "\nend\n");
	assert_int_equal(parse(text, err, sizeof(err)), CONTROL_E_TOOBIG);
	/* A string longer than its field. */
	len = (size_t)sprintf(text, "status\nname a\nstate connected\nversion ");
	memset(text + len, 'v', 40);
	len += 40;
	len += (size_t)sprintf(text + len, "\nend\n");
	assert_int_equal(parse(text, err, sizeof(err)), CONTROL_E_INVAL);
	free(text);
}

static void
test_reply_len(void **state)
{
	const char	*r = "status\nname a\nstate connected\nend\nstatus\n";
	char		*big = malloc(CONTROL_PROTO_MAXREPLY + 10);
	size_t		 i;

	(void)state;
	assert_int_equal(control_proto_reply_len(r, strlen(r)), 34);
	assert_int_equal(control_proto_reply_len(r, 33), 0);
	assert_int_equal(control_proto_reply_len("error busy\nstatus\n", 18), 11);
	assert_int_equal(control_proto_reply_len("status\nerror x\n", 15), 0);
	assert_int_equal(control_proto_reply_len("status\nna", 9), 0);
	memset(big, 'x', CONTROL_PROTO_MAXLINE);
	assert_int_equal(control_proto_reply_len(big, CONTROL_PROTO_MAXLINE),
	    CONTROL_E_TOOBIG);
	/* Short lines, but too many bytes in all. */
	for (i = 0; i + 2 <= CONTROL_PROTO_MAXREPLY + 10; i += 2)
		memcpy(big + i, "x\n", 2);
	assert_int_equal(control_proto_reply_len(big, CONTROL_PROTO_MAXREPLY + 10),
	    CONTROL_E_TOOBIG);
	free(big);
}

static void
test_names(void **state)
{
	char	name[CONTROL_NAME_MAX + 2];

	(void)state;
	assert_true(control_proto_name_ok("office"));
	assert_true(control_proto_name_ok("12300"));
	assert_true(control_proto_name_ok("home-pi_2.v6+x@y"));
	assert_false(control_proto_name_ok(""));
	assert_false(control_proto_name_ok(".hidden"));
	assert_false(control_proto_name_ok("-x"));
	assert_false(control_proto_name_ok("a/b"));
	assert_false(control_proto_name_ok("a b"));
	assert_false(control_proto_name_ok("caf\xc3\xa9"));
	memset(name, 'n', sizeof(name) - 1);
	name[CONTROL_NAME_MAX] = '\0';
	assert_true(control_proto_name_ok(name));
	name[CONTROL_NAME_MAX] = 'n';
	name[CONTROL_NAME_MAX + 1] = '\0';
	assert_false(control_proto_name_ok(name));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_format_sanitises),
		cmocka_unit_test(test_format_largest),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_reply_len),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
