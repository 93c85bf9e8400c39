#!/usr/bin/env python3
"""conf/policy.schema.json agrees with the policy loader.

Every policy that ksafe loads must be valid against the schema editors use,
and a few structurally bad ones must be invalid there too. Prints TAP; skips
when the jsonschema module is not installed.

Usage: test_schema.py SOURCE_ROOT
"""
import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')

try:
    import jsonschema
except ImportError:
    print('1..0 # SKIP python3-jsonschema is not installed')
    sys.exit(0)

GOOD = [
    'conf/policies/default.json',
    'conf/examples/org-policy.json',
    'tests/data/policy/base.json',
    'tests/data/policy/sub/child.json',
    'tests/data/policy/sub/env-child.json',
]

BAD = {
    'unknown top-level field': {'ksafe_policy': 1, 'colour': 'red'},
    'wrong version': {'ksafe_policy': 2},
    'rule without a check': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'acks', 'action': 'warn'}]},
    'unknown action': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'acks', 'equals': 'all', 'action': 'enforc'}]},
    'off in a rule': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'acks', 'equals': 'all', 'action': 'warn', 'off': True}]},
    'min as a string': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'retries', 'min': '1', 'action': 'warn'}]},
    'unknown environment field': {'ksafe_policy': 1, 'environments': {
        'prod': {'rulez': []}}},
    'environment name with a blank': {'ksafe_policy': 1, 'environments': {'pre prod': {}}},
    'one_of item not a scalar': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'compression.type', 'one_of': [['lz4']], 'action': 'warn'}]},
    'min_sum item not a name': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'delivery.timeout.ms', 'min_sum': [5], 'action': 'warn'}]},
    'forbidden with equals': {'ksafe_policy': 1, 'rules': [
        {'id': 'a', 'property': 'client.id', 'forbidden': True, 'equals': 'x',
         'action': 'warn'}]},
    'empty override': {'ksafe_policy': 1, 'override': {'in-flight': {}}},
    'reserved id': {'ksafe_policy': 1, 'rules': [
        {'id': 'ksafe-x', 'property': 'acks', 'equals': 'all', 'action': 'warn'}]},
    'control character in an id': {'ksafe_policy': 1, 'rules': [
        {'id': 'a\nb', 'property': 'acks', 'equals': 'all', 'action': 'warn'}]},
    'escape sequence in the name': {'ksafe_policy': 1, 'name': 'acme\u001b[2J'},
}


def main():
    schema = json.load(open(os.path.join(ROOT, 'conf/policy.schema.json')))
    validator = jsonschema.Draft202012Validator(schema)
    tests = [(f'{path} is valid', path, True) for path in GOOD]
    tests += [(f'schema refuses: {name}', doc, False) for name, doc in BAD.items()]
    print(f'1..{len(tests) + 1}')
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        print('ok 1 - the schema is a valid draft 2020-12 schema')
    except jsonschema.SchemaError as e:
        print(f'not ok 1 - the schema itself is invalid: {e.message}')
    for i, (name, doc, want_valid) in enumerate(tests, 2):
        if isinstance(doc, str):
            doc = json.load(open(os.path.join(ROOT, doc)))
        errors = [e.message for e in validator.iter_errors(doc)]
        ok = (not errors) == want_valid
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
        if not ok:
            print(f'# errors: {errors[:3]}' if errors else '# the schema accepts it')


main()
