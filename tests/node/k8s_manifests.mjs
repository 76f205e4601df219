// The Kubernetes manifests (deploy/k8s/*.yaml) and the Dockerfile, checked without a cluster or a
// container engine:
//   - Kubernetes' schema: each object validated by npm kubernetes-models 4.5.1 (JSON schemas
//     generated from the OpenAPI of Kubernetes 1.32: it knows completionMode, podFailurePolicy,
//     successPolicy, pod-level resources), and its field
//     names checked by the TypeScript compiler against the same package's types (the schema
//     allows unknown fields; the API server's strict field validation, kubectl's default, does
//     not). YAML is read as YAML 1.1, as the API server reads it;
//   - what callsim needs: one ReadWriteMany claim; an Indexed Job with completions == parallelism
//     == N whose container, run for each JOB_COMPLETION_INDEX with a stand-in callsim on PATH
//     (the manifest's own command, through /bin/sh, after Kubernetes' $(VAR) expansion), runs
//     `callsim run SCENARIO --shard i+1/N` with one seed and scenario and a distinct --db per
//     shard on the claim, exits 0 when its callsim exits 99 (thresholds are judged on the merged
//     run) and fails when it exits 1 or 2; never restarted in place, and no podFailurePolicy rule
//     that ignores 99 (that would run the shard again forever); a merge Job that runs
//     `callsim merge OUT IN...` with exactly the shards' databases as IN, on the same claim, and
//     whose exit code is callsim's (the verdict), never retried on 99 or 2; every container with
//     resource requests and a memory limit, all on the same image; the scenario is in the image;
//   - the Dockerfile: every FROM is Debian 12 (debian:12 or bookworm), the packages come from the
//     Makefile (a RUN with `make deps` after the Makefile is copied, and no package of its list
//     installed by hand), no download other than apt, ENTRYPOINT is callsim in exec form (so
//     SIGTERM reaches it), and the scenario folder the Jobs name is copied from the repository.
// Then it shows that the checks bite: each of a set of broken copies (completionMode misspelt as
// a value and as a key, N mismatched, a missing or shared shard database, 99 not mapped, the
// verdict swallowed, another claim or image, a Dockerfile on another base, ...) must be rejected
// with the expected message.
// Usage: node k8s_manifests.mjs                 the repository's manifests, then the broken copies
//        node k8s_manifests.mjs --manifests DIR [--dockerfile FILE]   only those (exit 1 if bad)
// Exit 0: all passed; 1: a check failed (the message says which); 77: cannot run here (node too
// old, the npm packages not installed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

function skip(reason) {
  console.log(`k8s_manifests: SKIP: ${reason}`);
  process.exit(77);
}
if (Number(process.versions.node.split('.')[0]) < 18) {
  skip(`node ${process.version} is older than 18`);
}
let YAML, ts, Job, PersistentVolumeClaim, Pod;
try {
  YAML = await import('yaml');
  ({ default: ts } = await import('typescript'));
  ({ Job } = await import('kubernetes-models/batch/v1/Job'));
  ({ PersistentVolumeClaim } = await import('kubernetes-models/v1/PersistentVolumeClaim'));
  ({ Pod } = await import('kubernetes-models/v1/Pod'));
} catch (e) {
  skip(`the npm packages kubernetes-models, typescript and yaml are not installed in ` +
       `${here}/node_modules (${e.code}); run: npm ci --prefix tests/node`);
}
if (!fs.existsSync('/bin/sh')) skip('/bin/sh is missing');

// The kinds deploy/k8s may hold: the model that validates each and the type its fields are checked
// against.
const KINDS = {
  'batch/v1 Job': { Model: Job, type: 'IJob', from: 'kubernetes-models/batch/v1/Job' },
  'v1 PersistentVolumeClaim': { Model: PersistentVolumeClaim, type: 'IPersistentVolumeClaim',
    from: 'kubernetes-models/v1/PersistentVolumeClaim' },
  'v1 Pod': { Model: Pod, type: 'IPod', from: 'kubernetes-models/v1/Pod' },
};

// ---- reading the files ----

function loadManifests(dir, problems) {
  const objects = [];
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) problems.push(`${dir}: no YAML files`);
  for (const file of files) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'),
                                        { version: '1.1' });
    docs.forEach((doc, i) => {
      const where = `${file}#${i + 1}`;
      for (const e of [...doc.errors, ...doc.warnings]) problems.push(`${where}: YAML: ${e.message}`);
      if (doc.errors.length > 0) return;
      const obj = doc.toJS();
      if (obj === null || obj === undefined) return;  // an empty document
      objects.push({ where, obj });
    });
  }
  return objects;
}

// Dockerfile instructions: comments dropped, continuation lines joined.
function parseDockerfile(text) {
  const out = [];
  let current = null;
  text.split('\n').forEach((raw, n) => {
    const line = raw.replace(/\r$/, '');
    if (current === null && /^\s*(#|$)/.test(line)) return;
    if (current !== null && /^\s*#/.test(line)) return;  // a comment inside a continued instruction
    const body = line.replace(/\\\s*$/, '');
    if (current === null) current = { line: n + 1, text: body };
    else current.text += ' ' + body.trim();
    if (!/\\\s*$/.test(line)) {
      const m = /^\s*(\S+)\s*(.*)$/.exec(current.text);
      out.push({ line: current.line, instr: m[1].toUpperCase(), rest: m[2].trim() });
      current = null;
    }
  });
  return out;
}

// ENTRYPOINT and CMD: the exec form as given, the shell form as Docker runs it.
function execForm(rest) {
  if (rest.startsWith('[')) {
    try {
      const argv = JSON.parse(rest);
      if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return { argv, exec: true };
    } catch { /* falls through to the shell form, as Docker does */ }
  }
  return { argv: ['/bin/sh', '-c', rest], exec: false };
}

// The Makefile's PACKAGES list.
function makefilePackages() {
  const text = fs.readFileSync(path.join(repo, 'Makefile'), 'utf8').replace(/\\\n/g, ' ');
  const m = /^PACKAGES\s*:?=(.*)$/m.exec(text);
  return m ? m[1].trim().split(/\s+/) : [];
}

function checkDockerfile(file, problems) {
  const facts = { entrypoint: [], cmd: [], copies: [] };
  if (!fs.existsSync(file)) {
    problems.push(`${file}: missing`);
    return facts;
  }
  const name = path.basename(file);
  const instrs = parseDockerfile(fs.readFileSync(file, 'utf8'));
  const stages = new Set();
  let froms = 0;
  let makefileCopied = false;
  let makeDeps = false;
  const packages = new Set(makefilePackages());
  if (packages.size === 0) problems.push('Makefile: no PACKAGES list');
  for (const { line, instr, rest } of instrs) {
    const at = `${name}:${line}`;
    if (instr === 'FROM') {
      froms++;
      const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = words[0] ?? '';
      if (!stages.has(image) && !/^(docker\.io\/)?(library\/)?debian:(12|bookworm)([-.@][^\s]*)?$/.test(image)) {
        problems.push(`${at}: FROM ${image}: the image must be built on Debian 12 (debian:12 or debian:bookworm)`);
      }
      if (words.length >= 3 && words[1].toLowerCase() === 'as') stages.add(words[2]);
    } else if (instr === 'COPY' || instr === 'ADD') {
      const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
      const dest = words.at(-1);
      const sources = words.slice(0, -1);
      if (instr === 'ADD' && sources.some((s) => /^[a-z]+:\/\//i.test(s) || s.startsWith('git@'))) {
        problems.push(`${at}: ADD of a URL: the build may reach Debian's apt repositories only`);
      }
      const from = /--from=(\S+)/.exec(rest)?.[1];
      if (!from && sources.some((s) => s === '.' || s === './' || s === 'Makefile')) makefileCopied = true;
      facts.copies.push({ sources, dest, from });
    } else if (instr === 'RUN') {
      if (/\b(curl|wget|git\s+clone|pip3?\s+install|npm\s+(install|ci))\b/.test(rest)) {
        problems.push(`${at}: RUN downloads something: the build may reach Debian's apt repositories only`);
      }
      if (/\bmake\b[^;&|]*\bdeps\b/.test(rest)) {
        if (!makefileCopied) problems.push(`${at}: make deps runs before the Makefile is copied in`);
        makeDeps = true;
      }
      for (const m of rest.matchAll(/apt-get\s+install\b([^;&|]*)/g)) {
        const byHand = m[1].split(/\s+/).filter((w) => packages.has(w) && w !== 'make');
        if (byHand.length > 0) {
          problems.push(`${at}: installs ${byHand.join(' ')} by hand: the Makefile's PACKAGES are ` +
                        `installed with make deps, so the list is kept in one place`);
        }
      }
    } else if (instr === 'ENTRYPOINT') {
      const e = execForm(rest);
      facts.entrypoint = e.argv;
      facts.entrypointExec = e.exec;
      facts.cmd = [];  // an ENTRYPOINT resets CMD, as Docker does
    } else if (instr === 'CMD') {
      facts.cmd = execForm(rest).argv;
    }
  }
  if (froms === 0) problems.push(`${name}: no FROM`);
  if (!makeDeps) problems.push(`${name}: no RUN with make deps: the packages must be installed by the Makefile`);
  if (facts.entrypoint.length === 0) {
    problems.push(`${name}: no ENTRYPOINT: it must be callsim`);
  } else if (!facts.entrypointExec || facts.entrypoint.length !== 1 ||
             path.posix.basename(facts.entrypoint[0]) !== 'callsim') {
    problems.push(`${name}: ENTRYPOINT ${JSON.stringify(facts.entrypoint)}: it must be callsim, in ` +
                  `exec form (["callsim"]), so that SIGTERM reaches it`);
  }
  const ignore = path.join(path.dirname(file), '.dockerignore');
  if (fs.existsSync(ignore)) {
    for (const raw of fs.readFileSync(ignore, 'utf8').split('\n')) {
      const p = raw.trim().replace(/^\/+|\/+$/g, '');
      if (['Makefile', 'CMakeLists.txt', 'scenarios', '*', '.'].includes(p)) {
        problems.push(`.dockerignore: "${raw.trim()}" keeps what the build needs out of the context`);
      }
    }
  }
  return facts;
}

// ---- Kubernetes' schema and field names ----

function schemaCheck(objects, problems) {
  for (const o of objects) {
    const kind = KINDS[`${o.obj.apiVersion} ${o.obj.kind}`];
    if (!kind) {
      problems.push(`${o.where}: ${o.obj.apiVersion} ${o.obj.kind}: not a kind deploy/k8s should hold ` +
                    `(${Object.keys(KINDS).join(', ')})`);
      continue;
    }
    o.known = kind;
    try {
      new kind.Model(o.obj).validate();
    } catch (e) {
      problems.push(`${o.where}: schema: ${e.message}`);
    }
  }
}

// The TypeScript compiler checks each object literal against kubernetes-models' interface for its
// kind: a field the type does not have is an error (its excess property check), as the API
// server's strict field validation makes it. Library source files are parsed once per process.
const sourceCache = new Map();
const tsOptions = {
  strict: true, noEmit: true, skipLibCheck: true, types: [],
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
};

// sets: [{ objects, problems }], checked in one program (one type checker for them all).
function fieldCheck(sets) {
  const virtual = new Map();
  sets.forEach(({ objects, problems }, s) => {
    objects.filter((o) => o.known).forEach((o, n) => {
      const file = path.join(here, `__k8s_manifest_${s}_${n}.mts`);
      const text = `import type { ${o.known.type} } from "${o.known.from}";\n` +
                   `export const o: ${o.known.type} = ${JSON.stringify(o.obj, null, 1)};\n`;
      virtual.set(file, { o, text, problems });
    });
  });
  if (virtual.size === 0) return;
  const host = ts.createCompilerHost(tsOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) => {
    const v = virtual.get(file);
    if (v) return ts.createSourceFile(file, v.text, lang, true);
    if (!sourceCache.has(file)) sourceCache.set(file, getSourceFile(file, lang, ...rest));
    return sourceCache.get(file);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => virtual.has(file) || fileExists(file);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => virtual.get(file)?.text ?? readFile(file);
  const program = ts.createProgram([...virtual.keys()], tsOptions, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const v = d.file && virtual.get(d.file.fileName);
    if (!v) {  // the types themselves could not be read: every set fails
      for (const { problems } of sets) {
        problems.push(`field check: ${d.file ? d.file.fileName + ': ' : ''}${message}`);
      }
      continue;
    }
    v.problems.push(`${v.o.where}: field ${jsonPath(d.file, d.start)}: ${message.slice(0, 300)}`);
  }
}

// Where a diagnostic points, as a path in the object: spec.template.spec.containers[0].name.
function jsonPath(sf, pos) {
  let node = sf;
  for (;;) {
    const child = node.getChildren(sf).find((c) => c.getStart(sf) <= pos && pos < c.getEnd());
    if (!child) break;
    node = child;
  }
  const parts = [];
  for (let n = node; n && !ts.isVariableDeclaration(n); n = n.parent) {
    if (ts.isPropertyAssignment(n)) parts.unshift(`.${n.name.text}`);
    if (n.parent && ts.isArrayLiteralExpression(n.parent)) {
      parts.unshift(`[${n.parent.elements.indexOf(n)}]`);
    }
  }
  return parts.join('').replace(/^\./, '') || '(the object)';
}

// ---- running a Job's container with a stand-in callsim ----

const stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callsim-k8s-'));
process.on('exit', () => fs.rmSync(stubDir, { recursive: true, force: true }));
const stub = path.join(stubDir, 'bin', 'callsim');
fs.mkdirSync(path.dirname(stub));
fs.writeFileSync(stub, '#!/bin/sh\n# A stand-in for callsim: records its arguments, exits with $CALLSIM_STUB_RC.\n' +
  'for a in "$@"; do printf \'%s\\0\' "$a"; done > "$CALLSIM_STUB_OUT/call.$$"\n' +
  'exit "${CALLSIM_STUB_RC:-0}"\n', { mode: 0o755 });
const callsDir = path.join(stubDir, 'calls');

// Kubernetes' $(VAR) expansion of command and args: $(NAME) becomes the variable's value when the
// container defines it, else stays as written; $$ becomes $.
function expand(text, env) {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || i + 1 >= text.length) {
      out += text[i];
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 1;
      } else {
        const name = text.slice(i + 2, close);
        out += Object.hasOwn(env, name) ? env[name] : `$(${name})`;
        i = close;
      }
    } else {
      out += '$' + next;
      i += 1;
    }
  }
  return out;
}

// What the container would run, and what callsim it runs is asked to do: JOB_COMPLETION_INDEX is
// set only in an Indexed Job, as the Job controller sets it.
function runContainer(job, container, docker, { index, rc }) {
  const env = {};
  if (job.spec?.completionMode === 'Indexed' && index !== undefined) env.JOB_COMPLETION_INDEX = String(index);
  for (const e of container.env ?? []) {
    if (typeof e.value === 'string') env[e.name] = expand(e.value, env);
    const field = e.valueFrom?.fieldRef?.fieldPath ?? '';
    if (field.includes('job-completion-index') && env.JOB_COMPLETION_INDEX !== undefined) {
      env[e.name] = env.JOB_COMPLETION_INDEX;
    }
  }
  let argv;
  if (container.command) argv = [...container.command, ...(container.args ?? [])];
  else argv = [...docker.entrypoint, ...(container.args ?? docker.cmd)];
  argv = argv.map((a) => expand(String(a), env));
  if (argv.length === 0) return { status: null, calls: [], output: 'no command' };
  if (path.posix.basename(argv[0]) === 'callsim') argv[0] = stub;
  // The same command with the same environment runs the same way: the broken copies mostly
  // repeat the repository's commands.
  const key = JSON.stringify([argv, env, rc]);
  if (!runs.has(key)) runs.set(key, runCommand(argv, env, rc));
  return runs.get(key);
}
const runs = new Map();

function runCommand(argv, env, rc) {
  fs.rmSync(callsDir, { recursive: true, force: true });
  fs.mkdirSync(callsDir);
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: stubDir, encoding: 'utf8', timeout: 10000,
    env: { ...env, PATH: `${path.dirname(stub)}:/usr/local/bin:/usr/bin:/bin`, HOME: stubDir,
           CALLSIM_STUB_OUT: callsDir, CALLSIM_STUB_RC: String(rc) },
  });
  const calls = fs.readdirSync(callsDir).map((f) =>
    fs.readFileSync(path.join(callsDir, f), 'utf8').split('\0').slice(0, -1));
  return { status: r.status, calls, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

// A flag's value: --flag VALUE or --flag=VALUE.
function flag(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(name + '=')) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

// The claim a path in the container is on, by the longest mount path that holds it.
function claimOf(podSpec, container, file) {
  let best = null;
  for (const m of container.volumeMounts ?? []) {
    const dir = m.mountPath.replace(/\/+$/, '');
    if ((file === dir || file.startsWith(dir + '/')) && (!best || dir.length > best.dir.length)) {
      best = { dir, mount: m };
    }
  }
  if (!best) return { claim: null };
  const volume = (podSpec.volumes ?? []).find((v) => v.name === best.mount.name);
  return { claim: volume?.persistentVolumeClaim?.claimName ?? null, readOnly: !!best.mount.readOnly };
}

// What the Job does when its container exits with this code: the action of the first
// podFailurePolicy rule on exit codes that matches it (the rules apply in order), else Count.
function onExit(job, container, code) {
  for (const r of job.spec?.podFailurePolicy?.rules ?? []) {
    const e = r.onExitCodes;
    if (!e || (e.containerName && e.containerName !== container.name)) continue;
    const listed = (e.values ?? []).includes(code);
    if (e.operator === 'In' ? listed : !listed && code !== 0) return r.action;
  }
  return 'Count';
}

function callsimCheck(objects, docker, problems) {
  const of = (kind) => objects.filter((o) => o.obj.kind === kind);
  const pvcs = of('PersistentVolumeClaim');
  if (pvcs.length !== 1) {
    problems.push(`callsim: ${pvcs.length} PersistentVolumeClaims, expected one (the shared results volume)`);
  }
  const pvc = pvcs[0]?.obj;
  const claim = pvc?.metadata?.name;
  if (pvc && !(pvc.spec?.accessModes ?? []).includes('ReadWriteMany')) {
    problems.push(`callsim: ${claim}: accessModes ${JSON.stringify(pvc.spec?.accessModes)}: the shards ` +
                  `on several nodes write to it, so it must be ReadWriteMany`);
  }

  // Every container: resources, and one image.
  const images = new Map();
  for (const o of [...of('Job'), ...of('Pod')]) {
    const podSpec = o.obj.kind === 'Job' ? o.obj.spec?.template?.spec : o.obj.spec;
    for (const c of podSpec?.containers ?? []) {
      const r = c.resources ?? {};
      if (!r.requests?.cpu || !r.requests?.memory || !r.limits?.memory) {
        problems.push(`${o.where}: container ${c.name}: needs resources.requests (cpu, memory) and ` +
                      `resources.limits.memory`);
      }
      images.set(`${o.obj.metadata?.name}/${c.name}`, c.image);
    }
    for (const v of podSpec?.volumes ?? []) {
      if (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName !== claim) {
        problems.push(`${o.where}: volume ${v.name} is claim ${v.persistentVolumeClaim.claimName}, ` +
                      `not the results claim ${claim}`);
      }
    }
  }
  if (new Set(images.values()).size > 1) {
    problems.push(`callsim: the containers name different images: ${[...images].map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }

  // The Jobs, told apart by what they ask callsim to do.
  const shardJobs = [];
  const mergeJobs = [];
  for (const o of of('Job')) {
    const containers = o.obj.spec?.template?.spec?.containers ?? [];
    if (containers.length !== 1) {
      problems.push(`${o.where}: ${containers.length} containers, expected one (callsim)`);
      continue;
    }
    const first = runContainer(o.obj, containers[0], docker, { index: 0, rc: 0 });
    const sub = first.calls.map((argv) => argv[0]);
    if (sub.includes('run')) shardJobs.push(o);
    else if (sub.includes('merge')) mergeJobs.push(o);
    else {
      problems.push(`${o.where}: its container runs neither callsim run nor callsim merge ` +
                    `(exit ${first.status}${first.output ? ': ' + first.output : ''})`);
    }
  }
  if (shardJobs.length !== 1 || mergeJobs.length !== 1) {
    problems.push(`callsim: ${shardJobs.length} shard Jobs (callsim run) and ${mergeJobs.length} merge ` +
                  `Jobs (callsim merge), expected one of each`);
  }

  const shardDbs = [];
  let n = null;
  for (const o of shardJobs) {
    const job = o.obj;
    const spec = job.spec ?? {};
    const podSpec = spec.template?.spec ?? {};
    const container = podSpec.containers[0];
    if (spec.completionMode !== 'Indexed') {
      problems.push(`${o.where}: completionMode ${JSON.stringify(spec.completionMode)}: must be Indexed, ` +
                    `so that each pod gets its own JOB_COMPLETION_INDEX`);
    }
    if (!Number.isInteger(spec.completions) || spec.completions < 1 || spec.parallelism !== spec.completions) {
      problems.push(`${o.where}: completions ${spec.completions} and parallelism ${spec.parallelism}: ` +
                    `must be the same number of shards`);
    }
    n = Number.isInteger(spec.completions) && spec.completions > 0 ? spec.completions : null;
    if (podSpec.restartPolicy !== 'Never') {
      problems.push(`${o.where}: restartPolicy ${podSpec.restartPolicy}: must be Never (a shard is retried ` +
                    `in a new pod, and podFailurePolicy requires it)`);
    }
    if (!Number.isInteger(spec.backoffLimit)) problems.push(`${o.where}: no backoffLimit`);
    if (onExit(job, container, 99) === 'Ignore') {
      problems.push(`${o.where}: a podFailurePolicy rule ignores exit code 99: the shard would be run ` +
                    `again and again; the command must turn 99 into 0`);
    }
    const seen = { seeds: new Set(), scenarios: new Set() };
    for (let i = 0; i < (n ?? 0); i++) {
      const r = runContainer(job, container, docker, { index: i, rc: 0 });
      const runs = r.calls.filter((argv) => argv[0] === 'run');
      if (runs.length !== 1 || r.status !== 0) {
        problems.push(`${o.where}: pod ${i}: ${runs.length} callsim run calls, exit ${r.status}` +
                      `${r.output ? ': ' + r.output : ''}`);
        continue;
      }
      const argv = runs[0];
      const shard = flag(argv, '--shard');
      if (shard !== `${i + 1}/${n}`) {
        const index = spec.completionMode === 'Indexed' ? `JOB_COMPLETION_INDEX=${i}`
                                                        : 'JOB_COMPLETION_INDEX unset: not an Indexed Job';
        problems.push(`${o.where}: pod ${i} (${index}) runs --shard ${shard}, expected ` +
                      `${i + 1}/${n} (completions is ${n})`);
      }
      seen.seeds.add(flag(argv, '--seed'));
      seen.scenarios.add(argv.slice(1).find((a, k, rest) => !a.startsWith('-') &&
                                             (k === 0 || !rest[k - 1].startsWith('--'))));
      const db = flag(argv, '--db');
      if (!db || !path.posix.isAbsolute(db)) {
        problems.push(`${o.where}: pod ${i}: --db ${db}: needs an absolute path on the results volume`);
      } else {
        const on = claimOf(podSpec, container, db);
        if (on.claim !== claim || on.readOnly) {
          problems.push(`${o.where}: pod ${i}: --db ${db} is not on a writable mount of claim ${claim}`);
        }
      }
      shardDbs.push(db);
    }
    if (n !== null && new Set(shardDbs).size !== shardDbs.length) {
      problems.push(`${o.where}: the shards' databases are not distinct: ${shardDbs.join(' ')}`);
    }
    if (seen.seeds.size !== 1 || seen.seeds.has(undefined)) {
      problems.push(`${o.where}: the shards need one --seed, got ${[...seen.seeds].join(', ')}`);
    }
    if (seen.scenarios.size !== 1) {
      problems.push(`${o.where}: the shards run different scenarios: ${[...seen.scenarios].join(', ')}`);
    }
    for (const scenario of seen.scenarios) checkScenarioInImage(o.where, scenario, docker, problems);
    // Exit codes: a slice that misses the thresholds (99) has done its work.
    for (const [rc, ok] of [[99, (s) => s === 0], [0, (s) => s === 0], [2, (s) => s === 2], [1, (s) => s !== 0]]) {
      const r = runContainer(job, container, docker, { index: 0, rc });
      if (!ok(r.status)) {
        problems.push(`${o.where}: when callsim run exits ${rc} the container exits ${r.status}` +
                      (rc === 99 ? ': 99 (this slice missed the thresholds) must be 0, the merged run is judged'
                                 : rc === 2 ? ': must be 2 (invalid input, not worth a retry)' : ': must fail'));
      }
    }
  }

  for (const o of mergeJobs) {
    const job = o.obj;
    const podSpec = job.spec?.template?.spec ?? {};
    const container = podSpec.containers[0];
    if (podSpec.restartPolicy !== 'Never') {
      problems.push(`${o.where}: restartPolicy ${podSpec.restartPolicy}: must be Never`);
    }
    const r = runContainer(job, container, docker, { rc: 0 });
    const merges = r.calls.filter((argv) => argv[0] === 'merge');
    if (merges.length !== 1) {
      problems.push(`${o.where}: ${merges.length} callsim merge calls`);
      continue;
    }
    const [, out, ...inputs] = merges[0];
    for (const file of [out, ...inputs]) {
      const on = claimOf(podSpec, container, file ?? '');
      if (on.claim !== claim || on.readOnly) {
        problems.push(`${o.where}: ${file} is not on a writable mount of claim ${claim}`);
      }
    }
    const wanted = new Set(shardDbs);
    const missing = [...wanted].filter((f) => !inputs.includes(f));
    const extra = inputs.filter((f) => !wanted.has(f));
    if (n !== null && (inputs.length !== n || missing.length > 0 || extra.length > 0 ||
                       new Set(inputs).size !== inputs.length)) {
      problems.push(`${o.where}: merges ${inputs.length} databases (${inputs.join(' ')}), expected the ` +
                    `${n} the shards write (${shardDbs.join(' ')})` +
                    (missing.length ? `; missing ${missing.join(' ')}` : '') +
                    (extra.length ? `; not written by a shard: ${extra.join(' ')}` : ''));
    }
    if (inputs.includes(out)) problems.push(`${o.where}: merges into ${out}, one of its inputs`);
    for (const rc of [0, 99, 2]) {
      const v = runContainer(job, container, docker, { rc });
      if (v.status !== rc) {
        problems.push(`${o.where}: when callsim merge exits ${rc} the container exits ${v.status}: ` +
                      `the merge's exit code is the verdict and must be the container's`);
      }
    }
    for (const rc of [99, 2]) {
      if (job.spec?.backoffLimit !== 0 && onExit(job, container, rc) !== 'FailJob') {
        problems.push(`${o.where}: exit ${rc} would be retried: a verdict is final (backoffLimit 0, or a ` +
                      `podFailurePolicy FailJob rule on ${rc})`);
      }
    }
  }
}

// The shards' scenario must be in the image: under a folder the Dockerfile copies from the
// repository (the last COPY to hold it wins; a COPY --from another stage is followed to the COPY
// that put it there).
function checkScenarioInImage(where, scenario, docker, problems) {
  if (!scenario) {
    problems.push(`${where}: callsim run names no scenario`);
    return;
  }
  let file = scenario;
  let copies = docker.copies;
  for (let hop = 0; hop < 4; hop++) {
    const k = copies.findLastIndex(({ sources, dest }) =>
      sources.length === 1 && file.startsWith(dest.replace(/\/+$/, '') + '/'));
    if (k < 0) break;
    const { sources, dest, from } = copies[k];
    const rest = file.slice(dest.replace(/\/+$/, '').length + 1);
    if (from) {
      file = path.posix.join(sources[0], rest);
      copies = copies.slice(0, k);
      continue;
    }
    const inRepo = path.join(repo, sources[0], rest);
    if (!fs.existsSync(inRepo)) {
      problems.push(`${where}: ${scenario} would be ${path.relative(repo, inRepo)}, which does not exist`);
    }
    return;
  }
  problems.push(`${where}: ${scenario}: no COPY in the Dockerfile puts it in the image`);
}

// Several folders at once: their field checks share one TypeScript program.
function validateAll(pairs) {
  const sets = pairs.map(([dir, dockerfile]) => {
    const problems = [];
    const docker = checkDockerfile(dockerfile, problems);
    const objects = loadManifests(dir, problems);
    schemaCheck(objects, problems);
    return { problems, docker, objects };
  });
  fieldCheck(sets);
  for (const { objects, docker, problems } of sets) callsimCheck(objects, docker, problems);
  return sets.map((s) => s.problems);
}
const validate = (dir, dockerfile) => validateAll([[dir, dockerfile]])[0];

// ---- the command line: one folder ----

const argv = process.argv.slice(2);
if (argv.length > 0) {
  const dir = flag(argv, '--manifests');
  const dockerfile = flag(argv, '--dockerfile') ?? path.join(repo, 'Dockerfile');
  if (!dir) {
    console.error('usage: node k8s_manifests.mjs [--manifests DIR [--dockerfile FILE]]');
    process.exit(2);
  }
  const problems = validate(dir, dockerfile);
  for (const p of problems) console.log(`  ${p}`);
  console.log(problems.length === 0 ? `${dir}: valid` : `${dir}: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}

// ---- the repository's manifests, then broken copies that must be rejected ----

const manifests = path.join(repo, 'deploy/k8s');
const dockerfile = path.join(repo, 'Dockerfile');
let passed = 0;
let failed = 0;
const t0 = performance.now();
function result(ok, name, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail ? '\n' + detail : ''}`);
}

// A copy of deploy/k8s and the Dockerfile, one file changed.
function broken(file, edit) {
  const dir = fs.mkdtempSync(path.join(stubDir, 'broken-'));
  for (const f of fs.readdirSync(manifests)) fs.copyFileSync(path.join(manifests, f), path.join(dir, f));
  fs.copyFileSync(dockerfile, path.join(dir, 'Dockerfile'));
  fs.copyFileSync(path.join(repo, '.dockerignore'), path.join(dir, '.dockerignore'));
  const target = path.join(dir, file);
  const before = fs.readFileSync(target, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing: update this test`);
  fs.writeFileSync(target, after);
  return dir;
}
const replace = (from, to) => (text) => text.replace(from, to);
const yamlEdit = (fn) => (text) => {
  const obj = YAML.parse(text);
  fn(obj);
  return YAML.stringify(obj);
};

const cases = [
  ['completionMode misspelt (value)', 'shard-job.yaml', replace('completionMode: Indexed', 'completionMode: Indexd'),
   [/schema: .*completionMode must be equal to one of the allowed values/, /completionMode "Indexd": must be Indexed/]],
  ['completionMode misspelt (key)', 'shard-job.yaml', replace('completionMode: Indexed', 'completionMod: Indexed'),
   [/field spec\.completionMod: .*completionMod/, /completionMode undefined: must be Indexed/,
    /pod 1 \(JOB_COMPLETION_INDEX unset: not an Indexed Job\) runs --shard 1\/4, expected 2\/4/, /databases are not distinct/]],
  ['N mismatched: 5 pods, --shard i/4', 'shard-job.yaml',
   (t) => t.replace('completions: 4', 'completions: 5').replace('parallelism: 4', 'parallelism: 5'),
   [/runs --shard 1\/4, expected 1\/5/, /merges 4 databases .*expected the 5/]],
  ['parallelism differs from completions', 'shard-job.yaml', replace('parallelism: 4', 'parallelism: 2'),
   [/completions 4 and parallelism 2: must be the same/]],
  ['the merge misses a shard', 'merge-job.yaml', replace(/\n\s*- \/results\/shard-4\.db/, ''),
   [/merges 3 databases .*missing \/results\/shard-4\.db/]],
  ['the merge names one shard twice', 'merge-job.yaml', replace('/results/shard-4.db', '/results/shard-3.db'),
   [/merges 4 databases .*missing \/results\/shard-4\.db/]],
  ['every shard writes the same database', 'shard-job.yaml', replace('/results/shard-$i.db', '/results/shard.db'),
   [/databases are not distinct/, /not written by a shard/]],
  ['exit 99 not mapped to success', 'shard-job.yaml', replace(/exit 0\n/, 'exit "$rc"\n'),
   [/when callsim run exits 99 the container exits 99: 99 .* must be 0/]],
  ['podFailurePolicy ignores 99', 'shard-job.yaml',
   yamlEdit((o) => o.spec.podFailurePolicy.rules.push(
     { action: 'Ignore', onExitCodes: { containerName: 'shard', operator: 'In', values: [99] } })),
   [/a podFailurePolicy rule ignores exit code 99/]],
  ['restartPolicy OnFailure', 'shard-job.yaml', replace('restartPolicy: Never', 'restartPolicy: OnFailure'),
   [/restartPolicy OnFailure: must be Never/]],
  ['the merge swallows the verdict', 'merge-job.yaml',
   yamlEdit((o) => {
     const c = o.spec.template.spec.containers[0];
     c.command = ['sh', '-c', `callsim ${c.args.join(' ')} || true`];
     delete c.args;
   }),
   [/when callsim merge exits 99 the container exits 0/]],
  ['the merge is retried on 99', 'merge-job.yaml', yamlEdit((o) => { o.spec.podFailurePolicy.rules.pop(); }),
   [/exit 99 would be retried/]],
  ['the merge mounts another claim', 'merge-job.yaml', replace('claimName: callsim-results', 'claimName: callsim-other'),
   [/volume results is claim callsim-other/, /not on a writable mount of claim callsim-results/]],
  ['the merge runs another image', 'merge-job.yaml', replace('image: callsim:0.1.0', 'image: callsim:0.2.0'),
   [/different images: .*callsim-merge\/merge=callsim:0\.2\.0/]],
  ['the claim is ReadWriteOnce', 'results-pvc.yaml', replace('- ReadWriteMany', '- ReadWriteOnce'),
   [/must be ReadWriteMany/]],
  ['an unknown field (imagePullPolcy)', 'shard-job.yaml', replace('imagePullPolicy:', 'imagePullPolcy:'),
   [/field spec\.template\.spec\.containers\[0\]\.imagePullPolcy: .*imagePullPolcy/]],
  ['a malformed quantity', 'shard-job.yaml', replace('memory: 1Gi', 'memory: 1 GB'),
   [/schema: .*limits\/memory must match format "quantity"/]],
  ['no resource limits', 'merge-job.yaml', yamlEdit((o) => { delete o.spec.template.spec.containers[0].resources; }),
   [/container merge: needs resources\.requests/]],
  ['Dockerfile FROM ubuntu', 'Dockerfile', replace('FROM debian:12', 'FROM ubuntu:22.04'),
   [/FROM ubuntu:22\.04: the image must be built on Debian 12/]],
  ['Dockerfile installs the packages by hand', 'Dockerfile',
   replace('RUN make deps \\', 'RUN apt-get update && apt-get install -y g++ cmake libboost-dev \\'),
   [/installs g\+\+ cmake libboost-dev by hand/, /no RUN with make deps/]],
  ['Dockerfile ENTRYPOINT in shell form', 'Dockerfile', replace('ENTRYPOINT ["callsim"]', 'ENTRYPOINT callsim'),
   [/ENTRYPOINT \["\/bin\/sh","-c","callsim"\]: it must be callsim, in exec form/]],
  ['Dockerfile downloads', 'Dockerfile', replace('RUN make deps', 'RUN curl -fsSL https://example.org/x.sh | sh && make deps'),
   [/RUN downloads something/]],
  ['Dockerfile without the scenarios', 'Dockerfile', replace(/COPY scenarios \/opt\/callsim\/scenarios\n/, ''),
   [/\/opt\/callsim\/scenarios\/load_1000\.yaml: no COPY in the Dockerfile puts it in the image/]],
];
const prepared = cases.map(([, file, edit]) => {
  const dir = broken(file, edit);
  return [dir, path.join(dir, 'Dockerfile')];
});
const [problems, ...rejected] = validateAll([[manifests, dockerfile], ...prepared]);
result(problems.length === 0, 'deploy/k8s and the Dockerfile are valid',
       problems.map((p) => `  ${p}`).join('\n'));

cases.forEach(([name, , , expected], k) => {
  const got = rejected[k];
  const unmatched = expected.filter((re) => !got.some((p) => re.test(p)));
  result(got.length > 0 && unmatched.length === 0, `rejects a copy: ${name} (${got.length} problem(s))`,
         unmatched.length === 0 ? '' :
           `  expected a problem matching ${unmatched.join(', ')}; got:\n` + got.map((p) => `    ${p}`).join('\n'));
});
console.log(`k8s_manifests (${Math.round(performance.now() - t0)} ms): ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
