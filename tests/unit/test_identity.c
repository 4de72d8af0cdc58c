/*
 * Labels read back from the engine (provision/identity.c) are validated
 * before any use: a table of label sets, forged and genuine, with what
 * may be concluded from each; and the engine's RFC 3339 times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <cmocka.h>
#include "provision/identity.h"

typedef struct {
	const char *env, *instance, *service, *owner, *kind, *comm, *expires;
	/* what identity_read must give */
	const char *want_env, *want_instance, *want_service;
	bool want_owner;
	long long want_expires;
} label_case;

static const label_case cases[] = {
	/* genuine */
	{"app-1a2b3c4d", "0123456789abcdef", "cache", "h/b/42/7", "session", "bash", "1900000000",
	 "app-1a2b3c4d", "0123456789abcdef", "cache", true, 1900000000},
	/* a path for a name, a bad instance, a bad service */
	{"../x/victim", "0123456789abcdeF", "a/b", NULL, NULL, NULL, NULL,
	 "", "", "", false, 0},
	{"/etc/passwd", "0123456789abcde", "Cache", NULL, NULL, NULL, NULL, "", "", "", false, 0},
	{"ok", "0123456789abcdef0", "-x", NULL, NULL, NULL, NULL, "ok", "", "", false, 0},
	/* escapes anywhere */
	{"\033[31mred", "0123456789abcdef", "\033]0;t\a", "h/b/42/7\033", NULL, "\033[2J", "1",
	 "", "0123456789abcdef", "", false, 1},
	/* owners and expiries that do not parse */
	{"ok", NULL, NULL, "h/b/0/7", NULL, NULL, "-5", "ok", "", "", false, 0},
	{"ok", NULL, NULL, "h/b/x/7", NULL, NULL, "1e9", "ok", "", "", false, 0},
	{"ok", NULL, NULL, "h/b/42", NULL, NULL, "99999999999999", "ok", "", "", false, 0},
	{"ok", NULL, NULL, "h/b/42/7x", NULL, NULL, "", "ok", "", "", false, 0},
	{"ok", NULL, NULL, "h/b/-1/7", NULL, NULL, " 12", "ok", "", "", false, 0},
};

static void set(envup_kvlist *l, const char *k, const char *v)
{
	if (v)
		assert_int_equal(envup_kvlist_set(l, k, v), 0);
}

static void test_identity__read(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const label_case *c = &cases[i];
		envup_kvlist l = ENVUP_KVLIST_INIT;
		envup_identity id;
		char text[128];

		set(&l, ENVUP_LABEL_ENV, c->env);
		set(&l, ENVUP_LABEL_INSTANCE, c->instance);
		set(&l, ENVUP_LABEL_SERVICE, c->service);
		set(&l, ENVUP_LABEL_OWNER, c->owner);
		set(&l, ENVUP_LABEL_OWNER_KIND, c->kind);
		set(&l, ENVUP_LABEL_OWNER_COMM, c->comm);
		set(&l, ENVUP_LABEL_EXPIRES, c->expires);
		envup_identity_read(&id, &l);
		if (strcmp(id.env, c->want_env) || strcmp(id.instance, c->want_instance) ||
		    strcmp(id.service, c->want_service) || id.has_owner != c->want_owner ||
		    id.expires != c->want_expires)
			fail_msg("case %zu: env '%s' instance '%s' service '%s' owner %d expires %lld", i,
				id.env, id.instance, id.service, id.has_owner, id.expires);
		assert_true(envup_is_printable(id.owner_comm));
		envup_identity_owner_text(text, sizeof(text), &id);
		assert_true(envup_is_printable(text));
		envup_kvlist_dispose(&l);
	}
}

/* Resources that disagree about owner or expiry are never one group. */
static void test_identity__groups(void **state)
{
	envup_kvlist a = ENVUP_KVLIST_INIT, b = ENVUP_KVLIST_INIT;
	envup_identity ia, ib;

	(void)state;
	set(&a, ENVUP_LABEL_ENV, "app");
	set(&a, ENVUP_LABEL_INSTANCE, "0123456789abcdef");
	set(&a, ENVUP_LABEL_EXPIRES, "1900000000");
	set(&b, ENVUP_LABEL_ENV, "app");
	set(&b, ENVUP_LABEL_INSTANCE, "0123456789abcdef");
	set(&b, ENVUP_LABEL_EXPIRES, "1900000000");
	envup_identity_read(&ia, &a);
	envup_identity_read(&ib, &b);
	assert_true(envup_identity_same_group(&ia, &ib));
	set(&b, ENVUP_LABEL_EXPIRES, "1");                 /* a stray that says expired */
	envup_identity_read(&ib, &b);
	assert_false(envup_identity_same_group(&ia, &ib));
	set(&b, ENVUP_LABEL_EXPIRES, "1900000000");
	set(&b, ENVUP_LABEL_OWNER, "not an owner");        /* unparsable, still apart */
	envup_identity_read(&ib, &b);
	assert_false(envup_identity_same_group(&ia, &ib));
	envup_kvlist_dispose(&a);
	envup_kvlist_dispose(&b);
}

/* The labels written, read back, are the identity written. */
static void test_identity__round_trip(void **state)
{
	envup_identity id, back;
	envup_kvlist l = ENVUP_KVLIST_INIT;

	(void)state;
	memset(&id, 0, sizeof(id));
	snprintf(id.env, sizeof(id.env), "app-1a2b3c4d");
	snprintf(id.instance, sizeof(id.instance), "fedcba9876543210");
	snprintf(id.service, sizeof(id.service), "db");
	assert_int_equal(envup_owner_of(&id.owner, getpid()), 0);
	id.has_owner = true;
	id.owner_kind = ENVUP_OWNER_KIND_SESSION;
	snprintf(id.owner_comm, sizeof(id.owner_comm), "bash");
	envup_owner_format(id.owner_raw, sizeof(id.owner_raw), &id.owner);
	id.expires = 1900000000;
	snprintf(id.expires_raw, sizeof(id.expires_raw), "1900000000");
	assert_int_equal(envup_identity_labels(&l, &id), 0);
	envup_identity_read(&back, &l);
	assert_string_equal(back.env, id.env);
	assert_string_equal(back.instance, id.instance);
	assert_string_equal(back.service, "db");
	assert_true(back.has_owner);
	assert_int_equal(back.owner.pid, getpid());
	assert_int_equal(back.owner_kind, ENVUP_OWNER_KIND_SESSION);
	assert_int_equal(back.expires, 1900000000);
	assert_true(envup_identity_same_group(&back, &id));
	assert_int_equal(envup_owner_check(&back.owner), ENVUP_OWNER_ALIVE);
	envup_kvlist_dispose(&l);
}

static void test_identity__times(void **state)
{
	static const struct { const char *s; long long sec; long ns; int ok; } t[] = {
		{"2026-12-01T10:00:00Z", 1796119200, 0, 1},
		{"2026-12-01T10:00:00.5Z", 1796119200, 500000000, 1},
		{"2026-12-01T10:00:00.123456789Z", 1796119200, 123456789, 1},
		{"2026-12-01T11:00:00.25+01:00", 1796119200, 250000000, 1},
		{"2026-12-01T09:30:00-00:30", 1796119200, 0, 1},
		{"2026-12-01 10:00:00Z", 1796119200, 0, 1},
		{"2026-12-01T10:00:00", 0, 0, 0},
		{"2026-13-01T10:00:00Z", 0, 0, 0},
		{"yesterday", 0, 0, 0},
		{"", 0, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long long sec = 0;
		long ns = 0;
		int rc = envup_time_parse(t[i].s, &sec, &ns);
		if ((rc == 0) != t[i].ok || (t[i].ok && (sec != t[i].sec || ns != t[i].ns)))
			fail_msg("\"%s\": rc %d, %lld.%09ld", t[i].s, rc, sec, ns);
	}
	/* the order of two times a nanosecond apart, whatever their text */
	{
		long long a, b;
		long an, bn;
		assert_int_equal(envup_time_parse("2026-12-01T10:00:00.5Z", &a, &an), 0);
		assert_int_equal(envup_time_parse("2026-12-01T10:00:00.51Z", &b, &bn), 0);
		assert_true(a == b && an < bn);
	}
}

/* /proc/PID/stat with a command name of spaces and parentheses, and an
 * escape: parsed from the last ')', the name made printable. */
static void test_identity__proc_name(void **state)
{
	envup_proc p;
	char old[32] = "";

	(void)state;
	prctl(PR_GET_NAME, old, 0, 0, 0);
	assert_int_equal(prctl(PR_SET_NAME, "a) b (\033c", 0, 0, 0), 0);
	assert_int_equal(envup_proc_read(&p, getpid()), 0);
	prctl(PR_SET_NAME, old, 0, 0, 0);
	assert_string_equal(p.comm, "a) b (?c");
	assert_int_equal(p.ppid, getppid());
	assert_int_equal(p.sid, getsid(0));
	assert_int_equal(p.pgrp, getpgrp());
	assert_true(p.start > 0);
	assert_int_equal(envup_proc_read(&p, 0), ENVUP_ENOTFOUND);
}

/* Text from the engine made printable: controls replaced, UTF-8 kept. */
static void test_identity__printable(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{"plain", "plain"},
		{"\033[31mred\033[0m", "?[31mred?[0m"},
		{"bell\a tab\t cr\r del\x7f", "bell? tab? cr? del?"},
		{"csi\xc2\x9b" "2J nel\xc2\x85", "csi?2J nel?"},          /* C1 */
		{"lone \x9b and \x85", "lone ? and ?"},                  /* not UTF-8 */
		{"\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb5\xd0\xba\xd1\x82\xe2\x82\xac \xf0\x9f\x9a\x80",
		 "\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb5\xd0\xba\xd1\x82\xe2\x82\xac \xf0\x9f\x9a\x80"},
		{"overlong \xc0\xaf surrogate \xed\xa0\x80", "overlong ?? surrogate ???"},
		{"cut \xe2\x82", "cut ??"},
	};
	size_t i;
	char small[8];

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = envup_printable(t[i].in);
		assert_non_null(got);
		if (strcmp(got, t[i].out) != 0)
			fail_msg("printable(\"%s\") = \"%s\"", t[i].in, got);
		assert_true(envup_is_printable(got));
		envup__free(got);
	}
	assert_false(envup_is_printable("a\033b"));
	assert_true(envup_is_printable("\xe2\x82\xac"));
	/* a buffer too small for the last character holds none of it */
	envup_printable_into(small, sizeof(small), "abcde\xe2\x82\xac");
	assert_string_equal(small, "abcde");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity__read),
		cmocka_unit_test(test_identity__groups),
		cmocka_unit_test(test_identity__round_trip),
		cmocka_unit_test(test_identity__times),
		cmocka_unit_test(test_identity__proc_name),
		cmocka_unit_test(test_identity__printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
