/* SPDX-License-Identifier: ISC */
/*
 * fuzz_control.c - the control protocol (client/control_proto.c): a
 * tunnel reads request lines from any process of its user, and `cshuttle
 * status` reads replies from whatever answers on a socket it was pointed
 * at.  No input may make either parser read outside it.
 *
 * Invariants checked: where the reply scanner says a reply ends, there
 * is a line end; a reply the parser accepts, formatted again, is parsed
 * to the same status and the formatter's output is a whole reply by the
 * scanner's measure; a greeting it accepts has this side's version; every
 * line of the input taken as a request gets a known answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_roundtrip(const struct control_status *st)
{
	struct control_status	*again;
	char			*buf, err[256];
	int			 n;

	if ((buf = malloc(CONTROL_PROTO_MAXREPLY)) == NULL ||
	    (again = malloc(sizeof(*again))) == NULL)
		abort();
	if ((n = control_proto_format(st, buf, CONTROL_PROTO_MAXREPLY)) <= 0)
		abort();
	if (control_proto_reply_len(buf, (size_t)n) != n)
		abort();
	if (control_proto_parse(buf, (size_t)n, again, err, sizeof(err)) != 0)
		abort();
	if (memcmp(st, again, sizeof(*st)) != 0)
		abort();
	free(again);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*text = (const char *)data, *p, *nl;
	struct control_status	*st;
	char			 err[256];
	int			 n, r;

	if ((st = malloc(sizeof(*st))) == NULL)
		abort();
	n = control_proto_reply_len(text, size);
	if (n > 0 && ((size_t)n > size || text[n - 1] != '\n'))
		abort();
	if (control_proto_parse(text, size, st, err, sizeof(err)) == 0) {
		if (strlen(err) >= sizeof(err))
			abort();
		fuzz_roundtrip(st);
	}
	if (n > 0 && control_proto_parse(text, (size_t)n, st, err, sizeof(err)) == 0)
		fuzz_roundtrip(st);
	/* Each line as a greeting and as a request. */
	for (p = text; p < text + size; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(text + size - p))) == NULL)
			nl = text + size;
		r = control_proto_parse_greeting(p, (size_t)(nl - p));
		if (r >= 0 && r != CONTROL_PROTO_VERSION)
			abort();
		r = control_proto_request(p, (size_t)(nl - p));
		if (r != CONTROL_REQ_STATUS && r != CONTROL_E_INVAL && r != CONTROL_E_TOOBIG &&
		    r != CONTROL_E_UNKNOWN)
			abort();
	}
	free(st);
	return 0;
}
