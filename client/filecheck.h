/* SPDX-License-Identifier: ISC */
/*
 * filecheck.h - files that cshuttle believes only when nobody else could
 * have written them.
 *
 * What comes from a file can make cshuttle run a command (the
 * configuration's ssh-cmd, ProxyCommand in an ssh configuration) or
 * choose which traffic goes where (subnets, @argument files), and
 * cshuttle usually runs as root.  So such a file must be a regular file,
 * owned by root or by the effective user, not writable by group or
 * others, in a directory that is owned by root or by the effective user
 * and not writable by group or others (whoever may rename entries there
 * may put another file in its place).  The directory checked is the one
 * that really holds the file, after symbolic links.
 *
 * The --config file is always checked (config.c); the other files read
 * on the user's behalf (--ssh-config, -s, -X, @files) when cshuttle runs
 * as root (filecheck_needed()).
 */
#ifndef CSHUTTLE_FILECHECK_H
#define CSHUTTLE_FILECHECK_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

/*
 * The rule, pure: `file` is what fstat() says of the file, `dir` what
 * stat() says of the directory `dirname` that holds it, `euid` the
 * effective user.  0, or -1 with the reason in why (no file name: the
 * caller puts it in front), e.g. "writable by group or others (chmod
 * go-w)" or "its directory /srv/x is writable by group or others".
 */
int	filecheck_rule(const struct stat *file, const struct stat *dir,
	    const char *dirname, uid_t euid, char *why, size_t whylen);

/*
 * Check the file open on fd, opened as `path` (open it with O_NONBLOCK:
 * a FIFO must not hold the start up before the rule refuses it).  0, or
 * -1 with the reason in why.
 */
int	filecheck_fd(int fd, const char *path, char *why, size_t whylen);

/* The same for a file that another program reads (ssh -F): opened,
 * checked and closed.  0, or -1 with the reason in why. */
int	filecheck_path(const char *path, char *why, size_t whylen);

/* Does cshuttle run as root, so that the files the user names are
 * checked too? */
bool	filecheck_needed(void);

/*
 * Reading a whole file the user named, with the check above when `check`
 * (then opened O_NONBLOCK: a FIFO is refused, not waited for).  At most
 * max + 1 bytes are read, so that the caller can tell "too large".  0
 * with *data (malloc'ed, NUL-terminated, *len bytes before the NUL), or
 * -1 with the step that failed and its reason (strerror's text, or the
 * check's) in why.
 *
 * A root run reads the files of a reload as root and hands them to its
 * unprivileged side (privsep.h): filecheck_files_record() makes every
 * later filecheck_read() of this thread remember what it read (or why
 * it failed), and filecheck_files_serve() makes them answer from such a
 * record alone, never touching the file system.  NULL ends either.
 */
enum filecheck_step {
	FILECHECK_OK = 0,
	FILECHECK_OPEN,		/* open() failed */
	FILECHECK_CHECK,	/* the ownership rule refused it */
	FILECHECK_READ,		/* read() failed */
	FILECHECK_NOMEM,
};

struct filecheck_file {
	char			*path;		/* as asked for */
	enum filecheck_step	 step;
	char			*why;		/* "" when step is FILECHECK_OK */
	char			*data;		/* NULL unless FILECHECK_OK */
	size_t			 len;
};

#define FILECHECK_FILES_MAX	64	/* files one reading may record */

struct filecheck_files {
	struct filecheck_file	 v[FILECHECK_FILES_MAX];
	size_t			 n;
	bool			 overflow;	/* more were read than recorded */
};

int	filecheck_read(const char *path, bool check, size_t max, char **data,
	    size_t *len, enum filecheck_step *step, char *why, size_t whylen);
void	filecheck_files_record(struct filecheck_files *f);
void	filecheck_files_serve(const struct filecheck_files *f);
/* Frees what the entries hold and empties f.  Accepts NULL. */
void	filecheck_files_clear(struct filecheck_files *f);

#endif
