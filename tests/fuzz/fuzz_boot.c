/* SPDX-License-Identifier: ISC */
/*
 * fuzz_boot.c - the first line a remote host sends (CSHUTTLE-BOOT ...)
 * comes from the network: parsing it must stay inside its buffers and
 * only ever yield NUL-terminated, bounded fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*line, os[32], machine[32], cc[8];
	int	 version;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(os, 'x', sizeof(os));
	memset(machine, 'x', sizeof(machine));
	memset(cc, 'x', sizeof(cc));
	if (bootstrap_parse_boot(line, &version, os, sizeof(os), machine,
	    sizeof(machine), cc, sizeof(cc)) == 0) {
		if (memchr(os, '\0', sizeof(os)) == NULL ||
		    memchr(machine, '\0', sizeof(machine)) == NULL ||
		    memchr(cc, '\0', sizeof(cc)) == NULL)
			abort();
	}
	free(line);
	return 0;
}
