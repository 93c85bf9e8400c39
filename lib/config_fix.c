/*
 * Repairing a config read from a file (ksafe_config_enforce(), --fix): the
 * shared enforcement loop, with a setter that records a change per
 * property and marks the lines it rewrites; config_render.c writes them.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

typedef struct repair_s {
        ksafe_config_t *cfg;
        resolved_t *resolved;
} repair_t;

static ksafe_change_t *change_for(ksafe_config_t *cfg, const char *canonical)
{
        for (size_t i = 0; i < cfg->change_count; i++)
                if (strcmp(cfg->changes[i].canonical, canonical) == 0)
                        return &cfg->changes[i];
        ksafe_change_t *changes =
                realloc(cfg->changes, (cfg->change_count + 1) * sizeof(*changes));
        if (!changes)
                return NULL;
        cfg->changes = changes;
        ksafe_change_t *c = &changes[cfg->change_count];
        *c = (ksafe_change_t){.canonical = strdup(canonical)};
        if (!c->canonical)
                return NULL;
        cfg->change_count++;
        return c;
}

/* The enforcement loop's setter for a file: remember the change, mark the
 * lines it rewrites, and let the view see the new value. */
static bool config_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        repair_t *rp = target;
        ksafe_config_t *cfg = rp->cfg;
        const ksafe_prop_t *prop = rule->prop;
        bool remove = rule->checks & KSAFE_CHECK_FORBIDDEN;
        char why[512];
        char *parsed = remove ? strdup(prop->def) : ksafe_prop__parse(prop, value, why, sizeof(why));
        ksafe_change_t *c = parsed ? change_for(cfg, prop->name) : NULL;
        if (c) {
                free(c->name);
                free(c->value);
                c->name = strdup(rule->property);
                c->value = remove ? NULL : strdup(value);
        }
        if (!c || !c->name || (!remove && !c->value)) {
                free(parsed);
                return false;
        }

        /* The file's last line for this property gets the new value (a
         * property set with ksafe_config_set() is not the file's). */
        int winner = -1;
        for (size_t k = 0; k < rp->resolved->count; k++) {
                size_t i = rp->resolved->index[k];
                if (i >= cfg->file_count || rp->resolved->entries[k].prop != prop)
                        continue;
                cfg->entries[i].removed = remove;
                cfg->entries[i].replacement = NULL;
                winner = (int)i; /* the last the client sets */
        }
        if (winner >= 0 && !remove)
                cfg->entries[winner].replacement = c->value;
        c->appended = winner < 0 && !remove; /* no line of the file has it */
        bool ok = ksafe_view__override(rp->resolved->view, prop, parsed, !remove);
        free(parsed);
        return ok;
}

static void drop_changes(ksafe_config_t *cfg)
{
        for (size_t i = 0; i < cfg->change_count; i++) {
                free(cfg->changes[i].name);
                free(cfg->changes[i].canonical);
                free(cfg->changes[i].value);
        }
        cfg->change_count = 0;
        for (size_t i = 0; i < cfg->count; i++) {
                cfg->entries[i].replacement = NULL;
                cfg->entries[i].removed = false;
        }
}

ksafe_report_t *ksafe_config_enforce(ksafe_config_t *config, const ksafe_policy_t *policy)
{
        resolved_t r;
        if (!ksafe_config__resolve(config, policy, &r))
                return NULL;
        repair_t rp = {.cfg = config, .resolved = &r};
        ksafe_report_t *report = ksafe_enforce__view(policy, r.view, config_setter, &rp);
        /* Enforcement that cannot satisfy the policy changes nothing: half
         * a repair is no repair. */
        if (!report || ksafe_report_rejected(report)) {
                drop_changes(config);
                ksafe_report__unfix(report);
        }
        /* A rewritten value is no longer misread or invalid. */
        for (size_t k = 0; k < r.count; k++) {
                const ksafe_entry_t *e = &config->entries[r.index[k]];
                if (r.index[k] < config->file_count && (e->replacement || e->removed))
                        r.entries[k].status = KSAFE_ENTRY_OK;
        }
        if (report) {
                ksafe_config__eval_entries(config, policy, r.view, report);
                ksafe_report__sort(report);
        }
        ksafe_config__resolved_free(&r);
        return report;
}

size_t ksafe_config_change_count(const ksafe_config_t *config)
{
        return config->change_count;
}
