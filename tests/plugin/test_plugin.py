"""libksafe as a librdkafka plugin, loaded by real clients nobody here wrote: kcat, Python's
confluent-kafka and rsyslog's omkafka, each against librdkafka's mock cluster, each loading it
with the one property `plugin.library.paths=libksafe`.

What each client really created is read from librdkafka's own debug=conf log (the client
configuration, the default topic configuration and kcat's per-topic one) and debug=msg (every
Produce request with its producer id: PID Id -1 is a producer that is not idempotent).

Usage: test_plugin.py LIBDIR SOURCE_ROOT   (LIBDIR holds the libksafe.so under test)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from tap import Skip, run_tap  # noqa: E402

LIBDIR = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
DATA = os.path.join(ROOT, 'tests', 'data', 'plugin')
POLICY = os.path.join(DATA, 'policy.json')
BROKEN = os.path.join(DATA, 'broken.json')
DEFAULT = 'ksafe: policy builtin:default (no environment)'


class Checks:
    def __init__(self):
        self.failures = []
        self.ran = []

    def check(self, ok, what, output=''):
        if not ok:
            self.failures.append(what + ('\n' + output[-3000:] if output else ''))
        return ok


def client_env(policy=None, env=None):
    e = dict(os.environ)
    e['LD_LIBRARY_PATH'] = LIBDIR + (':' + e['LD_LIBRARY_PATH'] if e.get('LD_LIBRARY_PATH')
                                     else '')
    e.pop('KSAFE_POLICY', None)
    e.pop('KSAFE_ENV', None)
    if policy:
        e['KSAFE_POLICY'] = policy
    if env:
        e['KSAFE_ENV'] = env
    return e


def conf_sections(log):
    """librdkafka's debug=conf dump, as {section: {name: value}}: "Client configuration",
    "Default topic configuration", 'Topic "t" configuration (user-supplied)'."""
    sections, current = {}, None
    for line in log.splitlines():
        m = re.search(r'\|CONF\|[^|]*\|\s*(?:\[thrd:[^]]*\]: )?(.*)$', line) or \
            re.search(r'kafka log message \[7,CONF\]: (?:\[thrd:[^]]*\]: )?(.*)$', line)
        if not m:
            continue
        text = m.group(1)
        if text.endswith(':') and 'configuration' in text:
            current = sections.setdefault(text[:-1].strip(), {})
        elif current is not None and ' = ' in text:
            name, value = text.strip().split(' = ', 1)
            current[name] = value
    return sections


def produce_requests(log):
    """The producer ids of the Produce requests sent, and how many were delivered."""
    pids = [int(m) for m in re.findall(r'Produce MessageSet with \d+ message\(s\) .*?PID\{Id:(-?\d+)',
                                       log)]
    delivered = len(re.findall(r'MessageSet with \d+ message\(s\) \(MsgId \d+, BaseSeq -?\d+\) '
                               r'delivered', log))
    return pids, delivered


# ---------------------------------------------------------------------------------------------
# kcat

def kcat(t, *x, policy=None, env=None, plugin='libksafe', before=()):
    if not shutil.which('kcat'):
        raise Skip('kcat is not installed (Debian: kcat)')
    args = ['kcat', '-P', '-b', 'localhost:1', '-X', 'test.mock.num.brokers=1']
    for p in before:
        args += ['-X', p]
    args += ['-X', f'plugin.library.paths={plugin}', '-X', 'debug=conf,msg']
    for p in x:
        args += ['-X', p]
    args += ['-t', 't']
    t.ran.append(' '.join(args))
    r = subprocess.run(args, input=b'hello\n', capture_output=True, env=client_env(policy, env),
                       timeout=60)
    return r.returncode, r.stderr.decode(errors='replace')


def produced_idempotently(t, rc, log, what):
    pids, delivered = produce_requests(log)
    t.check(rc == 0, f'{what}: kcat exits 0, not {rc}', log)
    t.check(sections_value(log, 'Client configuration', 'enable.idempotence') == 'true',
            f'{what}: the client was created with enable.idempotence = true', log)
    t.check(pids and all(p >= 0 for p in pids), f'{what}: every Produce request carries a '
            f'producer id (idempotent): {pids}', log)
    t.check(delivered >= 1, f'{what}: the message was delivered', log)


def sections_value(log, section, name):
    return conf_sections(log).get(section, {}).get(name)


def refused(t, rc, log, what, *needles):
    t.check(rc != 0, f'{what}: kcat fails', log)
    for n in needles:
        t.check(n in log, f'{what}: the error says {n!r}', log)
    t.check('Produce MessageSet' not in log, f'{what}: nothing was produced', log)


def test_kcat_plain(t):
    """kcat with the plugin and nothing else set: produces idempotently, and says the policy is active"""
    rc, log = kcat(t)
    produced_idempotently(t, rc, log, 'plain')
    t.check(f'{DEFAULT} active' in log, 'the load is logged through librdkafka\'s log', log)
    t.check(re.search(r'%4\|[^|]*\|KSAFE\|[^|]*\| ksafe: .* enforced enable\.idempotence=true',
                      log), 'the enforcement is logged as a warning (level 4)', log)


def test_kcat_full_path(t):
    """kcat loads the plugin by its full path too"""
    rc, log = kcat(t, plugin=os.path.join(LIBDIR, 'libksafe.so'))
    produced_idempotently(t, rc, log, 'full path')


def test_kcat_ksafe_refuses(t):
    """kcat -X enable.idempotence=false, max.in.flight=10, max.in.flight=4294967301, retries=010, linger.ms=280000: refused with ksafe's message"""
    cases = [
        ('enable.idempotence=false', ['refuses enable.idempotence=false', '[idempotence]',
                                      'safe value: true']),
        ('max.in.flight=10', ['refuses max.in.flight=10', '[in-flight]', 'safe value: 5']),
        ('max.in.flight=4294967301', ['refuses max.in.flight=4294967301',
                                      'librdkafka silently reads it as 5',
                                      '[ksafe-misread-value]']),
        ('retries=010', ['[ksafe-misread-value]', 'octal']),
        ('linger.ms=280000', ['refuses linger.ms=280000', '[delivery-covers-request]']),
    ]
    for prop, needles in cases:
        rc, log = kcat(t, prop)
        refused(t, rc, log, prop, f'% ERROR: {DEFAULT} refuses', *needles)


def test_kcat_topic_level(t):
    """kcat -X acks=1, acks=0, topic.acks=1 (kcat's own topic conf): librdkafka refuses them, idempotence being on"""
    for prop in ('acks=1', 'acks=0', 'topic.acks=1', 'request.required.acks=1'):
        rc, log = kcat(t, prop)
        refused(t, rc, log, prop, '`acks` must be set to `all` when `enable.idempotence` is true')
        t.check(sections_value(log, 'Client configuration', 'enable.idempotence') == 'true',
                f'{prop}: idempotence is on, which is why librdkafka refuses', log)


def test_kcat_topic_timeout_gap(t):
    """GAP: kcat -X delivery.timeout.ms=0 (or 1e3) goes to kcat's own topic conf, which no interceptor sees: it is used as written"""
    rc, log = kcat(t, 'delivery.timeout.ms=0')
    produced_idempotently(t, rc, log, 'delivery.timeout.ms=0')
    topic = conf_sections(log).get('Topic "t" configuration (user-supplied)', {})
    t.check(topic.get('message.timeout.ms') == '0',
            f'the per-topic conf kcat made holds message.timeout.ms = 0 (the gap): {topic}', log)
    default = conf_sections(log).get('Default topic configuration', {})
    t.check(default.get('message.timeout.ms') != '0',
            'the default topic conf, which ksafe judges, does not', log)
    # The same path for a misread value: 1e3 is 1 ms (whether the message then times out
    # or is delivered first is a race: not asserted).
    rc, log = kcat(t, 'delivery.timeout.ms=1e3')
    topic = conf_sections(log).get('Topic "t" configuration (user-supplied)', {})
    t.check(topic.get('message.timeout.ms') == '1',
            f'delivery.timeout.ms=1e3 reaches the topic as 1 ms (the gap): {topic}', log)
    t.check(f'{DEFAULT} active' in log and 'refuses' not in log,
            'the plugin is active and never saw the value', log)


def test_kcat_set_before_plugin(t):
    """kcat -X enable.idempotence=false before the plugin: conf_init enforces true, and logs it"""
    rc, log = kcat(t, before=['enable.idempotence=false'])
    produced_idempotently(t, rc, log, 'enable.idempotence=false first')
    t.check('enforced enable.idempotence=true: enable.idempotence is false' in log,
            'the enforcement names the property and its old value', log)


def test_kcat_reject_before_plugin(t):
    """kcat -X linger.ms=100 before the plugin, KSAFE_ENV=prod: the plugin load fails with the reject rule"""
    rc, log = kcat(t, before=['linger.ms=100'], policy=POLICY, env='prod')
    refused(t, rc, log, 'linger.ms=100 first', 'ksafe: policy "plugin-test" refuses',
            '[prod-linger]', '(plugin libksafe)')


def test_kcat_policy_env(t):
    """kcat with a policy file: KSAFE_ENV=prod refuses linger.ms=100 and enforces lz4; dev does neither"""
    rc, log = kcat(t, 'linger.ms=100', policy=POLICY, env='prod')
    refused(t, rc, log, 'prod linger.ms=100', 'ksafe: policy plugin-test (prod) refuses linger.ms=100',
            '[prod-linger]')
    rc, log = kcat(t, 'linger.ms=100', policy=POLICY, env='dev')
    produced_idempotently(t, rc, log, 'dev linger.ms=100')
    t.check('ksafe: policy plugin-test (dev) active' in log, 'dev: the policy is named', log)
    rc, log = kcat(t, policy=POLICY, env='prod')
    produced_idempotently(t, rc, log, 'prod plain')
    t.check(sections_value(log, 'Client configuration', 'compression.codec') == 'lz4',
            'prod: compression.codec = lz4 enforced', log)
    t.check('ksafe: policy plugin-test (prod) active' in log, 'prod: the policy is named', log)


def test_kcat_unusable_policy(t):
    """kcat with an unusable KSAFE_POLICY or KSAFE_ENV: fails to start, with the located error"""
    rc, log = kcat(t, policy=BROKEN)
    refused(t, rc, log, 'broken policy', f'ksafe: cannot load the policy {BROKEN}:3:')
    rc, log = kcat(t, policy=os.path.join(DATA, 'missing.json'))
    refused(t, rc, log, 'missing policy', 'ksafe: cannot load the policy',
            os.path.join(DATA, 'missing.json'))
    rc, log = kcat(t, policy=POLICY, env='nosuch')
    refused(t, rc, log, 'unknown environment', 'ksafe: cannot load the policy', 'nosuch')


# ---------------------------------------------------------------------------------------------
# Python

def python_with_kafka():
    for exe in (sys.executable, '/usr/bin/python3'):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, '-c', 'import confluent_kafka'], capture_output=True).returncode == 0:
            return exe
    raise Skip('python3-confluent-kafka is not installed')


PY_PRELUDE = r'''
import json, logging, re, sys
import confluent_kafka as ck
PLUGIN = {'plugin.library.paths': 'libksafe'}
MOCK = {'test.mock.num.brokers': 1}
def attempt(conf):
    try:
        ck.Producer(conf)
        return 'created'
    except ck.KafkaException as e:
        return 'KafkaException: ' + e.args[0].str()
'''


def python(t, body, policy=None, env=None):
    exe = python_with_kafka()
    t.ran.append(f'{exe} -c <script>')
    r = subprocess.run([exe, '-c', PY_PRELUDE + body], capture_output=True,
                       env=client_env(policy, env), timeout=90)
    return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')


def test_python_refusals(t):
    """Python: Producer with acks=1, enable.idempotence=False, delivery.timeout.ms='1e3' raises KafkaException with ksafe's message"""
    rc, out, err = python(t, r'''
for extra in ({'acks': '1'}, {'enable.idempotence': False}, {'delivery.timeout.ms': '1e3'},
              {'default.topic.config': {'acks': 1}}):
    print(json.dumps(attempt({**PLUGIN, **MOCK, **extra})))
''')
    lines = out.splitlines()
    t.check(rc == 0 and len(lines) == 4, 'the script ran', out + err)
    want = [['refuses acks=1', '[acks-all]', 'safe value: all'],
            ['refuses enable.idempotence=False', '[idempotence]', 'safe value: true'],
            ['refuses delivery.timeout.ms=1e3', '[ksafe-misread-value]'],
            ['refuses acks=1', '[acks-all]']]
    for line, needles in zip(lines, want):
        result = json.loads(line) if line.startswith('"') else line
        t.check(result.startswith(f'KafkaException: {DEFAULT} refuses'),
                f'KafkaException with ksafe\'s message: {result}')
        for n in needles:
            t.check(n in result, f'{n!r} in {result}')


def test_python_produces(t):
    """Python: a plain Producer with the plugin produces idempotently; a Consumer and an AdminClient with the plugin work"""
    rc, out, err = python(t, r'''
logs = []
class Keep(logging.Handler):
    def emit(self, record):
        logs.append(record.getMessage())
log = logging.getLogger('anchor'); log.addHandler(Keep()); log.setLevel(logging.DEBUG)
anchor = ck.Producer({**MOCK, 'logger': log})   # a mock cluster for the others to share
anchor.poll(0.5)
servers = next(re.search(r'replaced with (\S+)', l).group(1) for l in logs if 'replaced with' in l)
p = ck.Producer({**PLUGIN, 'bootstrap.servers': servers, 'debug': 'conf,msg'})
done = []
for i in range(5):
    p.produce('t', b'm%d' % i, on_delivery=lambda e, m: done.append(e))
p.flush(30)
print('delivered', sum(e is None for e in done))
c = ck.Consumer({**PLUGIN, 'bootstrap.servers': servers, 'group.id': 'g',
                 'auto.offset.reset': 'earliest'})
c.subscribe(['t'])
got = []
for _ in range(60):
    m = c.poll(0.5)
    if m is not None and not m.error():
        got.append(m.value())
    if len(got) == 5:
        break
c.close()
print('consumed', len(got))
# (the mock cluster of librdkafka 2.0.2 answers no CreateTopics: Metadata only)
from confluent_kafka.admin import AdminClient
a = AdminClient({**PLUGIN, 'bootstrap.servers': servers})
print('admin topics', sorted(a.list_topics(timeout=30).topics))
''')
    t.check(rc == 0, f'the script ran (exit {rc})', out + err)
    t.check('delivered 5' in out, 'the producer delivered 5 messages', out + err)
    t.check('consumed 5' in out, 'the consumer with the plugin consumed them', out + err)
    t.check("admin topics ['t']" in out, 'an AdminClient with the plugin lists the topics',
            out + err)
    t.check(sections_value(err, 'Client configuration', 'enable.idempotence') == 'true',
            'the producer was created with enable.idempotence = true', err)
    pids, _ = produce_requests(err)
    t.check(pids and all(p >= 0 for p in pids), f'every Produce request has a producer id: {pids}',
            err)
    t.check(err.count(f'{DEFAULT} active') == 3,
            'producer, consumer and admin client each log the policy once', err)
    t.check('producer property' in err and 'enable.idempotence' in err,
            'the consumer only logs librdkafka\'s CONFWARN about enable.idempotence', err)


def test_python_policy_env(t):
    """Python: KSAFE_ENV=prod refuses linger.ms=100; an unusable KSAFE_POLICY fails every Producer with the located error"""
    body = r'''
print(json.dumps(attempt({**PLUGIN, **MOCK, 'linger.ms': 100})))
print(json.dumps(attempt({**PLUGIN, **MOCK})))
'''
    rc, out, err = python(t, body, policy=POLICY, env='prod')
    lines = [json.loads(x) for x in out.splitlines()] if rc == 0 else []
    t.check(len(lines) == 2, 'the script ran', out + err)
    if len(lines) == 2:
        t.check('ksafe: policy plugin-test (prod) refuses linger.ms=100' in lines[0] and
                '[prod-linger]' in lines[0], f'prod refuses linger.ms=100: {lines[0]}')
        t.check(lines[1] == 'created', f'prod creates a plain producer: {lines[1]}')
    rc, out, err = python(t, body, policy=POLICY, env='dev')
    t.check(out.splitlines() == ['"created"', '"created"'], 'dev creates both', out + err)
    rc, out, err = python(t, body, policy=BROKEN)
    lines = [json.loads(x) for x in out.splitlines()] if rc == 0 else []
    t.check(len(lines) == 2 and all(f'ksafe: cannot load the policy {BROKEN}:3:' in x
                                    for x in lines), 'both fail with the located error', out + err)


# ---------------------------------------------------------------------------------------------
# rsyslog's omkafka

def rsyslog(t, conf_params, policy=None, env=None, wait_for=(), debug=False):
    """rsyslogd -n with an omkafka action whose confParam loads the plugin; one message is sent
    through a unix socket. Returns (stderr, debug log) once every regex of wait_for is seen
    in either, or after 30 s."""
    rsyslogd = shutil.which('rsyslogd') or '/usr/sbin/rsyslogd'
    import glob
    if not os.path.exists(rsyslogd) or not glob.glob('/usr/lib/*/rsyslog/omkafka.so'):
        raise Skip('rsyslog-kafka is not installed')
    with tempfile.TemporaryDirectory() as tmp:
        params = ', '.join(f'"{p}"' for p in ['test.mock.num.brokers=1',
                                             'plugin.library.paths=libksafe',
                                             'debug=conf,msg'] + conf_params)
        conf = os.path.join(tmp, 'rsyslog.conf')
        with open(conf, 'w') as f:
            f.write(f'''global(workDirectory="{tmp}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{tmp}/sock")
module(load="omkafka")
*.* action(type="omkafka" topic="t" broker=["localhost:1"] confParam=[{params}])
''')
        env_ = client_env(policy, env)
        dbg = os.path.join(tmp, 'debug.log')
        args = [rsyslogd, '-n', '-f', conf, '-i', os.path.join(tmp, 'pid')]
        if debug:
            args.insert(1, '-d')
            env_.update(RSYSLOG_DEBUGLOG=dbg, RSYSLOG_DEBUG='NoStdOut')
        t.ran.append(' '.join(args) + f'   # confParam=[{params}]')
        errf = open(os.path.join(tmp, 'stderr'), 'w+b')
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errf, env=env_)
        read = lambda p: open(p, errors='replace').read() if os.path.exists(p) else ''
        try:
            deadline = time.monotonic() + 30
            sent = False
            while time.monotonic() < deadline and proc.poll() is None:
                if not sent and os.path.exists(os.path.join(tmp, 'sock')):
                    sent = subprocess.run(['logger', '-u', os.path.join(tmp, 'sock'),
                                           'ksafe-plugin-test'], capture_output=True
                                          ).returncode == 0
                text = read(errf.name) + read(dbg)
                if sent and all(re.search(w, text) for w in wait_for):
                    break
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        return read(errf.name), read(dbg)


def test_rsyslog_refuses(t):
    """rsyslog: omkafka confParam acks=1 or enable.idempotence=false: the action refuses to start, with ksafe's message"""
    for prop, rule in (('acks=1', '[acks-all]'), ('enable.idempotence=false', '[idempotence]')):
        err, _ = rsyslog(t, [prop], wait_for=[r'action will be disabled'])
        t.check(f"error setting custom configuration parameter '{prop}': {DEFAULT} refuses "
                f'{prop}' in err and rule in err, f'{prop}: ksafe\'s refusal in rsyslog\'s log',
                err)
        t.check('action will be disabled' in err, f'{prop}: the action is disabled', err)


def test_rsyslog_produces(t):
    """rsyslog: omkafka with the plugin and nothing unsafe produces idempotently, as its debug log shows"""
    _, log = rsyslog(t, [], debug=True, wait_for=[r'MessageSet with \d+ message\(s\) \(MsgId \d+, '
                                                 r'BaseSeq -?\d+\) delivered'])
    t.check(f'kafka log message [6,KSAFE]: {DEFAULT} active' in log,
            'the load is logged through omkafka\'s librdkafka log', log[-4000:])
    t.check(sections_value(log, 'Client configuration', 'enable.idempotence') == 'true',
            'omkafka\'s producer has enable.idempotence = true', log[-4000:])
    pids, delivered = produce_requests(log)
    t.check(pids and all(p >= 0 for p in pids) and delivered >= 1,
            f'the message was delivered with a producer id: {pids}', log[-4000:])


def test_rsyslog_policy(t):
    """rsyslog: KSAFE_ENV=prod refuses linger.ms=100; an unusable KSAFE_POLICY disables the action with the located error"""
    err, _ = rsyslog(t, ['linger.ms=100'], policy=POLICY, env='prod',
                     wait_for=[r'action will be disabled'])
    t.check('ksafe: policy plugin-test (prod) refuses linger.ms=100' in err and
            '[prod-linger]' in err, 'prod: refused by prod-linger', err)
    err, _ = rsyslog(t, [], policy=BROKEN, wait_for=[r'action will be disabled'])
    t.check(f'ksafe: cannot load the policy {BROKEN}:3:' in err, 'broken policy: located error',
            err)
    t.check('action will be disabled' in err, 'broken policy: the action is disabled', err)


TESTS = [test_kcat_plain, test_kcat_full_path, test_kcat_ksafe_refuses, test_kcat_topic_level,
         test_kcat_topic_timeout_gap, test_kcat_set_before_plugin, test_kcat_reject_before_plugin,
         test_kcat_policy_env, test_kcat_unusable_policy, test_python_refusals,
         test_python_produces, test_python_policy_env, test_rsyslog_refuses,
         test_rsyslog_produces, test_rsyslog_policy]

if __name__ == '__main__':
    sys.exit(run_tap(TESTS, Checks, commands=lambda t: t.ran[-5:]))
