/*
 * libksafe as a librdkafka plugin: `plugin.library.paths=libksafe` in any
 * librdkafka-based client (kcat, confluent-kafka for Python, Go, .NET,
 * rsyslog's omkafka) applies the policy without a code change.
 *
 * librdkafka 2.0.2 dlopen()s the library and calls conf_init() on the conf
 * that set the property (rdkafka_plugin.c). From there:
 *  - conf_init: load the policy (KSAFE_POLICY, KSAFE_ENV, else the
 *    system policy file, else the default: the facade's per-process copy,
 *    reloaded when its file changes), judge and enforce what the conf
 *    already holds (the facade's ksafe_conf_enforce()), refuse the load on
 *    a violation it cannot repair, and only then add the interceptors: a
 *    failed conf_init leaves whatever it registered behind.
 *  - on_conf_set: every later rd_kafka_conf_set() is judged with the value
 *    as the client wrote it (ksafe_eval__set()): a misread value or a rule
 *    that fails refuses the set, whatever the rule's action (see
 *    refusal_text()); a warn rule only logs.
 *  - on_conf_dup: a copy of a conf under ksafe gets the same interceptors
 *    and shares the state; the conf_init that librdkafka then runs on the
 *    copy (it copies plugin.library.paths) has nothing to do.
 *  - on_new: logs "ksafe: policy NAME (ENV) active" and what conf_init
 *    enforced through the handle's log, and audits a producer
 *    (ksafe_handle_audit()). on_new cannot refuse; a producer that fails
 *    the audit is made to fail closed from on_thread_start() of its main
 *    thread, which runs before rd_kafka_new() returns: a fatal error
 *    (rd_kafka_test_fatal_error(), the one public way to raise one), after
 *    which every produce call fails with RD_KAFKA_RESP_ERR__FATAL.
 *
 * A plugin has no logger of its own: rd_kafka_conf_set_log_cb() is the
 * client's. ksafe calls the client's log_cb (read from the conf: a pointer
 * property reads back as "%p") with the handle, as rd_kafka_log() does
 * during rd_kafka_new(), at the client's log_level. With log.queue=true
 * librdkafka drops its own lines made during rd_kafka_new() (no queue yet),
 * and ksafe's are dropped the same way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ksafe_int.h"

/* Why a producer failed the audit: the opaque of its on_thread_start
 * (which raises the fatal error) and on_destroy (which frees it). */
typedef struct doomed_s {
        char reason[400];
} doomed_t;

/* Shared by a conf, its copies and the handles made from them; freed by
 * the last on_conf_destroy. The policy is immutable: the per-process copy
 * that the facade uses too (policy_cache.c), held until then. */
typedef struct plugin_s {
        atomic_int refs;
        ksafe_cached_t *held;
        const ksafe_policy_t *policy;
        pthread_mutex_t lock; /* guards what follows */
        char **pending;       /* lines to log once a handle exists */
        size_t pending_count;
} plugin_t;

/* The conf that rd_kafka_conf_dup() is filling in this thread, once
 * on_conf_dup gave it ksafe's interceptors: its conf_init has nothing to
 * do. Cleared by that conf_init; a copy made with rd_kafka_conf_dup_filter()
 * that leaves plugin.library.paths out never clears it (see conf_init()). */
static _Thread_local const rd_kafka_conf_t *copy_in_progress;

#define IC_NAME "ksafe"

static plugin_t *plugin_new(ksafe_cached_t *held)
{
        plugin_t *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        if (pthread_mutex_init(&p->lock, NULL) != 0) {
                free(p);
                return NULL;
        }
        atomic_init(&p->refs, 1);
        p->held = held;
        p->policy = ksafe_policy_cache__policy(held);
        return p;
}

static void plugin_release(plugin_t *p)
{
        if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
                return;
        for (size_t i = 0; i < p->pending_count; i++)
                free(p->pending[i]);
        free(p->pending);
        pthread_mutex_destroy(&p->lock);
        ksafe_policy_cache__release(p->held);
        free(p);
}

/* "NAME (ENV)" of the policy, as every line of the plugin names it. */
static void policy_label(const ksafe_policy_t *policy, char *buf, size_t size)
{
        const char *env = ksafe_policy_env(policy);
        snprintf(buf, size, "%s (%s)", ksafe_policy_name(policy),
                 env && env[0] ? env : "no environment");
}

/* Keep a line to log once a handle exists (conf_init and on_conf_set have
 * no handle, so no logger). The text is escaped: a value cannot forge a
 * line of the client's log. */
static void pend(plugin_t *p, const char *fmt, ...) KSAFE_PRINTF(2, 3);
static void pend(plugin_t *p, const char *fmt, ...)
{
        ksafe_buf_t buf = {0};
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf__vprintf(&buf, fmt, ap);
        va_end(ap);
        char *text = ksafe_buf__take(&buf);
        char *line = text ? ksafe_report_escape(text) : NULL;
        free(text);
        ksafe_buf__free(&buf);
        if (!line)
                return;
        pthread_mutex_lock(&p->lock);
        char **more = realloc(p->pending, (p->pending_count + 1) * sizeof(*more));
        if (more) {
                p->pending = more;
                p->pending[p->pending_count++] = line;
                line = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        free(line);
}

typedef void log_cb_t(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/* Log through the client's own log_cb, as librdkafka would. */
static void plugin_log(const rd_kafka_t *rk, const rd_kafka_conf_t *conf, int level,
                       const char *line)
{
        char value[64];
        size_t size = sizeof(value);
        long log_level = 6;
        if (rd_kafka_conf_get(conf, "log_level", value, &size) == RD_KAFKA_CONF_OK)
                log_level = strtol(value, NULL, 10);
        size = sizeof(value);
        bool queued = rd_kafka_conf_get(conf, "log.queue", value, &size) == RD_KAFKA_CONF_OK &&
                      strcmp(value, "true") == 0;
        void *cb = NULL;
        size = sizeof(value);
        if (rd_kafka_conf_get(conf, "log_cb", value, &size) != RD_KAFKA_CONF_OK ||
            sscanf(value, "%p", &cb) != 1)
                cb = NULL;
        if (level > log_level || queued || !cb)
                return;
        log_cb_t *log_cb;
        _Static_assert(sizeof(log_cb) == sizeof(cb), "a function pointer fits a void *");
        memcpy(&log_cb, &cb, sizeof(cb)); /* POSIX: what dlsym() returns, too */
        log_cb(rk, level, "KSAFE", line);
}

/* Is the property's value a secret (never shown)? */
static bool secret(const ksafe_policy_t *policy, const char *name)
{
        const ksafe_prop_t *prop = ksafe_props__find(policy->props, name);
        return ksafe_property_is_sensitive(name) || (prop && prop->sensitive);
}

/*
 * The refusal of one set, for the client to show:
 *   ksafe: policy builtin:default (prod) refuses acks=1: acks is 1; expected
 *   all (-1) [acks-all]; safe value: all
 * A rule that enforces is refused here too, not repaired: the client asked
 * for that value by name, and a producer that silently does otherwise than
 * its configuration says would mislead whoever reads that configuration.
 * (conf_init repairs what was set before the plugin loaded: nobody could
 * have been told then.)
 */
static void refusal_text(const plugin_t *p, const ksafe_report_t *report, const char *name,
                         const char *raw, char *errstr, size_t errstr_size)
{
        char label[300];
        policy_label(p->policy, label, sizeof(label));
        ksafe_buf_t buf = {0};
        ksafe_buf__printf(&buf, "ksafe: policy %s refuses %s=%s", label, name,
                          !raw                      ? "(default)"
                          : secret(p->policy, name) ? KSAFE_REDACTED
                                                    : raw);
        const char *sep = ": ";
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (v->action == KSAFE_ACTION_WARN)
                        continue;
                ksafe_buf__printf(&buf, "%s%s [%s]", sep, v->message, v->rule_id);
                /* The message says what is expected; enforce rules also
                 * have the value that enforcing would set. */
                if (v->fix)
                        ksafe_buf__printf(&buf, "; safe value: %s", v->fix);
                sep = "; ";
        }
        char *text = ksafe_buf__take(&buf);
        char *shown = text ? ksafe_report_escape(text) : NULL;
        ksafe_error__fit_head(errstr, errstr_size, shown ? shown : "ksafe: out of memory");
        free(shown);
        free(text);
        ksafe_buf__free(&buf);
}

static bool refuses(const ksafe_report_t *report)
{
        if (!report)
                return true;
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                if (ksafe_report_get(report, i)->action != KSAFE_ACTION_WARN)
                        return true;
        return false;
}

static void pend_warnings(plugin_t *p, const ksafe_report_t *report)
{
        char label[300];
        policy_label(p->policy, label, sizeof(label));
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (v->action == KSAFE_ACTION_WARN)
                        pend(p, "ksafe: policy %s warns: %s [%s]", label, v->message, v->rule_id);
                else if (v->fixed && v->fix) /* no fix: another rule's change did it */
                        pend(p, "ksafe: policy %s enforced %s=%s: %s [%s]", label, v->property,
                             v->fix, v->message, v->rule_id);
        }
}

static rd_kafka_conf_res_t on_conf_set(rd_kafka_conf_t *conf, const char *name, const char *val,
                                       char *errstr, size_t errstr_size, void *ic_opaque)
{
        plugin_t *p = ic_opaque;
        /* errstr NULL: rd_kafka_conf_dup() replays a conf that ksafe judged
         * as its values were set (rd_kafka_anyconf_copy()). A refusal there
         * would silently drop the value from the copy. */
        if (!errstr)
                return RD_KAFKA_CONF_UNKNOWN;
        ksafe_report_t *report = ksafe_eval__set(p->policy, conf, name, val);
        rd_kafka_conf_res_t res = RD_KAFKA_CONF_UNKNOWN; /* librdkafka sets it */
        if (refuses(report)) {
                refusal_text(p, report, name, val, errstr, errstr_size);
                res = RD_KAFKA_CONF_INVALID;
        } else {
                pend_warnings(p, report);
        }
        ksafe_report_destroy(report);
        return res;
}

static rd_kafka_resp_err_t on_conf_destroy(void *ic_opaque)
{
        plugin_release(ic_opaque);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* A no-op that marks a copy made by on_conf_dup (see conf_init()). */
static rd_kafka_conf_res_t copy_mark(rd_kafka_conf_t *conf, const char *name, const char *val,
                                     char *errstr, size_t errstr_size, void *ic_opaque)
{
        (void)conf, (void)name, (void)val, (void)errstr, (void)errstr_size, (void)ic_opaque;
        return RD_KAFKA_CONF_UNKNOWN;
}

static rd_kafka_resp_err_t add_interceptors(rd_kafka_conf_t *conf, plugin_t *p);

static rd_kafka_resp_err_t on_conf_dup(rd_kafka_conf_t *new_conf, const rd_kafka_conf_t *old_conf,
                                       size_t filter_cnt, const char **filter, void *ic_opaque)
{
        (void)old_conf, (void)filter_cnt, (void)filter;
        plugin_t *p = ic_opaque;
        atomic_fetch_add(&p->refs, 1);
        rd_kafka_resp_err_t err = add_interceptors(new_conf, p);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_conf_interceptor_add_on_conf_set(new_conf, IC_NAME, copy_mark, NULL) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR)
                copy_in_progress = new_conf;
        return err;
}

/* Audit a created producer; true when it must not produce. */
static bool audit_fails(const plugin_t *p, rd_kafka_t *rk, char *reason, size_t size)
{
        ksafe_report_t *audit = ksafe_handle_audit(rk, p->policy);
        bool fails = refuses(audit);
        if (fails) {
                char label[300];
                policy_label(p->policy, label, sizeof(label));
                ksafe_buf_t buf = {0};
                ksafe_buf__printf(&buf, "ksafe: policy %s: the created producer is unsafe", label);
                const char *sep = ": ";
                for (size_t i = 0; i < ksafe_report_count(audit); i++) {
                        const ksafe_violation_t *v = ksafe_report_get(audit, i);
                        if (v->action == KSAFE_ACTION_WARN)
                                continue;
                        ksafe_buf__printf(&buf, "%s%s [%s]", sep, v->message, v->rule_id);
                        sep = "; ";
                }
                ksafe_buf__printf(&buf, "; it cannot produce (fatal error)");
                char *text = ksafe_buf__take(&buf);
                char *shown = text ? ksafe_report_escape(text) : NULL;
                ksafe_error__fit_head(reason, size, shown ? shown : "ksafe: out of memory");
                free(shown);
                free(text);
                ksafe_buf__free(&buf);
        }
        ksafe_report_destroy(audit);
        return fails;
}

/* The main thread starts inside rd_kafka_new(), which waits for it: the
 * fatal error is raised before the application has the handle. */
static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type,
                                           const char *name, void *ic_opaque)
{
        (void)name;
        const doomed_t *d = ic_opaque;
        if (type == RD_KAFKA_THREAD_MAIN)
                rd_kafka_test_fatal_error(rk, RD_KAFKA_RESP_ERR__INVALID_ARG, d->reason);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_destroy(rd_kafka_t *rk, void *ic_opaque)
{
        (void)rk;
        free(ic_opaque);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *ic_opaque,
                                  char *errstr, size_t errstr_size)
{
        (void)errstr, (void)errstr_size;
        plugin_t *p = ic_opaque;
        char label[300], line[400];
        policy_label(p->policy, label, sizeof(label));
        snprintf(line, sizeof(line), "ksafe: policy %s active", label);
        plugin_log(rk, conf, LOG_INFO, line);

        pthread_mutex_lock(&p->lock);
        char **pending = p->pending;
        size_t count = p->pending_count;
        p->pending = NULL;
        p->pending_count = 0;
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < count; i++) {
                plugin_log(rk, conf, LOG_WARNING, pending[i]);
                free(pending[i]);
        }
        free(pending);

        char reason[sizeof(((doomed_t *)0)->reason)];
        if (rd_kafka_type(rk) != RD_KAFKA_PRODUCER || !audit_fails(p, rk, reason, sizeof(reason)))
                return RD_KAFKA_RESP_ERR_NO_ERROR;
        plugin_log(rk, conf, LOG_ERR, reason);
        doomed_t *d = calloc(1, sizeof(*d));
        if (d) {
                snprintf(d->reason, sizeof(d->reason), "%s", reason);
                if (rd_kafka_interceptor_add_on_destroy(rk, IC_NAME, on_destroy, d)) {
                        free(d);
                        d = NULL;
                } else if (rd_kafka_interceptor_add_on_thread_start(rk, IC_NAME, on_thread_start,
                                                                    d)) {
                        d = NULL; /* on_destroy frees it */
                }
        }
        if (d)
                return RD_KAFKA_RESP_ERR_NO_ERROR;
        /* The handle cannot be stopped: librdkafka logs this (ICFAIL). */
        snprintf(errstr, errstr_size, "%s", reason);
        return RD_KAFKA_RESP_ERR__FAIL;
}

/* on_conf_set first: librdkafka refuses a second one of the same name and
 * function (RD_KAFKA_RESP_ERR__CONFLICT), which tells a conf that ksafe
 * already covers. on_conf_destroy last: it holds a reference. */
static rd_kafka_resp_err_t add_interceptors(rd_kafka_conf_t *conf, plugin_t *p)
{
        rd_kafka_resp_err_t err =
                rd_kafka_conf_interceptor_add_on_conf_set(conf, IC_NAME, on_conf_set, p);
        bool added = !err;
        if (!err)
                err = rd_kafka_conf_interceptor_add_on_conf_dup(conf, IC_NAME, on_conf_dup, p);
        if (!err)
                err = rd_kafka_conf_interceptor_add_on_new(conf, IC_NAME, on_new, p);
        if (!err)
                err = rd_kafka_conf_interceptor_add_on_conf_destroy(conf, IC_NAME, on_conf_destroy,
                                                                    p);
        /* Only librdkafka's __CONFLICT fails an add. Once one interceptor
         * holds p, p stays (a leak on a path that cannot happen rather
         * than an interceptor left with freed memory). */
        if (err && !added)
                plugin_release(p);
        return err;
}

KSAFE_EXPORT rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep, char *errstr,
                                           size_t errstr_size);

rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep, char *errstr,
                              size_t errstr_size)
{
        *plug_opaquep = NULL;
        /* A copy of a conf under ksafe: on_conf_dup gave it the
         * interceptors, and the values it gets are ones ksafe judged. The
         * mark says so for sure (a conf at the address of a copy that never
         * loaded the plugin gets a no-op, and is judged). */
        if (copy_in_progress == conf) {
                copy_in_progress = NULL;
                if (rd_kafka_conf_interceptor_add_on_conf_set(conf, IC_NAME, copy_mark, NULL) ==
                    RD_KAFKA_RESP_ERR__CONFLICT)
                        return RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        ksafe_error_t err = {0};
        ksafe_cached_t *held = ksafe_policy_cache__get(&err);
        if (!held) {
                if (err.line > 0)
                        snprintf(errstr, errstr_size, "ksafe: cannot load the policy %s:%d:%d: %s",
                                 err.source, err.line, err.column, err.text);
                else
                        snprintf(errstr, errstr_size, "ksafe: cannot load the policy %s: %s",
                                 err.source[0] ? err.source : "(KSAFE_POLICY)", err.text);
                return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        /* Check (and enforce) first: what this does to conf is what the
         * facade does (reject rules refuse and change nothing). */
        ksafe_report_t *report = ksafe_conf_enforce(conf, ksafe_policy_cache__policy(held));
        if (!report || ksafe_report_rejected(report)) {
                ksafe_report__explain(report, errstr, errstr_size);
                ksafe_report_destroy(report);
                ksafe_policy_cache__release(held);
                return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        plugin_t *p = plugin_new(held);
        if (!p) {
                ksafe_report_destroy(report);
                ksafe_policy_cache__release(held);
                snprintf(errstr, errstr_size, "ksafe: out of memory");
                return RD_KAFKA_RESP_ERR__FAIL;
        }
        pend_warnings(p, report);
        ksafe_report_destroy(report);
        /* Interceptors last. */
        rd_kafka_resp_err_t res = add_interceptors(conf, p);
        if (res == RD_KAFKA_RESP_ERR__CONFLICT)
                return RD_KAFKA_RESP_ERR_NO_ERROR; /* loaded again: already covered */
        if (res)
                snprintf(errstr, errstr_size, "ksafe: cannot add interceptors: %s",
                         rd_kafka_err2str(res));
        return res;
}
