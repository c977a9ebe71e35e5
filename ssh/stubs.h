/* SPDX-License-Identifier: ISC */
/*
 * stubs.h - the stub binaries embedded in the client, one per remote
 * architecture.  The table itself is generated at build time
 * (server-stub/CMakeLists.txt) from the stubs listed there, so adding an
 * architecture is a build-only change.
 */
#ifndef CSHUTTLE_STUBS_H
#define CSHUTTLE_STUBS_H

#include <stddef.h>

struct stub_image {
	const char		*arch;		/* canonical name, e.g. "x86_64" */
	const char		*machines;	/* space-separated `uname -m` values it serves */
	const unsigned char	*data;
	size_t			 size;
};

extern const struct stub_image	stub_images[];
extern const size_t		stub_nimages;
/* The stub's source as one C file, for remotes that compile it. */
extern const unsigned char	stub_source[];
extern const size_t		stub_source_size;

/* The image for a `uname -m` value, or NULL when none fits. */
const struct stub_image *stub_find(const char *machine);
/* Space-separated list of supported `uname -m` values (static string). */
const char *stub_supported(void);

#endif
