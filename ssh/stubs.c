/* SPDX-License-Identifier: ISC */
/*
 * stubs.c - pick the embedded stub for a remote `uname -m`.
 */
#include <string.h>

#include "stubs.h"

const struct stub_image *
stub_find(const char *machine)
{
	const char	*p, *end;
	size_t		 i, len = strlen(machine);

	if (len == 0)
		return NULL;
	for (i = 0; i < stub_nimages; i++) {
		for (p = stub_images[i].machines; *p != '\0'; p = end) {
			while (*p == ' ')
				p++;
			end = p + strcspn(p, " ");
			if ((size_t)(end - p) == len && strncmp(p, machine, len) == 0)
				return &stub_images[i];
		}
	}
	return NULL;
}
