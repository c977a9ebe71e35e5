/* SPDX-License-Identifier: ISC */
/*
 * status.h - `cshuttle status [--json] [--watch] [NAME]`: what running
 * tunnels say on their control sockets (control.h, docs/CONTROL.md),
 * for people (like `wg show`) or for scripts (--json).
 *
 * The printers are pure, so that the output can be tested without a
 * tunnel; status_main() is the command.
 */
#ifndef CSHUTTLE_STATUS_H
#define CSHUTTLE_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control_proto.h"

#define STATUS_WATCH_MS		1000	/* --watch: one refresh a second */
#define STATUS_TIMEOUT_MS	5000	/* for a tunnel to answer */
#define STATUS_MAX_TUNNELS	64	/* listed when no NAME is given */

/* "512 B", "1.50 KiB", "12.3 MiB", "1.20 GiB": binary units, three
 * significant digits.  Returns buf. */
const char *status_bytes(uint64_t n, char *buf, size_t len);
/* "45s", "2m 05s", "1h 02m 03s", "3d 04h 05m".  Returns buf. */
const char *status_duration(uint64_t s, char *buf, size_t len);

/* One tunnel for people: "tunnel: NAME" and indented lines. */
void	status_print_text(FILE *f, const struct control_status *st);
/* One tunnel as a JSON object on one line (no newline). */
void	status_print_json(FILE *f, const struct control_status *st);

/*
 * The command; argv[0] is "status".  Exit status: 0 when every tunnel
 * asked for answered (also when none runs and none was named), 1 when a
 * named tunnel is not running or a tunnel could not be read, 2 for a
 * usage error.
 */
int	status_main(int argc, char **argv);

#endif
