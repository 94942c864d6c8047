// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for privs.c: which files privs_check_file lets the daemon
 * load (and the message for each it refuses), what privs_give_dir hands
 * over and what it leaves alone, and what a process holds after privs_drop
 * - read from /proc/self/status and proved by what it can and cannot do
 * afterwards. Dropping is done in a forked child each time (the test
 * process keeps root); the child reports the first thing that was wrong
 * through a pipe. Needs root (chown, setuid); skips otherwise.
 */
#include "log.h"
#include "privs.h"

#include "unit.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define OTHER_UID 65534         /* owns the foreign files; nobody on Debian */
#define KEPT "0000000000001004" /* CAP_NET_ADMIN (12) | CAP_DAC_READ_SEARCH (2) */

static bool is_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "skipped: needs root\n");
	return false;
}

/* path of NAME in the test directory (static storage, one at a time) */
static const char *at(const char *name)
{
	static char path[4][sizeof ut_dir + 256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", ut_dir, name);
	return path[i];
}

static void mkdir_mode(const char *name, mode_t mode)
{
	ck_assert_int_eq(mkdir(at(name), 0700), 0);
	ck_assert_int_eq(chmod(at(name), mode), 0);
}

/* privs_check_file must refuse path with exactly msg */
static void refused(const char *path, const char *msg)
{
	char err[1024] = "";

	ck_assert_int_eq(privs_check_file(path, err, sizeof err), -1);
	ck_assert_str_eq(err, msg);
}

static void accepted(const char *path)
{
	char err[1024] = "";

	ck_assert_msg(privs_check_file(path, err, sizeof err) == 0, "%s: %s", path, err);
}

/* ---- privs_check_file ---- */

START_TEST(a_root_file_0644_in_a_private_directory_is_accepted)
{
	accepted(ut_write("good.conf", "[x]\n"));
	ck_assert_int_eq(chmod(at("good.conf"), 0600), 0);
	accepted(at("good.conf"));
}
END_TEST

START_TEST(a_file_writable_by_group_or_others_is_refused)
{
	char msg[1024];
	const char *p = ut_write("gw.conf", "[x]\n");

	snprintf(msg, sizeof msg, "'%s' is writable by others (chmod go-w '%s')", p, p);
	ck_assert_int_eq(chmod(p, 0664), 0);
	refused(p, msg);
	ck_assert_int_eq(chmod(p, 0646), 0);
	refused(p, msg);
	ck_assert_int_eq(chmod(p, 0644), 0);
	accepted(p);
}
END_TEST

START_TEST(a_symbolic_link_is_refused_even_to_a_good_file)
{
	char msg[1024];

	ut_write("target.conf", "[x]\n");
	ck_assert_int_eq(symlink(at("target.conf"), at("link.conf")), 0);
	snprintf(msg, sizeof msg, "'%s' is a symbolic link; name the file itself", at("link.conf"));
	refused(at("link.conf"), msg);
	accepted(at("target.conf"));
}
END_TEST

START_TEST(a_file_of_another_user_is_refused)
{
	char msg[1024];
	const char *p;

	if (!is_root())
		return;
	p = ut_write("foreign.conf", "[x]\n");
	ck_assert_int_eq(chown(p, OTHER_UID, (gid_t)-1), 0);
	snprintf(msg, sizeof msg, "'%s' belongs to uid %d; only root (or the daemon's user) may own it", p, OTHER_UID);
	refused(p, msg);
}
END_TEST

START_TEST(the_daemons_own_user_may_own_a_file)
{
	int fds[2], status;
	char msg[1024] = "";
	pid_t pid;
	ssize_t n;

	if (!is_root())
		return;
	mkdir_mode("own", 0755);
	ut_write("own/mine.conf", "[x]\n");
	ut_write("own/roots.conf", "[x]\n");
	ut_write("own/theirs.conf", "[x]\n");
	ck_assert_int_eq(chown(at("own/mine.conf"), OTHER_UID, (gid_t)-1), 0);
	ck_assert_int_eq(chown(at("own/theirs.conf"), 4242, (gid_t)-1), 0);
	ck_assert_int_eq(chmod(ut_dir, 0755), 0);      /* the user must reach them */
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[1024] = "", out[2048] = "";
		close(fds[0]);
		if (setresuid(OTHER_UID, OTHER_UID, 0) < 0)        /* as the daemon's user */
			snprintf(out, sizeof out, "setresuid: %s", strerror(errno));
		else if (privs_check_file(at("own/mine.conf"), err, sizeof err) < 0)
			snprintf(out, sizeof out, "its own file refused: %s", err);
		else if (privs_check_file(at("own/roots.conf"), err, sizeof err) < 0)
			snprintf(out, sizeof out, "root's file refused: %s", err);
		else if (privs_check_file(at("own/theirs.conf"), err, sizeof err) == 0 || !strstr(err, "uid 4242"))
			snprintf(out, sizeof out, "uid 4242's file: '%s'", err);
		n = write(fds[1], out, strlen(out));
		_exit(n < 0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(chmod(ut_dir, 0700), 0);
	ck_assert_msg(msg[0] == '\0', "%s", msg);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(what_is_not_a_regular_file_is_refused)
{
	char msg[1024];

	ck_assert_int_eq(mkfifo(at("fifo.conf"), 0600), 0);
	snprintf(msg, sizeof msg, "'%s' is not a regular file", at("fifo.conf"));
	refused(at("fifo.conf"), msg);
	mkdir_mode("dir.conf", 0755);
	snprintf(msg, sizeof msg, "'%s' is not a regular file", at("dir.conf"));
	refused(at("dir.conf"), msg);
}
END_TEST

START_TEST(a_missing_file_is_an_error_that_names_it)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "cannot check '%s': No such file or directory", at("nosuch.conf"));
	refused(at("nosuch.conf"), msg);
}
END_TEST

START_TEST(a_directory_writable_by_others_is_refused_unless_sticky)
{
	char msg[1024];

	mkdir_mode("open", 0777);
	ut_write("open/f.conf", "[x]\n");
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')",
		 at("open"), at("open/f.conf"), at("open"));
	refused(at("open/f.conf"), msg);
	ck_assert_int_eq(chmod(at("open"), 0775), 0);  /* group-writable: the same */
	refused(at("open/f.conf"), msg);
	/* sticky, like /tmp: others cannot replace a file that is not theirs */
	ck_assert_int_eq(chmod(at("open"), 01777), 0);
	accepted(at("open/f.conf"));
	ck_assert_int_eq(chmod(at("open"), 0755), 0);
	accepted(at("open/f.conf"));
}
END_TEST

START_TEST(every_directory_on_the_path_counts)
{
	char msg[1024];

	mkdir_mode("a", 0777);
	mkdir_mode("a/b", 0755);
	ut_write("a/b/f.conf", "[x]\n");
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')",
		 at("a"), at("a/b/f.conf"), at("a"));
	refused(at("a/b/f.conf"), msg);
	ck_assert_int_eq(chmod(at("a"), 0755), 0);
	accepted(at("a/b/f.conf"));
	if (!is_root())
		return;
	ck_assert_int_eq(chown(at("a"), OTHER_UID, (gid_t)-1), 0);
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') belongs to uid %d; only root (or the "
		 "daemon's user) may own it", at("a"), at("a/b/f.conf"), OTHER_UID);
	refused(at("a/b/f.conf"), msg);
}
END_TEST

START_TEST(a_linked_directory_is_checked_where_it_leads)
{
	char msg[1024];

	mkdir_mode("real", 0777);
	ut_write("real/f.conf", "[x]\n");
	ck_assert_int_eq(symlink(at("real"), at("alias")), 0);
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')",
		 at("real"), at("alias/f.conf"), at("real"));
	refused(at("alias/f.conf"), msg);
	ck_assert_int_eq(chmod(at("real"), 0755), 0);
	accepted(at("alias/f.conf"));
}
END_TEST

START_TEST(a_relative_path_is_checked_from_the_current_directory)
{
	char cwd[4096], msg[1024];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	mkdir_mode("rel", 0755);
	ut_write("rel/f.conf", "[x]\n");
	ck_assert_int_eq(chdir(at("rel")), 0);
	accepted("f.conf");
	ck_assert_int_eq(chmod(at("rel"), 0757), 0);
	snprintf(msg, sizeof msg, "directory '%s' (on the path to 'f.conf') is writable by others (chmod go-w '%s')",
		 at("rel"), at("rel"));
	refused("f.conf", msg);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

/* ---- privs_check_target: the block list, which may be a link ---- */

static void target_refused(const char *path, const char *msg)
{
	char err[1024] = "";

	ck_assert_int_eq(privs_check_target(path, err, sizeof err), -1);
	ck_assert_str_eq(err, msg);
}

static void target_accepted(const char *path)
{
	char err[1024] = "";

	ck_assert_msg(privs_check_target(path, err, sizeof err) == 0, "%s: %s", path, err);
}

START_TEST(a_target_is_checked_as_a_file)
{
	char msg[1024];
	const char *p = ut_write("t-list", "192.0.2.1 1h\n");

	target_accepted(p);
	ck_assert_int_eq(chmod(p, 0664), 0);
	snprintf(msg, sizeof msg, "'%s' is writable by others (chmod go-w '%s')", p, p);
	target_refused(p, msg);
	ck_assert_int_eq(chmod(p, 0644), 0);
	if (!is_root())
		return;
	ck_assert_int_eq(chown(p, OTHER_UID, (gid_t)-1), 0);
	snprintf(msg, sizeof msg, "'%s' belongs to uid %d; only root (or the daemon's user) may own it", p, OTHER_UID);
	target_refused(p, msg);
}
END_TEST

START_TEST(a_link_is_followed_and_where_it_leads_is_checked)
{
	char msg[1024];

	mkdir_mode("t-real", 0755);
	ut_write("t-real/list", "192.0.2.1 1h\n");
	ck_assert_int_eq(symlink(at("t-real/list"), at("t-link")), 0);
	ck_assert_int_eq(symlink("t-real/list", at("t-rel")), 0);         /* relative to its directory */
	ck_assert_int_eq(symlink(at("t-link"), at("t-chain")), 0);
	target_accepted(at("t-link"));
	target_accepted(at("t-rel"));
	target_accepted(at("t-chain"));
	/* the messages name the file, where chmod helps */
	ck_assert_int_eq(chmod(at("t-real/list"), 0646), 0);
	snprintf(msg, sizeof msg, "'%s' is writable by others (chmod go-w '%s')", at("t-real/list"), at("t-real/list"));
	target_refused(at("t-link"), msg);
	target_refused(at("t-chain"), msg);
	ck_assert_int_eq(chmod(at("t-real/list"), 0644), 0);
	ck_assert_int_eq(chmod(at("t-real"), 0775), 0);
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')",
		 at("t-real"), at("t-real/list"), at("t-real"));
	target_refused(at("t-rel"), msg);
}
END_TEST

START_TEST(a_link_in_a_directory_others_may_write_is_refused)
{
	char msg[1024];

	mkdir_mode("t-safe", 0755);
	mkdir_mode("t-open", 0777);
	ut_write("t-safe/list", "192.0.2.1 1h\n");
	/* whoever may write "t-open" may point open/link anywhere */
	ck_assert_int_eq(symlink(at("t-safe/list"), at("t-open/link")), 0);
	ck_assert_int_eq(symlink(at("t-open/link"), at("t-safe/chain")), 0);
	snprintf(msg, sizeof msg, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')",
		 at("t-open"), at("t-open/link"), at("t-open"));
	target_refused(at("t-open/link"), msg);
	target_refused(at("t-safe/chain"), msg);
	ck_assert_int_eq(chmod(at("t-open"), 0755), 0);
	target_accepted(at("t-safe/chain"));
}
END_TEST

START_TEST(a_link_loop_is_refused)
{
	char msg[1024];

	ck_assert_int_eq(symlink(at("t-loop2"), at("t-loop1")), 0);
	ck_assert_int_eq(symlink(at("t-loop1"), at("t-loop2")), 0);
	snprintf(msg, sizeof msg, "'%s': too many levels of symbolic links", at("t-loop1"));
	target_refused(at("t-loop1"), msg);
}
END_TEST

/* ---- privs_give_dir ---- */

static void owner_is(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(st.st_uid == uid && st.st_gid == gid, "%s: uid %u gid %u, expected %u %u", path,
		      (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
}

START_TEST(the_state_directory_and_its_own_files_are_given_to_the_user)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	char err[1024] = "";

	if (!is_root())
		return;
	if (!(pw = getpwnam("nobody"))) {
		fprintf(stderr, "skipped: no user nobody\n");
		return;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	mkdir_mode("state", 0700);
	ut_write("state/state", "x");
	ut_write("state/denied", "bob\n");
	ck_assert_int_eq(chown(at("state/denied"), 0, 8), 0);  /* root:mail, say: its group is kept */
	ut_write("elsewhere", "secret");
	ck_assert_int_eq(link(at("elsewhere"), at("state/hardlink")), 0);
	ck_assert_int_eq(symlink(at("elsewhere"), at("state/symlink")), 0);
	ut_write("state/theirs", "x");
	ck_assert_int_eq(chown(at("state/theirs"), 4242, 4242), 0);
	mkdir_mode("state/sub", 0700);

	ck_assert_msg(privs_give_dir("nobody", at("state"), err, sizeof err) == 0, "%s", err);
	owner_is(at("state"), uid, gid);
	owner_is(at("state/state"), uid, gid);
	owner_is(at("state/denied"), uid, 8);
	/* never given away: a second link to a file elsewhere, a link's target,
	 * someone else's file, a subdirectory */
	owner_is(at("elsewhere"), 0, 0);
	owner_is(at("state/symlink"), 0, 0);
	owner_is(at("state/theirs"), 4242, 4242);
	owner_is(at("state/sub"), 0, 0);
	/* again: nothing more to do, no error */
	ck_assert_msg(privs_give_dir("nobody", at("state"), err, sizeof err) == 0, "%s", err);
	/* no user: nothing at all */
	ck_assert_int_eq(chown(at("state"), 0, 0), 0);
	ck_assert_int_eq(privs_give_dir("", at("state"), err, sizeof err), 0);
	owner_is(at("state"), 0, 0);
}
END_TEST

START_TEST(what_is_not_the_daemons_own_directory_is_not_given)
{
	char err[1024] = "", msg[1024];

	if (!is_root() || !getpwnam("nobody"))
		return;
	mkdir_mode("st", 0700);
	ck_assert_int_eq(symlink(at("st"), at("stlink")), 0);
	ck_assert_int_eq(privs_give_dir("nobody", at("stlink"), err, sizeof err), -1);
	snprintf(msg, sizeof msg, "state directory '%s' is a symbolic link; name the directory itself", at("stlink"));
	ck_assert_str_eq(err, msg);
	ck_assert_int_eq(privs_give_dir("nobody", "/", err, sizeof err), -1);
	ck_assert_str_eq(err, "state directory '/' is /; give the daemon a directory of its own");
	mkdir_mode("shared", 01777);
	ck_assert_int_eq(privs_give_dir("nobody", at("shared"), err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "is writable by everyone"));
	owner_is(at("shared"), 0, 0);
	owner_is(at("st"), 0, 0);
	ck_assert_int_eq(privs_give_dir("no-such-user-here", at("st"), err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "user 'no-such-user-here' is unknown"));
}
END_TEST

/* ---- privs_drop, in a child ---- */

/* The child's findings: the first thing that was wrong, or nothing. */
static char found[2048];

static void wrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void wrong(const char *fmt, ...)
{
	va_list ap;

	if (found[0])
		return;
	va_start(ap, fmt);
	vsnprintf(found, sizeof found, fmt, ap);
	va_end(ap);
}

/* the value of a /proc/self/status field, e.g. "CapEff" */
static const char *status_of(const char *field)
{
	static char val[256];
	char line[512];
	size_t n = strlen(field);
	FILE *fp = fopen("/proc/self/status", "re");

	val[0] = '\0';
	if (!fp)
		return val;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			char *v = line + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, sizeof val, "%s", v);
		}
	fclose(fp);
	return val;
}

static void expect_status(const char *field, const char *want)
{
	const char *v = status_of(field);

	if (strcmp(v, want) != 0)
		wrong("%s: '%s', expected '%s'", field, v, want);
}

/* Run fn in a child; fail the test with what it found wrong. */
static void in_child(void (*fn)(const char *), const char *arg)
{
	int fds[2], status;
	char msg[sizeof found] = "";
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		found[0] = '\0';
		fn(arg);
		n = write(fds[1], found, strlen(found));
		_exit(n < 0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(msg[0] == '\0', "%s", msg);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

static void open_fails(const char *path, int flags, int want_errno)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		wrong("open('%s', %#x) succeeded; expected %s", path, flags, strerror(want_errno));
	} else if (errno != want_errno) {
		wrong("open('%s', %#x): %s; expected %s", path, flags, strerror(errno), strerror(want_errno));
	}
}

static void open_works(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		wrong("open('%s', %#x): %s", path, flags, strerror(errno));
	else
		close(fd);
}

/* CAP_NET_ADMIN is what SO_RCVBUFFORCE asks for */
static void net_admin_works(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), size = 1 << 20;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
		wrong("SO_RCVBUFFORCE (CAP_NET_ADMIN): %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void drop_or_say(const char *user)
{
	char err[1024] = "";

	if (privs_drop(user, err, sizeof err) < 0)
		wrong("privs_drop('%s'): %s", user, err);
}

/* the files: private/ (root 0700) with secret (root 0600) and theirs
 * (OTHER_UID 0600) */
static void make_private_files(void)
{
	struct stat st;

	if (stat(at("private"), &st) == 0)
		return;
	mkdir_mode("private", 0700);
	ut_write("private/secret", "root only\n");
	ck_assert_int_eq(chmod(at("private/secret"), 0600), 0);
	ut_write("private/theirs", "someone's\n");
	ck_assert_int_eq(chmod(at("private/theirs"), 0600), 0);
	ck_assert_int_eq(chown(at("private/theirs"), OTHER_UID, OTHER_UID), 0);
}

static void drop_staying_root(const char *unused)
{
	(void)unused;
	drop_or_say("");
	expect_status("Uid", "0\t0\t0\t0");
	expect_status("CapEff", KEPT);
	expect_status("CapPrm", KEPT);
	expect_status("CapBnd", KEPT);
	expect_status("CapInh", "0000000000000000");
	expect_status("CapAmb", "0000000000000000");
	expect_status("NoNewPrivs", "1");
	/* uid 0 without CAP_DAC_OVERRIDE: another user's 0600 file can be
	 * read (CAP_DAC_READ_SEARCH) but not written */
	open_works(at("private/theirs"), O_RDONLY);
	open_fails(at("private/theirs"), O_WRONLY, EACCES);
	open_works(at("private/secret"), O_RDWR);       /* root's own, as owner */
	if (chown(at("private/secret"), OTHER_UID, (gid_t)-1) == 0 || errno != EPERM)
		wrong("chown without CAP_CHOWN: %s", strerror(errno));
	if (setresuid(OTHER_UID, OTHER_UID, OTHER_UID) == 0 || errno != EPERM)
		wrong("setresuid without CAP_SETUID: %s", strerror(errno));
	net_admin_works();
}

START_TEST(staying_root_keeps_only_net_admin_and_dac_read_search)
{
	if (!is_root())
		return;
	make_private_files();
	in_child(drop_staying_root, NULL);
}
END_TEST

static void drop_to_user(const char *user)
{
	struct passwd *pw = getpwnam(user);
	char want[64];
	int fd;

	if (!pw) {
		wrong("no user %s", user);
		return;
	}
	drop_or_say(user);
	snprintf(want, sizeof want, "%u\t%u\t%u\t%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	expect_status("Uid", want);
	snprintf(want, sizeof want, "%u\t%u\t%u\t%u", (unsigned)pw->pw_gid, (unsigned)pw->pw_gid,
		 (unsigned)pw->pw_gid, (unsigned)pw->pw_gid);
	expect_status("Gid", want);
	expect_status("CapEff", KEPT);
	expect_status("CapPrm", KEPT);
	expect_status("CapBnd", KEPT);
	expect_status("CapAmb", "0000000000000000");
	expect_status("NoNewPrivs", "1");
	/* root's 0600 file, in root's 0700 directory: read, not written; the
	 * directory is listed and searched, not written */
	open_works(at("private/secret"), O_RDONLY);
	open_fails(at("private/secret"), O_WRONLY, EACCES);
	open_fails(at("private/new"), O_WRONLY | O_CREAT, EACCES);
	fd = open(at("private"), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		wrong("cannot list root's 0700 directory: %s", strerror(errno));
	else
		close(fd);
	/* for good */
	if (setresuid(0, 0, 0) == 0)
		wrong("setresuid(0) after the drop succeeded");
	if (setresgid(0, 0, 0) == 0)
		wrong("setresgid(0) after the drop succeeded");
	net_admin_works();
}

START_TEST(a_user_keeps_the_two_capabilities_and_cannot_go_back)
{
	if (!is_root())
		return;
	if (!getpwnam("nobody")) {
		fprintf(stderr, "skipped: no user nobody\n");
		return;
	}
	make_private_files();
	in_child(drop_to_user, "nobody");
}
END_TEST

static void refuse_bad_user(const char *user)
{
	char err[1024] = "", before[64];

	snprintf(before, sizeof before, "%s", status_of("CapEff"));
	if (privs_drop(user, err, sizeof err) == 0)
		wrong("privs_drop('%s') succeeded", user);
	else if (!strstr(err, strcmp(user, "root") == 0 ? "is root; name an unprivileged user" : "is unknown"))
		wrong("privs_drop('%s'): unexpected message '%s'", user, err);
	/* refused before anything changed */
	expect_status("CapEff", before);
	expect_status("NoNewPrivs", "0");
	expect_status("Uid", "0\t0\t0\t0");
}

START_TEST(an_unknown_user_or_root_is_refused_before_anything_changes)
{
	if (!is_root())
		return;
	in_child(refuse_bad_user, "no-such-user-here");
	in_child(refuse_bad_user, "root");
}
END_TEST

/* Like systemd's CapabilityBoundingSet=CAP_NET_ADMIN CAP_DAC_READ_SEARCH
 * for a root service: only those two in the bounding and permitted sets,
 * no CAP_SETPCAP to change the bounding set with. */
static void limit_like_systemd(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	for (int c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0UL, 0UL, 0UL) < 0)
			break;
		if (c != CAP_NET_ADMIN && c != CAP_DAC_READ_SEARCH &&
		    prctl(PR_CAPBSET_DROP, (unsigned long)c, 0UL, 0UL, 0UL) < 0)
			wrong("PR_CAPBSET_DROP %d: %s", c, strerror(errno));
	}
	d[0].effective = d[0].permitted = (1U << CAP_NET_ADMIN) | (1U << CAP_DAC_READ_SEARCH);
	if (syscall(SYS_capset, &h, d) < 0)
		wrong("capset: %s", strerror(errno));
}

static void drop_under_systemd(const char *user)
{
	char err[1024] = "";

	limit_like_systemd();
	if (!*user) {
		drop_or_say("");
		expect_status("CapEff", KEPT);
		expect_status("CapBnd", KEPT);
		expect_status("NoNewPrivs", "1");
		net_admin_works();
		return;
	}
	/* no CAP_SETUID: a clear refusal, naming what is missing */
	if (privs_drop(user, err, sizeof err) == 0)
		wrong("privs_drop('%s') without CAP_SETUID/CAP_SETGID succeeded", user);
	else if (!strstr(err, "needs CAP_SETGID") || !strstr(err, "mailscreen.service"))
		wrong("unexpected message: '%s'", err);
}

START_TEST(under_a_systemd_bounding_set_the_drop_works_and_a_switch_says_what_is_missing)
{
	if (!is_root())
		return;
	in_child(drop_under_systemd, "");
	if (getpwnam("nobody"))
		in_child(drop_under_systemd, "nobody");
}
END_TEST

static void describe_after_drop(const char *unused)
{
	char buf[512];

	(void)unused;
	drop_or_say("");
	privs_describe(buf, sizeof buf);
	if (strcmp(buf, "capabilities cap_net_admin cap_dac_read_search (bounding set: the same), no_new_privs, "
		   "uid 0 gid 0") != 0)
		wrong("privs_describe: '%s'", buf);
}

START_TEST(describe_after_the_drop_names_the_two_capabilities)
{
	if (!is_root())
		return;
	in_child(describe_after_drop, NULL);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("privs");

	log_init("test_privs", LOG_LVL_WARN);
	tcase_add_test(tc, a_root_file_0644_in_a_private_directory_is_accepted);
	tcase_add_test(tc, a_file_writable_by_group_or_others_is_refused);
	tcase_add_test(tc, a_symbolic_link_is_refused_even_to_a_good_file);
	tcase_add_test(tc, a_file_of_another_user_is_refused);
	tcase_add_test(tc, the_daemons_own_user_may_own_a_file);
	tcase_add_test(tc, what_is_not_a_regular_file_is_refused);
	tcase_add_test(tc, a_missing_file_is_an_error_that_names_it);
	tcase_add_test(tc, a_directory_writable_by_others_is_refused_unless_sticky);
	tcase_add_test(tc, every_directory_on_the_path_counts);
	tcase_add_test(tc, a_linked_directory_is_checked_where_it_leads);
	tcase_add_test(tc, a_relative_path_is_checked_from_the_current_directory);
	tcase_add_test(tc, a_target_is_checked_as_a_file);
	tcase_add_test(tc, a_link_is_followed_and_where_it_leads_is_checked);
	tcase_add_test(tc, a_link_in_a_directory_others_may_write_is_refused);
	tcase_add_test(tc, a_link_loop_is_refused);
	tcase_add_test(tc, the_state_directory_and_its_own_files_are_given_to_the_user);
	tcase_add_test(tc, what_is_not_the_daemons_own_directory_is_not_given);
	tcase_add_test(tc, staying_root_keeps_only_net_admin_and_dac_read_search);
	tcase_add_test(tc, a_user_keeps_the_two_capabilities_and_cannot_go_back);
	tcase_add_test(tc, an_unknown_user_or_root_is_refused_before_anything_changes);
	tcase_add_test(tc, under_a_systemd_bounding_set_the_drop_works_and_a_switch_says_what_is_missing);
	tcase_add_test(tc, describe_after_the_drop_names_the_two_capabilities);
	return ut_run("privs", tc);
}
