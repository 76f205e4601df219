# The CI examples in docs/ci (shown in README.md) run as written: their YAML parses, and their
# callsim lines, run in order with callsim's build and bundled scenarios, produce a baseline on
# "main", a run and a comparison on a "pull request", JUnit files that pass the schema check and a
# Markdown summary whose tables render. Steps that only install or build, and the platform's own
# actions (cache, artifact download), are simulated by copying the baseline file.
# Usage: ci_examples.py CALLSIM_BINARY SOURCE_DIR. Exit 77 (skip) without PyYAML.
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print('skipped: PyYAML (Debian python3-yaml, which make deps installs) is not installed')
    sys.exit(77)

binary, source = sys.argv[1], sys.argv[2]
checks = os.path.join(source, 'tests', 'cli')


def localize(command):
    return (command.replace('callsim/build/callsim', binary)
            .replace('scenarios/', os.path.join(source, 'scenarios') + '/'))


def sh(script, cwd, env=None, expect=0):
    result = subprocess.run(['bash', '-e', '-c', script], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=280)
    if result.returncode != expect:
        sys.exit(f'exit {result.returncode} (expected {expect}) from:\n{script}\n'
                 f'{result.stdout}{result.stderr}')
    return result.stdout


def check_reports(cwd, summary):
    for name in sorted(os.listdir(cwd)):
        if name.startswith('callsim-') and name.endswith('.xml'):
            sh(f'python3 {checks}/junit_schema.py {name}', cwd)
    print(sh(f'python3 {checks}/gfm_tables.py {summary}', cwd).strip())


def github(root):
    with open(os.path.join(source, 'docs', 'ci', 'github-actions.yml')) as f:
        flow = yaml.safe_load(f)
    assert set(flow[True if True in flow else 'on']) == {'push', 'pull_request'}
    steps = flow['jobs']['callsim']['steps']
    named = {s.get('name'): s for s in steps}
    for name in ('Run the scenario', 'Compare with main', 'Keep this run as main\'s baseline',
                 'Fetch main\'s baseline', 'Save main\'s baseline', 'Publish JUnit'):
        assert name in named, name
    assert named['Publish JUnit']['with']['report_paths'] == 'callsim-*.xml'
    main, pr = os.path.join(root, 'gh-main'), os.path.join(root, 'gh-pr')
    os.makedirs(main)
    os.makedirs(pr)
    env = dict(os.environ, GITHUB_STEP_SUMMARY=os.path.join(pr, 'summary.md'))
    # main: the run, then the baseline kept.
    main_env = dict(env, GITHUB_STEP_SUMMARY=os.path.join(main, 'summary.md'))
    sh(localize(named['Run the scenario']['run']), main, main_env)
    sh(named['Keep this run as main\'s baseline']['run'], main)
    # The pull request: the cache restores main's baseline.db, then the run and the compare.
    shutil.copy(os.path.join(main, 'baseline.db'), pr)
    sh(localize(named['Run the scenario']['run']), pr, env)
    print(sh(localize(named['Compare with main']['run']), pr, env).splitlines()[-1])
    assert os.path.exists(os.path.join(pr, 'callsim-compare.xml'))
    check_reports(pr, 'summary.md')


def gitlab(root):
    with open(os.path.join(source, 'docs', 'ci', 'gitlab-ci.yml')) as f:
        job = yaml.safe_load(f)['callsim']
    assert job['artifacts']['reports']['junit'] == 'callsim-*.xml'
    assert 'new.db' in job['artifacts']['paths']
    main, pr = os.path.join(root, 'gl-main'), os.path.join(root, 'gl-pr')
    os.makedirs(main)
    os.makedirs(pr)

    def script(baseline_from):
        lines = []
        for line in job['script']:
            if 'apt-get' in line or 'make -C callsim' in line:
                continue  # installing and building: done already
            if 'jobs/artifacts' in line:  # the artifact download of the default branch's run
                line = (f'mkdir -p baseline && cp {baseline_from}/new.db baseline/new.db'
                        if baseline_from else 'echo "no baseline yet"')
            lines.append(localize(line))
        return '\n'.join(lines)

    sh(script(None), main)
    out = sh(script(main), pr)
    assert 'verdict: no regression' in out, out
    assert os.path.exists(os.path.join(pr, 'callsim-compare.xml'))
    check_reports(pr, 'callsim-summary.md')


with tempfile.TemporaryDirectory(prefix='callsim_ci_examples_') as root:
    github(root)
    gitlab(root)
print('ci examples: ok')
