#!/usr/bin/env python3
"""ksafe-lint's knobs (meson suite 'cli'), as TAP: --fail-on, --color, --explain and
--list-rules (and doc/rules.md, generated from them), --ignore and suppression directives,
and the project config file .ksafe-lint.json with its JSON Schema.

Usage: test_knobs.py PATH/TO/ksafe-lint

The fixtures are in tests/data/knobs. It reuses test_lint.py's runner and helpers; every
run goes through them, so each failure shows the commands it ran.
"""
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import Checks, run  # noqa: E402
from tap import Skip  # noqa: E402

del base.TESTS[:]
test = base.test

KNOBS = os.path.normpath(os.path.join(base.DATA, '..', 'knobs'))
WARN_ONLY = os.path.join(KNOBS, 'warn-only.properties')
ERROR_AND_WARNING = os.path.join(KNOBS, 'error-and-warning.properties')
ALLOW_UNSAFE = os.path.join(KNOBS, 'allow-unsafe.json')
SCHEMA = os.path.join(base.ROOT, 'doc', 'ksafe-lint-config.schema.json')
RULES_MD = os.path.join(base.ROOT, 'doc', 'rules.md')
BASELINE = ('idempotence', 'acks-all', 'in-flight', 'retries', 'delivery-timeout',
            'delivery-covers-request')
ANSI = '\033['


def rule_ids_in_lib():
    """Every ksafe-* rule id that the library reports (a string literal in lib/*.c that a
    violation carries), so that the catalogue cannot miss one."""
    ids = set()
    lib = os.path.join(base.ROOT, 'lib')
    for name in os.listdir(lib):
        if name.endswith('.c'):
            with open(os.path.join(lib, name), encoding='utf-8') as f:
                ids |= set(re.findall(r'"(ksafe-[a-z]+(?:-[a-z]+)+)"', f.read()))
    return ids - {'ksafe-user-set'}  # an interceptor's name, not a rule


# ---------------------------------------------------------------------------
# --fail-on, --severity-threshold, -W error
# ---------------------------------------------------------------------------

@test
def test_fail_on(t):
    """--fail-on / --severity-threshold / -W error: which findings fail the run; the last wins"""
    cases = [
        ((), WARN_ONLY, 0),
        (('--fail-on', 'warning'), WARN_ONLY, 1),
        (('--fail-on', 'error'), WARN_ONLY, 0),
        (('--severity-threshold', 'warning'), WARN_ONLY, 1),
        (('--severity-threshold=error',), WARN_ONLY, 0),
        (('-W', 'error'), WARN_ONLY, 1),
        (('-W', 'error', '--fail-on', 'error'), WARN_ONLY, 0),
        (('--fail-on', 'error', '-W', 'error'), WARN_ONLY, 1),
        (('--fail-on', 'warning', '--severity-threshold', 'error'), WARN_ONLY, 0),
        (('--fail-on', 'error'), ERROR_AND_WARNING, 1),
        (('--fail-on', 'warning', '--exit-zero'), WARN_ONLY, 0),
        (('--fail-on', 'warning', '-q'), WARN_ONLY, 1),
    ]
    for args, path, code in cases:
        r = run('--no-config', *args, path)
        t.exit(r, code, f'{" ".join(args) or "(no option)"} on {os.path.basename(path)}')
    for bad in ('warn', 'ERROR', '', 'info'):
        r = run('--no-config', '--fail-on', bad, WARN_ONLY)
        t.exit(r, 2, f'--fail-on {bad!r}')
        t.contains(r.err, 'unknown severity', f'--fail-on {bad!r}: says why')
    # In SARIF and JUnit a warning that fails the run is an error.
    r = run('--no-config', '--fail-on', 'warning', '-f', 'sarif', WARN_ONLY)
    levels = [res['level'] for res in json.loads(r.out)['runs'][0]['results']]
    t.eq(levels, ['error'], 'SARIF level of a warning under --fail-on warning')


# ---------------------------------------------------------------------------
# --color, NO_COLOR, CLICOLOR_FORCE
# ---------------------------------------------------------------------------

def run_on_tty(*args, env=None):
    """ksafe-lint with its standard output on a pseudo-terminal: (exit status, output)."""
    import pty
    full = base.lint_env(env)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(base.DATA)
        os.execve(base.LINT, [base.LINT, *args], full)
    out = b''
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode('utf-8', 'replace')


@test
def test_color(t):
    """--color auto|always|never, NO_COLOR and CLICOLOR_FORCE; colour only in text output"""
    cases = [  # args, env, coloured?
        ((), {}, False),  # a pipe
        (('--color', 'always'), {}, True),
        (('--colour=always',), {}, True),
        (('--color', 'never'), {'CLICOLOR_FORCE': '1'}, False),
        (('--color', 'auto'), {'CLICOLOR_FORCE': '1'}, True),
        ((), {'CLICOLOR_FORCE': '0'}, False),
        ((), {'CLICOLOR_FORCE': ''}, False),
        ((), {'NO_COLOR': '1', 'CLICOLOR_FORCE': '1'}, False),
        ((), {'NO_COLOR': '', 'CLICOLOR_FORCE': '1'}, True),
        (('--color', 'always'), {'NO_COLOR': '1'}, True),
    ]
    plain = run('--no-config', '--color', 'never', ERROR_AND_WARNING).out
    for args, env, coloured in cases:
        env = dict({'NO_COLOR': '', 'CLICOLOR_FORCE': ''}, **env)
        r = run('--no-config', *args, ERROR_AND_WARNING, env=env)
        what = f'{" ".join(args) or "(no option)"} {env}'
        t.exit(r, 1, what)
        t.eq(ANSI in r.out, coloured, f'{what}: coloured')
        t.lacks(r.err, ANSI, f'{what}: stderr')
        if coloured:
            t.contains(r.out, '\033[1;31merror:\033[0m', f'{what}: errors in red')
            t.contains(r.out, '\033[1;35mwarning:\033[0m', f'{what}: warnings in magenta')
        # Without the escapes, the findings are what they are without colour.
        t.eq(re.sub(r'\033\[[0-9;]*m', '', r.out), plain, f'{what}: text')
    for fmt in ('json', 'sarif', 'github', 'junit'):
        r = run('--no-config', '--color', 'always', '-f', fmt, ERROR_AND_WARNING)
        t.lacks(r.out, '\033', f'-f {fmt} --color always: never coloured')
    r = run('--no-config', '--color', 'sometimes', WARN_ONLY)
    t.exit(r, 2, '--color sometimes')
    code, out = run_on_tty(ERROR_AND_WARNING, env={'NO_COLOR': ''})
    t.eq((code, ANSI in out), (1, True), 'a terminal: coloured by default')
    code, out = run_on_tty(ERROR_AND_WARNING, env={'NO_COLOR': 'yes'})
    t.eq((code, ANSI in out), (1, False), 'a terminal with NO_COLOR: not coloured')
    code, out = run_on_tty('-f', 'json', ERROR_AND_WARNING, env={'NO_COLOR': ''})
    t.eq(ANSI in out, False, 'a terminal, -f json: not coloured')


# ---------------------------------------------------------------------------
# --explain, --list-rules, doc/rules.md, SARIF help
# ---------------------------------------------------------------------------

def explain(rule, *args):
    return run('--no-config', *args, '--explain', rule)


@test
def test_explain(t):
    """--explain RULE: what it checks, why and how to fix it, for every kind of rule"""
    with open(os.path.join(base.ROOT, 'conf', 'policies', 'default.json'),
              encoding='utf-8') as f:
        default = json.load(f)
    for rule in default['rules']:
        r = explain(rule['id'])
        t.exit(r, 0, rule['id'])
        t.ok(r.out.startswith(f"{rule['id']}: error (enforce), a rule of the safety baseline\n"),
             f"{rule['id']}: first line: {r.out[:80]!r}")
        why = rule['why'][0].upper() + rule['why'][1:]
        t.contains(r.out, f'  Why:    {why}.', f"{rule['id']}: the policy's why")
        t.contains(r.out, f"`{rule['property']}` must", f"{rule['id']}: the property checked")
        t.contains(r.out, '  Fix:    ', f"{rule['id']}: how to fix it")
    for rid in sorted(rule_ids_in_lib()) + ['ksafe-suppression-reason',
                                            'ksafe-suppression-unknown-rule',
                                            'ksafe-suppression-refused']:
        r = explain(rid)
        t.exit(r, 0, rid)
        t.contains(r.out, 'found by ksafe-lint itself', rid)
        for part in ('Checks:', 'Why:', 'Fix:'):
            t.contains(r.out, part, f'{rid}: {part}')
    # A custom policy's rules, with the environment's.
    org = ('-p', base.ORG_POLICY, '-e', 'prod')
    r = explain('tls', *org)
    t.exit(r, 0, 'org policy: tls')
    t.contains(r.out, 'tls: error (reject), a rule of the policy', 'tls: kind and action')
    t.contains(r.out, '`security.protocol` must be `ssl` or `sasl_ssl`.', 'tls: the check')
    t.contains(r.out, 'refuses to create a producer', 'tls: a reject rule is not fixed')
    r = explain('client-id', *org)
    t.contains(r.out, 'client-id: warning (warn)', 'client-id: a warning')
    t.contains(r.out, '`client.id` must be set.', 'client-id: required')
    t.exit(explain('tls'), 2, 'tls is not a rule of the default policy')
    r = explain('no-such-rule')
    t.exit(r, 2, 'unknown rule')
    t.contains(r.err, "unknown rule 'no-such-rule' (ksafe-lint --list-rules lists them)",
               'unknown rule: message')
    r = explain('acks-all', '-f', 'markdown')
    t.ok(r.out.startswith('### <a id="rule-acks-all"></a>`acks-all`'), '-f markdown')
    t.exit(explain('acks-all', '-f', 'json'), 2, '--explain -f json')
    t.exit(run('--no-config', '-f', 'markdown', WARN_ONLY), 2, '-f markdown without --list-rules')


@test
def test_list_rules(t):
    """--list-rules lists the policy's rules, the baseline's first, then every ksafe-* finding"""
    r = run('--no-config', '--list-rules')
    t.exit(r, 0)
    heads = re.findall(r'^(\S+): (error|warning)', r.out, re.M)
    ids = [h[0] for h in heads]
    t.eq(ids[:len(BASELINE)], list(BASELINE), 'the baseline first, in the policy\'s order')
    t.ok(rule_ids_in_lib() <= set(ids), f'every ksafe-* id of lib/: missing '
         f'{sorted(rule_ids_in_lib() - set(ids))}')
    t.eq(len(ids), len(set(ids)), 'each rule once')
    r = run('--no-config', '-p', base.ORG_POLICY, '-e', 'prod', '--list-rules')
    ids = re.findall(r'^(\S+): (?:error|warning)', r.out, re.M)
    t.ok({'tls', 'tls-verify', 'client-id', 'compression'} <= set(ids), f'org rules: {ids}')
    t.ok(ids.index('delivery-covers-request') < ids.index('client-id') <
         ids.index('ksafe-duplicate'), 'baseline, policy, engine')
    for args, what in ((('-f', 'sarif'), '-f sarif'), (('-f', 'markdown', WARN_ONLY), 'a file')):
        if what == 'a file':
            continue
        t.exit(run('--no-config', '--list-rules', *args), 2, f'--list-rules {what}')


@test
def test_rules_md_is_generated(t):
    """doc/rules.md is what `ksafe-lint --list-rules -f markdown` prints (regenerate it so)"""
    r = run('--no-config', '--list-rules', '-f', 'markdown')
    t.exit(r, 0)
    with open(RULES_MD, encoding='utf-8') as f:
        committed = f.read()
    if not t.eq(committed == r.out, True, 'doc/rules.md is up to date'):
        t.failures.append('regenerate: build/tools/ksafe-lint --no-config --list-rules '
                          '-f markdown > doc/rules.md')
    # Each rule has the anchor that its README row and SARIF helpUri use.
    for rid in BASELINE + tuple(sorted(rule_ids_in_lib())):
        t.contains(committed, f'<a id="rule-{rid}"></a>', f'{rid}: anchor in doc/rules.md')


@test
def test_sarif_help_is_explain(t):
    """SARIF rule help is --explain's text (text and markdown): one source"""
    r = run('--no-config', '-f', 'sarif', ERROR_AND_WARNING, 'typo.properties',
            os.path.join(base.EXAMPLES, 'producer-unsafe.properties'))
    rules = json.loads(r.out)['runs'][0]['tool']['driver']['rules']
    t.ok(len(rules) >= 4, f'rules: {[x["id"] for x in rules]}')
    for rule in rules:
        text = explain(rule['id']).out
        md = explain(rule['id'], '-f', 'markdown').out
        t.eq(rule['help']['text'], text, f"{rule['id']}: help.text")
        t.ok(rule['help']['markdown'].startswith(md), f"{rule['id']}: help.markdown")
        t.contains(text, rule['shortDescription']['text'], f"{rule['id']}: shortDescription")


# ---------------------------------------------------------------------------
# --ignore
# ---------------------------------------------------------------------------

@test
def test_ignore(t):
    """--ignore RULE[,RULE]: not shown, not failing, counted in every format"""
    r = run('--no-config', '--ignore', 'ksafe-duplicate', WARN_ONLY)
    t.exit(r, 0)
    t.eq(r.out, '', 'nothing shown')
    t.eq(r.err.strip(), 'ksafe-lint: 1 file checked: 0 errors, 0 warnings, 1 suppressed',
         'summary')
    r = run('--no-config', '--ignore', 'ksafe-duplicate', '--fail-on', 'warning', WARN_ONLY)
    t.exit(r, 0, 'a suppressed warning does not fail under --fail-on warning')
    # Repeated and comma lists; an error of the policy stays unless allow_unsafe.
    unsafe = ('-p', ALLOW_UNSAFE)
    for args in ((*unsafe, '--ignore', 'idempotence,in-flight', '--ignore', 'ksafe-duplicate'),
                 (*unsafe, '--ignore=idempotence,in-flight,ksafe-duplicate,client-id')):
        r = run('--no-config', *args, ERROR_AND_WARNING)
        t.exit(r, 0 if 'client-id' in args[-1] else 0, ' '.join(args))
        n = 4 if 'client-id' in args[-1] else 3
        t.contains(r.err, f', {n} suppressed', f'{" ".join(args)}: count')
        j = json.loads(run('--no-config', *args, '-f', 'json', ERROR_AND_WARNING).out)
        t.eq(j['summary']['suppressed'], n, f'{" ".join(args)}: JSON summary.suppressed')
        t.eq([f['rule'] for f in j['findings'] if f['rule'] in ('idempotence', 'in-flight')],
             [], 'JSON: suppressed findings are not listed')
        sr = json.loads(run('--no-config', *args, '-f', 'sarif', ERROR_AND_WARNING).out)
        sup = {res['ruleId']: res.get('suppressions') for res in sr['runs'][0]['results']}
        t.eq(sup.get('idempotence'), [{'kind': 'external'}], 'SARIF: an external suppression')
        t.eq(sup.get('ksafe-duplicate'), [{'kind': 'external'}], 'SARIF: ksafe-duplicate')
        gh = run('--no-config', *args, '-f', 'github', ERROR_AND_WARNING).out
        t.contains(gh, f'::notice title=ksafe-lint::{n} findings suppressed', 'GitHub notice')
        t.lacks(gh, 'title=idempotence', 'GitHub: no annotation of a suppressed finding')
    # Refused: an unknown rule, the baseline under a policy that keeps it, the refusal itself.
    cases = {
        ('--ignore', 'no-such-rule'): "--ignore: unknown rule 'no-such-rule'",
        ('--ignore', 'acks-all'): "'acks-all' is a rule of the safety baseline",
        ('--ignore', 'ksafe-duplicate,idempotence'): "'idempotence' is a rule of the safety",
        ('-p', ALLOW_UNSAFE, '--ignore', 'ksafe-suppression-refused'):
            "'ksafe-suppression-refused' is a rule of the safety baseline",
        ('--ignore', ''): 'an empty rule id',
        ('--ignore', 'a,,b'): 'an empty rule id',
        ('--ignore', 'tls'): "unknown rule 'tls'",
    }
    for args, message in cases.items():
        r = run('--no-config', *args, ERROR_AND_WARNING)
        t.exit(r, 2, ' '.join(args))
        t.contains(r.err, message, f'{" ".join(args)}: message')
        t.eq(r.out, '', f'{" ".join(args)}: no findings printed')
    r = run('--no-config', '-p', base.ORG_POLICY, '-e', 'prod', '--ignore', 'tls',
            ERROR_AND_WARNING)
    t.ok(r.code in (0, 1) and '[tls]' not in r.out, 'a policy rule (not the baseline) can be '
         'ignored')


# ---------------------------------------------------------------------------
# Suppression directives
# ---------------------------------------------------------------------------

SAFE = 'enable.idempotence=true\nacks=all\n'


def lint_text(text, *args, name='c.properties'):
    """Lint `text` as the file `name` (in a temporary directory) with --no-config."""
    tmp = project({name: text})
    return run('--no-config', *args, name, cwd=tmp)


def rules_at(out):
    return sorted((f.line, f.rule) for f in base.findings(out))


@test
def test_directives(t):
    """# ksafe-lint: disable=RULE -- reason: its own line and the next property, or the file"""
    dup = 'linger.ms=5\nlinger.ms=10\n'  # a ksafe-duplicate warning on the first line
    cases = [
        # (what, text, args, findings as (line, rule), suppressed, exit)
        ('nothing suppressed', SAFE + dup, (), [(3, 'ksafe-duplicate')], 0, 0),
        ('the line after', SAFE + '# ksafe-lint: disable=ksafe-duplicate -- overlay\n' + dup,
         ('--fail-on', 'warning'), [], 1, 0),
        ('only the line after', SAFE + '# ksafe-lint: disable=ksafe-duplicate -- r\n'
         'client.id=a\n' + dup, (), [(5, 'ksafe-duplicate')], 0, 0),
        ('blank lines and comments between',
         SAFE + '# ksafe-lint: disable=ksafe-duplicate -- r\n\n# why\n' + dup, (), [], 1, 0),
        ('the first comment: the whole file', '# ksafe-lint: disable=ksafe-duplicate -- r\n' +
         SAFE + dup + 'acks=all\n', (), [], 2, 0),
        ('a second comment is not the first', '# header\n# ksafe-lint: disable=ksafe-duplicate'
         ' -- r\n' + SAFE + dup, (), [(5, 'ksafe-duplicate')], 0, 0),
        ('its own line (a kcat-syntax comment)',
         SAFE + '! ksafe-lint: disable=ksafe-kcat-syntax -- Java reads this file\nlinger.ms=5\n',
         (), [], 1, 0),
        ('two rules', SAFE + '# ksafe-lint: disable=ksafe-duplicate,ksafe-unknown-property -- r'
         '\nlinger.ms=5\nlinger.ms=6\nenable.idempotance=true\n', (),
         [(6, 'ksafe-unknown-property')], 1, 1),
        ('no reason: a warning', SAFE + '# ksafe-lint: disable=ksafe-duplicate\n' + dup, (),
         [(3, 'ksafe-suppression-reason')], 1, 0),
        ('no reason under --fail-on warning', SAFE + '# ksafe-lint: disable=ksafe-duplicate\n' +
         dup, ('--fail-on', 'warning'), [(3, 'ksafe-suppression-reason')], 1, 1),
        ('--ignore ksafe-suppression-reason', SAFE + '# ksafe-lint: disable=ksafe-duplicate\n' +
         dup, ('--ignore', 'ksafe-suppression-reason'), [], 2, 0),
        ('an unknown rule: a warning', SAFE + '# ksafe-lint: disable=ksafe-duplicat -- r\n' + dup,
         (), [(3, 'ksafe-suppression-unknown-rule'), (4, 'ksafe-duplicate')], 0, 0),
        ('not a directive', SAFE + '# ksafe-lint: enable=all\n' + dup, (),
         [(3, 'ksafe-suppression-unknown-rule'), (4, 'ksafe-duplicate')], 0, 0),
        ('a directive finding cannot be suppressed',
         '# ksafe-lint: disable=ksafe-suppression-reason -- r\n' + SAFE, (),
         [(1, 'ksafe-suppression-unknown-rule')], 0, 0),
        ('the baseline stays', 'enable.idempotence=true\n# ksafe-lint: disable=acks-all -- '
         'legacy\nacks=1\n', (), [(2, 'ksafe-suppression-refused'), (3, 'acks-all')], 0, 1),
        ('the baseline stays, file-wide', '# ksafe-lint: disable=idempotence -- legacy\n'
         'enable.idempotence=false\nacks=all\nmax.in.flight=5\n', (),
         [(1, 'ksafe-suppression-refused'), (2, 'idempotence')], 0, 1),
        ('under allow_unsafe the baseline can be suppressed',
         'enable.idempotence=true\n# ksafe-lint: disable=acks-all -- legacy\nacks=1\n'
         'client.id=x\n', ('-p', ALLOW_UNSAFE), [], 1, 0),
        ('a policy rule', SAFE + 'client.id=x\n# ksafe-lint: disable=compression -- CPU\n'
         'compression.type=none\n', ('-p', base.ORG_POLICY), None, 1, None),
        ('in a value, no directive', SAFE + 'client.id=x # ksafe-lint: disable=ksafe-duplicate -- r'
         '\n' + dup, (), [(4, 'ksafe-duplicate')], 0, 0),
    ]
    for what, text, args, expected, suppressed, code in cases:
        r = lint_text(text, *args)
        if code is not None:
            t.exit(r, code, what)
        if expected is not None:
            t.eq(rules_at(r.out), expected, f'{what}: findings')
        else:
            t.lacks(r.out, '[compression]', f'{what}: suppressed')
        t.ok((f', {suppressed} suppressed' in r.err) if suppressed else 'suppressed' not in r.err,
             f'{what}: {suppressed} suppressed in {r.err.strip()!r}')


@test
def test_directive_json(t):
    """JSON: a top-level "$ksafe-lint" key suppresses for the file, and is no property"""
    good = {'$ksafe-lint': {'disable': ['ksafe-unknown-property'], 'reason': 'a Go client key'},
            'enable.idempotence': True, 'acks': 'all', 'go.batch.producer': True}
    r = lint_text(json.dumps(good, indent=2), name='c.json')
    t.exit(r, 0, 'suppressed')
    t.eq(rules_at(r.out), [], 'no finding: neither the key nor the unknown property')
    t.contains(r.err, '1 suppressed', 'counted')
    del good['$ksafe-lint']['reason']
    r = lint_text(json.dumps(good, indent=2), name='c.json')
    t.eq(rules_at(r.out), [(2, 'ksafe-suppression-reason')], 'no reason: a warning')
    bad = {'$ksafe-lint': {'disable': 'ksafe-unknown-property'}, 'enable.idempotence': True}
    r = lint_text(json.dumps(bad, indent=2), name='c.json')
    t.eq(rules_at(r.out), [(2, 'ksafe-suppression-unknown-rule')], 'a bad shape: a warning')
    r = lint_text(json.dumps({'$ksafe-lint': {'disable': ['acks-all'], 'reason': 'r'},
                              'enable.idempotence': True, 'acks': 1}, indent=2), name='c.json')
    t.exit(r, 1, 'baseline in JSON')
    t.eq([x[1] for x in rules_at(r.out)], ['ksafe-suppression-refused', 'acks-all'],
         'baseline in JSON: refused, and the finding stays')
    nested = {'kafka': {'$ksafe-lint': {'disable': ['ksafe-unknown-property'], 'reason': 'r'},
                        'enable.idempotence': True, 'go.x': 1}}
    r = lint_text(json.dumps(nested, indent=2), '--json-pointer', '/kafka', name='c.json')
    t.eq((r.code, rules_at(r.out)), (0, []), 'in the object --json-pointer names')


@test
def test_suppressions_in_every_format(t):
    """suppressed findings are counted in text, JSON, SARIF (inSource/external) and GitHub"""
    text = (SAFE + '# ksafe-lint: disable=ksafe-duplicate -- overlay\nlinger.ms=5\n'
            'linger.ms=6\nenable.idempotance=true\n')
    tmp = project({'c.properties': text})
    args = ('--no-config', '--ignore', 'ksafe-unknown-property', 'c.properties')
    r = run(*args, cwd=tmp)
    t.eq((r.code, r.out), (0, ''), 'text: nothing shown')
    t.contains(r.err, '0 errors, 0 warnings, 2 suppressed', 'text: summary')
    doc = json.loads(run('-f', 'json', *args, cwd=tmp).out)
    t.eq((doc['findings'], doc['summary']['suppressed']), ([], 2), 'JSON')
    sarif_out = run('-f', 'sarif', *args, cwd=tmp).out
    sr = json.loads(sarif_out)
    got = sorted((res['ruleId'], json.dumps(res.get('suppressions')))
                 for res in sr['runs'][0]['results'])
    t.eq(got, [('ksafe-duplicate', json.dumps([{'kind': 'inSource',
                                                'justification': 'overlay'}])),
               ('ksafe-unknown-property', json.dumps([{'kind': 'external'}]))], 'SARIF')
    gh = run('-f', 'github', *args, cwd=tmp).out
    t.eq(gh, '::notice title=ksafe-lint::2 findings suppressed (ksafe-lint: disable= '
             'directives, --ignore)\n', 'GitHub')
    try:
        import test_sarif
        validator = test_sarif.sarif_validator()
    except Skip as why:
        raise Skip(f'the SARIF schema: {why}')
    finally:
        del base.TESTS[:]
        base.TESTS.extend(THESE_TESTS)
    errors = sorted(validator.iter_errors(sr), key=str)
    t.eq([e.message for e in errors], [], 'SARIF with suppressions: valid against the schema')


@test
def test_directives_after_fix(t):
    """--fix: directives suppress the findings of the file as --fix left it, at its new lines"""
    policy = os.path.normpath(os.path.join(base.DATA, '..', 'formats', 'fix-policy.json'))
    # --fix removes line 2 (debug): the directive moves to line 4, linger.ms to line 6
    # (from 5 and 7), so only the fixed file's directives point at the linger warning.
    text = ('# header\ndebug=all\nacks=1\nenable.idempotence=true\n'
            '# ksafe-lint: disable=linger -- batching on purpose\n\nlinger.ms=50\n')
    tmp = project({'c.properties': text})
    r = run('--no-config', '-p', policy, 'c.properties', cwd=tmp)
    t.eq(rules_at(r.out), [(2, 'no-debug'), (3, 'acks-all')], 'before: linger suppressed')
    fixed = run('--no-config', '-p', policy, '--fix', 'c.properties', cwd=tmp)
    t.exit(fixed, 0, '--fix: exit')
    t.lacks(fixed.out, '[linger]', '--fix: the warning at its new line stays suppressed')
    t.contains(fixed.err, '1 suppressed', '--fix: counted')
    with open(os.path.join(tmp, 'c.properties'), encoding='utf-8') as f:
        t.eq(f.read().splitlines()[3:6],
             ['# ksafe-lint: disable=linger -- batching on purpose', '', 'linger.ms=50'],
             'the fixed file: the directive on line 4, linger.ms on line 6')
    doc = json.loads(run('--no-config', '-p', policy, '-f', 'json', 'c.properties',
                         cwd=tmp).out)
    t.eq((doc['findings'], doc['summary']['suppressed']), ([], 1), 'after: the same')


@test
def test_suppressions_multitool(t):
    """the SARIF Multitool's SARIF and GitHub rules accept suppressed results and directive findings"""
    try:
        import test_sarif
        tool = test_sarif.multitool()
    finally:
        del base.TESTS[:]
        base.TESTS.extend(THESE_TESTS)
    text = ('enable.idempotence=true\n# ksafe-lint: disable=ksafe-duplicate -- overlay\n'
            'linger.ms=5\nlinger.ms=6\n# ksafe-lint: disable=acks-all,nope\nacks=1\n'
            'enable.idempotance=true\n')
    tmp = project({'c.properties': text})
    log = os.path.join(tmp, 'c.sarif')
    with open(log, 'w', encoding='utf-8') as f:
        f.write(run('--no-config', '-f', 'sarif', '--ignore', 'ksafe-unknown-property',
                    'c.properties', cwd=tmp).out)
    proc = subprocess.run([tool, 'validate', '--rule-kind', 'Gh;Sarif', '--level',
                           'Error;Warning', '--output', os.path.join(tmp, 'out.sarif'), log],
                          capture_output=True, timeout=300,
                          env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT='1'))
    out = proc.stdout.decode('utf-8', 'replace')
    t.ok('Analysis completed successfully' in out or proc.returncode == 0,
         f'the Multitool ran: exit {proc.returncode}: {out[-300:]}')
    for line in out.splitlines():
        if line.startswith(log + '(') and (': error ' in line or ': warning ' in line):
            t.failures.append(line[len(log):][:300])


# ---------------------------------------------------------------------------
# The project config, .ksafe-lint.json
# ---------------------------------------------------------------------------

def project(files):
    """A temporary tree: {relative path: text or object (written as JSON)}."""
    tmp = tempfile.mkdtemp(prefix='ksafe-knobs-')
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    for rel, content in files.items():
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
    return tmp


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


@test
def test_project_config_found_and_overridden(t):
    """.ksafe-lint.json is found walking up; flags and KSAFE_* override it; --no-config"""
    tmp = project({
        '.ksafe-lint.json': {'policy': 'policies/org.json', 'env': 'prod', 'format': 'json',
                             'fail-on': 'warning', 'ignore': ['ksafe-duplicate']},
        'policies/org.json': read(base.ORG_POLICY),
        'svc/deep/app.properties': read(WARN_ONLY),
    })
    deep = os.path.join(tmp, 'svc', 'deep')
    r = run('app.properties', cwd=deep)
    t.exit(r, 1, 'from two levels down: the project config applies')
    doc = json.loads(r.out)
    t.eq((doc['policy'], doc['environment']), ('acme-producers', 'prod'),
         'policy relative to the file, env')
    t.eq(doc['summary']['suppressed'], 1, 'ignore applies')
    t.ok(any(f['rule'] == 'tls' for f in doc['findings']), 'prod rules judged')
    r = run('-f', 'text', '-e', 'dev', '--fail-on', 'error', 'app.properties', cwd=deep)
    t.ok(r.out.startswith('app.properties:'), 'flags override format')
    t.lacks(r.out, '[tls]', '-e dev overrides env')
    r = run('-f', 'text', 'app.properties', cwd=deep, env={'KSAFE_ENV': 'dev'})
    t.lacks(r.out, '[tls]', 'KSAFE_ENV overrides env')
    r = run('-f', 'text', 'app.properties', cwd=deep,
            env={'KSAFE_POLICY': 'builtin:default'})
    t.lacks(r.out, '[client-id]', 'KSAFE_POLICY overrides policy')
    r = run('--no-config', 'app.properties', cwd=deep)
    t.exit(r, 0, '--no-config: the defaults (a warning only)')
    t.contains(r.out, '[ksafe-duplicate]', '--no-config: nothing ignored')
    other = project({'elsewhere.json': {'format': 'github'}})
    r = run('--config', os.path.join(other, 'elsewhere.json'), 'app.properties', cwd=deep)
    t.ok(r.out.startswith('::warning file=app.properties'), f'--config FILE: {r.out[:60]!r}')
    t.exit(run('--config', 'x.json', '--no-config', 'app.properties', cwd=deep), 2,
           '--config with --no-config')
    r = run('--config', os.path.join(other, 'missing.json'), 'app.properties', cwd=deep)
    t.exit(r, 2, '--config of a missing file')
    t.contains(r.err, 'missing.json: No such file or directory', 'missing --config: message')
    r = run('--help', cwd=project({'.ksafe-lint.json': '{"bad": 1}'}))
    t.exit(r, 0, '--help whatever the project config holds')


@test
def test_project_config_strict(t):
    """an unknown key, a wrong type or a bad value is an error naming the file and the key"""
    cases = [
        ({'polcy': 'x.json'}, 'unknown key "polcy"'),
        ({'policy': 5}, 'policy: must be a string'),
        ({'env': ['prod']}, 'env: must be a string'),
        ({'ignore': 'ksafe-duplicate'}, 'ignore: must be an array of strings'),
        ({'ignore': ['ksafe-duplicate', 7]}, 'ignore[1]: must be a non-empty string'),
        ({'include': ['']}, 'include[0]: must be a non-empty string'),
        ({'exclude': {'a': 1}}, 'exclude: must be an array of strings'),
        ({'format': 'xml'}, "format: unknown format 'xml'"),
        ({'format': 'markdown'}, "format: 'markdown' is for --list-rules only"),
        ({'fail-on': 'info'}, "fail-on: unknown severity 'info'"),
        ({'dialect': 'go'}, "dialect: unknown dialect 'go'"),
        ({'ignore': ['a,b']}, "ignore: a list item names one rule ('a,b')"),
        ({'ignore': ['no-such-rule']}, "unknown rule 'no-such-rule'"),
        ({'ignore': ['acks-all']}, "'acks-all' is a rule of the safety baseline"),
        ({'policy': 'nope.json'}, 'nope.json'),
        ('{"policy": "a", "policy": "b"}', "1:24: duplicate object key near '\"policy\"'"),
        ('{"policy": ', '1:11: unexpected token'),
        ('[]', 'the project config must be a JSON object'),
    ]
    for content, message in cases:
        tmp = project({'.ksafe-lint.json': content, 'a.properties': read(WARN_ONLY)})
        r = run('a.properties', cwd=tmp)
        what = content if isinstance(content, str) else json.dumps(content)
        t.exit(r, 2, what)
        t.contains(r.err, message, f'{what}: message')
        if 'rule' not in message and 'nope' not in message:
            t.contains(r.err, f'ksafe-lint: {tmp}/.ksafe-lint.json: ', f'{what}: names the file')
        t.eq(r.out, '', f'{what}: no findings')


@test
def test_project_config_globs(t):
    """include gives the inputs when none is named; exclude skips files wherever they come from"""
    tmp = project({
        '.ksafe-lint.json': {'include': ['services/**/*.properties', 'top.json'],
                             'exclude': ['**/legacy/**', 'services/b.properties']},
        'services/a.properties': read(WARN_ONLY),
        'services/b.properties': read(ERROR_AND_WARNING),
        'services/x/y/c.properties': read(WARN_ONLY),
        'services/legacy/d.properties': read(ERROR_AND_WARNING),
        'services/e.conf': read(ERROR_AND_WARNING),
        'top.json': '{"enable.idempotence": true, "acks": "all"}',
        'other/f.properties': read(ERROR_AND_WARNING),
    })
    r = run(cwd=tmp)
    t.exit(r, 0, 'include without files')
    t.eq(sorted(set(base.files_in_order(r.out))),
         ['services/a.properties', 'services/x/y/c.properties'], 'files with findings')
    t.contains(r.err, '3 files checked', 'three files: a, c and top.json')
    r = run('services', cwd=tmp)
    t.contains(r.err, '3 files checked', 'a directory named: exclude applies (a, c, e.conf)')
    t.lacks(r.out, 'legacy', 'excluded directory')
    r = run('services/b.properties', 'services/a.properties', cwd=tmp)
    t.contains(r.err, '1 file checked', 'a named file that exclude names is skipped')
    r = run('b.properties', cwd=os.path.join(tmp, 'services'))
    t.contains(r.err, '0 files checked', 'relative to the config, not the current directory')
    r = run(cwd=project({'.ksafe-lint.json': {'include': ['*.nothing']}}))
    t.exit(r, 2, 'include that matches nothing')
    t.contains(r.err, 'include: no file matches', 'include that matches nothing: message')
    r = run(cwd=project({'.ksafe-lint.json': {}}))
    t.exit(r, 2, 'no include, no file')


@test
def test_project_config_schema(t):
    """doc/ksafe-lint-config.schema.json accepts what ksafe-lint accepts, refuses what it refuses"""
    try:
        import jsonschema
    except ImportError:
        raise Skip('python3-jsonschema is not installed')
    with open(SCHEMA, encoding='utf-8') as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = [
        {},
        {'$schema': '../doc/ksafe-lint-config.schema.json', 'policy': 'builtin:default'},
        {'policy': 'org.json', 'env': 'prod', 'dialect': 'java', 'format': 'sarif',
         'fail-on': 'warning', 'ignore': ['ksafe-duplicate', 'client-id'],
         'include': ['**/*.properties'], 'exclude': ['legacy/**']},
        {'format': 'text', 'fail-on': 'error', 'dialect': 'librdkafka', 'ignore': []},
    ] + [{'format': fmt} for fmt in ('json', 'github', 'junit', 'gitlab', 'checkstyle',
                                     'auto')]
    bad = [{'polcy': 'x'}, {'policy': 5}, {'format': 'xml'}, {'format': 'markdown'},
           {'fail-on': 'info'},
           {'dialect': 'go'}, {'ignore': 'x'}, {'ignore': ['a,b']}, {'include': ['']},
           {'exclude': [1]}, []]
    for doc in good + bad:
        valid = validator.is_valid(doc)
        files = {'.ksafe-lint.json': doc, 'a.properties': read(WARN_ONLY),
                 'org.json': read(base.ORG_POLICY)}
        r = run('a.properties', cwd=project(files), env={'KSAFE_POLICY': ''})
        t.eq(valid, doc in good, f'{doc}: the schema')
        t.eq(r.code != 2, doc in good, f'{doc}: ksafe-lint (exit {r.code}: {r.err[:200]})')
    # The README's example is valid against the schema.
    readme = read(os.path.join(base.ROOT, 'README.md'))
    m = re.search(r'```json\n(\{\n  "\$schema": "[^"]*ksafe-lint-config[^`]*?)```', readme)
    if t.ok(m, 'the README shows a .ksafe-lint.json'):
        t.ok(validator.is_valid(json.loads(m.group(1))), 'the README example is valid')


@test
def test_documented(t):
    """every knob is in --help, the man page and the README"""
    helptext = run('--help').out
    man = read(os.path.join(base.ROOT, 'doc', 'ksafe-lint.1')).replace('\\-', '-')
    readme = read(os.path.join(base.ROOT, 'README.md'))
    for option in ('--fail-on', '--severity-threshold', '--color', '--ignore', '--explain',
                   '--list-rules', '--config', '--no-config'):
        t.contains(helptext, option, f'--help: {option}')
        t.contains(man, option, f'man page: {option}')
        t.contains(readme, option, f'README: {option}')
    for word in ('NO_COLOR', 'CLICOLOR_FORCE', '.ksafe-lint.json', 'ksafe-lint: disable=',
                 '$ksafe-lint', 'doc/rules.md'):
        t.contains(man, word, f'man page: {word}')
        t.contains(readme, word, f'README: {word}')


THESE_TESTS = list(base.TESTS)

if __name__ == '__main__':
    base.LINT = os.path.abspath(sys.argv[1])
    sys.exit(base.run_tests())
