/* SPDX-License-Identifier: ISC */
/*
 * test_status.c - what `cshuttle status` prints (client/status.c): the
 * units, the text for people and the JSON for scripts, for a tunnel that
 * is up, one that is reconnecting and one with everything there is.
 */
#include <stdbool.h>
#include <stdint.h>

#include "status.h"
#include "testutil.h"

/* What a printer wrote, as a string the caller frees. */
static char *
printed(void (*fn)(FILE *, const struct control_status *), const struct control_status *st)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(f, st);
	fclose(f);
	return text;
}

static struct control_status *
up(void)
{
	struct control_status	*st = calloc(1, sizeof(*st));

	snprintf(st->name, sizeof(st->name), "office");
	st->pid = 4242;
	snprintf(st->version, sizeof(st->version), "0.1.0");
	snprintf(st->remote, sizeof(st->remote), "root@gw");
	snprintf(st->transport, sizeof(st->transport), "libssh2");
	st->state = CONTROL_STATE_CONNECTED;
	st->has_session = true;
	st->session_s = 3723;
	st->uptime_s = 7200;
	st->reconnects = 1;
	snprintf(st->last_reason, sizeof(st->last_reason), "the server closed the connection");
	snprintf(st->subnets[0].text, sizeof(st->subnets[0].text), "10.0.0.0/8");
	st->subnets[1].exclude = true;
	snprintf(st->subnets[1].text, sizeof(st->subnets[1].text), "10.1.0.0/16");
	st->nsubnets = 2;
	st->streams = 3;
	st->streams_total = 120;
	st->bytes_in = 12939428;	/* 12.3 MiB */
	st->bytes_out = 1258291;	/* 1.20 MiB */
	st->rate_in = 1258291;
	st->rate_out = 10240;
	return st;
}

static void
test_units(void **state)
{
	char	b[32];

	(void)state;
	assert_string_equal(status_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(status_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(status_bytes(1024, b, sizeof(b)), "1.00 KiB");
	assert_string_equal(status_bytes(1536, b, sizeof(b)), "1.50 KiB");
	assert_string_equal(status_bytes(12939428, b, sizeof(b)), "12.3 MiB");
	assert_string_equal(status_bytes(500ULL << 20, b, sizeof(b)), "500 MiB");
	/* 1023.9 KiB would print as "1024 KiB": it is 1.00 MiB. */
	assert_string_equal(status_bytes(1048575, b, sizeof(b)), "1.00 MiB");
	assert_string_equal(status_bytes(UINT64_MAX, b, sizeof(b)), "16.0 EiB");
	assert_string_equal(status_duration(0, b, sizeof(b)), "0s");
	assert_string_equal(status_duration(59, b, sizeof(b)), "59s");
	assert_string_equal(status_duration(125, b, sizeof(b)), "2m 05s");
	assert_string_equal(status_duration(3723, b, sizeof(b)), "1h 02m 03s");
	assert_string_equal(status_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6, b, sizeof(b)),
	    "3d 04h 05m");
}

static void
test_text_up(void **state)
{
	struct control_status	*st = up();
	char			*t = printed(status_print_text, st);

	(void)state;
	assert_string_equal(t,
	    "tunnel: office\n"
	    "  remote: root@gw (libssh2)\n"
	    "  state: connected for 1h 02m 03s, 1 reconnect\n"
	    "  last lost: the server closed the connection\n"
	    "  subnets: 10.0.0.0/8, not 10.1.0.0/16\n"
	    "  streams: 3 open, 120 in all\n"
	    "  transfer: 12.3 MiB received, 1.20 MiB sent\n"
	    "  rate: 1.20 MiB/s in, 10.0 KiB/s out\n"
	    "  process: 4242, cshuttle 0.1.0, up 2h 00m 00s\n");
	free(t);
	free(st);
}

static void
test_text_reconnecting(void **state)
{
	struct control_status	*st = up();
	char			*t;

	(void)state;
	st->state = CONTROL_STATE_RECONNECTING;
	st->has_session = false;
	st->attempt = 3;
	st->reconnects = 2;
	snprintf(st->last_error, sizeof(st->last_error), "connection refused");
	st->streams = 0;
	st->streams_waiting = 5;
	st->streams_failed = 2;
	st->has_dns = true;
	st->dns_queries = 1;
	st->dns_failures = 0;
	st->has_udp = true;
	st->udp_flows = 1;
	st->udp_flows_total = 9;
	st->nsubnets = 0;
	st->subnets_omitted = 0;
	t = printed(status_print_text, st);
	assert_non_null(strstr(t, "  state: reconnecting (attempt 3), 2 reconnects\n"));
	assert_non_null(strstr(t, "  last attempt: connection refused\n"));
	assert_non_null(strstr(t, "  subnets: (none)\n"));
	assert_non_null(strstr(t, "  streams: 0 open, 5 waiting for the session, 120 in all, "
	    "2 failed\n"));
	assert_non_null(strstr(t, "  dns: 1 query, 0 failed\n"));
	assert_non_null(strstr(t, "  udp: 1 flow open, 9 in all\n"));
	free(t);
	st->nsubnets = 1;
	st->subnets_omitted = 300;
	t = printed(status_print_text, st);
	assert_non_null(strstr(t, "  subnets: 10.0.0.0/8, and 300 more\n"));
	free(t);
	free(st);
}

static void
test_json(void **state)
{
	struct control_status	*st = up();
	char			*t = printed(status_print_json, st);

	(void)state;
	assert_string_equal(t,
	    "{\"name\":\"office\",\"pid\":4242,\"version\":\"0.1.0\",\"remote\":\"root@gw\","
	    "\"transport\":\"libssh2\",\"state\":\"connected\",\"uptime\":7200,"
	    "\"session_uptime\":3723,\"reconnects\":1,\"attempt\":0,"
	    "\"last_reason\":\"the server closed the connection\",\"last_error\":null,"
	    "\"subnets\":[{\"subnet\":\"10.0.0.0/8\",\"exclude\":false},"
	    "{\"subnet\":\"10.1.0.0/16\",\"exclude\":true}],\"subnets_omitted\":0,"
	    "\"streams\":{\"open\":3,\"waiting\":0,\"total\":120,\"failed\":0},"
	    "\"bytes\":{\"in\":12939428,\"out\":1258291},"
	    "\"rate\":{\"in\":1258291,\"out\":10240},\"dns\":null,\"udp\":null}");
	free(t);
	/* Quotes and backslashes are escaped. */
	snprintf(st->remote, sizeof(st->remote), "a\"b\\c");
	st->has_session = false;
	st->has_dns = true;
	st->dns_queries = 5;
	st->dns_failures = 1;
	t = printed(status_print_json, st);
	assert_non_null(strstr(t, "\"remote\":\"a\\\"b\\\\c\""));
	assert_non_null(strstr(t, "\"session_uptime\":null"));
	assert_non_null(strstr(t, "\"dns\":{\"queries\":5,\"failures\":1}"));
	free(t);
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_text_up),
		cmocka_unit_test(test_text_reconnecting),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
