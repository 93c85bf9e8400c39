/*
 * Internal declarations shared between the files of lib/.
 * Nothing here is exported: only include/ksafe.h is the API.
 */
#ifndef KSAFE_INT_H
#define KSAFE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "ksafe.h"

#define KSAFE_REDACTED "(redacted)"

/** The number of elements of an array (not of a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define KSAFE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define KSAFE_PRINTF(fmt, args)
#endif

/*
 * Naming: internal functions shared between files are spelled
 * ksafe_<module>__<verb> (two underscores; libgit2's convention), so that
 * a reader and grep tell them from the public ksafe_<module>_<verb> API.
 * Utilities of no module are ksafe__<verb>.
 */

/*
 * buf.c: a growable string; file.c: reading files; error.c: ksafe_error_t
 */

/** A growable string. A failed allocation sets `failed` and makes
 *  ksafe_buf__take() return NULL, so callers check once at the end. */
typedef struct ksafe_buf_s {
        char *data;
        size_t len;
        size_t cap;
        bool failed;
} ksafe_buf_t;

void ksafe_buf__printf(ksafe_buf_t *buf, const char *fmt, ...) KSAFE_PRINTF(2, 3);
void ksafe_buf__vprintf(ksafe_buf_t *buf, const char *fmt, va_list ap) KSAFE_PRINTF(2, 0);
void ksafe_buf__append(ksafe_buf_t *buf, const char *s, size_t len);
/** Append each string (NULL ends the list): printf("%s%s...") without
 *  the format machinery. */
void ksafe_buf__cat(ksafe_buf_t *buf, ...) __attribute__((sentinel));
/** Append `s` as a JSON string literal, quotes included. */
void ksafe_buf__json_string(ksafe_buf_t *buf, const char *s);
/** vsprintf() into a new string (free() it); NULL when out of memory. */
char *ksafe__vformat(const char *fmt, va_list ap) KSAFE_PRINTF(1, 0);
/** Hand over the string (never NULL unless failed); the buffer is reset. */
char *ksafe_buf__take(ksafe_buf_t *buf);
void ksafe_buf__free(ksafe_buf_t *buf);

/** A growable array is a T *items with a size_t count and cap of its own:
 *  KSAFE_ARRAY_RESERVE(items, count, cap) makes room for items[count],
 *  doubling cap (from KSAFE_ARRAY_FIRST, fewer items when they are large:
 *  a first block of at most 512 bytes) when the array is full. false when
 *  out of memory: the array is unchanged. */
#define KSAFE_ARRAY_FIRST 16
#define KSAFE_ARRAY_RESERVE(items, count, cap)                                                     \
        ksafe_array__reserve(&(items), sizeof(*(items)), (count), &(cap))
bool ksafe_array__reserve(void *itemsp, size_t size, size_t count, size_t *cap);

/** strdup() that passes NULL through. */
char *ksafe__strdup(const char *s);
/** A whole number below 10^15 in magnitude (not -0) written as its digits
 *  into buf (at least 18 bytes): what "%.0f" and "%.15g" print, without
 *  printf. NULL (buf untouched) for any other number. */
const char *ksafe__whole_number(double d, char *buf, size_t size);
/** The largest config or policy file ksafe reads (EFBIG beyond). */
#define KSAFE_MAX_FILE ((size_t)64 << 20)
_Static_assert(KSAFE_MAX_FILE == KSAFE_CONFIG_MAX_SIZE, "ksafe.h documents the cap");

/** Read a whole file; NULL with errno set on failure (EINVAL or EISDIR for
 *  a file that is not a regular file: see ksafe_file__read_regular()). */
char *ksafe_file__read(const char *path, size_t *lenp);

/** Which file a path led to, whatever name it was reached by (dev, ino),
 *  and which version of it was read: size, times and a hash of the bytes
 *  read, so that a cache keyed by it reloads a changed file. */
typedef struct ksafe_file_id_s {
        unsigned long long dev, ino;
        unsigned long long size;
        long long mtime_ns, ctime_ns;
        unsigned long long hash; /* FNV-1a 64 of the content */
} ksafe_file_id_t;

/** FNV-1a 64 of `len` bytes: the content part of a ksafe_file_id_t. */
unsigned long long ksafe_file__hash(const char *data, size_t len);

/**
 * Read a whole regular file into a NUL-terminated heap buffer (free() it);
 * *lenp gets its length. The file is opened non-blocking and refused
 * unless fstat() says it is a regular file (a FIFO or a device would hang
 * or never end), or when it is larger than KSAFE_MAX_FILE. On failure:
 * NULL, errno set and a reason for a person in `why` ("a FIFO, not a
 * regular file", "No such file or directory"). `idp` may be NULL.
 */
char *ksafe_file__read_regular(const char *path, size_t *lenp, ksafe_file_id_t *idp, char *why,
                               size_t why_size);

/** The organisation policy file that ksafe_policy_from_env() reads when KSAFE_POLICY is
 *  unset or empty ("" for none): KSAFE_SYSTEM_POLICY (meson -Dsystem_policy). A variable
 *  so that the unit tests can point it into a directory of their own. */
extern const char *ksafe_policy__system_path;
/** Is there anything at ksafe_policy__system_path (a file, or something that fails to
 *  load as one)? Then ksafe_policy_load_system() reads it. */
bool ksafe_policy__system_present(void);

/** conf/policies/default.json, compiled in (default_policy.c). */
extern const char ksafe_policy__default_json[];

/** jansson's error text without the "near '...'" token it quotes: the
 *  token may be a secret value. Truncates jerr->text in place. */
struct json_error_t;
const char *ksafe_error__json_text(struct json_error_t *jerr);

/** Fill in `err` (may be NULL). A source, path or text longer than its
 *  field is cut visibly, never inside a UTF-8 sequence: a source and a
 *  path keep their tail behind a leading "...", a text its head before a
 *  trailing "...". */
void ksafe_error__set(ksafe_error_t *err, ksafe_error_code_t code, const char *source,
                      const char *path, int line, int column, const char *fmt, ...)
        KSAFE_PRINTF(7, 8);
/** Empty `err` (may be NULL): what every public function that takes one
 *  does first. */
void ksafe_error__clear(ksafe_error_t *err);
/** Copy `src` into dst[size], cut as ksafe_error__set() cuts a path
 *  (fit_tail) or a text (fit_head). */
void ksafe_error__fit_tail(char *dst, size_t size, const char *src);
void ksafe_error__fit_head(char *dst, size_t size, const char *src);

/*
 * props.c: librdkafka's property table, read from the linked library;
 * propvalue.c: how librdkafka reads a value
 */

typedef enum ksafe_prop_type_e {
        KSAFE_PROP_INT,
        KSAFE_PROP_FLOAT,
        KSAFE_PROP_BOOL,
        KSAFE_PROP_ENUM,
        KSAFE_PROP_FLAGS,
        KSAFE_PROP_STRING,
        KSAFE_PROP_PATTERN,
        KSAFE_PROP_POINTER, /* set through a dedicated API only */
} ksafe_prop_type_t;

typedef enum ksafe_scope_e {
        KSAFE_SCOPE_GLOBAL,
        KSAFE_SCOPE_TOPIC,
} ksafe_scope_t;

typedef struct ksafe_prop_s {
        char *name;
        const struct ksafe_prop_s *canon; /* itself unless an alias */
        char *alias_of;                   /* the alias target's name, or NULL */
        ksafe_scope_t scope;
        ksafe_prop_type_t type;
        bool has_range;
        double min, max;
        char *values; /* enum/flags choices as listed, or NULL */
        char *def;    /* default as librdkafka reads it back; "" if none */
        bool sensitive;
        bool zero_infinite; /* "A time of 0 is infinite" */
        /* A global property's topic-level twin that can say "inherit" and
         * then replaces it at produce time (compression.codec), or NULL. */
        const struct ksafe_prop_s *topic_twin;
} ksafe_prop_t;

typedef struct ksafe_props_s ksafe_props_t;

/** The process's property table, built on first use (thread-safely) and
 *  shared by every policy and view: immutable, never freed by a caller.
 *  NULL only when out of memory (the next call tries again). */
ksafe_props_t *ksafe_props__new(void);
/** Does nothing: the table is the process's (kept for symmetry). */
void ksafe_props__destroy(ksafe_props_t *props);
/** Look a name up as librdkafka would on a global conf: global first,
 *  then topic-level, a "topic." prefix stripped. NULL when unknown. */
const ksafe_prop_t *ksafe_props__find(const ksafe_props_t *props, const char *name);
/** Number of rows of the table, and the row of a property in it (for
 *  arrays indexed by property). */
size_t ksafe_props__count(const ksafe_props_t *props);
size_t ksafe_props__index(const ksafe_props_t *props, const ksafe_prop_t *prop);
/** The i-th row of the table (aliases included, in the order that
 *  ksafe_props__suggest() searches), or NULL past the end. */
const ksafe_prop_t *ksafe_props__at(const ksafe_props_t *props, size_t i);
/** The known name nearest to `name` by edit distance, or NULL. */
const char *ksafe_props__suggest(const ksafe_props_t *props, const char *name);

/** Canonical properties the engine itself knows about (finalize model). */
typedef enum ksafe_well_known_e {
        KSAFE_P_IDEMPOTENCE,
        KSAFE_P_TRANSACTIONAL_ID,
        KSAFE_P_ACKS,
        KSAFE_P_INFLIGHT,
        KSAFE_P_RETRIES,
        KSAFE_P_MESSAGE_TIMEOUT,
        KSAFE_P_TRANSACTION_TIMEOUT,
        KSAFE_P__COUNT
} ksafe_well_known_t;
const ksafe_prop_t *ksafe_props__well_known(const ksafe_props_t *props, ksafe_well_known_t which);

/**
 * Parse `raw` as librdkafka does (set on a scratch conf, read back).
 * Returns the value as librdkafka reads it (free() it), or NULL with a
 * message in errstr when librdkafka refuses it (or out of memory); the
 * message never contains the value of a sensitive property.
 */
char *ksafe_prop__parse(const ksafe_prop_t *prop, const char *raw, char *errstr,
                        size_t errstr_size);
/**
 * Ask librdkafka about a name that its published table does not list (a
 * hidden property such as test.mock.num.brokers, or a Java name it
 * refuses with a hint such as ssl.truststore.location) by setting it on
 * `scratch`, a conf of the caller's that is thrown away after. Returns
 * librdkafka's answer; on RD_KAFKA_CONF_INVALID errstr has its message
 * (generic where it could quote a secret value).
 */
rd_kafka_conf_res_t ksafe_prop__probe(rd_kafka_conf_t *scratch, const char *name, const char *raw,
                                      char *errstr, size_t errstr_size);
/**
 * When librdkafka reads `raw` as `parsed` but a person reads it otherwise
 * ("1e3" is 1, "010" is 8, "4294967301" is 5), describe how into `why`
 * and return true.
 */
bool ksafe_prop__misread(const ksafe_prop_t *prop, const char *raw, const char *parsed, char *why,
                         size_t why_size);
/** A numeric value as the engine compares it: 0 is +inf for properties
 *  where librdkafka treats 0 as infinite. false when not a number. */
bool ksafe_prop__number(const ksafe_prop_t *prop, const char *value, double *out);
/** strtod(), the same answer, in a few instructions for a plain integer
 *  ("-?[0-9]{1,15}", what librdkafka prints for most values). */
double ksafe_prop__strtod(const char *s, char **end);

/*
 * view.c: a configuration as librdkafka will see it, from any source
 */

typedef enum ksafe_entry_status_e {
        KSAFE_ENTRY_OK,
        KSAFE_ENTRY_UNKNOWN,   /* no such property */
        KSAFE_ENTRY_INVALID,   /* librdkafka refuses the value */
        KSAFE_ENTRY_MISREAD,   /* librdkafka reads it otherwise than written */
        KSAFE_ENTRY_FOREIGN,   /* another client's property (--dialect java) */
        KSAFE_ENTRY_MALFORMED, /* a line that is not key=value */
} ksafe_entry_status_t;

/** One property as written in a file (or given on a command line). */
typedef struct ksafe_entry_s {
        char *name;               /* as written */
        char *raw;                /* as written */
        char *value;              /* as librdkafka reads it; NULL when invalid/unknown */
        char *note;               /* why invalid or misread; NULL otherwise */
        const ksafe_prop_t *prop; /* canonical; NULL when unknown */
        int line;
        int column;
        ksafe_entry_status_t status;
        int shadowed_by; /* index of the later entry that wins, or -1 */
        char *origin;    /* for ksafe_config_set() entries: the source to
                          * report instead of the file's (owned by the config) */
        /* Where it is in the file's text, for ksafe_config_render(). */
        size_t value_start, value_end; /* the value as written */
        size_t span_start, span_end;   /* the whole line(s) or JSON member */
        bool quoted;                   /* a JSON string */
        bool json_number;              /* a JSON number token */
        bool in_json;                  /* a member of a JSON object */
        unsigned json_object;          /* JSON: 0 for the properties' object, n for the
                                        * n-th default.topic.config object in it */
        bool container;                /* JSON: the default.topic.config member itself */
        bool bare;                     /* a line with no separator: not key=value */
        bool no_separator;             /* no '=', ':' or blank after the key (Java reads
                                        * an empty value): --fix must add one */
        bool comment;                  /* a comment line, here only for `syntax` */
        const char *syntax;            /* how kcat reads this line otherwise, or NULL */
        /* What ksafe_config_enforce() does to this line. */
        const char *replacement; /* the new value (a change's), or NULL */
        bool removed;
} ksafe_entry_t;

typedef struct ksafe_view_s ksafe_view_t;

/** A view of an unfinalized conf (values the caller did not set are
 *  judged as rd_kafka_new() would finalize them). Borrows `conf`. */
ksafe_view_t *ksafe_view__from_conf(const ksafe_props_t *props, const rd_kafka_conf_t *conf);
/** ksafe_view__from_conf() for a conf of ksafe's own that is thrown away
 *  after: it gets an interceptor (cheaper than copying it first). */
ksafe_view_t *ksafe_view__from_scratch_conf(const ksafe_props_t *props, rd_kafka_conf_t *conf);
/** A view of `conf` whose user-set properties are those of the view `like`
 *  (a copy of conf, to which the same values were set): no probing copy. */
ksafe_view_t *ksafe_view__from_conf_like(const ksafe_props_t *props, const rd_kafka_conf_t *conf,
                                         const ksafe_view_t *like);
/** A view of a created handle: finalized values, read from the handle. */
ksafe_view_t *ksafe_view__from_handle(const ksafe_props_t *props, rd_kafka_t *rk);
/** A view of a topic conf for a topic of `rk` (global values from `rk`).
 *  Borrows `tconf`. */
ksafe_view_t *ksafe_view__from_topic_conf(const ksafe_props_t *props, rd_kafka_t *rk,
                                          const rd_kafka_topic_conf_t *tconf);
/** A view of entries read from a file; borrows `entries` and `file`. */
ksafe_view_t *ksafe_view__from_entries(const ksafe_props_t *props, const char *file,
                                       const ksafe_entry_t *entries, size_t count);
void ksafe_view__destroy(ksafe_view_t *view);
/** Tell the view that `prop` was just set in the conf behind it: its cached
 *  value is dropped, and it now counts as set by the user (or, now_set
 *  false, as back to its default: a forbidden property). */
void ksafe_view__changed(ksafe_view_t *view, const ksafe_prop_t *prop, bool now_set);

/** A value and where it comes from. */
typedef struct ksafe_value_s {
        const char *text;           /* as librdkafka reads it; owned by the view (or
                                     * the property table), valid until the property
                                     * changes in the view or the view is destroyed */
        bool is_set;                /* set by the user (else default or derived) */
        bool derived;               /* not set, but finalize changes the default */
        const ksafe_entry_t *entry; /* the file line that set it, or NULL */
        bool unsure;                /* is_set is a guess: a topic-level property of a
                                     * conf, at its default, whose set-ness could not
                                     * be learned (see ksafe_view__settle()) */
        const ksafe_prop_t *holder; /* the property that holds the value:
                                     * the asked one, or its topic-level
                                     * twin that wins at produce time
                                     * (topic.compression.codec) */
} ksafe_value_t;

/** Learn whether the property of `v` (read from `view`) is set when the
 *  view could only guess (v->unsure): for a topic conf, librdkafka tells
 *  which properties were set only in the debug=conf log of a handle made
 *  from it; ksafe makes a throw-away consumer handle for that, once per
 *  view. `v` is read again. Still unsure only when that failed. */
void ksafe_view__settle(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *v);
/** The value librdkafka uses for `prop` when it is not set (its default,
 *  or what finalize derives from the other values of the view), written
 *  into buf. The value that enforcing `forbidden` on a conf sets. */
const char *ksafe_view__unset_value(const ksafe_view_t *view, const ksafe_prop_t *prop, char *buf,
                                    size_t size);
/** A view of a created handle that knows which properties were set from
 *  the view `like` of the conf it was made from (the facade's audit). */
ksafe_view_t *ksafe_view__from_handle_like(const ksafe_props_t *props, rd_kafka_t *rk,
                                           const ksafe_view_t *like);
/** The topic-level property of the same name as the global `prop`, which
 *  wins over it at produce time unless "inherit" (compression.codec), or
 *  NULL. */
const ksafe_prop_t *ksafe_view__topic_twin(const ksafe_view_t *view, const ksafe_prop_t *prop);
/** The name to give rd_kafka_conf_set() for `prop` on a global conf:
 *  "topic.NAME" for a topic-level property (so that a twin of a global
 *  property is reached), else its name. */
const char *ksafe_prop__conf_name(const ksafe_prop_t *prop, char *buf, size_t size);

/** The value of `prop` as the view stores it, before the finalize model
 *  (its text owned by the view). false when out of memory. */
bool ksafe_view__stored(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out);
/** Does `conf` hold the value the view has for `prop` (before the finalize
 *  model)? Read from conf itself, never from the view's cache: whether a
 *  value set on conf took. */
bool ksafe_view__conf_holds(const ksafe_view_t *view, const rd_kafka_conf_t *conf,
                            const ksafe_prop_t *prop);
/** The property table the view was made with. */
const ksafe_props_t *ksafe_view__props(const ksafe_view_t *view);
/** Whether the conf or file behind the view asks for librdkafka's mock
 *  cluster (test.mock.num.brokers > 0, a hidden property). */
bool ksafe_view__mock_cluster(const ksafe_view_t *view);

/*
 * finalize.c: the model of librdkafka 2.0.2's finalize for a producer
 */

/** What librdkafka makes of `prop`, whose value before finalize is `base`
 *  and which the user did (`set`) or did not set: `base`, a constant, or
 *  a text written into buf. */
const char *ksafe_finalize__value(const ksafe_view_t *view, const ksafe_prop_t *prop,
                                  const char *base, bool set, char *buf, size_t size);

/** Give `prop` a new value (as librdkafka reads it) in the view only: the
 *  way enforcement changes a view of a file, whose text it cannot set.
 *  is_set false: the property is removed (its default applies). */
bool ksafe_view__override(ksafe_view_t *view, const ksafe_prop_t *prop, const char *value,
                          bool is_set);

/** The value of property `prop` in the view. false when out of memory
 *  (out then holds the default, so that a caller that goes on judges
 *  something, and reports the failure). */
bool ksafe_view__value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out);
/** Whether the producer the view describes is transactional (a
 *  transactional.id), or idempotent (that, or enable.idempotence). */
bool ksafe_view__transactional(const ksafe_view_t *view);
bool ksafe_view__idempotent(const ksafe_view_t *view);
/** An upper bound librdkafka itself puts on `prop` for this view (a
 *  transactional producer's message.timeout.ms <= transaction.timeout.ms).
 *  false when there is none. */
bool ksafe_view__limit(const ksafe_view_t *view, const ksafe_prop_t *prop, double *hi);
const char *ksafe_view__file(const ksafe_view_t *view);
const ksafe_entry_t *ksafe_view__entries(const ksafe_view_t *view, size_t *countp);
bool ksafe_view__is_topic_only(const ksafe_view_t *view);
/** A created handle's own conf: rd_kafka_new() has finalized it. */
bool ksafe_view__finalized(const ksafe_view_t *view);

/*
 * config_read.c, config_properties.c, config_json.c (reading), config_resolve.c,
 * config_check.c (judging), config_fix.c (repairing), config_render.c (writing)
 */

/** A change that ksafe_config_enforce() made. */
typedef struct ksafe_change_s {
        char *name;      /* as the policy writes it, for appended lines */
        char *canonical; /* librdkafka's canonical name */
        char *value;     /* as written into the file; NULL: removed */
        bool appended;   /* no line of the file sets it: a line is added */
} ksafe_change_t;

struct ksafe_config_s {
        char *source;
        char *data; /* the text as read */
        size_t len;
        ksafe_format_t format;
        ksafe_dialect_t dialect;
        const char *newline;    /* the file's own line ending */
        ksafe_entry_t *entries; /* name, raw, origin and spans only */
        size_t count, cap;
        size_t file_count;   /* entries[0..file_count) come from the file */
        size_t object_open;  /* JSON: offset of the properties' '{' */
        size_t object_close; /* JSON: offset of its '}' */
        char indent[32];     /* JSON: the members' indentation */
        ksafe_change_t *changes;
        size_t change_count;
        ksafe_directive_t *directives; /* ksafe-lint: disable= comments (strings owned) */
        size_t directive_count, directive_cap;
};

/* A config's entries resolved for one policy, in the order the client
 * applies them (the file's order, except where a JSON default.topic.config
 * is merged): entries[k] is the config's entry index[k]. */
typedef struct resolved_s {
        ksafe_entry_t *entries;
        size_t *index;
        size_t count;
        ksafe_view_t *view;
} resolved_t;
/** config_resolve.c: the config's entries resolved for `policy`, seen
 *  through a view (its changes applied). false when out of memory. */
bool ksafe_config__resolve(const ksafe_config_t *cfg, const ksafe_policy_t *policy, resolved_t *r);
void ksafe_config__resolved_free(resolved_t *r);
/** java.util.Properties keeps a UTF-8 BOM in the first key. */
bool ksafe_config__java_bom_key(const ksafe_entry_t *e, ksafe_dialect_t dialect);
/** config_check.c: add the findings about the file's own lines. */
void ksafe_config__eval_entries(const ksafe_config_t *cfg, const ksafe_policy_t *policy,
                                const ksafe_view_t *view, ksafe_report_t *report);

/** Read a config's text: config_properties.c and config_json.c fill in
 *  the entries of `cfg` (name, raw, spans); false with `err` set. */
bool ksafe_config__read_properties(ksafe_config_t *cfg, ksafe_error_t *err);
bool ksafe_config__read_json(ksafe_config_t *cfg, const char *pointer, ksafe_error_t *err);
/** Append an entry (name and raw copied) to cfg; NULL when out of memory. */
ksafe_entry_t *ksafe_config__add_entry(ksafe_config_t *cfg, const char *name, size_t name_len,
                                       const char *raw, size_t raw_len, int line, int column);
/** The length of a UTF-8 BOM at the start of data: 3 or 0. */
size_t ksafe_config__bom_length(const char *data, size_t len);
/** The `ksafe-lint:` directives that the readers keep for ksafe-lint
 *  (ksafe_config_directive_get()): a comment's prefix, JSON's member. */
#define KSAFE_DIRECTIVE_PREFIX "ksafe-lint:"
#define KSAFE_DIRECTIVE_KEY "$ksafe-lint"
/** Append a directive; takes `rules` and `reason` (escaped, or NULL) and
 *  frees them when out of memory (false). */
bool ksafe_config__add_directive(ksafe_config_t *cfg, int line, bool file_wide, char *rules,
                                 char *reason);

/*
 * kcat_syntax.c: where kcat reads a line otherwise (ksafe-kcat-syntax)
 */

/** A .properties line as Java's rules read it, and what kcat would see. */
typedef struct ksafe_kcat_line_s {
        const char *key; /* as written */
        size_t key_len;
        char separator;        /* '=', ':', ' ' (blanks only) or 0 (none) */
        bool blank_around;     /* blanks before or after the separator */
        bool lone_cr;          /* a CR that is not part of CRLF splits it */
        bool continued;        /* a backslash continues it on the next line */
        bool long_line;        /* a physical line over 511 bytes */
        bool eof_continuation; /* a backslash at the end of the file */
} ksafe_kcat_line_t;

extern const char ksafe_kcat__bom_syntax[];
/** How kcat reads a blank (`first` 0) or comment line otherwise, or NULL;
 *  `bom`: the file's BOM is before it. */
const char *ksafe_kcat__comment_differs(bool bom, char first, bool long_line, bool lone_cr);
/** How kcat reads a property line otherwise, or NULL. */
const char *ksafe_kcat__line_differs(const ksafe_kcat_line_t *line);
/** How kcat reads a property name otherwise (topic.topic.x), or NULL. */
const char *ksafe_kcat__name_differs(const char *name);
/** A value as kcat -F reads it: backslashes before ':' and '=' dropped. */
void ksafe_kcat__unescape(ksafe_buf_t *out, const char *s, size_t n);

/*
 * dialect.c: other clients' property names
 */

/** true when `name` is a property of the Java producer/admin client
 *  that librdkafka does not have. */
bool ksafe_dialect__java_knows(const char *name);

/*
 * policy.c: the loaded, resolved policy
 */

enum {
        KSAFE_CHECK_EQUALS = 1 << 0,
        KSAFE_CHECK_ONE_OF = 1 << 1,
        KSAFE_CHECK_MIN = 1 << 2,
        KSAFE_CHECK_MAX = 1 << 3,
        KSAFE_CHECK_MIN_SUM = 1 << 4,
        KSAFE_CHECK_REQUIRED = 1 << 5,
        KSAFE_CHECK_FORBIDDEN = 1 << 6,
};

typedef struct ksafe_rule_s {
        char *id;
        char *property;           /* as written in the policy */
        const ksafe_prop_t *prop; /* canonical */
        unsigned checks;          /* KSAFE_CHECK_* */
        char *equals;             /* as librdkafka reads it */
        char *equals_raw;         /* as written in the policy */
        char **one_of;            /* as librdkafka reads them */
        char **one_of_raw;
        size_t one_of_count;
        double min, max;
        const ksafe_prop_t **min_sum;
        char **min_sum_raw; /* the names as written */
        size_t min_sum_count;
        char *set; /* as written, or NULL */
        ksafe_action_t action;
        char *why;
} ksafe_rule_t;

/** A file a policy was read from, as it was when read (policy_cache.c
 *  checks it before handing the cached policy out again). */
typedef struct ksafe_policy_file_s {
        char *path; /* as opened: relative to the working directory, or absolute */
        ksafe_file_id_t id;
} ksafe_policy_file_t;

struct ksafe_policy_s {
        ksafe_policy_file_t *files; /* the "extends" chain's files, the named one first */
        size_t file_count;
        char *name;
        char *env;
        bool allow_unsafe;
        ksafe_props_t *props;
        ksafe_rule_t *rules;
        size_t rule_count;
        /* The resolved rules as written (jansson's, never changed), for
         * ksafe_policy_to_json(): rendered when asked, not at every load. */
        struct json_t *rules_json;
};

/*
 * policy_cache.c: the policy that KSAFE_POLICY and KSAFE_ENV name, once per
 * process (the facade's policy NULL)
 */

typedef struct ksafe_cached_s ksafe_cached_t;
/** The policy KSAFE_POLICY (else the default) and KSAFE_ENV name now,
 *  loaded once and shared: loaded again only when either variable or one
 *  of the policy's files changed (identity, size, times; the content too
 *  while a file is newer than the clock's granularity). NULL with `err`
 *  set when it cannot be loaded (failures are not cached). Thread-safe.
 *  Release it with ksafe_policy_cache__release(). */
ksafe_cached_t *ksafe_policy_cache__get(ksafe_error_t *err);
const ksafe_policy_t *ksafe_policy_cache__policy(const ksafe_cached_t *cached);
/** The caller is done with it (NULL: nothing). */
void ksafe_policy_cache__release(ksafe_cached_t *cached);

/*
 * eval.c: the one evaluator
 */

/** Which actions to judge, as a bit mask of (1 << ksafe_action_t). */
#define KSAFE_ACTION_BIT(a) (1u << (a))
#define KSAFE_ALL_ACTIONS                                                                          \
        (KSAFE_ACTION_BIT(KSAFE_ACTION_ENFORCE) | KSAFE_ACTION_BIT(KSAFE_ACTION_REJECT) |          \
         KSAFE_ACTION_BIT(KSAFE_ACTION_WARN))

/** The outcome of one rule on one view. */
typedef struct ksafe_verdict_s {
        bool pass;
        ksafe_value_t value;
} ksafe_verdict_t;

/** Does `value` (as librdkafka reads it) pass the rule's equals, one_of,
 *  min/max and, with `sum` its properties' sum, min_sum checks? */
bool ksafe_rule__accepts(const ksafe_rule_t *rule, const char *value, double sum);

/** What the rule wants, for a person: "all (-1)", "between 1 and 5",
 *  ">= linger.ms + request.timeout.ms (30005)" (the sum only with a view;
 *  view may be NULL). Sensitive values are not shown. */
void ksafe_rule__describe(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_buf_t *buf);
void ksafe_rule__judge(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_verdict_t *out);
/** The compliant value for a failed rule (free() it), or NULL if none. */
char *ksafe_rule__fix(const ksafe_rule_t *rule, const ksafe_view_t *view);
/** Whether `rule` is judged on `view` (a topic conf's view judges the
 *  topic-level rules, and rules on a global property whose topic-level
 *  twin wins). */
bool ksafe_rule__in_view(const ksafe_rule_t *rule, const ksafe_view_t *view);
/** Judge one rule and add a violation to `report` when it fails. */
void ksafe_eval__rule(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_report_t *report);
/** Judge every rule of `policy` whose action is in `actions` and add a
 *  violation to `report` for each failure. */
void ksafe_eval__policy(const ksafe_policy_t *policy, const ksafe_view_t *view, unsigned actions,
                        ksafe_report_t *report);
/** Judge every rule on `view` into a new report, and destroy the view
 *  (NULL view: out of memory, NULL report). */
ksafe_report_t *ksafe_eval__view_consume(const ksafe_policy_t *policy, ksafe_view_t *view);
/** Add what rd_kafka_new() (rd_kafka_topic_new() for a topic conf) would
 *  refuse although no policy rule reports it unrepaired
 *  (ksafe-librdkafka-refuses): every refusal of librdkafka 2.0.2's
 *  finalize for a producer (a transactional producer's message timeout
 *  above its transaction timeout, max.in.flight set above 5 with
 *  idempotence, ...). Nothing for a created handle. */
void ksafe_eval__refusals(const ksafe_policy_t *policy, const ksafe_view_t *view,
                          ksafe_report_t *report);
/** Add the view's own findings (unknown, invalid, misread, duplicate). */
void ksafe_eval__entries(const ksafe_policy_t *policy, const ksafe_view_t *view,
                         ksafe_report_t *report);
/**
 * Judge setting property `name` to `raw`, as the client writes it, on
 * `conf` as it now is (an rd_kafka_conf_set() about to happen; raw NULL:
 * back to its default). The report has a ksafe-misread-value finding when
 * librdkafka reads `raw` otherwise than written (1e3, 010, 4294967301),
 * and every rule that fails once the value is set and either judges
 * `name` itself or passed before (enable.idempotence=false fails
 * in-flight too). Unknown names and values librdkafka refuses give an
 * empty report: rd_kafka_conf_set() refuses them itself. NULL only when
 * out of memory. Used by the plugin's on_conf_set (lib/plugin.c).
 */
ksafe_report_t *ksafe_eval__set(const ksafe_policy_t *policy, const rd_kafka_conf_t *conf,
                                const char *name, const char *raw);

/*
 * report.c
 */

ksafe_report_t *ksafe_report__new(const ksafe_policy_t *policy);
/** Append a violation; strings are copied. Returns it for further
 *  changes, or NULL when out of memory (the report then says so). */
ksafe_violation_t *ksafe_report__add(ksafe_report_t *report, const ksafe_violation_t *v);
/** The first violation of rule `rule_id`, or NULL. */
ksafe_violation_t *ksafe_report__find(ksafe_report_t *report, const char *rule_id);
void ksafe_report__set_enforced(ksafe_report_t *report);
/** Drop a violation's `fix`: the rule was satisfied without setting it. */
void ksafe_violation__clear_fix(ksafe_violation_t *v);
/** Order violations by line and column, keeping rule order on a line. */
void ksafe_report__sort(ksafe_report_t *report);
/** The i-th violation, to change (the internal counterpart of _get). */
ksafe_violation_t *ksafe_report__at(ksafe_report_t *report, size_t i);
/** A refused enforcement set nothing: no violation of `report` (may be
 *  NULL) is `fixed`. */
void ksafe_report__unfix(ksafe_report_t *report);
/** Describe the refusal in errstr: "ksafe: refused by policy ...: ...". */
void ksafe_report__explain(const ksafe_report_t *report, char *errstr, size_t errstr_size);

/*
 * enforce.c: the enforcement loop (config_check.c and ksafe_topic_new()
 * give it a setter), and ksafe_enforce__conf(), the one path of a conf
 */

/** The shared enforcement loop on any view whose values can be set with
 *  `set` (a conf, a topic conf). */
typedef bool (*ksafe_setter_t)(void *target, const ksafe_rule_t *rule, const char *value);
ksafe_report_t *ksafe_enforce__view(const ksafe_policy_t *policy, ksafe_view_t *view,
                                    ksafe_setter_t set, void *target);
/** A conf shows a float (linger.ms) with %g, six significant digits, and
 *  keeps the double it was given: set each float property that a rule
 *  judges, and that the conf sets, to the text it was judged by, so that
 *  the producer uses exactly that (linger.ms=100000.4 becomes 100000). */
void ksafe_enforce__float_readings(const ksafe_policy_t *policy, const ksafe_view_t *view,
                                   ksafe_setter_t set, void *target);
/** What ksafe_enforce__conf() did to a caller's conf. */
typedef enum ksafe_conf_outcome_e {
        KSAFE_CONF_SET,       /* accepted: the fixes are set on conf and read back */
        KSAFE_CONF_REFUSED,   /* refused in the view: conf as it was (unfix the
                               * report: nothing was set) */
        KSAFE_CONF_NOT_HELD,  /* conf refused (why: librdkafka's message) or did
                               * not keep a value set: conf holds the values set
                               * until then; conf's findings are refusals */
        KSAFE_CONF_NO_MEMORY, /* before anything was set: conf as it was;
                               * *reportp may be NULL */
} ksafe_conf_outcome_t;
/** Judge and enforce `policy` on a view of `conf` (no trial copy), the
 *  chosen values held by the view only; once the policy accepts them, set
 *  them on `conf` itself and read back only those. The one path of
 *  ksafe_conf_enforce() and ksafe_producer_new(). *reportp gets the
 *  report; *viewp (may be NULL: destroyed) the view judged, for the
 *  audit. why gets librdkafka's message when conf refused a value. */
ksafe_conf_outcome_t ksafe_enforce__conf(const ksafe_policy_t *policy, rd_kafka_conf_t *conf,
                                         ksafe_report_t **reportp, ksafe_view_t **viewp, char *why,
                                         size_t why_size);
/** Copy the failing findings (not warn) of `found` into `report` as
 *  refusals; true when there was one. */
bool ksafe_enforce__add_refusals(ksafe_report_t *report, const ksafe_report_t *found);

#endif /* KSAFE_INT_H */
