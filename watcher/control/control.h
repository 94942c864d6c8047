/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control - the control socket: the daemon's side (a listener in the one
 * event loop that reads requests, checks who is asking and hands each
 * request to one handler) and the command line's side (control_call).
 * It owns the socket file, the connections and their buffers; it knows
 * nothing of what a command means: that is the handler's job. It must
 * never block the loop: every socket is non-blocking, every input is
 * bounded, every connection has a deadline, replies are written as the
 * peer reads them.
 *
 * PROTOCOL
 *
 * A SOCK_STREAM UNIX socket, one request per connection.
 *
 * Request: the words of the command line, command first ("block",
 * "192.0.2.7", "1h", "--reason", "scanner"), each followed by a NUL byte,
 * then one empty word (one more NUL) that ends the request. Words are
 * never empty. The command word is made of a-z, 0-9 and '-'. No word
 * holds a control character: a byte 0x01-0x1f or 0x7f, or a C1 control
 * in UTF-8 (0xc2 0x80-0x9f, U+0080-U+009F). Other bytes pass, UTF-8 or
 * not (an account name is the mail server's bytes); what a field must be
 * beyond that is the handler's business. At most CONTROL_MAX_WORDS words
 * and CONTROL_MAX_REQUEST bytes (NULs included); anything after the empty
 * word is ignored. The words reach the daemon's log, its lists and its
 * saved state: that is why they are refused here, for every command and
 * whoever sends them, before any handler sees them.
 *
 * Reply: one line, "ok" or "error: MESSAGE" (MESSAGE is one line), then
 * the body: any text, of any length (a JSON list of a million blocks),
 * then the server closes the connection. End of file ends the body.
 *
 * Refusals, each a reply of its own followed by the close:
 *   error: permission denied (uid N)     peer not root, not the daemon's
 *                                        user, not in control_group
 *   error: busy                          control_clients connections open
 *   error: request too large             over the limits above
 *   error: malformed request (...)       ended early, or not words
 *   error: --reason contains a control character (byte 0x0a at position 5)
 *   error: argument 1 contains a control character (U+009B at position 3)
 *                                        a word with a control character,
 *                                        named by the option it is the
 *                                        value of, or by its number (the
 *                                        command is 0); never echoed
 *   error: timed out waiting for the request
 *                                        no complete request within the
 *                                        deadline (CONTROL_DEADLINE_MS)
 *
 * Who may connect: the socket file is 0600 (owner root, or the daemon's
 * user), or 0660 with the group control_group when that is set; and
 * whatever the file's mode, every peer is checked with SO_PEERCRED: uid
 * 0, the daemon's effective uid, and members of control_group (primary
 * or supplementary group of the connecting process; SO_PEERGROUPS, or
 * getgrouplist() of the peer's user where the kernel lacks it).
 */
#ifndef MS_CONTROL_H
#define MS_CONTROL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTROL_MAX_WORDS 64
#define CONTROL_MAX_REQUEST 65536
#define CONTROL_DEADLINE_MS 5000        /* to send a request; then per write progress */
#define CONTROL_CALL_TIMEOUT_MS 30000   /* client: longest wait without progress */
#define CONTROL_MSG_MAX 512             /* longest error message kept */

/* A reply: ok, or an error with a one-line message; and a body. The
 * handler fills one on the daemon's side; control_call fills one on the
 * client's side. Invariant: body is NULL (len 0) or NUL-terminated with
 * len < alloc. */
struct ctl_reply {
	bool error;
	char msg[CONTROL_MSG_MAX];      /* the error message, "" when ok */
	char *body;
	size_t len, alloc;
	/* server side only: who asked (for the handler's logs) */
	uid_t peer_uid;
	gid_t peer_gid;
	pid_t peer_pid;
};

void ctl_reply_init(struct ctl_reply *r);
void ctl_reply_release(struct ctl_reply *r);
/* Append to the body. */
void ctl_write(struct ctl_reply *r, const void *buf, size_t n);
void ctl_printf(struct ctl_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_vprintf(struct ctl_reply *r, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Mark the reply an error with this message (the last call wins); the
 * body, if any, is still sent. Whatever the message quotes, it is sent as
 * printable text: control characters and bytes that are not UTF-8 as
 * \xNN (text_escape). */
void ctl_error(struct ctl_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- daemon side ---- */

struct loop;
struct control;

/* Handles one request: argv[0] is the command word, argv[argc] is NULL.
 * The strings live until the handler returns. Runs in the loop: it must
 * not block. */
typedef void control_fn(void *arg, int argc, char **argv, struct ctl_reply *r);

struct control_stats {
	uint64_t requests;      /* complete requests handed to the handler */
	uint64_t refused;       /* peers refused by the credentials check */
	uint64_t malformed;     /* requests that ended early, were not words,
				 * or held a control character */
	uint64_t oversized;     /* requests over the word or byte limit */
	uint64_t timeouts;      /* connections closed at their deadline */
	uint64_t busy;          /* connections turned away at max_clients */
	unsigned clients;       /* connections open now */
};

/* Create the socket at path and serve it in l. Creates the parent
 * directory if missing (0755); fails if a server already answers on path
 * ("another mailscreen is running (control socket PATH answers)");
 * replaces a stale socket file; refuses to replace anything that is not a
 * socket. group: a group name whose members may use the socket, or NULL
 * or "" for root (and the daemon's user) only. max_clients: connections
 * served at once (at least 1). NULL with a message in err on failure. */
struct control *control_open(struct loop *l, const char *path, const char *group, unsigned max_clients,
			     control_fn *fn, void *arg, char *err, size_t errlen);
/* Close every connection and the listener, and unlink the socket file if
 * it is still the one this server made. NULL is a no-op. */
void control_close(struct control *c);
void control_get_stats(const struct control *c, struct control_stats *st);
/* The per-connection deadline (default CONTROL_DEADLINE_MS); for tests. */
void control_set_deadline(struct control *c, uint64_t ms);

/* ---- client side ---- */

/* Send argv[0..argc) to the server at path and read the whole reply into
 * out (initialised here; release it in every case). 0 when a reply came
 * (out->error tells ok from error), -1 with a message in err when none
 * did: no daemon ("cannot connect to PATH: is mailscreen running?", and
 * errno ENOENT or ECONNREFUSED, which nothing else leaves),
 * permission, a request over the limits ("request too large"), a timeout
 * or a reply that is not one. Blocks, at most CONTROL_CALL_TIMEOUT_MS
 * without progress. Never raises SIGPIPE. */
int control_call(const char *path, int argc, char *const *argv, struct ctl_reply *out, char *err, size_t errlen);

#endif
