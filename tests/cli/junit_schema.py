# Checks a JUnit XML file against the JUnit schema as Jenkins (junit-10.xsd of the xunit plugin)
# and GitLab document it: which elements may appear where, which attributes each may carry, the
# required ones, and the numeric ones. Exits 1 with the first problem; prints "ok N" (testcases).
import sys
import xml.etree.ElementTree as E

CHILDREN = {
    'testsuites': {'testsuite'},
    'testsuite': {'properties', 'testcase', 'system-out', 'system-err', 'testsuite'},
    'properties': {'property'},
    'property': set(),
    'testcase': {'skipped', 'error', 'failure', 'system-out', 'system-err'},
    'skipped': set(), 'error': set(), 'failure': set(),
    'system-out': set(), 'system-err': set(),
}
ATTRIBUTES = {
    'testsuites': {'name', 'time', 'tests', 'failures', 'errors', 'disabled'},
    'testsuite': {'name', 'tests', 'failures', 'errors', 'time', 'disabled', 'skipped',
                  'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url', 'version',
                  'group'},
    'property': {'name', 'value'},
    'testcase': {'name', 'classname', 'assertions', 'time', 'status', 'file', 'line'},
    'skipped': {'message'}, 'error': {'message', 'type'}, 'failure': {'message', 'type'},
    'properties': set(), 'system-out': set(), 'system-err': set(),
}
REQUIRED = {'testsuite': {'name', 'tests'}, 'testcase': {'name', 'classname'},
            'property': {'name', 'value'}}
NUMERIC = {'tests', 'failures', 'errors', 'skipped', 'disabled', 'time', 'assertions'}
cases = 0

def check(el, path):
    global cases
    if el.tag == 'testcase':
        cases += 1
    for a, v in el.attrib.items():
        if a not in ATTRIBUTES[el.tag]:
            sys.exit(f'{path}: attribute {a} is not in the JUnit schema')
        if a in NUMERIC:
            float(v)
    missing = REQUIRED.get(el.tag, set()) - set(el.attrib)
    if missing:
        sys.exit(f'{path}: missing {sorted(missing)}')
    if el.tag == 'testsuite':
        n = len(el.findall('testcase'))
        if int(el.get('tests')) != n:
            sys.exit(f'{path}: tests={el.get("tests")} but {n} testcases')
        f = sum(1 for c in el.findall('testcase') if c.find('failure') is not None)
        if int(el.get('failures', '0')) != f:
            sys.exit(f'{path}: failures={el.get("failures")} but {f} failed testcases')
    for child in el:
        if child.tag not in CHILDREN[el.tag]:
            sys.exit(f'{path}: <{child.tag}> may not appear in <{el.tag}>')
        check(child, path + '/' + child.tag)

root = E.parse(sys.argv[1]).getroot()
if root.tag not in ('testsuites', 'testsuite'):
    sys.exit(f'root is <{root.tag}>')
check(root, root.tag)
print('ok', cases)
