// `callsim report --html` in a real browser (Debian's Chromium, driven by npm playwright-core):
// the report of three real runs opens from file:// offline and draws what it says it draws, and
// so does the report of `make demo`'s runs (tools/demo.sh: every bundled scenario).
//   - runs: scenarios/barge_in.yaml with a 300 ms stop bound (some calls fail, every call barges
//     in), scenarios/order_status.yaml (passes), scenarios/tools_guardrails.yaml for 2 callers
//     with turn 1 expecting words never said (every call and a threshold fail; tool calls);
//   - the browser asks for nothing but the file itself, logs no console error and throws nothing;
//   - per run: the histogram draws as many bars as its caption says, the histogram and the CDF
//     each mark p50, p95 and p99 at the values of the percentile table, in order, inside the plot;
//     the waterfalls' stages add up to the turn latency in their caption;
//   - one article per failed call shown (as many as the run's note says), each with one timeline;
//     barge-ins and tool calls are drawn where the runs had them; thresholds show pass and fail;
//   - every chart has a rendered size; the contents links lead to sections;
//   - the recorded run's failed calls have players that fetch nothing until played, and the
//     first one's metadata loads (the page's policy lets local media through);
//   - a report of two runs opens with their comparison, a row per compared metric;
//   - a screenshot of the top of the report: <build dir>/report-screenshot.png.
// Usage: node html_report.mjs <callsim binary> <build dir>. Exit 0: all checks passed; 1: a check
// failed (each is listed); 77: cannot run here (node too old, playwright-core not installed, no
// Chromium at /usr/bin/chromium or $CALLSIM_CHROMIUM). Everything is killed after 240 s.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const t0 = performance.now();
const log = (msg) => console.log(`[${String(Math.round(performance.now() - t0)).padStart(5)} ms] ${msg}`);

function skip(reason) {
  console.log(`html_report: SKIP: ${reason}`);
  process.exit(77);
}
if (Number(process.versions.node.split('.')[0]) < 18) skip(`node ${process.version} is older than 18`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  skip(`the npm package playwright-core is not installed in ${here}/node_modules (${e.code}); ` +
       'run: npm ci --prefix tests/node');
}
const executablePath = process.env.CALLSIM_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  skip(`no Chromium at ${executablePath} (make test installs Debian's chromium)`);
}
if (process.argv.length < 4) {
  console.error('usage: node html_report.mjs <callsim binary> <build dir>');
  process.exit(2);
}
const [binary, buildDir] = process.argv.slice(2, 4).map((p) => path.resolve(p));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'callsim-html-'));
let browser = null;
const watchdog = setTimeout(() => {
  console.error('html_report: FAIL: still running after 240 s');
  process.exit(1);
}, 240_000);
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// ---- three runs and their report ----
// Run from the repository (scenario paths as a user types them), the report from the database's
// folder (sections labelled runs.db#N).
function callsim(args, expectedCode, cwd = repo) {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000, cwd });
  if (r.status !== expectedCode) {
    console.error(`html_report: FAIL: callsim ${args.join(' ')} exited ${r.status}, expected ` +
                  `${expectedCode}\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;
}
const db = path.join(tmp, 'runs.db');
const scenario = (name) => `scenarios/${name}`;
callsim(['run', scenario('barge_in.yaml'), '--db', db,
         '--set', 'turns.2.expect.0.agent_stops.within_ms=300'], 99);
callsim(['run', scenario('order_status.yaml'), '--db', db], 0);
callsim(['run', scenario('tools_guardrails.yaml'), '--db', db, '--callers', '2',
         '--set', 'turns.1.expect.1.agent_says.contains=friday', '--record', 'failed'], 99);
const reportPath = path.join(tmp, 'report.html');
log(callsim(['report', 'runs.db#1', 'runs.db#2', 'runs.db#3', '--html', reportPath], 0, tmp).trim());
const reportUrl = pathToFileURL(reportPath).href;

// ---- the browser ----
browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
log(`chromium ${browser.version()}`);
const page = await browser.newPage({ viewport: { width: 1280, height: 1210 } });
const requests = [];
const consoleErrors = [];
page.on('request', (r) => requests.push(r.url()));
page.on('console', (m) => {
  if (m.type() === 'error') consoleErrors.push(m.text());
});
page.on('pageerror', (e) => consoleErrors.push(String(e)));
await page.goto(reportUrl, { waitUntil: 'load' });

const foreign = requests.filter((u) => u !== reportUrl);
check(foreign.length === 0, `the page requested more than itself: ${foreign.join(', ')}`);
check(requests.includes(reportUrl), 'the report itself was not requested');
check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);

// Everything the checks need, read from a rendered report.
const readFacts = (p) => p.evaluate(() => {
  const num = (s) => Number(String(s).trim());
  const size = (el) => {
    const r = el.getBoundingClientRect();
    return { w: r.width, h: r.height };
  };
  const markers = (svg) => [...svg.querySelectorAll('g.marker')].map((g) => {
    const line = g.querySelector('line');
    return { label: g.dataset.label, value: num(g.dataset.value), x: num(line.getAttribute('x1')) };
  });
  const distribution = (fig) => fig && {
    caption: num(fig.querySelector('.bin-count').textContent),
    bars: fig.querySelectorAll('svg.histogram rect.bar').length,
    dataBars: num(fig.querySelector('svg.histogram').dataset.bars),
    histogram: markers(fig.querySelector('svg.histogram')),
    cdf: markers(fig.querySelector('svg.cdf')),
    table: [...fig.querySelectorAll('table.percentiles td')].slice(0, 3).map((td) => num(td.textContent)),
  };
  const runs = [...document.querySelectorAll('section.run')].map((s) => {
    const note = [...s.querySelectorAll('h3')].find((h) => h.textContent === 'Failed calls');
    const failedNote = note ? note.nextElementSibling.textContent : '';
    const figures = [...s.querySelectorAll('figure.distribution')];
    return {
      id: s.id,
      noTurns: s.textContent.includes('No turn was answered.'),
      turnLatency: distribution(figures[0]),
      bargeIn: figures.length > 1 ? distribution(figures[1]) : null,
      waterfalls: [...s.querySelectorAll('figure.waterfall-figure')].map((f) => ({
        caption: f.querySelector('figcaption').textContent,
        latency: num(f.dataset.latencyMs),
        sum: [...f.querySelectorAll('rect.stage')].reduce((a, r) => a + num(r.dataset.ms), 0),
        stages: f.querySelectorAll('rect.stage').length,
      })),
      failedNote,
      articles: [...s.querySelectorAll('article.failed-call')].map((a) => ({
        timelines: a.querySelectorAll('svg.timeline').length,
        bargeIns: a.querySelectorAll('svg.timeline line.barge-in').length,
        tools: a.querySelectorAll('svg.timeline rect.span.tool').length,
        audio: [...a.querySelectorAll('audio')].map((el) => ({
          preload: el.getAttribute('preload'), src: el.src })),
      })),
      thresholds: [...s.querySelectorAll('table.thresholds tbody tr')].map((tr) => tr.className),
    };
  });
  const charts = [...document.querySelectorAll('svg.chart')].map(size);
  const tocTargets = [...document.querySelectorAll('nav.toc a')].map(
      (a) => document.getElementById(a.getAttribute('href').slice(1)) !== null);
  return { runs, charts, tocTargets, bytes: document.documentElement.outerHTML.length };
});

const facts = await readFacts(page);

check(facts.runs.length === 3, `${facts.runs.length} run sections, expected 3`);
check(facts.tocTargets.length === 3 && facts.tocTargets.every(Boolean), 'a contents link leads nowhere');
check(facts.charts.length > 0 && facts.charts.every((c) => c.w > 100 && c.h > 50),
      'a chart was not rendered at a usable size');

function checkDistribution(d, where) {
  if (!d) return check(false, `${where}: no distribution figure`);
  check(d.bars === d.caption && d.bars === d.dataBars && d.bars > 0,
        `${where}: ${d.bars} bars drawn, the caption says ${d.caption}, the svg ${d.dataBars}`);
  for (const [chart, marks] of [['histogram', d.histogram], ['CDF', d.cdf]]) {
    check(marks.map((m) => m.label).join() === 'p50,p95,p99', `${where} ${chart}: markers ${marks.map((m) => m.label)}`);
    marks.forEach((m, i) => check(Math.abs(m.value - d.table[i]) < 0.051,
                                  `${where} ${chart}: ${m.label} marked at ${m.value}, the table says ${d.table[i]}`));
    check(marks.every((m, i) => i === 0 || m.x >= marks[i - 1].x), `${where} ${chart}: markers out of order`);
  }
}

const checkRuns = (runs, report) => runs.forEach((run, i) => {
  const where = `${report}, run section ${i + 1}`;
  // A run whose agent answered no turn says so, and has no distribution and no waterfall.
  if (run.noTurns) {
    check(!run.turnLatency && run.waterfalls.length === 0, `${where}: "no turn answered" beside charts`);
  } else {
    checkDistribution(run.turnLatency, `${where} turn latency`);
    check(run.waterfalls.length === 2, `${where}: ${run.waterfalls.length} waterfalls, expected 2`);
  }
  for (const w of run.waterfalls) {
    const captioned = Number(/, ([0-9.]+) ms$/.exec(w.caption)?.[1]);
    // One stage when the turn has no stage spans (a canned answer): "not broken down".
    check(w.stages >= 1 && Math.abs(w.sum - w.latency) < 0.005 && Math.abs(captioned - w.latency) < 0.0501,
          `${where}: waterfall "${w.caption}" (${w.latency} ms): its stages sum to ${w.sum}`);
  }
  const m = /^(\d+) calls did not complete their task(; the first (\d+) are shown)?/.exec(run.failedNote);
  const shown = m ? Number(m[3] ?? m[1]) : 0;
  check(run.articles.length === shown, `${where}: ${run.articles.length} failed calls drawn, the note says ${shown}`);
  check(run.articles.every((a) => a.timelines === 1), `${where}: a failed call without exactly one timeline`);
  if (run.bargeIn) checkDistribution(run.bargeIn, `${where} barge-in stop latency`);
});
checkRuns(facts.runs, 'three-run report');
const [bargeIn, orderStatus, tools] = facts.runs;
checkDistribution(bargeIn?.bargeIn, 'barge_in run, barge-in stop latency');
check(bargeIn?.articles.length > 0 && bargeIn.articles.every((a) => a.bargeIns >= 1),
      'barge_in run: a failed call whose timeline has no barge-in');
check(orderStatus?.articles.length === 0 && orderStatus.bargeIn === null,
      'order_status run: it passed and had no barge-ins, yet shows failed calls or a barge-in chart');
check(tools?.articles.length === 2 && tools.articles.every((a) => a.tools > 0),
      'tools_guardrails run: expected 2 failed calls with tool calls on their timelines');
// The recorded run's failed calls each have a player that fetched nothing on load.
check(tools?.articles.every((a) => a.audio.length === 1 && a.audio[0].preload === 'none' &&
                                 /runs\.recordings\/run-3\/call-\d+\.wav$/.test(a.audio[0].src)),
      `tools_guardrails run: players ${JSON.stringify(tools?.articles.map((a) => a.audio))}`);
check(bargeIn?.articles.every((a) => a.audio.length === 0), 'barge_in run: a player without a recording');
check(tools?.thresholds.includes('pass') && tools.thresholds.includes('fail'),
      `tools_guardrails run: thresholds ${tools?.thresholds}, expected a pass and a fail`);

// ---- a recording plays: its metadata loads through the page's policy ----
const requestsBeforePlay = requests.length;
const played = await page.evaluate(() => new Promise((resolve) => {
  const el = document.querySelector('article.failed-call audio');
  if (!el) return resolve({ error: 'no audio element' });
  el.addEventListener('loadedmetadata', () => resolve({ duration: el.duration }));
  el.addEventListener('error', () => resolve({ error: `media error ${el.error && el.error.code}` }));
  el.preload = 'metadata';
  el.load();
  setTimeout(() => resolve({ error: 'no metadata after 10 s' }), 10_000);
}));
check(played.duration > 5, `the first recording did not play: ${JSON.stringify(played)}`);
check(requests.slice(requestsBeforePlay).every((u) => u.endsWith('.wav')),
      `playing asked for more than the recording: ${requests.slice(requestsBeforePlay)}`);

// ---- two runs: the comparison table comes first, one row per compared metric ----
const comparePath = path.join(tmp, 'compare.html');
callsim(['report', 'runs.db#2', 'runs.db#2', '--html', comparePath], 0, tmp);
const comparePage = await browser.newPage();
comparePage.on('request', (r) => requests.push(r.url()));
comparePage.on('pageerror', (e) => consoleErrors.push(String(e)));
await comparePage.goto(pathToFileURL(comparePath).href, { waitUntil: 'load' });
const compare = await comparePage.evaluate(() => {
  const section = document.querySelector('section.compare');
  return section && {
    first: document.querySelector('main > section, body > section') === section ||
           section.compareDocumentPosition(document.querySelector('section.run')) === Node.DOCUMENT_POSITION_FOLLOWING,
    rows: section.querySelectorAll('tbody tr').length,
    verdict: section.querySelector('p.verdict').textContent,
  };
});
await comparePage.close();
// order_status against itself: 6 latency families (no barge-ins) x 3 percentiles + 6 rates,
// all unchanged.
check(compare && compare.first, 'two-run report: no comparison section before the runs');
check(compare?.rows === 24, `two-run report: ${compare?.rows} comparison rows, expected 24`);
check(/no regression/.test(compare?.verdict ?? ''), `two-run report: verdict "${compare?.verdict}"`);
check(consoleErrors.length === 0, `console errors on the two-run report: ${consoleErrors.join(' | ')}`);

// ---- make demo's report: every bundled scenario, as tools/demo.sh (make demo) makes it ----
const demoReport = path.join(tmp, 'demo-report.html');
const demo = spawnSync('sh', [path.join(repo, 'tools/demo.sh'), binary, repo, path.join(tmp, 'demo.db'), '1',
                              path.join(tmp, 'demo-metrics'), demoReport],
                       { encoding: 'utf8', timeout: 150_000 });
check(demo.status === 0, `tools/demo.sh exited ${demo.status}: ${demo.stderr.slice(-2000)}`);
const scenarioCount = fs.readdirSync(path.join(repo, 'scenarios')).filter((f) => f.endsWith('.yaml')).length;
if (demo.status === 0) {
  const demoPage = await browser.newPage({ viewport: { width: 1280, height: 1210 } });
  const demoRequests = [];
  const demoErrors = [];
  demoPage.on('request', (r) => demoRequests.push(r.url()));
  demoPage.on('console', (m) => {
    if (m.type() === 'error') demoErrors.push(m.text());
  });
  demoPage.on('pageerror', (e) => demoErrors.push(String(e)));
  const demoUrl = pathToFileURL(demoReport).href;
  await demoPage.goto(demoUrl, { waitUntil: 'load' });
  const demoFacts = await readFacts(demoPage);
  await demoPage.close();
  check(demoRequests.every((u) => u === demoUrl), `demo report: requested ${demoRequests.filter((u) => u !== demoUrl)}`);
  check(demoErrors.length === 0, `demo report: console errors ${demoErrors.join(' | ')}`);
  check(demoFacts.runs.length === scenarioCount,
        `demo report: ${demoFacts.runs.length} run sections for ${scenarioCount} bundled scenarios`);
  check(demoFacts.tocTargets.length === scenarioCount && demoFacts.tocTargets.every(Boolean),
        'demo report: a contents link leads nowhere');
  check(demoFacts.charts.every((c) => c.w > 100 && c.h > 50), 'demo report: a chart without a usable size');
  checkRuns(demoFacts.runs, 'demo report');
  log(`demo report: ${demoFacts.runs.length} runs, ${demoFacts.charts.length} charts, ` +
      `${(demoFacts.bytes / 1024).toFixed(0)} KiB`);
}

// ---- the screenshot ----
const shot = path.join(buildDir, 'report-screenshot.png');
await page.screenshot({ path: shot });
check(fs.statSync(shot).size > 10_000, `${shot} is suspiciously small`);
await browser.close();
clearTimeout(watchdog);

log(`${facts.runs.length} runs, ${facts.charts.length} charts, ${(facts.bytes / 1024).toFixed(0)} KiB of HTML; ` +
    `requests: ${requests.length}; screenshot: ${shot}`);
if (failures.length) {
  for (const f of failures) console.error(`html_report: FAIL: ${f}`);
  process.exit(1);
}
console.log('html_report: all checks passed');
