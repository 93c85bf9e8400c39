/*
 * ksafe - Kafka producers that are safe by construction.
 *
 * ksafe validates a librdkafka producer configuration against a policy
 * (a JSON file, or the safe default compiled into the library), forces the
 * settings the policy enforces, refuses what it rejects, and returns a plain
 * rd_kafka_t *: nothing of ksafe sits on the produce path.
 *
 * Conventions, as in librdkafka:
 *  - every object that a _new/_load/_read function returns has a _destroy,
 *    and _destroy(NULL) does nothing;
 *  - strings that a function returns with "ksafe_free() it" are the
 *    caller's; every other pointer stays owned by the object it came from
 *    and is valid until that object is destroyed;
 *  - a loaded policy is immutable: it may be shared between threads
 *    without locking. Reports and configs are not shared objects: use one
 *    from one thread at a time. Every function is thread-safe on distinct
 *    objects (and on a shared policy);
 *  - what reads KSAFE_POLICY and KSAFE_ENV (ksafe_policy_from_env(), and
 *    ksafe_producer_new() and ksafe_topic_new() with a NULL policy, the
 *    plugin's conf_init) reads them with getenv() on every call: it is
 *    thread-safe as long as no thread changes the environment (setenv(),
 *    putenv(), unsetenv()) meanwhile, as any reader of getenv() is;
 *  - pointer arguments must not be NULL unless the function says so;
 *  - a function that takes a `ksafe_error_t *err` clears it on entry and
 *    fills it in when it fails; `err` may always be NULL;
 *  - structs that the caller allocates and passes in (options) start with
 *    a `version` field: initialise them with their _INIT macro;
 *  - predicates return bool;
 *  - the library needs no init call, never prints and never exits. What
 *    it keeps per process (librdkafka's property table, each value it has
 *    had librdkafka parse, the policy that KSAFE_POLICY names) is made on
 *    first use, shared between threads safely, and freed when the process
 *    exits or the library is unloaded: no thread may be inside ksafe then.
 *
 * The ABI: libksafe.so.N changes N whenever a release breaks it (see NEWS);
 * the symbols are versioned (lib/ksafe.map). Fields may be added at the end
 * of the structs that the library allocates (ksafe_violation_t), never to
 * those the caller allocates without a new `version` of them.
 */
#ifndef KSAFE_H
#define KSAFE_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KSAFE_BUILDING) && defined(__GNUC__)
#define KSAFE_EXPORT __attribute__((visibility("default")))
#else
#define KSAFE_EXPORT
#endif

/* On a function whose result the caller owns (an object to destroy, a
 * string to ksafe_free()): ignoring it is a leak, and gcc and clang warn. */
#if defined(__GNUC__)
#define KSAFE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define KSAFE_WARN_UNUSED
#endif

/*
 * Versions. The macros are the version of the header a program was
 * compiled with; ksafe_version() and ksafe_version_str() are the version of
 * the library it runs with (they differ after an upgrade of the library
 * alone, which the soname allows only when the ABI did not break).
 */
#define KSAFE_VERSION_MAJOR 0 /**< incompatible changes (0: any minor may break) */
#define KSAFE_VERSION_MINOR 3 /**< new features */
#define KSAFE_VERSION_PATCH 0 /**< fixes only */

/** The version as one integer, 0xMMmmpp: major, minor and patch one byte
 *  each, as KSAFE_VERSION_NUM() makes it (0x000300 for 0.3.0), so that
 *  versions compare as integers: `#if KSAFE_VERSION >= KSAFE_VERSION_NUM(0, 3, 0)`. */
#define KSAFE_VERSION 0x000300

/** The integer of version major.minor.patch, as KSAFE_VERSION and
 *  ksafe_version() encode it. */
#define KSAFE_VERSION_NUM(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))

/** The version as a string: "0.3.0". */
#define KSAFE_VERSION_STR "0.3.0"

/** The largest config or policy file ksafe reads, in bytes: a larger one
 *  is "cannot read: larger than 64 MiB" (EFBIG). ksafe-lint applies the
 *  same cap to standard input. */
#define KSAFE_CONFIG_MAX_SIZE ((size_t)64 << 20)

/** The version of the JSON shape that ksafe_report_to_json() writes. */
#define KSAFE_REPORT_JSON_VERSION 1

/** A loaded, resolved policy. Opaque and immutable. */
typedef struct ksafe_policy_s ksafe_policy_t;

/** The result of judging one configuration against a policy. Opaque. */
typedef struct ksafe_report_s ksafe_report_t;

/** A producer configuration read from a file or a buffer. Opaque. */
typedef struct ksafe_config_s ksafe_config_t;

/**
 * What kind of error a ksafe_error_t holds: for a program to act on
 * (ksafe_error_code()); `text` is for a person. New codes may be added in
 * later versions: treat an unknown one as an error of its own kind.
 */
typedef enum ksafe_error_code_e {
        /** No error: what a function that takes an `err` sets on entry, and
         *  leaves when it succeeds. */
        KSAFE_ERROR_NONE = 0,
        /** Out of memory. */
        KSAFE_ERROR_OUT_OF_MEMORY = 1,
        /** The call itself is wrong: a NULL where a path or a text is
         *  needed, an options struct of an unknown `version`, an unknown
         *  "builtin:" policy name. */
        KSAFE_ERROR_INVALID_ARGUMENT = 2,
        /** A file cannot be read: missing, not permitted, not a regular
         *  file (a FIFO, a directory, a device), larger than
         *  KSAFE_CONFIG_MAX_SIZE; for a policy also a file it extends.
         *  `source` names the file that names it. */
        KSAFE_ERROR_IO = 3,
        /** The text cannot be read as its format: JSON syntax (`line` and
         *  `column`), a NUL byte, a config that is not a JSON object, a
         *  JSON pointer that leads to no object. */
        KSAFE_ERROR_PARSE = 4,
        /** A policy that reads but is not valid: unknown field or wrong
         *  type (`path`), unknown property, duplicate rule id, "extends"
         *  cycle, rules that no configuration can pass, an enforce fix
         *  that another rule refuses. */
        KSAFE_ERROR_POLICY = 5,
        /** The environment asked for (`env`, KSAFE_ENV) is not one that
         *  the policy names; `text` lists the known ones. */
        KSAFE_ERROR_UNKNOWN_ENV = 6,
        /** A valid policy that ksafe refuses: it weakens the safety
         *  baseline (off, warn, other values) without "allow_unsafe": true. */
        KSAFE_ERROR_UNSAFE = 7,
} ksafe_error_code_t;

/**
 * Where and why an operation failed, filled in by any function that takes
 * a `ksafe_error_t *err` (which may always be NULL). Every such function
 * clears it on entry: after a success it is all zeros (`code`
 * KSAFE_ERROR_NONE, empty strings), whatever it held before.
 *
 * Like jansson's json_error_t it is allocated by the caller. Fields that do
 * not apply are empty strings or 0. Secret values never appear in `text`.
 * Nothing is cut silently: a `source` or `path` longer than its field keeps
 * its end behind a leading "...", a longer `text` its beginning before a
 * trailing "...", never inside a UTF-8 character.
 * `text`, `source` and `path` are escaped as ksafe_report_escape() does
 * (a file name or a JSON key quoted in them cannot break the line), and so
 * is every errstr that ksafe writes.
 */
typedef struct ksafe_error_s {
        char text[256];          /**< what went wrong, one sentence */
        char source[256];        /**< file name, "<string>", "KSAFE_POLICY", ... */
        char path[128];          /**< JSON path inside a policy: "rules[2].action" */
        int line;                /**< 1-based line, 0 when unknown */
        int column;              /**< 1-based column, 0 when unknown */
        ksafe_error_code_t code; /**< what kind of error; KSAFE_ERROR_NONE
                                  *   when there is none */
} ksafe_error_t;

/** The kind of error that `err` holds: err->code, or KSAFE_ERROR_NONE for a
 *  NULL `err` (for bindings that do not read the struct). Thread-safe. */
KSAFE_EXPORT ksafe_error_code_t ksafe_error_code(const ksafe_error_t *err);

/** The name of an error code: "none", "out of memory", "invalid argument",
 *  "io", "parse", "policy", "unknown environment", "unsafe"; "unknown" for a
 *  value that is not a ksafe_error_code_t. A static string (never NULL, do
 *  not free it). Thread-safe. */
KSAFE_EXPORT const char *ksafe_error_code_name(ksafe_error_code_t code);

/** Free a string that ksafe returned to the caller ("ksafe_free() it"):
 *  ksafe_report_to_json(), ksafe_report_to_text(), ksafe_report_escape(),
 *  ksafe_policy_to_json(), ksafe_config_render(), ksafe_config_effective().
 *  It is free() of the C runtime that the library uses, which a caller
 *  with another allocator or another C runtime must call instead of its
 *  own. NULL does nothing. Thread-safe. */
KSAFE_EXPORT void ksafe_free(void *ptr);

/** What a policy rule does when a configuration fails it. */
typedef enum ksafe_action_e {
        /** The facade sets a compliant value; the linter reports an error
         *  that --fix can repair. */
        KSAFE_ACTION_ENFORCE = 0,
        /** The facade refuses to create the handle; the linter reports an
         *  error. */
        KSAFE_ACTION_REJECT = 1,
        /** Reported, never fatal (unless the linter is told -W error). */
        KSAFE_ACTION_WARN = 2,
} ksafe_action_t;

/** How serious a violation is for a reader: reject and enforce are
 *  errors, warn is a warning. */
typedef enum ksafe_severity_e {
        KSAFE_SEVERITY_ERROR = 0,
        KSAFE_SEVERITY_WARNING = 1,
} ksafe_severity_t;

/**
 * One rule that one configuration failed.
 *
 * All strings are owned by the report and valid until
 * ksafe_report_destroy(). Fields that do not apply are NULL (strings) or 0.
 * Every string is safe to print on one line and in a terminal, and is
 * valid UTF-8: it is kept as ksafe_report_escape() writes it, so a value,
 * a name, a rule id or a reason cannot forge a finding of its own.
 * New fields may be added at the end in later versions: never allocate or
 * copy this struct yourself.
 */
typedef struct ksafe_violation_s {
        const char *rule_id;   /**< "acks-all", or an engine rule such as
                                *   "ksafe-invalid-value" */
        const char *property;  /**< the name as written: "acks", "topic.acks" */
        const char *canonical; /**< librdkafka's canonical name:
                                *   "request.required.acks" */
        const char *actual;    /**< the value as librdkafka reads it, or
                                *   "(redacted)" for a sensitive property;
                                *   NULL when the value is unknown */
        const char *expected;  /**< what the rule wants: "all (-1)",
                                *   "<= 5", "one of ssl, sasl_ssl" */
        const char *fix;       /**< the compliant value that enforcement sets
                                *   (and --fix writes), NULL if none */
        const char *why;       /**< the rule's reason, NULL if none */
        const char *message;   /**< one sentence for a person */
        const char *file;      /**< the file that set the value, or NULL */
        int line;              /**< 1-based line in file, 0 if unknown */
        int column;            /**< 1-based column in file, 0 if unknown */
        ksafe_action_t action;
        ksafe_severity_t severity;
        /** true: the configuration sets it (even to librdkafka's default
         *  value; for a topic-level property of a conf, as librdkafka
         *  tells); false: librdkafka's default, or what its finalize
         *  derives */
        bool is_set;
        /** enforcement set `fix` in the conf; never in a report that is
         *  refused (ksafe_report_rejected()): a refusal sets nothing */
        bool fixed;
} ksafe_violation_t;

/*
 * Policies
 */

/**
 * The safe default policy compiled into the library (conf/policies/default.json):
 * idempotence on, acks=all, at most 5 requests in flight, retries >= 1 and
 * a bounded delivery.timeout.ms that covers linger.ms + request.timeout.ms.
 *
 * Returns a new policy (ksafe_policy_destroy() it), or NULL only when out
 * of memory. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_policy_t *ksafe_policy_default(void);

/**
 * Load a policy file (format version 1, see README) and resolve it for one
 * environment.
 *
 * `path` must not be NULL; "builtin:default" names the compiled-in default
 * policy. `env` selects a section of "environments"
 * ("dev", "staging", "prod", ...); NULL or "" uses the rules without any
 * environment section. `extends` paths are relative to the file's folder.
 *
 * The policy must load for every environment it names (and for none), not
 * only for `env`: a section that breaks "prod" fails a load for "dev" too.
 *
 * `path` and every file it extends must be regular files (a FIFO or a
 * device is refused without being read); a relative `extends` is taken
 * from the folder of the real file, symlinks resolved.
 *
 * Returns the resolved policy (ksafe_policy_destroy() it), or NULL with
 * `err` filled in (its code in brackets): unreadable file [IO], JSON syntax
 * (line and column) [PARSE], unknown field or wrong type (JSON path;
 * reported before any error of meaning), unknown property (with a "did you
 * mean"), duplicate rule id, extends cycle, rules that no configuration
 * can pass (a fractional bound on an integer property, a bound outside
 * librdkafka's range, rules of one property that contradict each other) or
 * an enforce fix that another rule refuses [POLICY], unknown environment
 * (the known ones listed) [UNKNOWN_ENV], a weakened baseline rule without
 * "allow_unsafe": true [UNSAFE], NULL `path` or an unknown "builtin:" name
 * [INVALID_ARGUMENT], out of memory [OUT_OF_MEMORY]. `err` may be NULL.
 * Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_policy_t *ksafe_policy_load(const char *path, const char *env,
                                                                 ksafe_error_t *err);

/**
 * Like ksafe_policy_load() for a policy held in memory (`source` in errors
 * is "<string>"). A relative `extends` path is resolved against the
 * current directory. `json` must be a NUL-terminated string (NULL is
 * KSAFE_ERROR_INVALID_ARGUMENT). The caller keeps `json`. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_policy_t *ksafe_policy_load_string(const char *json,
                                                                        const char *env,
                                                                        ksafe_error_t *err);

/**
 * The policy that the deployment chose: the file named by the environment
 * variable KSAFE_POLICY resolved for KSAFE_ENV; when KSAFE_POLICY is unset
 * or empty, the system policy file (/etc/ksafe/policy.json in the Debian
 * packages, SYSCONFDIR/ksafe/policy.json as built) if anything is there;
 * else the default policy (resolved for KSAFE_ENV).
 *
 * A KSAFE_POLICY that is set, or a system policy file that is there, but
 * cannot be loaded is an error (NULL, `err` filled in, as
 * ksafe_policy_load() fills it), never a silent fallback to the default. Returns a new policy
 * (ksafe_policy_destroy() it). Thread-safe as far as getenv() is (no thread changes the
 * environment).
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_policy_t *ksafe_policy_from_env(ksafe_error_t *err);

/**
 * The system policy: the organisation's policy file (/etc/ksafe/policy.json
 * in the Debian packages, SYSCONFDIR/ksafe/policy.json as built, none with
 * meson -Dsystem_policy=none) resolved for `env`, if anything is there;
 * else the default policy resolved for `env` (NULL for none). A file that
 * is there but cannot be loaded (unreadable, broken, a dangling link) is an
 * error (NULL, `err` filled in as ksafe_policy_load() fills it), never a
 * fallback to the default. What ksafe_policy_from_env() and ksafe-lint use
 * when KSAFE_POLICY is unset or empty. Returns a new policy
 * (ksafe_policy_destroy() it). Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_policy_t *ksafe_policy_load_system(const char *env,
                                                                        ksafe_error_t *err);

/** Free a policy. NULL does nothing. Thread-safe, once no other thread
 *  uses the policy any more. */
KSAFE_EXPORT void ksafe_policy_destroy(ksafe_policy_t *policy);

/** The policy's "name", else its source (never NULL; "builtin:default" for
 *  the default). Owned by the policy: valid until it is destroyed.
 *  Thread-safe. */
KSAFE_EXPORT const char *ksafe_policy_name(const ksafe_policy_t *policy);

/** The environment the policy was resolved for, or NULL for none. Owned by
 *  the policy: valid until it is destroyed. Thread-safe. */
KSAFE_EXPORT const char *ksafe_policy_env(const ksafe_policy_t *policy);

/** true when the policy weakens the safety baseline ("allow_unsafe").
 *  Thread-safe. */
KSAFE_EXPORT bool ksafe_policy_allows_unsafe(const ksafe_policy_t *policy);

/**
 * The resolved policy as JSON (version 1, "extends" and "environments"
 * applied): what the engine will actually judge by. ksafe_free() it.
 * NULL only when out of memory. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_policy_to_json(const ksafe_policy_t *policy);

/*
 * Judging librdkafka configurations and handles
 */

/**
 * Judge `conf` (with the default topic conf it carries) against `policy`
 * without changing it. Values the caller did not set are judged as
 * librdkafka's rd_kafka_new() would finalize them (with idempotence on,
 * unset acks, max.in.flight and retries become -1, 5 and INT32_MAX; every
 * adjustment of librdkafka 2.0.2 is modelled, see the README).
 *
 * A property set to its default value is set. librdkafka tells which
 * global properties a conf sets; for a topic-level one at its default ksafe
 * asks librdkafka when it matters (required, forbidden, a transactional
 * producer's delivery.timeout.ms) by making a throw-away consumer handle
 * with debug=conf from a copy of the topic conf; if that fails, both
 * readings are judged and the rule passes only when both pass. Floats are
 * judged as rd_kafka_conf_get() shows them (%g).
 *
 * Both arguments must not be NULL; `conf` stays the caller's. Returns a
 * report (ksafe_report_destroy() it), NULL only when out of memory.
 * Thread-safe, as long as no other thread changes `conf` meanwhile.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_report_t *ksafe_conf_check(const rd_kafka_conf_t *conf,
                                                                const ksafe_policy_t *policy);

/**
 * Judge `conf` and apply the policy's enforce actions to it.
 *
 * reject and warn rules are judged on the configuration as given. Every
 * failing enforce rule gets its compliant value (topic-level properties in
 * the default topic conf, or in the topic-level twin that wins:
 * topic.compression.codec), and the result is judged once more: an
 * enforce rule still failing then is an error of the report. A conf cannot
 * unset a property: enforcing `forbidden` sets the value librdkafka uses
 * when it is not set (never one rd_kafka_new() refuses). Float properties
 * that a rule judges are set to their %g reading, the value judged.
 *
 * All of that is worked out first on a view of `conf`, the values chosen
 * held by ksafe only (the same path as ksafe_producer_new(); no copy of
 * `conf` is made). When the report is refused (ksafe_report_rejected(): a
 * reject rule failed, an enforce rule cannot be satisfied, or
 * rd_kafka_new() would refuse the result), `conf` is left exactly as it
 * was (rd_kafka_conf_dump() shows the same: nothing was set) and no
 * violation of the report is `fixed`. Otherwise the same values are set in
 * `conf` itself, in order, and each one set is read back; should `conf`
 * refuse one of them there (an interceptor of its own), `conf` keeps the
 * values set before it, only rules whose own value was set are `fixed`,
 * and so a refused repair refuses the report (a refused float reading
 * leaves that float as it was given); should `conf` not keep a value as
 * it was set, `conf` as it is is judged and its failures refuse the
 * report.
 *
 * Both arguments must not be NULL; `conf` stays the caller's. Returns a
 * report (ksafe_report_destroy() it), NULL only when out of memory (then
 * `conf` is unchanged). Thread-safe, as long as no other thread uses `conf`
 * meanwhile.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_report_t *ksafe_conf_enforce(rd_kafka_conf_t *conf,
                                                                  const ksafe_policy_t *policy);

/**
 * Create a producer that satisfies `policy`: the drop-in for
 * rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size).
 *
 * The policy is judged and enforced (see ksafe_conf_enforce()) on a view of
 * `conf` first, the compliant values held by ksafe only. When it refuses,
 * nothing else happens. Otherwise those values are set on `conf` itself (so
 * that interceptors added to it stay: rd_kafka_conf_dup() would not copy
 * them) and read back, the producer is created from it, and the created
 * handle is audited (ksafe_handle_audit()) before it is returned. `conf`
 * NULL means librdkafka's defaults.
 *
 * Ownership follows rd_kafka_new(): on success the handle owns `conf` (do
 * not use or destroy it again); on failure the caller still owns `conf`:
 *  - refused by the policy (or the policy could not be loaded): `conf` is
 *    exactly as it was passed in;
 *  - the enforced values did not hold once set on `conf` (an interceptor
 *    of its own refused or dropped one), or rd_kafka_new() failed: `conf`
 *    holds the enforced values set until then (and is left as
 *    rd_kafka_new() leaves it).
 * The audit judges the handle with what the pre-check knew about which
 * properties were set, and ksafe models every adjustment of librdkafka
 * 2.0.2's finalize, so no policy reaches a failing audit unless ksafe's
 * model is wrong (a bug to report). Then, and only then, the handle is
 * destroyed and `conf` with it: ksafe_report_conf_consumed() on the report
 * is true (and errstr ends with "conf was consumed with it").
 *
 * A float property (linger.ms) is judged as rd_kafka_conf_get() shows it
 * (%g, six significant digits) and set to that value in `conf`, so that
 * the producer uses exactly what was judged.
 *
 * `policy` NULL means ksafe_policy_from_env() (loaded for this call).
 * `reportp` may be NULL; otherwise *reportp receives the report (also on
 * failure, when one was made; NULL otherwise), to be destroyed by the
 * caller. `errstr` may be NULL when errstr_size is 0.
 *
 * Returns the handle, or NULL with a reason in errstr: a reject rule
 * failed (every such rule named), an enforce rule could not be satisfied,
 * the policy could not be loaded, rd_kafka_new() failed, or the created
 * handle failed the audit. Thread-safe (for different confs).
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED rd_kafka_t *ksafe_producer_new(rd_kafka_conf_t *conf,
                                                              const ksafe_policy_t *policy,
                                                              ksafe_report_t **reportp,
                                                              char *errstr, size_t errstr_size);

/**
 * true when ksafe_producer_new() destroyed `conf`: the created handle
 * failed the audit (which means ksafe's model of librdkafka is wrong, a
 * bug to report) and was destroyed with the conf it owned. The caller must
 * then not destroy `conf` again. Only on that path: every other failure
 * leaves `conf` to the caller. The report has a violation
 * "ksafe-audit-failed" then. false for NULL. Thread-safe.
 */
KSAFE_EXPORT bool ksafe_report_conf_consumed(const ksafe_report_t *report);

/**
 * Judge an existing handle: its configuration as rd_kafka_new() finalized
 * it (rd_kafka_conf(rk)) and its default topic configuration.
 *
 * Which properties were set is read from the handle too (a copy of its
 * conf replays them; for topic-level ones librdkafka is asked as for
 * ksafe_conf_check()): values that finalize adjusted are not "set".
 *
 * Works on any handle; for a consumer, producer rules are judged all the
 * same. Both arguments must not be NULL; `rk` stays the caller's. Returns
 * a report (ksafe_report_destroy() it), NULL only when out of memory.
 * Thread-safe (librdkafka's handles are).
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_report_t *ksafe_handle_audit(rd_kafka_t *rk,
                                                                  const ksafe_policy_t *policy);

/**
 * Create a topic handle whose topic-level configuration satisfies `policy`:
 * the drop-in for rd_kafka_topic_new(rk, topic, tconf).
 *
 * rd_kafka_topic_new() with a topic conf replaces the producer's default
 * topic conf, so a per-topic `acks=1` would bypass ksafe_producer_new().
 * This function enforces the topic-level rules on `tconf` (NULL means a
 * copy of the producer's default topic conf), refuses reject violations,
 * and judges the result once more before creating the topic. Rules on a
 * global property whose topic-level twin wins at produce time
 * (compression.codec unless "inherit") are judged on the topic conf too.
 *
 * A topic that `rk` already has a handle for (made by rd_kafka_topic_new(),
 * by producing to it, or by an earlier ksafe_topic_new()) is refused (NULL,
 * no report): rd_kafka_topic_new() would return it as it is and drop
 * `tconf`, and librdkafka 2.0.2 cannot show a created topic's conf, so it
 * cannot be judged. Keep the handle the first call returned. To tell, ksafe
 * gives rd_kafka_topic_new() a topic conf with acks=0, which librdkafka
 * refuses for a new topic of an idempotent producer (so nothing is made;
 * its log line about it is suppressed: the handle's log_level is 0 for
 * the moment of that call, then restored): `rk` must be an idempotent
 * producer, else the call fails. A topic that another thread creates at
 * the same moment is refused when its opaque differs from `tconf`'s.
 *
 * Like rd_kafka_topic_new(), `tconf` is consumed: freed by this function
 * also when it fails. `reportp` and `errstr` as for ksafe_producer_new();
 * `policy` NULL means ksafe_policy_from_env(). `rk` and `topic` must not
 * be NULL. Returns the topic handle (rd_kafka_topic_destroy() it), or NULL
 * with a reason in errstr. Thread-safe, as rd_kafka_topic_new() is.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED rd_kafka_topic_t *ksafe_topic_new(rd_kafka_t *rk, const char *topic,
                                                                 rd_kafka_topic_conf_t *tconf,
                                                                 const ksafe_policy_t *policy,
                                                                 ksafe_report_t **reportp,
                                                                 char *errstr, size_t errstr_size);

/*
 * Producer configuration files
 */

/** The syntax of a configuration file. */
typedef enum ksafe_format_e {
        /** JSON when the name ends in ".json" or the text starts with '{',
         *  else properties. */
        KSAFE_FORMAT_AUTO = 0,
        /** librdkafka/kcat/Java .properties: key=value, key: value,
         *  key value; # and ! comments; backslash continuations. */
        KSAFE_FORMAT_PROPERTIES = 1,
        /** A JSON object of property names to scalars. A
         *  "default.topic.config" object in it is merged the way Python's
         *  confluent-kafka merges it: its members are set as properties
         *  (one that the top level also has wins over it, in its place; the
         *  others after every top-level key), each at its own line. */
        KSAFE_FORMAT_JSON = 2,
} ksafe_format_t;

/** Whose property names a config file is written for. */
typedef enum ksafe_dialect_e {
        /** librdkafka's names, read the way kcat -F reads a file: a name
         *  librdkafka does not know is an error (ksafe-unknown-property),
         *  and a line that kcat reads otherwise than Java's .properties
         *  rules is a finding (ksafe-kcat-syntax), a UTF-8 BOM and '!'
         *  comment lines included. Backslashes stay in values, except
         *  before ':' and '=', which kcat strips. */
        KSAFE_DIALECT_LIBRDKAFKA = 0,
        /** Read exactly as java.util.Properties.load() reads the file:
         *  escapes decoded in keys and values (\uXXXX, \t, \n, ...), a
         *  value's trailing blanks kept (and trimmed before judging, as the
         *  Java client does), a BOM kept in the first key (reported: that
         *  line never reaches the client). The Java client's own properties
         *  (key.serializer, buffer.memory, ...) are accepted, and other
         *  unknown names are warnings. */
        KSAFE_DIALECT_JAVA = 1,
} ksafe_dialect_t;

/** The `version` of ksafe_config_options_t that this header describes. */
#define KSAFE_CONFIG_OPTIONS_VERSION 1

/**
 * How to read a config file. Allocated by the caller: initialise it with
 * KSAFE_CONFIG_OPTIONS_INIT (or ksafe_config_options_init()), then change
 * the fields you need:
 *
 *     ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
 *     options.dialect = KSAFE_DIALECT_JAVA;
 *
 * `version` tells the library which layout the caller was compiled with;
 * a later ksafe may add fields at the end under a new version and still
 * read this one. A version it does not know (0 too: a struct not
 * initialised) is refused with KSAFE_ERROR_INVALID_ARGUMENT.
 */
typedef struct ksafe_config_options_s {
        unsigned int version;    /**< KSAFE_CONFIG_OPTIONS_VERSION */
        ksafe_format_t format;   /**< KSAFE_FORMAT_AUTO by default */
        ksafe_dialect_t dialect; /**< KSAFE_DIALECT_LIBRDKAFKA by default */
        /** For JSON: an RFC 6901 pointer to the object that holds the
         *  properties ("/kafka/producer"); NULL (the default) or "" for
         *  the top level. Borrowed: it must stay valid during the call. */
        const char *json_pointer;
} ksafe_config_options_t;

/** The defaults, for the current version of ksafe_config_options_t. */
#define KSAFE_CONFIG_OPTIONS_INIT                                                                  \
        {                                                                                          \
                KSAFE_CONFIG_OPTIONS_VERSION, KSAFE_FORMAT_AUTO, KSAFE_DIALECT_LIBRDKAFKA, NULL    \
        }

/**
 * Set `*options` to the defaults of `version` (pass
 * KSAFE_CONFIG_OPTIONS_VERSION): what KSAFE_CONFIG_OPTIONS_INIT does, for
 * languages that cannot use the macro. Returns false, leaving `*options`
 * unchanged, when this library does not know `version`. `options` must
 * not be NULL. Thread-safe.
 */
KSAFE_EXPORT bool ksafe_config_options_init(ksafe_config_options_t *options, unsigned int version);

/**
 * Read a producer configuration held in memory.
 *
 * `data` (`len` bytes, need not be NUL-terminated, must not be NULL) is
 * read as `options` say (NULL: the defaults of KSAFE_CONFIG_OPTIONS_INIT);
 * `source` names it in findings ("-" or "<stdin>" for standard input; NULL
 * means "<string>"). Every property keeps the line and column that set it.
 * The config keeps a copy of `data`: the caller keeps its own.
 *
 * Returns the config (ksafe_config_destroy() it), or NULL with `err`
 * filled in for what cannot be read at all: malformed JSON, a JSON text
 * that is not an object, a JSON pointer to nothing, a NUL byte [PARSE];
 * `options` of an unknown version, format or dialect, a JSON pointer that
 * does not start with '/' [INVALID_ARGUMENT]; out of memory.
 * Problems of single lines (unknown property, invalid value, duplicate key)
 * are not errors here: ksafe_config_check() reports them as findings.
 * `err` may be NULL. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_config_t *ksafe_config_read(
        const char *data, size_t len, const char *source, const ksafe_config_options_t *options,
        ksafe_error_t *err);

/**
 * Read the file at `path` (not NULL), then as ksafe_config_read() does,
 * with `path` as the source. The file must be a regular file (a FIFO or a
 * device is refused without being read) of at most KSAFE_CONFIG_MAX_SIZE
 * bytes: otherwise NULL with "cannot read: ..." [IO]. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_config_t *ksafe_config_read_file(
        const char *path, const ksafe_config_options_t *options, ksafe_error_t *err);

/**
 * Add a property after those of the file, as kcat's -X does: it wins over
 * the file's own setting. `origin` names it in findings (NULL means
 * "<command line>"); its line is the count of properties added so far.
 * `config`, `name` and `value` must not be NULL; the config copies the
 * strings. Returns false when out of memory (the config is unchanged).
 * Not thread-safe on one config.
 */
KSAFE_EXPORT bool ksafe_config_set(ksafe_config_t *config, const char *name, const char *value,
                                   const char *origin);

/** Free a config. NULL does nothing. Thread-safe, once no other thread
 *  uses the config any more. */
KSAFE_EXPORT void ksafe_config_destroy(ksafe_config_t *config);

/**
 * A `ksafe-lint: disable=RULE[,RULE] -- reason` directive that the reader
 * found in a config: a comment of a .properties file (`#`, or `!`), or the
 * `"$ksafe-lint": {"disable": [...], "reason": "..."}` member of a JSON
 * object of properties (which is then no property). ksafe-lint suppresses
 * findings by them; the library judges and enforces every rule whatever
 * they say. Strings are owned by the config, escaped as
 * ksafe_report_escape() does, and valid until ksafe_config_destroy().
 */
typedef struct ksafe_directive_s {
        int line;           /**< the comment's line (the key's, in JSON) */
        int target_line;    /**< the line of the property after the comment,
                             *   0 when none follows (or file_wide) */
        bool file_wide;     /**< the file's first comment, or JSON's member:
                             *   it applies to the whole file */
        const char *rules;  /**< the rule ids, comma-separated as written;
                             *   NULL when the comment or member is not a
                             *   directive that ksafe-lint knows */
        const char *reason; /**< the text after " -- " (JSON: "reason"), NULL
                             *   when there is none */
} ksafe_directive_t;

/** How many directives the config's file holds, in the order of the file.
 *  0 for NULL. Thread-safe for a config that no one changes. */
KSAFE_EXPORT size_t ksafe_config_directive_count(const ksafe_config_t *config);

/** The i-th directive (i < ksafe_config_directive_count()), owned by the
 *  config; NULL when out of range. Thread-safe for a config that no one
 *  changes. */
KSAFE_EXPORT const ksafe_directive_t *ksafe_config_directive_get(const ksafe_config_t *config,
                                                                 size_t i);

/**
 * Judge a config read from a file against `policy`.
 *
 * Besides the policy's rules this reports what librdkafka would do with the
 * file that its author may not expect: unknown properties (with a "did you
 * mean"; errors, warnings under KSAFE_DIALECT_JAVA), values librdkafka
 * refuses (strings included, and properties this build of librdkafka does
 * not support, with librdkafka's own message), values it reads differently from how
 * they are written (`1e3` is 1, `010` is 8, `4294967301` is 5), keys set
 * twice (the last one wins; in JSON an error, as readers differ), lines
 * kcat reads otherwise, and what rd_kafka_new() would refuse. Findings are
 * in the order of the file. Both arguments must not be NULL. Returns a
 * report (ksafe_report_destroy() it), NULL only when out of memory.
 * Thread-safe, as long as no other thread changes the config meanwhile.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_report_t *ksafe_config_check(const ksafe_config_t *config,
                                                                  const ksafe_policy_t *policy);

/**
 * Apply the policy's enforce actions to a config read from a file: the
 * same judgement and repair as ksafe_conf_enforce(), on the file's values.
 * Nothing is written anywhere: ksafe_config_render() gives the new text.
 * When a reject rule fails, or enforcement cannot satisfy every enforce
 * rule (two rules that want different values), the config is left
 * unchanged. Findings about single lines (misread values, ...) do not stop
 * the repair of other lines. Both arguments must not be NULL. Returns the
 * report (ksafe_report_destroy() it; each repaired violation has `fixed`
 * set), NULL when out of memory. Not thread-safe on one config.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED ksafe_report_t *ksafe_config_enforce(ksafe_config_t *config,
                                                                    const ksafe_policy_t *policy);

/**
 * The config's text with the changes of ksafe_config_enforce(): a changed
 * value is replaced where it was written, a missing property is appended,
 * a forbidden one is removed; comments, order, line endings and a BOM are
 * kept. *lenp (may be NULL) gets the length. ksafe_free() it; NULL when
 * out of memory. Properties added with ksafe_config_set() are not part of
 * it. Thread-safe, as long as no other thread changes the config.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_config_render(const ksafe_config_t *config,
                                                         size_t *lenp);

/** Number of properties that ksafe_config_enforce() changed. Thread-safe,
 *  as long as no other thread changes the config. */
KSAFE_EXPORT size_t ksafe_config_change_count(const ksafe_config_t *config);

/**
 * The effective configuration as librdkafka would see it: every property
 * the config sets and every property the policy judges, one
 * "name=value" line each, with the changes of ksafe_config_enforce() and
 * the values librdkafka derives; sensitive values are "(redacted)". Values
 * are shown as the client gets them (a Java file's escapes decoded), then
 * escaped as ksafe_report_escape() escapes them, one line each. Both
 * arguments must not be NULL. ksafe_free() it; NULL when out of memory.
 * Thread-safe, as long as no other thread changes the config.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_config_effective(const ksafe_config_t *config,
                                                            const ksafe_policy_t *policy);

/*
 * Reports
 */

/*
 * Every function of this section accepts a NULL report (what a function
 * that makes reports returns when out of memory): it is an empty report
 * that is refused, and it has no rendering. A report is never changed
 * after it is returned: the functions that read it are thread-safe.
 */

/** Number of violations in the report (0 for NULL). Thread-safe. */
KSAFE_EXPORT size_t ksafe_report_count(const ksafe_report_t *report);

/** The i-th violation, in the order of the configuration, or NULL when
 *  i >= ksafe_report_count() (always for a NULL report). Owned by the
 *  report: valid until it is destroyed. Thread-safe. */
KSAFE_EXPORT const ksafe_violation_t *ksafe_report_get(const ksafe_report_t *report, size_t i);

/**
 * true when the configuration is refused: a reject rule failed, or
 * (after enforcement) an enforce rule could not be satisfied. A report
 * made without enforcement (ksafe_conf_check(), ksafe_config_check()) is
 * refused only for reject rules. A NULL report (out of memory) is refused:
 * a caller that only checks this fails closed. Thread-safe.
 * (It returned int up to 0.2.0.)
 */
KSAFE_EXPORT bool ksafe_report_rejected(const ksafe_report_t *report);

/** Number of violations of the given severity (0 for NULL). Thread-safe. */
KSAFE_EXPORT size_t ksafe_report_severity_count(const ksafe_report_t *report,
                                                ksafe_severity_t severity);

/**
 * The report as JSON: {"version":1,"policy":...,"environment":...,
 * "allow_unsafe":...,"rejected":...,"violations":[{...}]} (shape in the
 * README). Sensitive values are redacted; strings are escaped as the
 * violation's fields are. ksafe_free() it; NULL when out of memory or
 * when `report` is NULL. Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_report_to_json(const ksafe_report_t *report);

/**
 * The report as text, one line per violation:
 * "file:line:col: error: message [rule-id]" (the location only when the
 * configuration came from a file); a violation that enforcement repaired
 * reads "enforced: message [rule-id] (set to VALUE)". A policy with
 * "allow_unsafe" adds a last "note: ..." line; otherwise a clean report
 * is the empty string. Every string in it is escaped
 * (ksafe_report_escape()): one line per violation, whatever the policy
 * and the configuration hold.
 * ksafe_free() it; NULL when out of memory or when `report` is NULL (no
 * report is not a clean one). Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_report_to_text(const ksafe_report_t *report);

/** Free a report. NULL does nothing. Thread-safe, once no other thread
 *  uses the report any more. */
KSAFE_EXPORT void ksafe_report_destroy(ksafe_report_t *report);

/**
 * `s` made safe to print on one line, in a terminal, in JSON and in XML:
 * the escaping that every report, errstr and ksafe-lint output applies to
 * what ksafe did not write itself (rule ids, policy names, reasons,
 * property names, values, file names).
 *
 * Newline, carriage return and tab become "\n", "\r", "\t"; any other
 * control character (U+0000..U+001F, U+007F) and every byte that is not
 * part of valid UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF included) becomes "\xNN" (its byte value, lower-case hex);
 * the valid code points that still end a line for some reader, move the
 * cursor or reorder the text (C1 controls U+0080..U+009F, U+2028, U+2029,
 * the bidirectional overrides U+202A..U+202E and isolates U+2066..U+2069)
 * and U+FFFE, U+FFFF become "\uNNNN". Everything else, a backslash too,
 * is kept as it is, so escaping twice changes nothing; the result is
 * valid UTF-8 without control characters.
 *
 * ksafe_free() the result; NULL when `s` is NULL or out of memory.
 * Thread-safe.
 */
KSAFE_EXPORT KSAFE_WARN_UNUSED char *ksafe_report_escape(const char *s);

/*
 * Small helpers
 */

/** "enforce", "reject" or "warn" ("unknown" for another value): a static
 *  string. Thread-safe. */
KSAFE_EXPORT const char *ksafe_action_name(ksafe_action_t action);

/** "error" or "warning": a static string. Thread-safe. */
KSAFE_EXPORT const char *ksafe_severity_name(ksafe_severity_t severity);

/** true when the values of property `name` must never be printed
 *  (passwords, secrets, private keys, *.pem, ...). Any name, known or not,
 *  compared without regard to ASCII case in every locale; `name` must not
 *  be NULL. Thread-safe. */
KSAFE_EXPORT bool ksafe_property_is_sensitive(const char *name);

/** The version of the linked library, encoded as KSAFE_VERSION is
 *  (0x000300 for 0.3.0): compare it with KSAFE_VERSION, the header's, to
 *  tell a library older than the program was built for. Thread-safe. */
KSAFE_EXPORT int ksafe_version(void);

/** The version of the linked library as a string ("0.3.0"): its
 *  KSAFE_VERSION_STR. A static string. Thread-safe. */
KSAFE_EXPORT const char *ksafe_version_str(void);

/*
 * librdkafka plugin: libksafe.so is also a librdkafka plugin
 * (plugin.library.paths=libksafe in any librdkafka-based client) and so
 * exports librdkafka's plugin entry point:
 *
 *     rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep,
 *                                   char *errstr, size_t errstr_size);
 *
 * librdkafka calls it when the property is set. It is no part of the C API
 * and deliberately not declared here (a program of its own may be a plugin
 * too): a program that links libksafe calls the functions above.
 */

#ifdef __cplusplus
}
#endif

#endif /* KSAFE_H */
