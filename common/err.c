/* SPDX-License-Identifier: ISC */
/*
 * err.c - reasons in the caller's buffer (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
err_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
