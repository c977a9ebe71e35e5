/* SPDX-License-Identifier: ISC */
/*
 * fuzz_privsep.c - the privilege separation's messages
 * (client/privsep_msg.c): the main process, root, parses every request
 * the unprivileged data path sends, and the data path parses the
 * answers.  No input may make a parser read outside it.
 *
 * Invariants checked: a request that parses is built again to the same
 * bytes (NOTIFY, OPEN and the empty ones); a NOTIFY that parses passes
 * privsep_notify_ok(); an OPENED that parses is built again and parsed
 * to the same result; a FILES that parses is built again to the same
 * bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_req(const uint8_t *data, size_t size)
{
	struct privsep_req	*q;
	uint8_t			 buf[PRIVSEP_REQ_MAX];
	char			 err[256];
	int			 n = -1;

	if ((q = malloc(sizeof(*q))) == NULL)
		abort();
	if (privsep_parse_req(data, size, q, err, sizeof(err)) == 0) {
		switch (q->type) {
		case PRIVSEP_NOTIFY:
			if (!privsep_notify_ok(q->notify, strlen(q->notify)))
				abort();
			n = privsep_build_notify(buf, sizeof(buf), q->notify);
			break;
		case PRIVSEP_OPEN:
			n = privsep_build_open(buf, sizeof(buf), &q->open);
			break;
		default:
			n = privsep_build_simple(buf, sizeof(buf), q->type);
			break;
		}
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	} else if (strlen(err) >= sizeof(err))
		abort();
	free(q);
}

static void
fuzz_opened(const uint8_t *data, size_t size)
{
	struct privsep_opened	o, again;
	uint8_t			buf[1024];
	char			err[256];
	int			n;

	if (privsep_parse_opened(data, size, &o, err, sizeof(err)) != 0)
		return;
	if ((n = privsep_build_opened(buf, sizeof(buf), &o)) < 0)
		abort();
	if (privsep_parse_opened(buf, (size_t)n, &again, err, sizeof(err)) != 0 ||
	    again.result != o.result || again.fail != o.fail ||
	    again.nexempt != o.nexempt || strcmp(again.err, o.err) != 0)
		abort();
}

static void
fuzz_files(const uint8_t *data, size_t size)
{
	struct filecheck_files	*f;
	uint8_t			*buf = NULL;
	char			 err[256];
	long			 n;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		abort();
	if (privsep_parse_files(data, size, f, err, sizeof(err)) == 0) {
		if ((n = privsep_build_files(f, &buf)) < 0 || (size_t)n != size ||
		    memcmp(buf, data, size) != 0)
			abort();
		free(buf);
	}
	filecheck_files_clear(f);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_req(data, size);
	fuzz_opened(data, size);
	fuzz_files(data, size);
	return 0;
}
