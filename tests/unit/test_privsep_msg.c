/* SPDX-License-Identifier: ISC */
/*
 * test_privsep_msg.c - the privilege separation's messages
 * (client/privsep_msg.c): each built and parsed back, the notifications
 * the main process passes on, and malformed requests refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "privsep_msg.h"
#include "testutil.h"

static void
test_simple(void **state)
{
	struct privsep_req	q;
	uint8_t			buf[64];
	char			err[128];
	int			n;

	(void)state;
	n = privsep_build_simple(buf, sizeof(buf), PRIVSEP_UP);
	assert_int_equal(n, PRIVSEP_HDR_LEN);
	assert_int_equal(privsep_msg_len(buf, (size_t)n, 64), n);
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_int_equal(q.type, PRIVSEP_UP);
	/* Too small a buffer; a length that disagrees; an unknown type. */
	assert_int_equal(privsep_build_simple(buf, 4, PRIVSEP_UP), -1);
	assert_int_equal(privsep_parse_req(buf, (size_t)n - 1, &q, err, sizeof(err)), -1);
	buf[4] = 99;
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	/* A reply type is no request. */
	buf[4] = PRIVSEP_OPENED;
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	/* A body where none belongs. */
	n = privsep_build_simple(buf, sizeof(buf), PRIVSEP_CANCEL);
	buf[n] = 0;
	buf[3]++;
	assert_int_equal(privsep_parse_req(buf, (size_t)n + 1, &q, err, sizeof(err)), -1);
	assert_int_equal(privsep_msg_len(buf, 3, 64), 0);
	buf[0] = 0xff;
	assert_int_equal(privsep_msg_len(buf, 5, 64), -1);
}

static void
test_notify(void **state)
{
	struct privsep_req	q;
	uint8_t			buf[PRIVSEP_REQ_MAX];
	char			err[128];
	int			n;

	(void)state;
	n = privsep_build_notify(buf, sizeof(buf), "STATUS=connected to gw, 3 streams");
	assert_true(n > 0);
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_string_equal(q.notify, "STATUS=connected to gw, 3 streams");
	assert_true(privsep_notify_ok("READY=1", 7));
	assert_true(privsep_notify_ok("RELOADING=1\nSTATUS=x", 20));
	assert_true(privsep_notify_ok("WATCHDOG=1", 10));
	assert_true(privsep_notify_ok("STOPPING=1", 10));
	/* What the main process must not pass on for D. */
	assert_false(privsep_notify_ok("MAINPID=1", 9));
	assert_false(privsep_notify_ok("READY=1\nMAINPID=1", 17));
	assert_false(privsep_notify_ok("FDSTORE=1", 9));
	assert_false(privsep_notify_ok("READY=1\n", 8));
	assert_false(privsep_notify_ok("STATUS=a\tb", 10));
	assert_false(privsep_notify_ok("", 0));
	assert_false(privsep_notify_ok("READY=1\0", 8));
	n = privsep_build_notify(buf, sizeof(buf), "MAINPID=1");
	assert_true(n > 0);
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	assert_int_equal(privsep_build_notify(buf, sizeof(buf), ""), -1);
}

static void
test_open(void **state)
{
	struct privsep_open	o;
	struct privsep_req	q;
	uint8_t			buf[PRIVSEP_REQ_MAX];
	char			err[128];
	int			n;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.flags = PRIVSEP_OPEN_BATCH | PRIVSEP_OPEN_CHECK;
	o.alive_interval_ms = 10000;
	o.alive_timeout_ms = 30000;
	o.nexempt = 2;
	assert_int_equal(addr_parse(&o.exempt[0], "192.0.2.1:22", strlen("192.0.2.1:22"), ADDR_P_PORT, 0), 0);
	assert_int_equal(addr_parse(&o.exempt[1], "[2001:db8::1]:2222", strlen("[2001:db8::1]:2222"), ADDR_P_PORT, 0), 0);
	n = privsep_build_open(buf, sizeof(buf), &o);
	assert_true(n > 0);
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_int_equal(q.type, PRIVSEP_OPEN);
	assert_int_equal(q.open.flags, o.flags);
	assert_int_equal(q.open.alive_interval_ms, 10000);
	assert_int_equal(q.open.alive_timeout_ms, 30000);
	assert_int_equal(q.open.nexempt, 2);
	assert_true(addr_equal(&q.open.exempt[0], &o.exempt[0]));
	assert_int_equal(q.open.exempt[1].port, 2222);
	/* Unknown flags, too many exemptions, a bad family, a short body. */
	buf[PRIVSEP_HDR_LEN] = 0x80;
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	buf[PRIVSEP_HDR_LEN] = (uint8_t)o.flags;
	buf[PRIVSEP_HDR_LEN + 9] = FW_MAX_EXEMPT + 1;
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	buf[PRIVSEP_HDR_LEN + 9] = 2;
	buf[PRIVSEP_HDR_LEN + 10] = 5;
	assert_int_equal(privsep_parse_req(buf, (size_t)n, &q, err, sizeof(err)), -1);
	o.nexempt = FW_MAX_EXEMPT + 1;
	assert_int_equal(privsep_build_open(buf, sizeof(buf), &o), -1);
}

static void
test_opened(void **state)
{
	struct privsep_opened	o, p;
	uint8_t			buf[1024];
	char			err[128];
	int			n;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.result = PRIVSEP_RES_FAIL;
	o.fail = 3;
	o.kind = PRIVSEP_KIND_CMD;
	o.nexempt = 1;
	assert_int_equal(addr_parse(&o.exempt[0], "198.51.100.7:22", strlen("198.51.100.7:22"), ADDR_P_PORT, 0), 0);
	o.peer = o.exempt[0];
	snprintf(o.err, sizeof(o.err), "Permission denied (publickey)");
	n = privsep_build_opened(buf, sizeof(buf), &o);
	assert_true(n > 0);
	assert_int_equal(privsep_parse_opened(buf, (size_t)n, &p, err, sizeof(err)), 0);
	assert_int_equal(p.result, PRIVSEP_RES_FAIL);
	assert_int_equal(p.fail, 3);
	assert_int_equal(p.kind, PRIVSEP_KIND_CMD);
	assert_int_equal(p.nexempt, 1);
	assert_true(addr_equal(&p.peer, &o.peer));
	assert_string_equal(p.err, o.err);
	/* The wrong type; a result out of range; trailing bytes. */
	buf[4] = PRIVSEP_FILES;
	assert_int_equal(privsep_parse_opened(buf, (size_t)n, &p, err, sizeof(err)), -1);
	buf[4] = PRIVSEP_OPENED;
	buf[5] = 9;
	assert_int_equal(privsep_parse_opened(buf, (size_t)n, &p, err, sizeof(err)), -1);
	buf[5] = PRIVSEP_RES_FAIL;
	buf[3]++;
	assert_int_equal(privsep_parse_opened(buf, (size_t)n + 1, &p, err, sizeof(err)), -1);
}

static void
test_files(void **state)
{
	struct filecheck_files	*f, *g;
	uint8_t			*msg = NULL;
	char			 err[128], *data = NULL, why[128];
	enum filecheck_step	 step;
	size_t			 len;
	long			 n;

	(void)state;
	f = calloc(1, sizeof(*f));
	g = calloc(1, sizeof(*g));
	assert_non_null(f);
	assert_non_null(g);
	f->n = 2;
	f->v[0].path = strdup("/etc/cshuttle/office.conf");
	f->v[0].step = FILECHECK_OK;
	f->v[0].why = strdup("");
	f->v[0].data = strdup("remote = gw\nsubnet = 10.0.0.0/8\n");
	f->v[0].len = strlen(f->v[0].data);
	f->v[1].path = strdup("/etc/cshuttle/nets");
	f->v[1].step = FILECHECK_CHECK;
	f->v[1].why = strdup("writable by group or others (chmod go-w)");
	n = privsep_build_files(f, &msg);
	assert_true(n > 0);
	assert_int_equal(privsep_parse_files(msg, (size_t)n, g, err, sizeof(err)), 0);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->v[0].data, f->v[0].data);
	assert_int_equal(g->v[1].step, FILECHECK_CHECK);
	/* Served: the file system is never asked, a path not sent is missing. */
	filecheck_files_serve(g);
	assert_int_equal(filecheck_read("/etc/cshuttle/office.conf", true, 100,
	    &data, &len, &step, why, sizeof(why)), 0);
	assert_int_equal(len, f->v[0].len);
	assert_string_equal(data, f->v[0].data);
	free(data);
	assert_int_equal(filecheck_read("/etc/cshuttle/nets", true, 100, &data,
	    &len, &step, why, sizeof(why)), -1);
	assert_int_equal(step, FILECHECK_CHECK);
	assert_string_equal(why, f->v[1].why);
	assert_int_equal(filecheck_read("/etc/passwd", false, 100, &data, &len,
	    &step, why, sizeof(why)), -1);
	assert_int_equal(step, FILECHECK_OPEN);
	filecheck_files_serve(NULL);
	/* A step out of range. */
	filecheck_files_clear(g);
	msg[n - 7 - (long)strlen(f->v[1].why)] = 77;
	assert_int_equal(privsep_parse_files(msg, (size_t)n, g, err, sizeof(err)), -1);
	filecheck_files_clear(g);
	free(msg);
	filecheck_files_clear(f);
	free(f);
	free(g);
}

static void
test_record(void **state)
{
	struct filecheck_files	*f;
	char			*data = NULL, why[128];
	enum filecheck_step	 step;
	size_t			 len;

	(void)state;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	filecheck_files_record(f);
	assert_int_equal(filecheck_read("/nonexistent/cshuttle-test", false, 10,
	    &data, &len, &step, why, sizeof(why)), -1);
	filecheck_files_record(NULL);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->v[0].step, FILECHECK_OPEN);
	assert_string_equal(f->v[0].why, why);
	filecheck_files_clear(f);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_opened),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
