/* SPDX-License-Identifier: ISC */
/*
 * test_sshconfig.c - OpenSSH configuration, through `ssh -G` and through
 * our own reader (SSHCFG_F_NO_SSH, or no ssh on PATH).
 *
 * The fallback tests point $HOME at a temporary directory so '~' and %d
 * have a known value; the ssh -G tests keep the real $HOME because ssh
 * expands some '~' itself from the password database.  They set $SHELL,
 * with which ssh runs "Match exec": the user's login shell may refuse to
 * run anything (nobody's is nologin).  Without ssh they fail
 * (tests/testutil.h).
 */
#include <sys/stat.h>

#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "sshconfig.h"

static char tmpdir[64];
static char *saved_home, *saved_path, *saved_shell;
static char path_buf[512];

static int
setup(void **state)
{
	const char *h = getenv("HOME"), *p = getenv("PATH"), *sh = getenv("SHELL");

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cshuttle-test-sshcfg.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	saved_home = h != NULL ? strdup(h) : NULL;
	saved_path = p != NULL ? strdup(p) : NULL;
	saved_shell = sh != NULL ? strdup(sh) : NULL;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	if (saved_home != NULL)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	if (saved_path != NULL)
		setenv("PATH", saved_path, 1);
	free(saved_home);
	if (saved_shell != NULL)
		setenv("SHELL", saved_shell, 1);
	else
		unsetenv("SHELL");
	free(saved_path);
	free(saved_shell);
	saved_home = saved_path = saved_shell = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmpdir/name with `text`; returns the path (valid until the next call). */
static const char *
write_file(const char *name, const char *text)
{
	FILE *f;

	snprintf(path_buf, sizeof(path_buf), "%s/%s", tmpdir, name);
	f = fopen(path_buf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path_buf;
}

/* "$HOME" + suffix, for comparisons. */
static const char *
home(const char *suffix)
{
	static char buf[4][512];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s%s", getenv("HOME"), suffix);
	return b;
}

static const char *local_user(void)
{
	struct passwd *pw = getpwuid(getuid());

	assert_non_null(pw);
	return pw->pw_name;
}

static const char fallback_config[] =
"# options before any Host apply everywhere\n"
"IdentitiesOnly=yes\n"
"\n"
"Host gw gateway\n"
"    HostName 10.1.2.3\n"
"    User alice\n"
"    Port 2222\n"
"    IdentityFile ~/.ssh/id_gw\n"
"    IdentityFile %d/keys/%r@%h:%p-%n-%%\n"
"    UserKnownHostsFile ~/kh1 /abs/kh2\n"
"    StrictHostKeyChecking accept-new\n"
"    ConnectTimeout 1m30s\n"
"    ProxyJump none\n"
"\n"
"Host *.corp !secret.corp\n"
"\tHostName %h.example.net\n"
"\tProxyCommand nc -X connect %h %p\n"
"\tIdentityAgent none\n"
"\n"
"host GW  # keywords and patterns ignore case\n"
"    PORT 3333\n"
"    identityfile \"~/my keys/second\"\n"
"\n"
"Host jump? \n"
"    ProxyJump bastion.example:22\n"
"\n"
"Match originalhost m1,m2 user carol\n"
"    Port = 4000\n"
"Match exec \"true\"\n"
"    Port 4001\n"
"Match !localuser nobody-at-all host m*\n"
"    ConnectTimeout 7\n"
"\n"
"Host *\n"
"    User fallback\n"
"    Port 23\n"
"    StrictHostKeyChecking off\n"
"    IdentityAgent ~/agent.sock\n";

static void
test_fallback_host_blocks(void **state)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	setenv("HOME", tmpdir, 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", fallback_config));

	assert_int_equal(sshcfg_resolve_ex(&c, "gw", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), 0);
	assert_string_equal(c.alias, "gw");
	assert_string_equal(c.hostname, "10.1.2.3");
	assert_string_equal(c.user, "alice");
	assert_int_equal(c.port, 2222);		/* first value wins */
	assert_int_equal(c.nidentity, 3);	/* IdentityFile accumulates */
	assert_string_equal(c.identity[0], home("/.ssh/id_gw"));
	assert_string_equal(c.identity[1],
	    home("/keys/alice@10.1.2.3:2222-gw-%"));
	assert_string_equal(c.identity[2], home("/my keys/second"));
	assert_true(c.identities_only);
	assert_int_equal(c.nknown_hosts, 2);
	assert_string_equal(c.known_hosts[0], home("/kh1"));
	assert_string_equal(c.known_hosts[1], "/abs/kh2");
	assert_int_equal(c.strict, SSHCFG_STRICT_ACCEPT_NEW);
	assert_int_equal(c.connect_timeout, 90);
	assert_null(c.proxy_jump);		/* "none" */
	assert_null(c.proxy_command);
	assert_string_equal(c.identity_agent, home("/agent.sock"));
	sshcfg_free(&c);

	/* The command line overrides user and port. */
	assert_int_equal(sshcfg_resolve_ex(&c, "bob@gateway:4444", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.alias, "gateway");
	assert_string_equal(c.user, "bob");
	assert_int_equal(c.port, 4444);
	assert_string_equal(c.identity[1],
	    home("/keys/bob@10.1.2.3:4444-gateway-%"));
	sshcfg_free(&c);

	/* Wildcards and %h in HostName; defaults for what is not set. */
	assert_int_equal(sshcfg_resolve_ex(&c, "db.corp", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "db.corp.example.net");
	assert_string_equal(c.proxy_command, "nc -X connect %h %p");
	assert_string_equal(c.identity_agent, "none");
	assert_string_equal(c.user, "fallback");
	assert_int_equal(c.port, 23);
	assert_int_equal(c.strict, SSHCFG_STRICT_NO);
	assert_int_equal(c.connect_timeout, 0);
	assert_int_equal(c.nidentity, 3);
	assert_string_equal(c.identity[0], home("/.ssh/id_ed25519"));
	assert_string_equal(c.identity[1], home("/.ssh/id_ecdsa"));
	assert_string_equal(c.identity[2], home("/.ssh/id_rsa"));
	assert_int_equal(c.nknown_hosts, 2);
	assert_string_equal(c.known_hosts[0], home("/.ssh/known_hosts"));
	assert_string_equal(c.known_hosts[1], home("/.ssh/known_hosts2"));
	sshcfg_free(&c);

	/* A negated pattern vetoes the block. */
	assert_int_equal(sshcfg_resolve_ex(&c, "secret.corp", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "secret.corp");
	assert_null(c.proxy_command);
	assert_string_equal(c.identity_agent, home("/agent.sock"));
	sshcfg_free(&c);

	/* '?' matches exactly one character. */
	assert_int_equal(sshcfg_resolve_ex(&c, "jump1", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.proxy_jump, "bastion.example:22");
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve_ex(&c, "jump12", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_null(c.proxy_jump);
	sshcfg_free(&c);
}

static void
test_fallback_match(void **state)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	setenv("HOME", tmpdir, 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", fallback_config));

	/* Both criteria hold. */
	assert_int_equal(sshcfg_resolve_ex(&c, "carol@m2", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_int_equal(c.port, 4000);
	assert_int_equal(c.connect_timeout, 7);
	sshcfg_free(&c);
	/* Wrong user: the first Match fails; "exec" is never run by the
	 * reader, so that block is skipped too. */
	assert_int_equal(sshcfg_resolve_ex(&c, "dave@m2", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_int_equal(c.port, 23);
	assert_int_equal(c.connect_timeout, 7);
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve_ex(&c, "x3", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), 0);
	assert_int_equal(c.connect_timeout, 0);
	sshcfg_free(&c);
}

static void
test_fallback_include_and_defaults(void **state)
{
	struct sshcfg c;
	char err[512], text[1024], cfgpath[512];

	setenv("HOME", tmpdir, 1);
	assert_int_equal(mkdir(home("/.ssh"), 0700), 0);
	assert_int_equal(mkdir(home("/.ssh/conf.d"), 0700), 0);
	write_file(".ssh/conf.d/a.conf", "Host inc*\n  Port 1001\n");
	write_file(".ssh/conf.d/b.conf", "Host inc*\n  Port 1002\n"
	    "  User fromb\n");
	write_file("abs.conf", "HostName included.example\n");
	/* Relative Include is from ~/.ssh; an Include inside a Host block
	 * counts only when the block applies; after the included file the
	 * including block continues. */
	snprintf(text, sizeof(text),
	    "Host inc1\n"
	    "  Include %s/abs.conf\n"
	    "  StrictHostKeyChecking yes\n"
	    "Host *\n"
	    "  Include conf.d/*.conf\n", tmpdir);
	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("config", text));

	assert_int_equal(sshcfg_resolve_ex(&c, "inc1", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "included.example");
	assert_int_equal(c.strict, SSHCFG_STRICT_YES);
	assert_int_equal(c.port, 1001);		/* a.conf sorts first */
	assert_string_equal(c.user, "fromb");
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve_ex(&c, "inc2", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "inc2");
	assert_int_equal(c.strict, SSHCFG_STRICT_ASK);
	sshcfg_free(&c);

	/* An empty file: every default. */
	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("empty", ""));
	assert_int_equal(sshcfg_resolve_ex(&c, "[fd00::5]:2022", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.alias, "fd00::5");
	assert_string_equal(c.hostname, "fd00::5");
	assert_string_equal(c.user, local_user());
	assert_int_equal(c.port, 2022);
	assert_false(c.identities_only);
	assert_int_equal(c.strict, SSHCFG_STRICT_ASK);
	assert_null(c.identity_agent);
	assert_null(c.proxy_jump);
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve_ex(&c, "fe80::1", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "fe80::1");
	assert_int_equal(c.port, 22);
	sshcfg_free(&c);

	/* An Include that includes itself stops at the depth limit. */
	snprintf(text, sizeof(text), "Include %s/loop\n", tmpdir);
	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("loop", text));
	assert_int_equal(sshcfg_resolve_ex(&c, "h", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested more than"));
}

struct bad_config {
	const char	*text;
	const char	*msg;
};

static void
test_fallback_errors(void **state)
{
	static const struct bad_config cases[] = {
		{ "Host h\n  Port 0\n", "line 2: bad port \"0\"" },
		{ "Port 65536\n", "line 1: bad port \"65536\"" },
		{ "\n\nStrictHostKeyChecking maybe\n",
		    "line 3: StrictHostKeyChecking: bad value \"maybe\"" },
		{ "ConnectTimeout 5x\n", "line 1: ConnectTimeout: bad time" },
		{ "IdentitiesOnly perhaps\n", "expected yes or no" },
		{ "HostName a b\n", "line 1: HostName takes one argument" },
		{ "User\n", "line 1: User needs an argument" },
		{ "IdentityFile \"abc\n", "line 1: unterminated quote" },
		{ "Host\n", "line 1: Host needs a pattern" },
		{ "Match bogus x\n", "unknown Match criterion \"bogus\"" },
		{ "Match host\n", "Match host needs an argument" },
		{ "Match\n", "Match needs criteria" },
		{ "UserKnownHostsFile a b c d e f g h i\n", "more than 8" },
		{ "=yes\n", "missing keyword" },
	};
	struct sshcfg c;
	char err[512], want[600], cfgpath[512];
	size_t i;

	setenv("HOME", tmpdir, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cfgpath, sizeof(cfgpath), "%s",
		    write_file("bad", cases[i].text));
		if (sshcfg_resolve_ex(&c, "h", cfgpath, SSHCFG_F_NO_SSH, err,
		    sizeof(err)) != -1 || strstr(err, cases[i].msg) == NULL)
			fail_msg("config %zu: got \"%s\", want \"%s\"", i, err,
			    cases[i].msg);
		snprintf(want, sizeof(want), "ssh config %s line ", cfgpath);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("\"%s\" does not start with \"%s\"", err, want);
		/* cfg is left empty and freeable. */
		assert_null(c.hostname);
		sshcfg_free(&c);
	}
	assert_int_equal(sshcfg_resolve_ex(&c, "h", "/nonexistent/config",
	    SSHCFG_F_NO_SSH, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open ssh config /nonexistent/config"));
}

static void
test_remote_syntax(void **state)
{
	static const char *const bad[][2] = {
		{ "", "empty remote" },
		{ "@host", "empty user name" },
		{ "u@", "empty host name" },
		{ "host:0", "port must be 1-65535" },
		{ "host:99999", "port must be 1-65535" },
		{ "host:22x", "port must be 1-65535" },
		{ "host:", "port must be 1-65535" },
		{ "-oProxyCommand=x", "must not start with '-'" },
		{ "u@-host", "must not start with '-'" },
		{ "[::1", "bad [address]" },
		{ "[::1]x", "bad [address]" },
		{ "a b", "unexpected space" },
	};
	struct sshcfg c;
	char err[512], cfgpath[512];
	size_t i;

	setenv("HOME", tmpdir, 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("empty", ""));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sshcfg_resolve_ex(&c, bad[i][0], cfgpath, SSHCFG_F_NO_SSH,
		    err, sizeof(err)) != -1 || strstr(err, bad[i][1]) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i][0],
			    err, bad[i][1]);
		sshcfg_free(&c);
	}
	/* The user is what precedes the last '@'. */
	assert_int_equal(sshcfg_resolve_ex(&c, "me@corp@h:2", cfgpath,
	    SSHCFG_F_NO_SSH, err, sizeof(err)), 0);
	assert_string_equal(c.user, "me@corp");
	assert_string_equal(c.alias, "h");
	assert_int_equal(c.port, 2);
	sshcfg_free(&c);
}

/* Without ssh on PATH the reader is used even without the flag. */
static void
test_no_ssh_on_path(void **state)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	setenv("HOME", tmpdir, 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", "Match exec true\n  Port 4001\n"));
	setenv("PATH", tmpdir, 1);
	assert_int_equal(sshcfg_resolve(&c, "h", cfgpath, err, sizeof(err)), 0);
	assert_int_equal(c.port, 22);	/* exec not evaluated */
	sshcfg_free(&c);
}

static const char ssh_config[] =
"Host gw\n"
"  HostName 10.1.2.3\n"
"  User alice\n"
"  Port 2222\n"
"  IdentityFile ~/.ssh/id_gw\n"
"  IdentityFile %d/k/%r@%h-%p\n"
"  IdentitiesOnly yes\n"
"  UserKnownHostsFile ~/kh1 /abs/kh2\n"
"  StrictHostKeyChecking accept-new\n"
"  ConnectTimeout 1m\n"
"  ProxyJump bastion\n"
"  IdentityAgent ~/agent.sock\n"
"Host pc\n"
"  ProxyCommand nc %h %p\n"
"  StrictHostKeyChecking no\n"
"  UserKnownHostsFile none\n"
"Match exec \"test 1 = 1\"\n"
"  ConnectTimeout 42\n";

static void
test_ssh_g(void **state)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	test_need("ssh", "openssh-client");
	setenv("SHELL", "/bin/sh", 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", ssh_config));

	assert_int_equal(sshcfg_resolve(&c, "gw", cfgpath, err, sizeof(err)),
	    0);
	assert_string_equal(c.alias, "gw");
	assert_string_equal(c.hostname, "10.1.2.3");
	assert_string_equal(c.user, "alice");
	assert_int_equal(c.port, 2222);
	assert_int_equal(c.nidentity, 2);
	assert_string_equal(c.identity[0], home("/.ssh/id_gw"));
	assert_string_equal(c.identity[1], home("/k/alice@10.1.2.3-2222"));
	assert_true(c.identities_only);
	assert_int_equal(c.nknown_hosts, 2);
	assert_string_equal(c.known_hosts[0], home("/kh1"));
	assert_string_equal(c.known_hosts[1], "/abs/kh2");
	assert_int_equal(c.strict, SSHCFG_STRICT_ACCEPT_NEW);
	assert_int_equal(c.connect_timeout, 60);
	assert_string_equal(c.proxy_jump, "bastion");
	assert_null(c.proxy_command);
	assert_string_equal(c.identity_agent, home("/agent.sock"));
	sshcfg_free(&c);

	/* -l / -p reach ssh. */
	assert_int_equal(sshcfg_resolve(&c, "bob@gw:4444", cfgpath, err,
	    sizeof(err)), 0);
	assert_string_equal(c.user, "bob");
	assert_int_equal(c.port, 4444);
	assert_string_equal(c.identity[1], home("/k/bob@10.1.2.3-4444"));
	sshcfg_free(&c);

	/* ssh's own defaults, and what only ssh evaluates (Match exec). */
	assert_int_equal(sshcfg_resolve(&c, "pc", cfgpath, err, sizeof(err)),
	    0);
	assert_string_equal(c.hostname, "pc");
	assert_string_equal(c.user, local_user());
	assert_int_equal(c.port, 22);
	assert_string_equal(c.proxy_command, "nc %h %p");
	assert_null(c.proxy_jump);
	assert_int_equal(c.strict, SSHCFG_STRICT_NO);
	assert_int_equal(c.connect_timeout, 42);
	assert_int_equal(c.nknown_hosts, 0);
	assert_false(c.identities_only);
	assert_true(c.nidentity >= 3);
	assert_string_equal(c.identity[0], home("/.ssh/id_rsa"));
	assert_null(c.identity_agent);
	sshcfg_free(&c);

	/* The same file read without ssh skips the exec block. */
	assert_int_equal(sshcfg_resolve_ex(&c, "pc", cfgpath, SSHCFG_F_NO_SSH,
	    err, sizeof(err)), 0);
	assert_int_equal(c.connect_timeout, 0);
	sshcfg_free(&c);
}

static void
test_ssh_g_errors(void **state)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	test_need("ssh", "openssh-client");
	setenv("SHELL", "/bin/sh", 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", "Host h\n  Port 0\n"));
	assert_int_equal(sshcfg_resolve(&c, "h", cfgpath, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ssh -G: "));
	assert_non_null(strstr(err, "line 2"));
	assert_null(strchr(err, '\n'));
	sshcfg_free(&c);

	assert_int_equal(sshcfg_resolve(&c, "h", "/nonexistent/config", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "ssh -G: "));
	assert_non_null(strstr(err, "/nonexistent/config"));
	sshcfg_free(&c);
}

/* The login and host key keywords, both ways: ssh -G and our reader. */
static const char auth_config[] =
"Host a\n"
"    PasswordAuthentication no\n"
"    KbdInteractiveAuthentication no\n"
"    PubkeyAuthentication no\n"
"    PreferredAuthentications password,publickey\n"
"    NumberOfPasswordPrompts 1\n"
"    BatchMode yes\n"
"    HostKeyAlias pinned\n"
"    GlobalKnownHostsFile ~/g1 /abs/g2\n"
"    CheckHostIP yes\n"
"Host b\n"
"    ChallengeResponseAuthentication no\n"
"    GlobalKnownHostsFile none\n"
"    PubkeyAuthentication unbound\n";

static void
check_auth(unsigned flags)
{
	struct sshcfg c;
	char err[512], cfgpath[512];

	snprintf(cfgpath, sizeof(cfgpath), "%s", write_file("config", auth_config));
	assert_int_equal(sshcfg_resolve_ex(&c, "a", cfgpath, flags, err, sizeof(err)), 0);
	assert_true(c.no_password);
	assert_true(c.no_kbdint);
	assert_true(c.no_pubkey);
	assert_string_equal(c.preferred_auth, "password,publickey");
	assert_int_equal(c.password_prompts, 1);
	assert_true(c.batch_mode);
	assert_string_equal(c.host_key_alias, "pinned");
	assert_int_equal(c.nglobal_known_hosts, 2);
	assert_string_equal(c.global_known_hosts[0], home("/g1"));
	assert_string_equal(c.global_known_hosts[1], "/abs/g2");
	assert_true(c.check_host_ip);
	sshcfg_free(&c);

	/* The defaults, as OpenSSH 8.5 and later has them. */
	assert_int_equal(sshcfg_resolve_ex(&c, "b", cfgpath, flags, err, sizeof(err)), 0);
	assert_false(c.no_password);
	assert_true(c.no_kbdint);	/* the older name */
	assert_false(c.no_pubkey);
	assert_null(c.preferred_auth);
	assert_int_equal(c.password_prompts, 3);
	assert_false(c.batch_mode);
	assert_null(c.host_key_alias);
	assert_int_equal(c.nglobal_known_hosts, 0);
	assert_false(c.check_host_ip);
	sshcfg_free(&c);

	assert_int_equal(sshcfg_resolve_ex(&c, "other", cfgpath, flags, err, sizeof(err)), 0);
	assert_false(c.no_kbdint);
	assert_int_equal(c.nglobal_known_hosts, 2);
	assert_string_equal(c.global_known_hosts[0], "/etc/ssh/ssh_known_hosts");
	assert_string_equal(c.global_known_hosts[1], "/etc/ssh/ssh_known_hosts2");
	sshcfg_free(&c);

	snprintf(cfgpath, sizeof(cfgpath), "%s",
	    write_file("config", "Host a\n  NumberOfPasswordPrompts x\n"));
	assert_int_equal(sshcfg_resolve_ex(&c, "a", cfgpath, flags, err, sizeof(err)), -1);
	sshcfg_free(&c);
}

static void
test_auth_keys_fallback(void **state)
{
	setenv("HOME", tmpdir, 1);
	check_auth(SSHCFG_F_NO_SSH);
}

static void
test_auth_keys_ssh_g(void **state)
{
	test_need("ssh", "openssh-client");
	setenv("SHELL", "/bin/sh", 1);
	check_auth(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fallback_host_blocks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fallback_match, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fallback_include_and_defaults,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remote_syntax, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_ssh_on_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ssh_g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_keys_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_keys_ssh_g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_g_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
