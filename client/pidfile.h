/* SPDX-License-Identifier: ISC */
/*
 * pidfile.h - --pidfile: the file that names the running cshuttle.
 *
 * It is written once the tunnel is up (after -D's detach, so it names the
 * process that stays) and removed at exit if it still names us; a start
 * refuses a file that names another running cshuttle.
 */
#ifndef CSHUTTLE_PIDFILE_H
#define CSHUTTLE_PIDFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

/* The path made absolute into abs (the daemon leaves its working
 * directory), which the other calls take.  0, or -1 with a reason in err. */
int	pidfile_path(const char *path, char *abs, size_t abslen, char *err, size_t errlen);
/* The pid in a pid file: > 0, or -1 (missing, unreadable, garbage). */
pid_t	pidfile_read(const char *path);
/* Is pid a running process called `name` (its /proc comm) or "cshuttle"? */
bool	pidfile_live(pid_t pid, const char *name);
/* 0, or -1 with a reason in err when the file names a live cshuttle
 * other than this process.  A stale file is fine (it gets replaced). */
int	pidfile_check(const char *path, char *err, size_t errlen);
/* Write pid atomically (temporary file, then rename), mode 0644.  0, or -1
 * with a reason in err. */
int	pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);
/* Remove the file if it still names pid. */
void	pidfile_remove(const char *path, pid_t pid);

#endif
