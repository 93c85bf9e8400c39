/*
 * How librdkafka reads a value: parsing it as librdkafka does (set on a
 * scratch conf, read back), probing names its table does not list, and
 * telling when librdkafka reads a value otherwise than a person does
 * (the ksafe-misread-value finding's test).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/*
 * librdkafka's refusal messages that never quote the value: "not supported
 * in this build", the Java-name hints ("Java TrustStores are not
 * supported"), an empty value, a bool, a pointer property. The others
 * ("Invalid value for configuration property \"x\": VALUE", "Unsupported
 * value \"VALUE\"") may, so a sensitive property's value is never shown
 * through them.
 */
static bool message_without_value(const char *msg)
{
        return strstr(msg, " not supported") || strstr(msg, "cannot be set to empty value") ||
               strncmp(msg, "Expected bool value for", 23) == 0 ||
               strstr(msg, "must be set through dedicated") || strstr(msg, "not settable");
}

/* librdkafka's message in errstr, or a generic one where it could carry a
 * secret value (or says nothing). */
static void refusal_message(const char *name, bool sensitive, char *lib_err, char *errstr,
                            size_t errstr_size)
{
        size_t n = strlen(lib_err);
        while (n > 0 && isspace((unsigned char)lib_err[n - 1]))
                lib_err[--n] = '\0';
        if (!*lib_err || (sensitive && !message_without_value(lib_err)))
                snprintf(errstr, errstr_size, "librdkafka refuses this value for \"%s\"", name);
        else
                snprintf(errstr, errstr_size, "%s", lib_err);
}

/*
 * Scratch confs, reused: rd_kafka_conf_new() sets every default (about
 * 15,000 instructions, the most of parsing one value). Setting a property
 * of librdkafka 2.0.2 replaces its value whatever was set before
 * (rd_kafka_anyconf_set_prop0(): strings, integers, enums, floats,
 * patterns), except CSV flags, which a set ORs into (or masks out of) the
 * flags already there: those, and secrets (never kept past the call), get
 * a fresh conf each time. plugin.library.paths, the one property with a
 * setter of its own, never reaches a conf here. A few spares, under a
 * mutex, so that threads never share one; freed with the library.
 */
#define SPARES 4

static struct spares_s {
        rd_kafka_conf_t *conf[SPARES];
        rd_kafka_topic_conf_t *tconf[SPARES];
} spares;
static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;

static bool reusable(const ksafe_prop_t *prop)
{
        return prop->canon->type != KSAFE_PROP_FLAGS && !prop->sensitive && !prop->canon->sensitive;
}

/* A conf to set one value on: a spare, or a new one. */
static void scratch_take(bool global, bool reuse, rd_kafka_conf_t **conf,
                         rd_kafka_topic_conf_t **tconf)
{
        *conf = NULL;
        *tconf = NULL;
        if (reuse) {
                pthread_mutex_lock(&spares_lock);
                for (size_t i = 0; i < SPARES && !*conf && !*tconf; i++) {
                        if (global && spares.conf[i]) {
                                *conf = spares.conf[i];
                                spares.conf[i] = NULL;
                        } else if (!global && spares.tconf[i]) {
                                *tconf = spares.tconf[i];
                                spares.tconf[i] = NULL;
                        }
                }
                pthread_mutex_unlock(&spares_lock);
        }
        if (global && !*conf)
                *conf = rd_kafka_conf_new();
        if (!global && !*tconf)
                *tconf = rd_kafka_topic_conf_new();
}

/* Keep the conf for the next value (reuse), or destroy it. */
static void scratch_give(bool reuse, rd_kafka_conf_t *conf, rd_kafka_topic_conf_t *tconf)
{
        if (reuse) {
                pthread_mutex_lock(&spares_lock);
                for (size_t i = 0; i < SPARES && (conf || tconf); i++) {
                        if (conf && !spares.conf[i]) {
                                spares.conf[i] = conf;
                                conf = NULL;
                        } else if (tconf && !spares.tconf[i]) {
                                spares.tconf[i] = tconf;
                                tconf = NULL;
                        }
                }
                pthread_mutex_unlock(&spares_lock);
        }
        if (conf)
                rd_kafka_conf_destroy(conf);
        if (tconf)
                rd_kafka_topic_conf_destroy(tconf);
}

/* With the library (unloaded, or at exit). */
__attribute__((destructor)) static void spares_free(void)
{
        pthread_mutex_lock(&spares_lock);
        for (size_t i = 0; i < SPARES; i++) {
                if (spares.conf[i])
                        rd_kafka_conf_destroy(spares.conf[i]);
                if (spares.tconf[i])
                        rd_kafka_topic_conf_destroy(spares.tconf[i]);
                spares.conf[i] = NULL;
                spares.tconf[i] = NULL;
        }
        pthread_mutex_unlock(&spares_lock);
}

/* What librdkafka stored for canon: *outp a new string (free() it), or
 * NULL when out of memory. Read into a buffer first, then at the length
 * librdkafka asks for: nothing it reads is cut short. CSV flags would be
 * cut short silently (rd_kafka_conf_flags2str()): their length first. */
static rd_kafka_conf_res_t read_back(const ksafe_prop_t *canon, const rd_kafka_conf_t *conf,
                                     const rd_kafka_topic_conf_t *tconf, char **outp)
{
        char small[512];
        char *dest = canon->type == KSAFE_PROP_FLAGS ? NULL : small;
        size_t size = sizeof(small);
        rd_kafka_conf_res_t res = conf ? rd_kafka_conf_get(conf, canon->name, dest, &size)
                                       : rd_kafka_topic_conf_get(tconf, canon->name, dest, &size);
        *outp = NULL;
        if (res != RD_KAFKA_CONF_OK)
                return res;
        if (dest && size <= sizeof(small)) {
                *outp = strdup(small);
                return res;
        }
        char *out = malloc(size);
        if (!out)
                return res;
        res = conf ? rd_kafka_conf_get(conf, canon->name, out, &size)
                   : rd_kafka_topic_conf_get(tconf, canon->name, out, &size);
        if (res == RD_KAFKA_CONF_OK)
                *outp = out;
        else
                free(out);
        return res;
}

/* Set raw on a scratch conf (or topic conf) of prop's scope and read back
 * what librdkafka stored: *outp a new string (free() it) or NULL, *created
 * false when the conf could not be made (out of memory). Returns
 * librdkafka's answer, with its message in lib_err when it refused. */
static rd_kafka_conf_res_t set_and_read_back(const ksafe_prop_t *prop, const char *raw, char **outp,
                                             bool *created, char *lib_err, size_t lib_err_size)
{
        const ksafe_prop_t *canon = prop->canon;
        char *out = NULL;
        rd_kafka_conf_res_t res;
        bool global = canon->scope == KSAFE_SCOPE_GLOBAL;
        bool text = canon->type == KSAFE_PROP_STRING || canon->type == KSAFE_PROP_PATTERN;
        bool reuse = reusable(prop);
        rd_kafka_conf_t *conf;
        rd_kafka_topic_conf_t *tconf;
        scratch_take(global, reuse, &conf, &tconf);
        *created = global ? conf != NULL : tconf != NULL;
        if (!*created) {
                *outp = NULL;
                return RD_KAFKA_CONF_INVALID;
        }
        res = global ? rd_kafka_conf_set(conf, canon->name, raw, lib_err, lib_err_size)
                     : rd_kafka_topic_conf_set(tconf, canon->name, raw, lib_err, lib_err_size);
        bool set = res == RD_KAFKA_CONF_OK;
        if (set)
                res = read_back(canon, conf, tconf, &out);
        /* An empty string unsets a string property: it reads back as not
         * set at all (transactional.id= is no transactional id). */
        if (set && text && res == RD_KAFKA_CONF_UNKNOWN && !out) {
                res = RD_KAFKA_CONF_OK;
                out = strdup("");
        }
        scratch_give(reuse, conf, tconf);
        *outp = out;
        return res;
}

/* Parse on a scratch conf of its own; *nomem when that failed for want of
 * memory (an answer not to remember). */
static char *parse_fresh(const ksafe_prop_t *prop, const char *raw, char *errstr,
                         size_t errstr_size, bool *nomem)
{
        *nomem = false;
        const ksafe_prop_t *canon = prop->canon;
        if (canon->type == KSAFE_PROP_POINTER) {
                snprintf(errstr, errstr_size,
                         "\"%s\" is set through a dedicated API, not from a string", prop->name);
                return NULL;
        }
        /* Every value is librdkafka's to judge, strings included (an empty
         * sasl.mechanisms, an OIDC property in a build without libcurl),
         * except plugin.library.paths: setting it loads the plugin. */
        if (strcmp(canon->name, "plugin.library.paths") == 0) {
                char *out = strdup(raw);
                if (!out) {
                        *nomem = true;
                        snprintf(errstr, errstr_size, "out of memory");
                }
                return out;
        }

        char lib_err[512] = "";
        char *out = NULL;
        bool created;
        rd_kafka_conf_res_t res =
                set_and_read_back(prop, raw, &out, &created, lib_err, sizeof(lib_err));
        if ((res == RD_KAFKA_CONF_OK && !out) || !created) {
                free(out);
                *nomem = true;
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (res != RD_KAFKA_CONF_OK) {
                free(out);
                refusal_message(prop->name, canon->sensitive || prop->sensitive, lib_err, errstr,
                                errstr_size);
                return NULL;
        }
        return out;
}

/*
 * Each distinct (property, value) is parsed once per process: a scratch
 * conf per value (rd_kafka_conf_new() sets every default) was 43% of the
 * instructions of linting small files, which repeat the same few values.
 * librdkafka's answer depends only on the property and the text, so the
 * remembered answer (the value read back, or the refusal message) is the
 * one a fresh conf gives. Not remembered: long values, sensitive
 * properties (no secret is kept past the call), out-of-memory answers.
 * A bounded table, emptied when full; a mutex, for the facade's threads.
 */
#define MEMO_CAP 4096 /* slots; emptied at 3/4 full */
#define MEMO_MAX_VALUE 256

typedef struct memo_slot_s {
        const ksafe_prop_t *prop; /* NULL: empty */
        char *raw;
        char *out; /* the value read back, or NULL: refused with msg */
        char *msg;
} memo_slot_t;

static memo_slot_t *memo;
static size_t memo_count;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t memo_hash(const ksafe_prop_t *prop, const char *raw)
{
        uint64_t h = 14695981039346656037ULL ^ (uint64_t)(uintptr_t)prop;
        for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
                h ^= *c;
                h *= 1099511628211ULL;
        }
        return (size_t)(h ^ (h >> 29));
}

static void memo_clear(void)
{
        for (size_t i = 0; memo && i < MEMO_CAP; i++) {
                free(memo[i].raw);
                free(memo[i].out);
                free(memo[i].msg);
        }
        free(memo);
        memo = NULL;
        memo_count = 0;
}

/* The lock held: the slot of (prop, raw), or the empty one it would take. */
static memo_slot_t *memo_slot(const ksafe_prop_t *prop, const char *raw)
{
        for (size_t i = memo_hash(prop, raw) & (MEMO_CAP - 1);; i = (i + 1) & (MEMO_CAP - 1))
                if (!memo[i].prop || (memo[i].prop == prop && strcmp(memo[i].raw, raw) == 0))
                        return &memo[i];
}

/* A remembered answer: true, with *out (a copy) or the refusal in errstr. */
static bool memo_get(const ksafe_prop_t *prop, const char *raw, char **out, char *errstr,
                     size_t errstr_size)
{
        bool found = false;
        pthread_mutex_lock(&memo_lock);
        memo_slot_t *slot = memo ? memo_slot(prop, raw) : NULL;
        if (slot && slot->prop) {
                *out = slot->out ? strdup(slot->out) : NULL;
                found = !slot->out || *out; /* a failed copy: parse it afresh */
                if (!slot->out)
                        snprintf(errstr, errstr_size, "%s", slot->msg);
        }
        pthread_mutex_unlock(&memo_lock);
        return found;
}

static void memo_put(const ksafe_prop_t *prop, const char *raw, const char *out, const char *msg)
{
        pthread_mutex_lock(&memo_lock);
        if (memo_count >= MEMO_CAP / 4 * 3)
                memo_clear();
        if (!memo)
                memo = calloc(MEMO_CAP, sizeof(*memo));
        memo_slot_t *slot = memo ? memo_slot(prop, raw) : NULL;
        if (slot && !slot->prop) {
                slot->raw = strdup(raw);
                slot->out = out ? strdup(out) : NULL;
                slot->msg = out ? NULL : strdup(msg);
                if (slot->raw && (out ? slot->out != NULL : slot->msg != NULL)) {
                        slot->prop = prop;
                        memo_count++;
                } else {
                        free(slot->raw);
                        free(slot->out);
                        free(slot->msg);
                        *slot = (memo_slot_t){0};
                }
        }
        pthread_mutex_unlock(&memo_lock);
}

/* With the library (unloaded, or at exit). */
__attribute__((destructor)) static void memo_free(void)
{
        pthread_mutex_lock(&memo_lock);
        memo_clear();
        pthread_mutex_unlock(&memo_lock);
}

char *ksafe_prop__parse(const ksafe_prop_t *prop, const char *raw, char *errstr, size_t errstr_size)
{
        bool remember = !prop->sensitive && !prop->canon->sensitive &&
                        strnlen(raw, MEMO_MAX_VALUE + 1) <= MEMO_MAX_VALUE;
        char *out = NULL;
        if (remember && memo_get(prop, raw, &out, errstr, errstr_size))
                return out;
        char msg[512] = "";
        bool nomem;
        out = parse_fresh(prop, raw, msg, sizeof(msg), &nomem);
        if (remember && !nomem)
                memo_put(prop, raw, out, msg);
        if (!out)
                snprintf(errstr, errstr_size, "%s", msg);
        return out;
}

rd_kafka_conf_res_t ksafe_prop__probe(rd_kafka_conf_t *scratch, const char *name, const char *raw,
                                      char *errstr, size_t errstr_size)
{
        char lib_err[512] = "";
        if (errstr_size)
                errstr[0] = '\0';
        /* plugin.library.paths is in the table: no name that reaches here
         * has a setter, so setting it changes the scratch conf only. */
        rd_kafka_conf_res_t res = rd_kafka_conf_set(scratch, name, raw, lib_err, sizeof(lib_err));
        if (res == RD_KAFKA_CONF_INVALID)
                refusal_message(name, ksafe_property_is_sensitive(name), lib_err, errstr,
                                errstr_size);
        return res;
}

/* How a person reads an integer: decimal, or 0x hex. false if neither. */
static bool person_int(const char *raw, long long *out)
{
        while (isspace((unsigned char)*raw))
                raw++;
        const char *s = raw;
        if (*s == '+' || *s == '-')
                s++;
        int base = 10;
        const char *digits = s;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                digits = s + 2;
        }
        size_t n = base == 16 ? strspn(digits, "0123456789abcdefABCDEF")
                              : strspn(digits, "0123456789");
        const char *end = digits + n;
        while (isspace((unsigned char)*end))
                end++;
        if (n == 0 || *end)
                return false;
        errno = 0;
        long long v = strtoll(raw, NULL, base);
        if (errno == ERANGE)
                v = raw[0] == '-' ? LLONG_MIN : LLONG_MAX;
        *out = v;
        return true;
}

bool ksafe_prop__misread(const ksafe_prop_t *prop, const char *raw, const char *parsed, char *why,
                         size_t why_size)
{
        const ksafe_prop_t *canon = prop->canon;
        if (canon->type == KSAFE_PROP_INT) {
                /* A value with no digit that librdkafka accepted is a name
                 * such as acks=all: read as written. */
                if (!strpbrk(raw, "0123456789"))
                        return false;
                long long lib = strtoll(parsed, NULL, 10);
                long long person;
                if (!person_int(raw, &person)) {
                        snprintf(why, why_size,
                                 "\"%s\" is not an integer; librdkafka reads it as %lld", raw, lib);
                        return true;
                }
                if (person < INT32_MIN || person > INT32_MAX) {
                        snprintf(why, why_size,
                                 "%s does not fit in 32 bits; librdkafka silently reads it as %lld",
                                 raw, lib);
                        return true;
                }
                if (person != lib) {
                        snprintf(why, why_size, "librdkafka reads \"%s\" as %lld%s", raw, lib,
                                 strchr("+-0", raw[strspn(raw, " \t")]) ? " (octal)" : "");
                        return true;
                }
                return false;
        }
        if (canon->type == KSAFE_PROP_FLOAT) {
                char *end;
                errno = 0;
                double person = strtod(raw, &end);
                while (isspace((unsigned char)*end))
                        end++;
                double lib = strtod(parsed, NULL);
                /* librdkafka keeps the double and shows it with %g: compare
                 * in that form (123456.7 reads back as 123457). */
                char shown[64];
                snprintf(shown, sizeof(shown), "%g", person);
                if (end == raw || *end || errno == ERANGE || !isfinite(person) ||
                    (person != lib && strcmp(shown, parsed) != 0)) {
                        snprintf(why, why_size, "\"%s\" is not a number; librdkafka reads it as %g",
                                 raw, lib);
                        return true;
                }
        }
        return false;
}

double ksafe_prop__strtod(const char *s, char **end)
{
        const char *p = s + (*s == '-');
        unsigned long long u = 0;
        size_t n = 0;
        for (; n <= 15 && p[n] >= '0' && p[n] <= '9'; n++)
                u = u * 10 + (unsigned)(p[n] - '0');
        /* Digits only, at most 15 (exact in a double), and not followed
         * by what strtod would read on (a fraction, an exponent, 0x). */
        if (n == 0 || n > 15 || p[n] == '.' || p[n] == 'e' || p[n] == 'E' || p[n] == 'x' ||
            p[n] == 'X' || p[n] == 'p' || p[n] == 'P')
                return strtod(s, end);
        if (end)
                *end = (char *)(p + n);
        return *s == '-' ? -(double)u : (double)u;
}

bool ksafe_prop__number(const ksafe_prop_t *prop, const char *value, double *out)
{
        char *end;
        double v = ksafe_prop__strtod(value, &end);
        if (end == value || *end || isnan(v))
                return false;
        if (v == 0 && prop->canon->zero_infinite)
                v = INFINITY;
        *out = v;
        return true;
}
