/*
 * The facade: drop-ins for rd_kafka_new(RD_KAFKA_PRODUCER, ...) and
 * rd_kafka_topic_new() that cannot return an unsafe handle, and the audit
 * of a created handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/** The engine finding that says the created handle failed the audit and
 *  took conf with it (ksafe_report_conf_consumed()). */
#define KSAFE_AUDIT_FAILED "ksafe-audit-failed"

static void set_errstr(char *errstr, size_t size, const char *fmt, ...) KSAFE_PRINTF(3, 4);

/* errstr holds what the caller's topic name, librdkafka's messages and the
 * policy put in it: escaped (ksafe_report_escape()) so that none of it can
 * forge a line in the caller's log, and cut visibly on a character. */
static void set_errstr(char *errstr, size_t size, const char *fmt, ...)
{
        if (!errstr || !size)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *text = ksafe__vformat(fmt, ap);
        va_end(ap);
        char *shown = text ? ksafe_report_escape(text) : NULL;
        ksafe_error__fit_head(errstr, size, shown ? shown : "ksafe: out of memory");
        free(shown);
        free(text);
}

/* The caller's policy, or the one the environment names (the process's
 * cached copy, held until ksafe_policy_cache__release(*held)). */
static const ksafe_policy_t *policy_or_env(const ksafe_policy_t *policy, ksafe_cached_t **held,
                                           char *errstr, size_t errstr_size)
{
        *held = NULL;
        if (policy)
                return policy;
        ksafe_error_t err = {0};
        *held = ksafe_policy_cache__get(&err);
        if (!*held && err.line > 0)
                set_errstr(errstr, errstr_size, "ksafe: cannot load the policy %s:%d:%d: %s",
                           err.source, err.line, err.column, err.text);
        else if (!*held)
                set_errstr(errstr, errstr_size, "ksafe: cannot load the policy %s: %s",
                           err.source[0] ? err.source : "(KSAFE_POLICY)", err.text);
        return *held ? ksafe_policy_cache__policy(*held) : NULL;
}

static void hand_over(ksafe_report_t *report, ksafe_report_t **reportp)
{
        if (reportp)
                *reportp = report;
        else
                ksafe_report_destroy(report);
}

/* Audit the handle that rd_kafka_new() created from the judged conf: rk when
 * it passes; otherwise destroy it (and conf with it), add KSAFE_AUDIT_FAILED
 * to report, explain in errstr and return NULL. The audit knows what the
 * pre-check (view) knew about which properties were set: a value set to its
 * default is set. */
static rd_kafka_t *audit_created(rd_kafka_t *rk, const ksafe_policy_t *policy,
                                 const ksafe_view_t *view, ksafe_report_t *report, char *errstr,
                                 size_t errstr_size)
{
        ksafe_report_t *audit = ksafe_eval__view_consume(
                policy, ksafe_view__from_handle_like(policy->props, rk, view));
        if (!audit || ksafe_enforce__add_refusals(report, audit)) {
                /* ksafe's model of librdkafka was wrong: never hand
                 * out this handle. conf goes with it (see ksafe.h),
                 * and the report says so: ksafe_report_conf_consumed(). */
                ksafe_violation_t consumed = {
                        .rule_id = KSAFE_AUDIT_FAILED,
                        .property = "(producer)",
                        .message = "the created producer failed ksafe's audit (a ksafe "
                                   "bug): it was destroyed, and conf with it",
                        .why = "ksafe's model of rd_kafka_new() differs from "
                               "librdkafka: the handle is not handed out",
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                };
                ksafe_report__add(report, &consumed);
                ksafe_report__explain(report, errstr, errstr_size);
                size_t len = errstr && errstr_size ? strnlen(errstr, errstr_size) : 0;
                if (len + 1 < errstr_size)
                        snprintf(errstr + len, errstr_size - len,
                                 " (the created handle failed the audit: conf was "
                                 "consumed with it)");
                rd_kafka_destroy(rk);
                rk = NULL;
        }
        ksafe_report_destroy(audit);
        return rk;
}

/*
 * The policy is judged and enforced on a view of the caller's conf, the
 * values enforcement chooses held by the view only, so that a refusal
 * leaves conf as it was. Then they are set on the caller's own conf, which
 * rd_kafka_new() gets: a copy would lose the interceptors added to it
 * (rd_kafka_conf_dup() does not copy them).
 */
rd_kafka_t *ksafe_producer_new(rd_kafka_conf_t *conf, const ksafe_policy_t *policy,
                               ksafe_report_t **reportp, char *errstr, size_t errstr_size)
{
        if (reportp)
                *reportp = NULL;
        ksafe_cached_t *held;
        if (!(policy = policy_or_env(policy, &held, errstr, errstr_size)))
                return NULL;
        rd_kafka_conf_t *fresh = conf ? NULL : rd_kafka_conf_new();
        if (fresh)
                conf = fresh;

        ksafe_report_t *report;
        ksafe_view_t *view;
        char why[512];
        rd_kafka_t *rk = NULL;
        switch (ksafe_enforce__conf(policy, conf, &report, &view, why, sizeof(why))) {
        case KSAFE_CONF_NO_MEMORY: set_errstr(errstr, errstr_size, "ksafe: out of memory"); break;
        case KSAFE_CONF_REFUSED: /* conf is as it was, nothing fixed */
                ksafe_report__explain(report, errstr, errstr_size);
                ksafe_report__unfix(report);
                break;
        case KSAFE_CONF_NOT_HELD:
                /* conf refused a value (librdkafka's word), or did not
                 * keep one as it was set (an interceptor, say): refuse
                 * while conf is still the caller's. */
                if (why[0])
                        set_errstr(errstr, errstr_size, "%s", why);
                else
                        ksafe_report__explain(report, errstr, errstr_size);
                break;
        case KSAFE_CONF_SET:
                if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
                        fresh = NULL; /* the handle owns conf now */
                        rk = audit_created(rk, policy, view, report, errstr, errstr_size);
                }
                break;
        }
        ksafe_view__destroy(view);
        if (fresh)
                rd_kafka_conf_destroy(fresh);
        hand_over(report, reportp);
        ksafe_policy_cache__release(held);
        return rk;
}

bool ksafe_report_conf_consumed(const ksafe_report_t *report)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                if (strcmp(ksafe_report_get(report, i)->rule_id, KSAFE_AUDIT_FAILED) == 0)
                        return true;
        return false;
}

ksafe_report_t *ksafe_handle_audit(rd_kafka_t *rk, const ksafe_policy_t *policy)
{
        return ksafe_eval__view_consume(policy, ksafe_view__from_handle(policy->props, rk));
}

typedef enum topic_state_e { TOPIC_NEW, TOPIC_EXISTS, TOPIC_UNKNOWN } topic_state_t;

/*
 * Has `rk` a handle for `topic` already? rd_kafka_topic_new() returns an
 * existing topic as it is and drops the conf it is given, and librdkafka
 * 2.0.2 has no getter for a created topic's conf: such a topic cannot be
 * judged. On an idempotent producer a topic conf with acks=0 makes
 * rd_kafka_topic_new() fail for a topic it would create (so nothing is
 * created) and return only one that exists. Its log line about that
 * refusal is kept out of the application's log (log_level 0 for the call).
 * Any other handle: TOPIC_UNKNOWN.
 */
static topic_state_t topic_state(rd_kafka_t *rk, const char *topic)
{
        char value[64];
        size_t size = sizeof(value);
        if (rd_kafka_type(rk) != RD_KAFKA_PRODUCER ||
            rd_kafka_conf_get(rd_kafka_conf(rk), "enable.idempotence", value, &size) !=
                    RD_KAFKA_CONF_OK ||
            strcmp(value, "true") != 0)
                return TOPIC_UNKNOWN;
        size = sizeof(value);
        int level = 6;
        if (rd_kafka_conf_get(rd_kafka_conf(rk), "log_level", value, &size) == RD_KAFKA_CONF_OK)
                level = (int)strtol(value, NULL, 10);
        char errstr[256];
        rd_kafka_topic_conf_t *probe = rd_kafka_topic_conf_new();
        if (rd_kafka_topic_conf_set(probe, "acks", "0", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                rd_kafka_topic_conf_destroy(probe);
                return TOPIC_UNKNOWN;
        }
        rd_kafka_set_log_level(rk, 0);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, probe); /* takes probe */
        rd_kafka_set_log_level(rk, level);
        if (!rkt)
                return TOPIC_NEW;
        rd_kafka_topic_destroy(rkt); /* the reference the probe took */
        return TOPIC_EXISTS;
}

/* The opaque a topic made from `tconf` has, as "%p" ("" for none). */
static void opaque_of(const rd_kafka_topic_conf_t *tconf, char *buf, size_t size)
{
        size_t n = size;
        if (rd_kafka_topic_conf_get(tconf, "opaque", buf, &n) != RD_KAFKA_CONF_OK ||
            strcmp(buf, "(nil)") == 0)
                buf[0] = '\0';
}

static bool topic_conf_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        char errstr[512];
        return rd_kafka_topic_conf_set(target, rule->prop->name, value, errstr, sizeof(errstr)) ==
               RD_KAFKA_CONF_OK;
}

/* true when rk has no handle for topic yet; otherwise false, with why in
 * errstr. */
static bool topic_is_new(rd_kafka_t *rk, const char *topic, char *errstr, size_t errstr_size)
{
        topic_state_t state = topic_state(rk, topic);
        if (state == TOPIC_NEW)
                return true;
        set_errstr(errstr, errstr_size,
                   state == TOPIC_EXISTS
                           ? "ksafe: topic \"%s\" already has a handle in this producer: "
                             "rd_kafka_topic_new() would return it as it is, and its "
                             "configuration cannot be read back to be judged (keep the "
                             "handle ksafe_topic_new() returned the first time)"
                           : "ksafe: cannot tell whether topic \"%s\" already has a "
                             "handle: ksafe_topic_new() needs an idempotent producer",
                   topic);
        return false;
}

/* rkt when it is the handle made from the judged tconf (whose opaque was
 * `opaque`). Another thread may have made the topic in between: a handle
 * that is not the one made from tconf is refused where that shows (its
 * opaque differs): destroyed, NULL returned, why in errstr. */
static rd_kafka_topic_t *made_from_tconf(rd_kafka_topic_t *rkt, const char *opaque,
                                         const char *topic, char *errstr, size_t errstr_size)
{
        char got[64] = "";
        if (rd_kafka_topic_opaque(rkt))
                snprintf(got, sizeof(got), "%p", rd_kafka_topic_opaque(rkt));
        if (strcmp(got, opaque) == 0)
                return rkt;
        rd_kafka_topic_destroy(rkt);
        set_errstr(errstr, errstr_size,
                   "ksafe: topic \"%s\" was created elsewhere at the same time: "
                   "its configuration cannot be judged",
                   topic);
        return NULL;
}

rd_kafka_topic_t *ksafe_topic_new(rd_kafka_t *rk, const char *topic, rd_kafka_topic_conf_t *tconf,
                                  const ksafe_policy_t *policy, ksafe_report_t **reportp,
                                  char *errstr, size_t errstr_size)
{
        if (reportp)
                *reportp = NULL;
        ksafe_cached_t *held;
        if (!(policy = policy_or_env(policy, &held, errstr, errstr_size))) {
                if (tconf)
                        rd_kafka_topic_conf_destroy(tconf);
                return NULL;
        }
        if (!topic_is_new(rk, topic, errstr, errstr_size)) {
                if (tconf)
                        rd_kafka_topic_conf_destroy(tconf);
                ksafe_policy_cache__release(held);
                return NULL;
        }
        if (!tconf)
                tconf = rd_kafka_default_topic_conf_dup(rk);
        char opaque[64];
        opaque_of(tconf, opaque, sizeof(opaque));

        ksafe_view_t *view = ksafe_view__from_topic_conf(policy->props, rk, tconf);
        ksafe_report_t *report =
                view ? ksafe_enforce__view(policy, view, topic_conf_setter, tconf) : NULL;
        ksafe_view__destroy(view);
        rd_kafka_topic_t *rkt = NULL;
        if (!report) {
                set_errstr(errstr, errstr_size, "ksafe: out of memory");
                rd_kafka_topic_conf_destroy(tconf);
        } else if (ksafe_report_rejected(report)) {
                ksafe_report__explain(report, errstr, errstr_size);
                ksafe_report__unfix(report);
                rd_kafka_topic_conf_destroy(tconf);
        } else if (!(rkt = rd_kafka_topic_new(rk, topic, tconf))) {
                set_errstr(errstr, errstr_size, "ksafe: rd_kafka_topic_new(\"%s\") failed: %s",
                           topic, rd_kafka_err2str(rd_kafka_last_error()));
        } else if (!(rkt = made_from_tconf(rkt, opaque, topic, errstr, errstr_size))) {
                ksafe_report_destroy(report);
                report = NULL;
        }
        hand_over(report, reportp);
        ksafe_policy_cache__release(held);
        return rkt;
}
