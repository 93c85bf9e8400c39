/*
 * Judging inputs on worker threads, their results taken in input order.
 *
 * The workers take the next input in turn and judge it into a slot of a
 * ring; what judging says (errors on stderr, --effective's text on stdout)
 * goes to the slot's own buffers. The calling thread takes the slots in
 * input order: it prints what each said, then hands the result over
 * (written, freed), which frees the slot for a later input. At most
 * LINT_JOBS_RING results wait at any time, so memory stays flat in the
 * number of inputs, and every output is what one thread would write.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

/* Results judged ahead of the one being written, at most; a worker takes
 * this many inputs at once (one lock and at most one wake-up for them). */
#define LINT_JOBS_RING 64
#define LINT_JOBS_CHUNK 8

typedef struct slot_s {
        lint_job_t job;
        bool done;
} slot_t;

typedef struct pool_s {
        size_t count;
        lint_judge_fn judge;
        void *ctx;
        slot_t ring[LINT_JOBS_RING];
        size_t next;  /* the next input a worker takes */
        size_t taken; /* inputs handed over: input i has a slot while i < taken + ring */
        pthread_mutex_t lock;
        pthread_cond_t judged;    /* slots are done (the calling thread waits) */
        pthread_cond_t freed;     /* slots were handed over (workers wait) */
        bool taker_waits;         /* for `judged` */
        unsigned workers_waiting; /* for `freed` */
} pool_t;

/* Judge input i into `job`, with what it says in the job's buffers (on
 * stderr and stdout when they cannot be made). */
static void judge_buffered(pool_t *pool, size_t i, lint_job_t *job)
{
        *job = (lint_job_t){0};
        FILE *err = open_memstream(&job->said, &job->said_len);
        FILE *out = open_memstream(&job->shown, &job->shown_len);
        pool->judge(pool->ctx, i, job, err ? err : stderr, out ? out : stdout);
        if (err)
                fclose(err);
        if (out)
                fclose(out);
}

static void *worker(void *arg)
{
        pool_t *pool = arg;
        pthread_mutex_lock(&pool->lock);
        while (pool->next < pool->count) {
                size_t first = pool->next, end = first + LINT_JOBS_CHUNK;
                end = end < pool->count ? end : pool->count;
                end = end < pool->taken + LINT_JOBS_RING ? end : pool->taken + LINT_JOBS_RING;
                if (end == first) { /* every slot holds a result not yet taken */
                        pool->workers_waiting++;
                        pthread_cond_wait(&pool->freed, &pool->lock);
                        pool->workers_waiting--;
                        continue;
                }
                pool->next = end;
                pthread_mutex_unlock(&pool->lock);
                for (size_t i = first; i < end; i++)
                        judge_buffered(pool, i, &pool->ring[i % LINT_JOBS_RING].job);
                pthread_mutex_lock(&pool->lock);
                for (size_t i = first; i < end; i++)
                        pool->ring[i % LINT_JOBS_RING].done = true;
                if (pool->taker_waits)
                        pthread_cond_signal(&pool->judged);
        }
        pthread_mutex_unlock(&pool->lock);
        return NULL;
}

/* What a judged input said, in its place in the order. */
static void say(const lint_job_t *job)
{
        if (job->said_len)
                fwrite(job->said, 1, job->said_len, stderr);
        if (job->shown_len)
                fwrite(job->shown, 1, job->shown_len, stdout);
}

void lint_jobs_run(size_t count, unsigned workers, lint_judge_fn judge, lint_take_fn take,
                   void *ctx)
{
        pool_t *pool = workers > 1 && count > 1 ? calloc(1, sizeof(*pool)) : NULL;
        pthread_t threads[LINT_JOBS_MAX];
        unsigned started = 0;
        if (pool) {
                *pool = (pool_t){.count = count, .judge = judge, .ctx = ctx};
                pthread_mutex_init(&pool->lock, NULL);
                pthread_cond_init(&pool->judged, NULL);
                pthread_cond_init(&pool->freed, NULL);
                for (; started < workers && started < LINT_JOBS_MAX; started++)
                        if (pthread_create(&threads[started], NULL, worker, pool) != 0)
                                break;
        }
        if (!started) {
                /* One thread: judge and hand over each in turn, saying
                 * what it says as it says it. */
                for (size_t i = 0; i < count; i++) {
                        lint_job_t job = {0};
                        judge(ctx, i, &job, stderr, stdout);
                        take(ctx, i, &job);
                }
        }
        for (size_t i = 0; started && i < count; i++) {
                slot_t *slot = &pool->ring[i % LINT_JOBS_RING];
                pthread_mutex_lock(&pool->lock);
                while (!slot->done) {
                        pool->taker_waits = true;
                        pthread_cond_wait(&pool->judged, &pool->lock);
                        pool->taker_waits = false;
                }
                pthread_mutex_unlock(&pool->lock);
                say(&slot->job);
                free(slot->job.said);
                free(slot->job.shown);
                take(ctx, i, &slot->job);
                pthread_mutex_lock(&pool->lock);
                slot->done = false;
                pool->taken++;
                /* A chunk's room, or all that was taken: wake who waits. */
                if (pool->workers_waiting &&
                    (pool->taken % LINT_JOBS_CHUNK == 0 || pool->taken == pool->next))
                        pthread_cond_broadcast(&pool->freed);
                pthread_mutex_unlock(&pool->lock);
        }
        for (unsigned t = 0; t < started; t++)
                pthread_join(threads[t], NULL);
        if (pool) {
                pthread_mutex_destroy(&pool->lock);
                pthread_cond_destroy(&pool->judged);
                pthread_cond_destroy(&pool->freed);
        }
        free(pool);
}
