/* SPDX-License-Identifier: ISC */
/*
 * err.h - the one-line reason a failing function leaves in its caller's
 * buffer (docs/ARCHITECTURE.md, "Errors").
 */
#ifndef CSHUTTLE_ERR_H
#define CSHUTTLE_ERR_H

#include <stddef.h>

/*
 * Format the reason into err[0..errlen) when err is not NULL and errlen
 * is not 0, and return `code`, so that a failure reads
 * `return err_set(err, errlen, FW_E_INVAL, "bad port \"%s\"", w);`.
 */
int	err_set(char *err, size_t errlen, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
