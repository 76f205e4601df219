// An independent Twilio Media Streams client (Node.js + the npm `ws` package, no callsim code)
// against `callsim serve`. It proves, from outside, that the served agent speaks the protocol:
//   - the WebSocket upgrade needs a token: none, a bad one or a reused one is refused with 401;
//     POST /v1/token with an API key returns {"token": string, "expires_in": 1..600};
//   - it accepts `connected`, `start`, paced `media`, `mark` echoes and `stop` exactly as Twilio
//     sends them (none of them is refused: callsim_server_ws_errors_total{reason="bad_message"}
//     stays 0, and the stream is closed by the agent only after `stop`);
//   - everything it sends is `media` (our streamSid, base64 mu-law in whole 20 ms frames), `mark`
//     (streamSid, mark.name) or `clear` (streamSid), nothing else;
//   - barge-in: loud caller audio ~1 s into the greeting brings a `clear` within 1.5 s, and the
//     agent sends no audio while the caller is still loud; it then says its greeting again;
//   - marks: "reply-1" comes after all of the greeting's audio; we echo each mark only when the
//     audio before it would have played out at real time (a playout clock, as Twilio does) and
//     echo pending marks at once on `clear`;
//   - SIGTERM makes serve exit 0 within a few seconds.
// Usage: node twilio_client.mjs <callsim binary>. Exit 0: all checks passed; 1: a check failed
// (the message says which); 77: cannot run here (node too old, `ws` not installed).
// Only loopback is used. Everything is killed after 60 s.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);
const log = (msg) => console.log(`[${String(now()).padStart(5)} ms] ${msg}`);

function skip(reason) {
  console.log(`twilio_client: SKIP: ${reason}`);
  process.exit(77);
}
if (Number(process.versions.node.split('.')[0]) < 18) {
  skip(`node ${process.version} is older than 18 (no global fetch)`);
}
let WebSocket;
try {
  ({ WebSocket } = await import('ws'));
} catch (e) {
  skip(`the npm package ws is not installed in ${here}/node_modules (${e.code}); ` +
       'run: npm ci --prefix tests/node');
}
const binary = process.argv[2];
if (!binary) {
  console.error('usage: node twilio_client.mjs <callsim binary>');
  process.exit(2);
}

// ---- serve, and failing cleanly ----
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'callsim-node-'));
let serve = null;
let stopping = false;  // SIGTERM sent on purpose
let serveErr = '';
process.on('exit', () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});
function fail(msg) {
  console.log(`twilio_client: FAIL: ${msg}`);
  if (serveErr) console.log(`--- callsim serve stderr (last 4 kB) ---\n${serveErr}`);
  process.exit(1);
}
const check = (ok, msg) => { if (!ok) fail(msg); };
setTimeout(() => fail('overall timeout: 60 s'), 60000);

const apiKey = randomBytes(24).toString('hex');
const keyFile = path.join(tmp, 'api-keys');
fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
serve = spawn(binary, ['serve', '--agent', path.join(repo, 'scenarios/barge_in.yaml'),
                       '--listen', '127.0.0.1:0', '--api-keys', keyFile],
              { stdio: ['ignore', 'pipe', 'pipe'] });
serve.stderr.on('data', (d) => { serveErr = (serveErr + d).slice(-4000); });
serve.on('error', (e) => fail(`cannot run ${binary}: ${e.message}`));
const serveExited = new Promise((resolve) => serve.on('exit', (code, signal) => {
  if (!stopping) fail(`callsim serve exited on its own (code ${code}, signal ${signal})`);
  resolve({ code, signal });
}));
const port = await new Promise((resolve) => {
  let out = '';
  const timer = setTimeout(() => fail('serve printed no "listening on" line within 10 s'), 10000);
  serve.stdout.on('data', (d) => {
    out += d;
    const m = new RegExp('^callsim serve: listening on http://127\\.0\\.0\\.1:(\\d+) ' +
                         '\\(Twilio Media Streams on /twilio\\)$', 'm').exec(out);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
});
const http = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}/twilio`;
log(`serve listening on port ${port}`);

// ---- authentication ----
function upgradeStatus(url) {  // the HTTP status of a refused upgrade
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => fail(`upgrade ${url} was accepted; expected a refusal`));
    ws.on('error', (e) => fail(`upgrade ${url}: ${e.message}`));
    ws.on('unexpected-response', (req, res) => {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      res.resume();
      req.destroy();
      resolve(res.statusCode);
    });
  });
}
let status = await upgradeStatus(wsUrl);
check(status === 401, `upgrade without a token: HTTP ${status}, expected 401`);
status = await upgradeStatus(`${wsUrl}?token=not-a-real-token.AAAA`);
check(status === 401, `upgrade with a bad token: HTTP ${status}, expected 401`);
const postToken = (key) => fetch(`${http}/v1/token`,
                                 { method: 'POST', headers: { Authorization: `Bearer ${key}` } });
let res = await postToken('wrong-key-0123456789abcdef');
check(res.status === 401, `POST /v1/token with an unknown key: HTTP ${res.status}, expected 401`);
res = await postToken(apiKey);
check(res.status === 200, `POST /v1/token: HTTP ${res.status}, expected 200`);
const grant = await res.json();
check(typeof grant.token === 'string' && grant.token.length > 0,
      `POST /v1/token: no token string in ${JSON.stringify(grant)}`);
check(typeof grant.expires_in === 'number' && grant.expires_in >= 1 && grant.expires_in <= 600,
      `POST /v1/token: expires_in ${grant.expires_in}, expected a number in 1..600`);
log(`refused without/with a bad token (401); token expires in ${grant.expires_in} s`);

// ---- audio ----
function linearToMulaw(sample) {  // G.711 mu-law, 16-bit linear in
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff;
}
const SILENCE = Buffer.alloc(160, linearToMulaw(0));  // 0xFF
let noiseState = 12345;
function loudFrame() {  // white noise, uniform +-20000 (about -9 dBFS)
  const frame = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) {
    noiseState = (noiseState * 1103515245 + 12345) >>> 0;
    frame[i] = linearToMulaw(Math.round((noiseState / 2 ** 32 - 0.5) * 40000));
  }
  return frame;
}

// ---- the call ----
const sid = (prefix) => prefix + randomBytes(16).toString('hex');
const streamSid = sid('MZ'), callSid = sid('CA'), accountSid = sid('AC');
const BARGE_AFTER_MS = 1000, LOUD_MS = 1500;
const s = {
  seq: 0, chunk: 0, sending: false, sendStart: 0,
  frames: 0, odd: 0, firstMediaAt: -1, playEnd: 0, pending: [],  // playEnd: our playout clock
  loudStart: -1, loudEnd: -1, loudSentAt: -1, clearAt: -1, restartAt: -1, bytesSinceRestart: 0,
  reply1At: -1, mediaAfterReply1: 0, closeExpected: false,
};
const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(grant.token)}`);
const send = (msg) => ws.send(JSON.stringify(msg));
const seq = () => String(++s.seq);
ws.on('unexpected-response', (_req, r) => fail(`upgrade with a fresh token: HTTP ${r.statusCode}`));
ws.on('error', (e) => fail(`stream: ${e.message}`));
const closed = new Promise((resolve) => ws.on('close', (code, reason) => {
  if (!s.closeExpected) fail(`the agent closed the stream early: ${code} "${reason}"`);
  resolve({ code, reason: String(reason) });
}));

function sendFrames() {  // paced media: one 20 ms frame per 20 ms, deadlines from the start
  while (s.sending && performance.now() >= s.sendStart + s.chunk * 20) {
    const t = now();
    const loud = s.loudStart >= 0 && t >= s.loudStart && t < s.loudEnd;
    if (loud && s.loudSentAt < 0) { s.loudSentAt = t; log('loud caller audio starts'); }
    s.chunk++;
    send({ event: 'media', sequenceNumber: seq(), streamSid,
           media: { track: 'inbound', chunk: String(s.chunk), timestamp: String((s.chunk - 1) * 20),
                    payload: (loud ? loudFrame() : SILENCE).toString('base64') } });
  }
  if (s.sending) setTimeout(sendFrames, s.sendStart + s.chunk * 20 - performance.now());
}

ws.on('open', () => {
  send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  send({ event: 'start', sequenceNumber: seq(), streamSid,
         start: { accountSid, streamSid, callSid, tracks: ['inbound'], customParameters: {},
                  mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } });
  s.sending = true;
  s.sendStart = performance.now();
  sendFrames();
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function echoMark(name) {  // Twilio's answer once the audio before the mark has played
  s.pending = s.pending.filter((p) => p.name !== name);
  send({ event: 'mark', sequenceNumber: seq(), streamSid, mark: { name } });
  log(`mark "${name}" played out: echoed`);
  if (name === 'reply-1') setTimeout(hangUp, 500);
}

ws.on('message', (data, isBinary) => {
  check(!isBinary, 'the agent sent a binary frame');
  let m;
  try { m = JSON.parse(String(data)); } catch { fail(`not JSON: ${String(data).slice(0, 200)}`); }
  const t = now();
  const shown = JSON.stringify(m).slice(0, 200);
  check(m.streamSid === streamSid, `streamSid is not ours in ${shown}`);
  if (m.event === 'media') {
    const payload = m.media && m.media.payload;
    check(typeof payload === 'string' && BASE64.test(payload),
          `media.payload is not base64: ${shown}`);
    const bytes = Buffer.from(payload, 'base64').length;
    check(bytes > 0 && bytes % 160 === 0, `media of ${bytes} bytes, not whole 20 ms frames (160)`);
    if (bytes !== 160) s.odd++;
    s.frames += bytes / 160;
    s.playEnd = Math.max(s.playEnd, t) + bytes / 8;  // 8 bytes per ms at 8 kHz
    if (s.firstMediaAt < 0) {
      s.firstMediaAt = t;
      s.loudStart = t + BARGE_AFTER_MS;
      s.loudEnd = s.loudStart + LOUD_MS;
      log(`greeting audio starts; loud audio from ${s.loudStart} ms for ${LOUD_MS} ms`);
      setTimeout(() => check(s.clearAt >= 0, `no clear within ${LOUD_MS} ms of loud audio`),
                 s.loudEnd - t + 20);
    }
    if (s.clearAt >= 0) {
      check(t >= s.loudEnd + 100, `agent audio ${t - s.clearAt} ms after clear, caller still loud`);
      if (s.restartAt < 0) { s.restartAt = t; log('agent audio restarts (greeting again)'); }
      s.bytesSinceRestart += bytes;
    }
    if (s.reply1At >= 0) s.mediaAfterReply1++;
  } else if (m.event === 'mark') {
    const name = m.mark && m.mark.name;
    check(typeof name === 'string' && name.length > 0, `mark without mark.name: ${shown}`);
    log(`mark "${name}" after ${s.frames} frames; plays out in ${Math.max(0, s.playEnd - t)} ms`);
    if (name === 'reply-1') {
      check(s.clearAt >= 0, '"reply-1" came before any clear: the barge-in did not interrupt');
      check(s.bytesSinceRestart >= 8000, `"reply-1" came after only ${s.bytesSinceRestart} ` +
            'bytes of audio since the clear, not after a greeting (>= 1 s)');
      s.reply1At = t;
    }
    s.pending.push({ name, timer: setTimeout(() => echoMark(name), Math.max(0, s.playEnd - t)) });
  } else if (m.event === 'clear') {
    check(s.loudSentAt >= 0, `clear at ${t} ms before any loud caller audio`);
    check(s.clearAt < 0, 'a second clear');
    s.clearAt = t;
    log(`clear, ${t - s.loudSentAt} ms after the loud audio started`);
    check(t - s.loudSentAt <= LOUD_MS,
          `clear ${t - s.loudSentAt} ms after the loud audio started, > ${LOUD_MS}`);
    s.playEnd = t;  // Twilio drops the buffered audio and returns the pending marks at once
    for (const p of [...s.pending]) { clearTimeout(p.timer); echoMark(p.name); }
  } else {
    fail(`unexpected event from the agent: ${shown}`);
  }
});
setTimeout(() => check(s.reply1At >= 0, 'no "reply-1" mark within 30 s'), 30000);

async function hangUp() {
  check(s.mediaAfterReply1 === 0, `${s.mediaAfterReply1} media after the "reply-1" mark`);
  s.sending = false;
  s.closeExpected = true;
  send({ event: 'stop', sequenceNumber: seq(), streamSid, stop: { accountSid, callSid } });
  log('stop sent');
  const timer = setTimeout(() => fail('the agent kept the stream open 3 s after stop'), 3000);
  const { code, reason } = await closed;
  clearTimeout(timer);
  log(`stream closed by the agent: ${code} "${reason}"`);
  check(code === 1000 && reason === 'stop', `close after stop: ${code} "${reason}"`);

  status = await upgradeStatus(`${wsUrl}?token=${encodeURIComponent(grant.token)}`);
  check(status === 401, `upgrade with a used token: HTTP ${status}, expected 401`);
  const metrics = await (await fetch(`${http}/metrics`)).text();
  const bad = /^callsim_server_ws_errors_total\{reason="bad_message"\} (\S+)$/m.exec(metrics);
  check(bad && Number(bad[1]) === 0, `bad_message errors: ${bad ? bad[1] : 'series missing'}`);

  stopping = true;
  serve.kill('SIGTERM');
  const exitTimer = setTimeout(() => fail('serve did not exit within 5 s of SIGTERM'), 5000);
  const { code: exitCode, signal } = await serveExited;
  clearTimeout(exitTimer);
  check(exitCode === 0, `serve exited with code ${exitCode} (signal ${signal}) after SIGTERM`);
  console.log(`twilio_client: PASS: ${s.frames} agent frames (${s.odd} not 160 bytes); clear ` +
              `${s.clearAt - s.loudSentAt} ms after barge-in; audio restarted ` +
              `${s.restartAt - s.loudEnd} ms after the loud audio ended; "reply-1" after the ` +
              `greeting; serve exited 0; ${now()} ms`);
  process.exit(0);
}
