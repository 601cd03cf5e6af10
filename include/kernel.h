/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel behind one interface: nf_tables over netlink (libnftnl +
 * libmnl).  Everything that talks to the kernel about the ruleset lives
 * behind these functions, so the generator and the commands above them
 * stay testable without root.
 *
 * A struct kbatch is one nf_tables transaction.  The add functions
 * serialise a libnftnl object into the batch at once: the caller keeps
 * ownership of the object and may free or change it afterwards.  Nothing
 * reaches the kernel before kbatch_commit(), which sends the whole batch
 * in one sendmsg(): the kernel applies all of it or none of it.
 *
 * All functions return 0 (or a count) on success and -errno on failure;
 * they never print.
 */
#ifndef SANSO_KERNEL_H
#define SANSO_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_set_elem;
struct nftnl_rule;
struct kbatch;

/* NULL with errno on failure. */
struct kbatch *kbatch_new(void);
void kbatch_free(struct kbatch *b);

/*
 * One message each.  The objects must carry their family, table and name
 * (and chain, for rules); a missing one gives -EINVAL and adds nothing.
 *
 * kbatch_add_table: "add table": creates it, or leaves an existing table
 *	as it is when the object sets no flags.
 * kbatch_del_table: "delete table": fails the batch if it does not exist.
 * kbatch_add_chain, kbatch_add_set: "create": an existing chain or set of
 *	that name fails the batch (-EEXIST), which catches a generator that
 *	emits one twice.
 * kbatch_add_rule: appended at the end of its chain.
 */
int kbatch_add_table(struct kbatch *b, const struct nftnl_table *t);
int kbatch_del_table(struct kbatch *b, uint16_t family, const char *name);
int kbatch_add_chain(struct kbatch *b, const struct nftnl_chain *c);
int kbatch_add_set(struct kbatch *b, struct nftnl_set *s);
int kbatch_add_rule(struct kbatch *b, struct nftnl_rule *r);

/*
 * The elements held by `s` ("add element": an element already present is
 * not an error).  Large sets are split over as many messages as needed,
 * because one netlink attribute holds at most 64 KiB; returns the number of
 * messages added (0 when `s` holds no element).
 */
int kbatch_add_elems(struct kbatch *b, struct nftnl_set *s);
/* The same, deleting the elements; a missing one fails the batch. Kernels
 * before 6.12 keep an existing element's timeout on add, so a re-arm there
 * is add, delete, add in one batch. */
int kbatch_del_elems(struct kbatch *b, struct nftnl_set *s);

/*
 * The pieces of a change made in place (src/kdelta.c), each one message.
 * kbatch_del_named: by name in a table, KDEL_RULES every rule of a chain
 *	("delete rule" without a handle), KDEL_CHAIN or KDEL_SET the object
 *	(unused by then: its rules and references gone earlier in the
 *	batch), KDEL_ELEMS every element of a set;
 * kbatch_add_copy: a copy of message `msg` of another batch (its
 *	type, flags and payload; the sequence number is this batch's).
 */
enum kbatch_del { KDEL_RULES, KDEL_CHAIN, KDEL_SET, KDEL_ELEMS };
int kbatch_del_named(struct kbatch *b, enum kbatch_del what,
		     uint16_t family, const char *table, const char *name);
struct nlmsghdr;
int kbatch_add_copy(struct kbatch *b, const struct nlmsghdr *msg);

/*
 * Atomic replace: "add table" (with no flags, so it cannot fail whether
 * the table exists or not), "delete table", then "add table" with `t`.
 * The caller adds the chains, sets, elements and rules after this.  Works
 * on every kernel with nf_tables batches; NFT_MSG_DESTROYTABLE (Linux 6.3)
 * is not needed.  Three messages.
 */
int kbatch_replace_table(struct kbatch *b, const struct nftnl_table *t);

/*
 * Make the kernel refuse the whole batch with -ERESTART if the ruleset
 * generation is no longer `genid` (from kernel_ruleset_genid()) when the
 * batch arrives, i.e. if anyone changed any table in between.  0 turns the
 * check off (the default).
 */
void kbatch_set_genid(struct kbatch *b, uint32_t genid);

/* Messages in the batch, not counting the batch begin and end markers. */
size_t kbatch_count(const struct kbatch *b);
/* Message i of them (from 0), NULL past the last. */
struct nlmsghdr;
const struct nlmsghdr *kbatch_msg(const struct kbatch *b, size_t i);
/* Bytes of those messages. */
size_t kbatch_size(const struct kbatch *b);

/*
 * Sends the batch and reads one reply for every message (each carries
 * NLM_F_ACK).  Returns 0 when the kernel accepted every message and, unless
 * `dry_run`, committed the batch.  Otherwise returns the -errno of the first
 * failure and, when `err` is not NULL, writes into it which message failed
 * (its position, what it does, the rule's comment) and the kernel's
 * extended-ACK text, e.g.
 *   message 7/31 (add rule inet sanso fwd_lan_wan "flow:web", expression
 *   4 (immediate)): No such file or directory
 * Nothing is changed in the kernel when it fails, with one exception:
 * -ENOBUFS means replies were lost (the receive buffer is sized for them,
 * which needs CAP_NET_ADMIN for large batches) and the outcome is unknown.
 *
 * dry_run: the kernel checks the batch and throws it away.  Two passes,
 * both in the kernel:
 *   1. the batch is sent to the live ruleset without its end marker, as
 *      `nft --check` does: the kernel runs every message against the real
 *      state, reports every error and then aborts the transaction;
 *   2. if that passed, the batch is committed for real in a new, empty
 *      network namespace that is thrown away afterwards.  Only a commit
 *      runs the whole-ruleset validation (jump loops and depth, expressions
 *      not allowed in a hook or chain type), which an aborted transaction
 *      skips for tables it creates.  The genid check is not applied here.
 *      The child process forked for it makes the namespace, so the caller
 *      never leaves its own.  It runs only when every message lies inside a
 *      table the batch replaces (kbatch_replace_table), as `apply` sends:
 *      a batch that builds on live objects cannot be tried in an empty
 *      namespace.  Needs CAP_SYS_ADMIN; without it this pass is skipped and
 *      the result is that of pass 1 alone.
 * The batch can be committed again after a dry run.
 */
int kbatch_commit(struct kbatch *b, bool dry_run, char *err, size_t errlen);

/*
 * A netlink socket kept open over many commits, for a writer that
 * commits small batches often (the DNS guard re-arms set elements for
 * every answer): opening one costs more than a small batch does.  The
 * socket is opened at the first commit, and again at the next commit
 * after one that failed to send or receive.  NULL with errno; free
 * accepts NULL.
 */
struct ksock;
struct ksock *ksock_new(void);
void ksock_free(struct ksock *ks);
/* kbatch_commit(b, false, ...) on the socket of `ks`. */
int kbatch_commit_on(struct kbatch *b, struct ksock *ks, char *err,
		     size_t errlen);

/* 1 if table `name` of `family` (NFPROTO_INET, ...) exists, 0 if not. */
int kernel_table_exists(uint16_t family, const char *name);

/* The ruleset generation: every committed batch, anywhere, increments it. */
int kernel_ruleset_genid(uint32_t *genid);

/*
 * Calls `fn` for every element of set `set` in table `table`.  The element
 * is borrowed for the call: NFTNL_SET_ELEM_KEY, _FLAGS, _TIMEOUT (ms, the
 * element's own timeout) and _EXPIRATION (ms left before it expires) are
 * set as the kernel reports them; interval sets report their end elements
 * (NFT_SET_ELEM_INTERVAL_END) as separate elements.  A nonzero return from
 * `fn` stops the dump and is returned.  -ENOENT if the set does not exist;
 * -EINTR if the ruleset changed during the dump (the elements seen so far
 * may be inconsistent: start again).
 */
typedef int (*kernel_elem_fn)(struct nftnl_set_elem *e, void *arg);
int kernel_list_set_elements(uint16_t family, const char *table,
			     const char *set, kernel_elem_fn fn, void *arg);

/*
 * Whether set `set` of table `table` holds the element `key` (4 or 16
 * bytes for an address) right now: one GETSETELEM for that key, not a
 * dump. 1 when it does, with *left_ms (may be NULL) the time it has left
 * (0: no timeout); 0 when the element or the set does not exist; -errno
 * when the kernel could not be asked.
 */
int kernel_get_set_element(uint16_t family, const char *table,
			   const char *set, const void *key, size_t len,
			   uint64_t *left_ms);

#endif
