#!/usr/bin/env python3
"""ksafe-verify, run as a user and CI run it (suite `verify`).

Usage: test_verify.py GROUP KSAFE_VERIFY MOCK_CLUSTER
GROUP is one of: faults (each fault alone), big (all faults, 100,000 messages), cli (usage,
a corrupted observation, text and JSON, progress, -b). Every JSON document is validated
against tests/verify/report.schema.json and its numbers are cross-checked.
"""
import json
import os
import pty
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'cli'))
from tap import Skip, run_tap  # noqa: E402

GROUP, VERIFY, MOCK = sys.argv[1], sys.argv[2], sys.argv[3]
COUNTS = ['sent', 'acked', 'lost', 'mock_lost', 'duplicated', 'mock_duplicates', 'reordered',
          'resends', 'resends_same_seq']
KSAFE = ('idempotent', 'transactional')

try:
    import jsonschema
    with open(os.path.join(HERE, 'report.schema.json'), encoding='utf-8') as f:
        SCHEMA = json.load(f)
except ImportError:
    jsonschema = None

# librdkafka 2.0.2 can raise a fatal error when a request that timed out (possibly written) is
# followed by one that the broker refuses as out of order: upstream pull request #4438
# (librdkafka 2.3.0). ksafe-verify reports it as a guarantee not met, with exit 1; a test
# that meets it cannot show the guarantee, so it is skipped and says why.
KNOWN_BUG = 'sequence desynchronization'


class Checks:
    def __init__(self):
        self.failures = []
        self.commands = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def run(t, args, env=None, stderr=subprocess.PIPE, timeout=300):
    full = dict(os.environ)
    full.pop('KSAFE_TEST_BROKERS', None)
    full.pop('KSAFE_VERIFY_TEST_CORRUPT', None)
    full.update(env or {})
    t.commands.append(' '.join([VERIFY] + args))
    return subprocess.run([VERIFY] + args, stdout=subprocess.PIPE, stderr=stderr, text=True,
                          env=full, timeout=timeout, check=False)


def cross_check(t, doc, rc):
    """The document's numbers agree with each other, with its verdicts and with the exit."""
    if jsonschema:
        try:
            jsonschema.validate(doc, SCHEMA)
        except jsonschema.ValidationError as e:
            t.check(False, f'schema: {e.message} at {list(e.absolute_path)}')
    ok = True
    for p in doc['profiles']:
        name = p['name']
        for key in COUNTS:
            total = sum(q[key] for q in p['partitions'])
            t.check(total == p[key], f'{name}: {key} {p[key]} but the partitions add up to {total}')
        for q in [p] + p['partitions']:
            where = f"{name} partition {q.get('partition', 'total')}"
            t.check(q['acked'] <= q['sent'], f'{where}: more acked than sent')
            t.check(q['lost'] + q['mock_lost'] <= q['sent'], f'{where}: more lost than sent')
            t.check(q['resends_same_seq'] <= q['resends'], f'{where}: same-seq > resends')
        if p['ran'] and doc['cluster'] == 'mock':
            t.check(p['sent'] == doc['messages'], f"{name}: sent {p['sent']}")
        if name != 'transactional':
            t.check(p['aborted_transactions'] == 0 and p['aborted_records'] == 0,
                    f'{name}: aborted transactions without transactions')
        if name == 'unsafe':
            t.check(p['guarantee_met'] is None, 'unsafe has no guarantee')
            t.check(p['resends_same_seq'] == 0 and p['mock_duplicates'] == 0 and
                    p['mock_lost'] == 0,
                    'unsafe: without a producer id no resend keeps a sequence')
            continue
        met = (p['ran'] and p['inconsistencies'] == 0 and p['acked'] == p['sent'] and
               p['lost'] == 0 and p['duplicated'] == 0 and p['reordered'] == 0 and
               p['resends'] == p['resends_same_seq'] and 'stopped' not in p['verdict'])
        t.check(p['guarantee_met'] == met,
                f"{name}: guarantee_met {p['guarantee_met']} but the counts say {met}")
        ok = ok and p['guarantee_met']
    t.check(doc['ok'] == ok, f"ok is {doc['ok']}, the profiles say {ok}")
    t.check(rc == (0 if ok else 1), f'exit {rc} for ok={ok}')
    t.check((doc['note'] != '') == (doc['cluster'] == 'mock'), 'the note is for the mock only')


def run_json(t, args, env=None):
    p = run(t, ['-q', '-f', 'json'] + args, env=env)
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError:
        t.check(False, f'not JSON (exit {p.returncode}): {p.stdout[:300]!r} {p.stderr[-500:]!r}')
        return p, None
    cross_check(t, doc, p.returncode)
    return p, doc


def profile(doc, name):
    return next(p for p in doc['profiles'] if p['name'] == name)


def skip_known_bug(doc):
    for name in KSAFE:
        p = next((q for q in doc['profiles'] if q['name'] == name), None)
        if p and KNOWN_BUG in p['verdict']:
            raise Skip(f'{name}: librdkafka 2.0.2 raised its fatal "{KNOWN_BUG}" error '
                       '(upstream pull request 4438); ksafe-verify reported it, exit 1')


def guarantee_under(t, faults, messages, extra=()):
    p, doc = run_json(t, ['--faults', faults, '-n', str(messages), '--seed', '11'] + list(extra))
    if not doc:
        return None
    skip_known_bug(doc)
    t.check(p.returncode == 0, f'exit {p.returncode}: {p.stderr[-500:]}')
    t.check(doc['faults'] == faults.split(',') or faults == 'all', f"faults {doc['faults']}")
    for q in doc['profiles']:
        if q['name'] in KSAFE:
            t.check(q['guarantee_met'], f"{q['name']}: {q['verdict']}")
    return doc


# --- faults: each alone -------------------------------------------------------------------

def test_lost_acks(t):
    """lost acks alone: the ksafe profiles keep their guarantee, the unsafe one duplicates"""
    doc = guarantee_under(t, 'lost-acks', 3000)
    if doc:
        t.check(profile(doc, 'unsafe')['duplicated'] > 0, 'unsafe: no duplicate')
        for name in KSAFE:
            t.check(profile(doc, name)['resends'] > 0, f'{name}: the faults did not bite')


def test_broker_down(t):
    """a broker down and back alone: the ksafe profiles keep their guarantee"""
    doc = guarantee_under(t, 'broker-down', 3000)
    if doc:
        t.check(sum(p['resends'] for p in doc['profiles']) > 0,
                'no profile resent anything: the faults did not bite')


def test_leader_change(t):
    """leaders moved alone: the ksafe profiles keep their guarantee"""
    doc = guarantee_under(t, 'leader-change', 3000)
    if doc:
        for name in KSAFE:
            t.check(profile(doc, name)['resends'] > 0, f'{name}: the faults did not bite')


def test_retriable(t):
    """retriable errors alone: the ksafe profiles keep their guarantee"""
    doc = guarantee_under(t, 'retriable', 3000)
    if doc:
        for name in KSAFE:
            t.check(profile(doc, name)['resends'] > 0, f'{name}: the faults did not bite')


def test_one_in_flight(t):
    """transactional, one request in flight: no mock duplicate at all (the caveat made exact)"""
    doc = guarantee_under(t, 'lost-acks', 3000,
                          ['--profile', 'transactional', '--max-in-flight', '1'])
    if doc:
        q = profile(doc, 'transactional')
        t.check(doc['max_in_flight'] == 1, 'max_in_flight')
        t.check(q['resends'] > 0, 'the faults did not bite')
        t.check(q['mock_duplicates'] == 0, f"{q['mock_duplicates']} mock duplicates")


# --- big: all faults together, 100,000 messages ------------------------------------------

def test_all_big(t):
    """all faults together on 100,000 messages: guarantee kept, unsafe duplicates"""
    p = run(t, ['-f', 'json', '--faults', 'all', '-n', '100000', '--seed', '3'])
    doc = json.loads(p.stdout)
    cross_check(t, doc, p.returncode)
    skip_known_bug(doc)
    t.check(p.returncode == 0, f'exit {p.returncode}')
    t.check(doc['messages'] == 100000, 'messages')
    t.check(profile(doc, 'unsafe')['duplicated'] > 0, 'unsafe: no duplicate')
    for name in KSAFE:
        q = profile(doc, name)
        t.check(q['guarantee_met'], f"{name}: {q['verdict']}")
        t.check(q['resends'] > 0, f'{name}: the faults did not bite')
    # stderr is not a terminal here: progress comes as plain lines, never a bar.
    lines = [ln for ln in p.stderr.splitlines() if ln]
    t.check(any(ln.startswith('ksafe-verify: ') and '/100000' in ln for ln in lines),
            f'no progress line on stderr: {p.stderr[:300]!r}')
    t.check('\r' not in p.stderr and '[#' not in p.stderr, 'a bar on a pipe')


# --- cli ----------------------------------------------------------------------------------

def test_help(t):
    """--help and --version print to stdout and exit 0"""
    p = run(t, ['--help'])
    t.check(p.returncode == 0 and p.stdout.startswith('Usage: ksafe-verify'), 'help')
    t.check('--faults' in p.stdout and 'Exit status' in p.stdout, 'help names the options')
    t.check(p.stderr == '', 'help on stderr')
    p = run(t, ['--version'])
    t.check(p.returncode == 0 and p.stdout.startswith('ksafe-verify '), 'version')


BAD_USAGE = [
    (['--faults', 'lost-acks,typo'], "unknown fault in 'lost-acks,typo'"),
    (['--faults', 'lost-acks,'], 'unknown fault'),
    (['--profile', 'safe'], "unknown profile in 'safe'"),
    (['-n', '0'], '--messages needs a number'),
    (['-n', '12x'], '--messages needs a number'),
    (['-n', '-5'], '--messages needs a number'),
    (['-P', '65'], '--partitions needs a number from 1 to 64'),
    (['--max-in-flight', '6'], "--max-in-flight needs 1 to 5"),
    (['--seed', 'x'], '--seed needs a number'),
    (['--compare', '--profile', 'unsafe'], 'does not go with --profile'),
    (['-f', 'xml'], "unknown format 'xml'"),
    (['extra'], "unexpected argument 'extra'"),
    (['--bogus'], "unknown option '--bogus'"),
    (['-n'], "option '-n' needs an argument"),
    (['-b', '127.0.0.1:1', '--faults', 'lost-acks'], '--faults needs the mock cluster'),
]


def test_bad_usage(t):
    """bad usage: exit 2, one message on stderr naming the problem, nothing on stdout"""
    for args, message in BAD_USAGE:
        p = run(t, args)
        t.check(p.returncode == 2, f'{args}: exit {p.returncode}')
        t.check(message in p.stderr, f'{args}: {p.stderr!r} lacks {message!r}')
        t.check(p.stdout == '', f'{args}: stdout {p.stdout!r}')


def test_corrupted_observation(t):
    """a resend recorded with a changed sequence makes ksafe-verify exit 1 (and not without it)"""
    args = ['--faults', 'lost-acks', '-n', '3000', '--seed', '5', '--profile', 'idempotent']
    p, doc = run_json(t, args)
    if not doc:
        return
    skip_known_bug(doc)
    q = profile(doc, 'idempotent')
    t.check(p.returncode == 0 and q['resends'] > 0,
            f"control run: exit {p.returncode}, resends {q['resends']}")
    p, doc = run_json(t, args, env={'KSAFE_VERIFY_TEST_CORRUPT': '1'})
    if not doc:
        return
    q = profile(doc, 'idempotent')
    t.check(p.returncode == 1, f'corrupted: exit {p.returncode}')
    t.check(not q['guarantee_met'], 'corrupted: guarantee met')
    t.check(q['resends_same_seq'] == q['resends'] - 1,
            f"corrupted: {q['resends_same_seq']} of {q['resends']} resends kept their sequence")
    t.check(q['inconsistencies'] > 0 and 'BaseSeq' in q.get('first_inconsistency', ''),
            f"corrupted: the sequence out of step is not named: {q.get('first_inconsistency')}")


def test_text(t):
    """text: a side-by-side table, a verdict per profile, the note once"""
    p = run(t, ['-q', '--faults', 'lost-acks', '-n', '2000', '--profile',
                'unsafe,idempotent', '-v'])
    out = p.stdout.splitlines()
    t.check(p.returncode in (0, 1), f'exit {p.returncode}')
    header = next((i for i, ln in enumerate(out) if ln.split() == ['unsafe', 'idempotent']),
                  None)
    if not t.check(header is not None, f'no table header: {p.stdout[:400]!r}'):
        return
    rows = [out[header + 1 + i].split() for i in range(len(COUNTS))]
    t.check([r[0] for r in rows] == COUNTS, f'rows {[r[0] for r in rows]}')
    t.check(all(len(r) == 3 and r[1].isdigit() and r[2].isdigit() for r in rows),
            f'rows {rows}')
    t.check(rows[0][1:] == ['2000', '2000'], f'sent {rows[0]}')
    t.check(sum(1 for ln in out if ln.startswith('Note: ')) == 1, 'the note, once')
    t.check(sum(1 for ln in out if ln.startswith('partition ')) == 6, 'per partition (-v)')
    t.check(any(ln.startswith('idempotent') and ('MET' in ln) for ln in out), 'verdict')
    t.check(p.stderr == '', f'-q: stderr {p.stderr[:200]!r}')


def test_progress_bar(t):
    """progress on a terminal: a bar redrawn in place, cleared at the end"""
    master, slave = pty.openpty()
    t.commands.append(f'{VERIFY} (stderr on a terminal)')
    proc = subprocess.Popen([VERIFY, '--faults', 'broker-down', '-n', '3000', '--profile',
                             'idempotent'], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    err = b''
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    proc.wait(timeout=120)
    proc.stdout.read()
    proc.stdout.close()
    os.close(master)
    text = err.decode('utf-8', 'replace')
    t.check('\r' in text and '[#' in text and '/3000' in text, f'no bar: {text[:200]!r}')
    t.check(text.endswith('\r\x1b[K'), f'the bar is not cleared: {text[-40:]!r}')


def test_brokers(t):
    """-b and KSAFE_TEST_BROKERS: the same workload on a cluster outside the process"""
    t.commands.append(f'{MOCK} ksafe-verify 4')
    mock = subprocess.Popen([MOCK, 'ksafe-verify', '4'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        boot = mock.stdout.readline().strip()
        if not t.check(boot != '', 'the mock cluster did not start'):
            return
        p, doc = run_json(t, ['-b', boot, '-n', '1200'])
        if doc:
            t.check(doc['cluster'] == 'brokers' and doc['faults'] == [], 'cluster, faults')
            t.check(p.returncode == 0, f'exit {p.returncode}: {p.stderr[-300:]}')
            t.check(all(len(q['partitions']) == 4 for q in doc['profiles']),
                    "the topic's partitions")
            t.check(all(q['sent'] == 1200 and q['lost'] == 0 for q in doc['profiles']),
                    'sent, lost')
        # The environment names the cluster when -b does not; each run reads only its own.
        p, doc = run_json(t, ['-n', '600', '--profile', 'idempotent'],
                          env={'KSAFE_TEST_BROKERS': boot})
        if doc:
            t.check(doc['cluster'] == 'brokers' and p.returncode == 0,
                    f"KSAFE_TEST_BROKERS: {doc['cluster']}, exit {p.returncode}")
            q = profile(doc, 'idempotent')
            t.check(q['sent'] == 600 and q['acked'] == 600, 'KSAFE_TEST_BROKERS: counts')
    finally:
        mock.stdin.close()
        mock.wait(timeout=30)


GROUPS = {
    'faults': [test_lost_acks, test_broker_down, test_leader_change, test_retriable,
               test_one_in_flight],
    'big': [test_all_big],
    'cli': [test_help, test_bad_usage, test_corrupted_observation, test_text,
            test_progress_bar, test_brokers],
}

if __name__ == '__main__':
    sys.exit(run_tap(GROUPS[GROUP], Checks, commands=lambda t: t.commands[-3:]))
