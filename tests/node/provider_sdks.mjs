// The official provider SDKs from the npm registry (openai, @deepgram/sdk; no callsim code)
// against the fake providers `callsim serve` exposes. It proves, from outside, that the fakes speak
// the providers' wire APIs:
//   - openai chat.completions.create with stream: true: the text arrives token by token, ends with
//     finish_reason "stop" and a usage chunk; a tool call's id and name come first and its
//     arguments in several pieces that join to the scripted JSON, finish_reason "tool_calls"; the
//     SDK's stream helper assembles the same message; stream: false gives a whole completion;
//     models.list; a wrong key is an AuthenticationError (401);
//   - a server with a rate limit answers 429 with Retry-After (a RateLimitError without retries),
//     and the SDK's own retries, honouring it, get every request through;
//   - openai audio.speech.create (response_format pcm and wav) returns 24 kHz audio that arrives
//     in pieces, in which `callsim modem hear` finds the words asked for;
//   - @deepgram/sdk listen.v1.connect: modem audio (mu-law, 8 kHz, paced in real time) gives
//     SpeechStarted, interim Results, a final Results with speech_final, UtteranceEnd; Finalize
//     gives a final with from_finalize; CloseStream gives Metadata and a close with code 1000;
//     a wrong key never opens.
// Usage: node provider_sdks.mjs <callsim binary>. Exit 0: all passed; 1: a check failed (the
// message says which); 77: cannot run here (node too old, the SDKs not installed).
// Only loopback is used. Everything is killed after 90 s.
import { spawn, execFileSync } from 'node:child_process';
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
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function skip(reason) {
  console.log(`provider_sdks: SKIP: ${reason}`);
  process.exit(77);
}
if (Number(process.versions.node.split('.')[0]) < 18) {
  skip(`node ${process.version} is older than 18`);
}
let OpenAI, DeepgramClient;
try {
  ({ default: OpenAI } = await import('openai'));
  ({ DeepgramClient } = await import('@deepgram/sdk'));
} catch (e) {
  skip(`the npm packages openai and @deepgram/sdk are not installed in ${here}/node_modules ` +
       `(${e.code}); run: npm ci --prefix tests/node`);
}
const binary = process.argv[2];
if (!binary) {
  console.error('usage: node provider_sdks.mjs <callsim binary>');
  process.exit(2);
}

// ---- two servers of fakes, and failing cleanly ----
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'callsim-sdks-'));
const servers = [];
let serveErr = '';
process.on('exit', () => {
  for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});
function fail(msg) {
  console.log(`provider_sdks: FAIL: ${msg}`);
  if (serveErr) console.log(`--- callsim serve stderr (last 4 kB) ---\n${serveErr}`);
  process.exit(1);
}
const check = (ok, msg) => { if (!ok) fail(msg); };
setTimeout(() => fail('overall timeout: 90 s'), 90000).unref();

const apiKey = `sk-callsim-${randomBytes(16).toString('hex')}`;
const keyFile = path.join(tmp, 'api-keys');
fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });

// The fakes' file: the bundled tool scenarios' LLM script, quick fakes, and (for the second
// server) a rate limit of one LLM request a second.
function fakesFile(name, rateLimit) {
  const file = path.join(tmp, `${name}.yaml`);
  const capacity = rateLimit ? ', capacity: { rate_limit_per_s: 1 }' : '';
  fs.writeFileSync(file, [
    `name: ${name}`,
    'fakes:',
    '  stt: { profile: perfect, final_latency_ms: { p50: 60, p95: 90 } }',
    `  llm: { script: ${path.join(repo, 'scenarios/llm/tools.yaml')}, ` +
      `ttft_ms: { p50: 80, p95: 120 }, tokens_per_s: 100${capacity} }`,
    '  tts: { ttfb_ms: { p50: 80, p95: 120 } }',
    'turns:',
    '  - hangup: {}',
    ''].join('\n'));
  return file;
}

async function startServe(name, rateLimit) {
  const serve = spawn(binary, ['serve', '--agent', fakesFile(name, rateLimit),
                               '--listen', '127.0.0.1:0', '--api-keys', keyFile],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(serve);
  serve.stderr.on('data', (d) => { serveErr = (serveErr + d).slice(-4000); });
  serve.on('error', (e) => fail(`cannot run ${binary}: ${e.message}`));
  serve.on('exit', (code, signal) => {
    if (!serve.stopping) fail(`callsim serve exited on its own (code ${code}, signal ${signal})`);
  });
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => fail('serve printed no "listening on" line within 10 s'), 10000);
    serve.stdout.on('data', (d) => {
      out += d;
      const m = /^callsim serve: listening on http:\/\/127\.0\.0\.1:(\d+) /m.exec(out);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
    });
  });
}
const base = await startServe('fakes', false);
const limitedBase = await startServe('limited', true);
log(`fakes on ${base}, rate-limited fakes on ${limitedBase}`);

const modem = (args) => execFileSync(binary, ['modem', ...args],
                                     { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

// ---- openai: chat completions ----
const openai = new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, timeout: 10000 });
const models = await openai.models.list();
check(models.data.some((m) => m.id === 'callsim-fake-llm'),
      `models.list: ${JSON.stringify(models.data)} has no callsim-fake-llm`);

async function collect(messages) {
  const stream = await openai.chat.completions.create({
    model: 'callsim-fake-llm', messages, stream: true, stream_options: { include_usage: true },
    tools: [{ type: 'function', function: { name: 'check_order_status', parameters: {
      type: 'object', properties: { order_id: { type: 'string' } } } } }],
  });
  const got = { text: '', contentChunks: 0, calls: {}, argPieces: 0, finish: null, usage: null, ids: new Set() };
  for await (const chunk of stream) {
    got.ids.add(chunk.id);
    check(chunk.object === 'chat.completion.chunk', `chunk object ${chunk.object}`);
    if (chunk.usage) got.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) { got.text += choice.delta.content; got.contentChunks++; }
    for (const tc of choice.delta.tool_calls ?? []) {
      const call = (got.calls[tc.index] ??= { id: null, name: null, args: '' });
      if (tc.id) call.id = tc.id;
      if (tc.function?.name) call.name = tc.function.name;
      if (tc.function?.arguments) { call.args += tc.function.arguments; got.argPieces++; }
    }
    if (choice.finish_reason) got.finish = choice.finish_reason;
  }
  return got;
}

let t = performance.now();
const text = await collect([{ role: 'system', content: 'You are a support agent.' },
                            { role: 'user', content: 'Hello there.' }]);
check(text.text === 'Sorry, I did not catch that. Could you say it again?', `streamed text: "${text.text}"`);
check(text.contentChunks >= 5, `the text came in ${text.contentChunks} chunks, expected one per word`);
check(text.finish === 'stop', `finish_reason ${text.finish}, expected stop`);
check(text.usage && text.usage.completion_tokens > 0 &&
      text.usage.total_tokens === text.usage.prompt_tokens + text.usage.completion_tokens,
      `usage chunk: ${JSON.stringify(text.usage)}`);
check(text.ids.size === 1, `chunks carried ${text.ids.size} ids, expected one`);
log(`streamed text in ${text.contentChunks} chunks (${Math.round(performance.now() - t)} ms)`);

const tool = await collect([{ role: 'user', content: 'Where is my order?' }]);
const call = tool.calls[0];
check(call && call.name === 'check_order_status' && typeof call.id === 'string' && call.id,
      `tool call: ${JSON.stringify(tool.calls)}`);
check(tool.argPieces >= 3, `the arguments came in ${tool.argPieces} pieces, expected several`);
check(JSON.stringify(JSON.parse(call.args)) === '{"order_id":"4567"}', `arguments: ${call.args}`);
check(tool.text === 'Let me look that up.', `text before the tool call: "${tool.text}"`);
check(tool.finish === 'tool_calls', `finish_reason ${tool.finish}, expected tool_calls`);
log(`tool call ${call.name}(${call.args}) in ${tool.argPieces} argument pieces`);

// The SDK's own stream helper assembles the same message.
const runner = openai.chat.completions.stream({
  model: 'callsim-fake-llm', messages: [{ role: 'user', content: 'Where is my order?' }] });
const final = await runner.finalChatCompletion();
const assembled = final.choices[0].message;
check(assembled.tool_calls?.[0]?.function?.arguments === '{"order_id":"4567"}' &&
      assembled.content === 'Let me look that up.',
      `stream helper's message: ${JSON.stringify(assembled)}`);

// A tool result: only the after_tool rules answer.
const after = await collect([
  { role: 'user', content: 'Where is my order?' },
  { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function',
    function: { name: 'check_order_status', arguments: call.args } }] },
  { role: 'tool', tool_call_id: call.id, content: '{"status":"shipped"}' }]);
check(after.text === 'Your order four five six seven has shipped and will arrive in two days.',
      `the answer after the tool result: "${after.text}"`);

const whole = await openai.chat.completions.create({
  model: 'callsim-fake-llm', messages: [{ role: 'user', content: 'Hello there.' }] });
check(whole.object === 'chat.completion' && whole.choices[0].message.content ===
      'Sorry, I did not catch that. Could you say it again?' && whole.choices[0].finish_reason === 'stop',
      `stream: false: ${JSON.stringify(whole)}`);

try {
  await new OpenAI({ apiKey: 'sk-wrong-key-0123456789', baseURL: `${base}/v1`, maxRetries: 0 })
    .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  fail('a wrong key was accepted');
} catch (e) {
  check(e instanceof OpenAI.AuthenticationError && e.status === 401,
        `a wrong key: ${e.constructor.name} ${e.status}, expected AuthenticationError 401`);
}
log('stream helper, a tool result, stream: false, 401 for a wrong key: ok');

// ---- openai: 429 and the SDK's retries ----
const ask = (client) => client.chat.completions.create({
  model: 'callsim-fake-llm', messages: [{ role: 'user', content: 'Hello there.' }] });
await sleep(1100);  // the bucket holds one token
const noRetry = new OpenAI({ apiKey, baseURL: `${limitedBase}/v1`, maxRetries: 0 });
const burst = await Promise.allSettled([ask(noRetry), ask(noRetry), ask(noRetry)]);
const limited = burst.filter((r) => r.status === 'rejected');
check(limited.length >= 1 && limited.every((r) => r.reason instanceof OpenAI.RateLimitError &&
      r.reason.status === 429 && Number(r.reason.headers?.get('retry-after')) >= 1),
      `a burst of 3 at 1 request/s without retries: ${burst.map((r) => r.status === 'rejected'
        ? `${r.reason.constructor.name} ${r.reason.status}` : 'ok').join(', ')}`);
await sleep(1100);
const statuses = [];
const retrying = new OpenAI({ apiKey, baseURL: `${limitedBase}/v1`, maxRetries: 4,
  fetch: async (url, init) => { const r = await fetch(url, init); statuses.push(r.status); return r; } });
t = performance.now();
const retried = await Promise.all([ask(retrying), ask(retrying), ask(retrying)]);
check(retried.every((c) => c.choices[0].message.content === 'Sorry, I did not catch that. Could you say it again?'),
      'a request that was retried did not get its answer');
check(statuses.filter((s) => s === 429).length >= 1 && statuses.filter((s) => s === 200).length === 3,
      `statuses the SDK saw: ${statuses.join(', ')}`);
log(`429 then retried by the SDK: statuses ${statuses.join(' ')} in ${Math.round(performance.now() - t)} ms`);

// ---- openai: speech ----
async function speak(input, format) {
  const started = performance.now();
  const r = await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input,
                                               response_format: format });
  const pieces = [];
  let firstMs = null;
  for await (const piece of r.body) {
    if (firstMs === null) firstMs = performance.now() - started;
    pieces.push(Buffer.from(piece));
  }
  return { audio: Buffer.concat(pieces), pieces: pieces.length, firstMs,
           totalMs: performance.now() - started, type: r.headers.get('content-type') };
}
const phrase = 'your order has shipped and will arrive on friday';
const pcm = await speak(phrase, 'pcm');
check(pcm.type === 'audio/pcm', `pcm content-type ${pcm.type}`);
check(pcm.audio.length % 2 === 0 && pcm.audio.length > 24000 * 2,
      `pcm: ${pcm.audio.length} bytes, expected over a second of 16-bit samples`);
check(pcm.pieces > 3 && pcm.firstMs < pcm.totalMs / 2,
      `pcm arrived in ${pcm.pieces} pieces, first after ${pcm.firstMs} of ${pcm.totalMs} ms`);
fs.writeFileSync(path.join(tmp, 'speech.pcm'), pcm.audio);
const heard = modem(['hear', path.join(tmp, 'speech.pcm'), '--format', 's16le', '--rate', '24000']);
check(heard === phrase, `callsim modem hear found "${heard}" in the pcm, expected "${phrase}"`);
const wav = await speak('four five six seven', 'wav');
check(wav.type === 'audio/wav' && wav.audio.subarray(0, 4).toString() === 'RIFF' &&
      wav.audio.readUInt32LE(24) === 24000, `wav: ${wav.type}, header ${wav.audio.subarray(0, 44).toString('hex')}`);
fs.writeFileSync(path.join(tmp, 'speech.wav'), wav.audio);
const heardWav = modem(['hear', path.join(tmp, 'speech.wav')]);
check(heardWav === 'four five six seven', `callsim modem hear found "${heardWav}" in the wav`);
log(`speech: ${pcm.audio.length} bytes of pcm in ${pcm.pieces} pieces (first after ` +
    `${Math.round(pcm.firstMs)} ms), heard "${heard}"; wav heard "${heardWav}"`);

// ---- deepgram: live transcription ----
const spoken = 'where is my order';
const ulaw = path.join(tmp, 'caller.ulaw');
modem(['say', spoken, '-o', ulaw, '--format', 'mulaw', '--rate', '8000']);
const audio = fs.readFileSync(ulaw);
const deepgram = new DeepgramClient({ apiKey, baseUrl: base });

async function listen(options, drive) {
  const messages = [];
  const conn = await deepgram.listen.v1.connect({ model: 'nova-3', encoding: 'mulaw',
    sample_rate: 8000, channels: 1, reconnectAttempts: 0, ...options });
  const closed = new Promise((resolve) => conn.on('close', (e) => resolve(e)));
  const errors = [];
  conn.on('error', (e) => errors.push(e));
  conn.on('message', (m) => messages.push({ at: now(), ...m }));
  conn.connect();
  await conn.waitForOpen();
  await drive(conn);
  const close = await Promise.race([closed, sleep(5000).then(() => null)]);
  return { messages, close, errors };
}
async function sendPaced(conn, bytes) {  // 20 ms of 8 kHz mu-law per message, in real time
  const start = performance.now();
  for (let i = 0, n = 0; i < bytes.length; i += 160, n++) {
    conn.sendMedia(bytes.subarray(i, i + 160));
    const due = start + (n + 1) * 20;
    await sleep(Math.max(0, due - performance.now()));
  }
}
const silence = Buffer.alloc(8000 * 2, 0xff);  // 2 s of mu-law silence

const live = await listen({ interim_results: 'true', vad_events: 'true', utterance_end_ms: 1000,
                            endpointing: 300 }, async (conn) => {
  await sendPaced(conn, Buffer.concat([audio, silence]));
  conn.sendKeepAlive({ type: 'KeepAlive' });
  conn.sendCloseStream({ type: 'CloseStream' });
});
const types = live.messages.map((m) => m.type);
const results = live.messages.filter((m) => m.type === 'Results');
const interims = results.filter((m) => !m.is_final);
const finals = results.filter((m) => m.is_final && m.channel.alternatives[0].transcript);
check(types.includes('SpeechStarted'), `no SpeechStarted in ${types.join(',')}`);
check(interims.length >= 2 && interims.some((m) => m.channel.alternatives[0].transcript === 'where'),
      `interim results: ${interims.map((m) => `"${m.channel.alternatives[0].transcript}"`).join(', ')}`);
check(finals.length === 1 && finals[0].speech_final === true &&
      finals[0].channel.alternatives[0].transcript === spoken,
      `final results: ${JSON.stringify(finals.map((m) => [m.channel.alternatives[0].transcript, m.speech_final]))}`);
const words = finals[0].channel.alternatives[0].words;
check(words.length === 4 && words.every((w, i) => w.end > w.start && (i === 0 || w.start >= words[i - 1].end)),
      `word timings: ${JSON.stringify(words)}`);
check(types.includes('UtteranceEnd') && types.indexOf('UtteranceEnd') > types.indexOf('SpeechStarted'),
      `no UtteranceEnd after the speech: ${types.join(',')}`);
const metadata = live.messages.find((m) => m.type === 'Metadata');
check(metadata && metadata.duration > 2 && /^[0-9a-f]{64}$/.test(metadata.sha256) &&
      types[types.length - 1] === 'Metadata', `Metadata: ${JSON.stringify(metadata)}`);
check(live.close && live.close.code === 1000, `close: ${live.close && live.close.code}`);
log(`deepgram: ${interims.length} interims, final "${finals[0].channel.alternatives[0].transcript}" ` +
    `(speech_final), ${types.filter((x) => x === 'UtteranceEnd').length} UtteranceEnd, Metadata, close 1000`);

const finalized = await listen({ interim_results: 'false', endpointing: 'false' }, async (conn) => {
  await sendPaced(conn, audio);
  conn.sendFinalize({ type: 'Finalize' });
  await sleep(500);
  conn.sendCloseStream({ type: 'CloseStream' });
});
const fromFinalize = finalized.messages.filter((m) => m.type === 'Results' && m.from_finalize);
check(fromFinalize.length === 1 && fromFinalize[0].is_final &&
      fromFinalize[0].channel.alternatives[0].transcript === spoken,
      `Finalize: ${JSON.stringify(finalized.messages.map((m) => [m.type, m.from_finalize, m.channel?.alternatives?.[0]?.transcript]))}`);
check(!finalized.messages.some((m) => m.type === 'Results' && !m.is_final),
      'interim results came without interim_results');
log('deepgram: Finalize gave one from_finalize final');

const refused = new DeepgramClient({ apiKey: 'wrong-key-0123456789', baseUrl: base });
const conn = await refused.listen.v1.connect({ model: 'nova-3', encoding: 'mulaw', sample_rate: 8000,
                                              reconnectAttempts: 0 });
let opened = false;
const failed = new Promise((resolve) => { conn.on('error', resolve); conn.on('close', resolve); });
conn.on('open', () => { opened = true; });
conn.connect();
await Promise.race([failed, sleep(3000)]);
check(!opened, 'a wrong Deepgram key opened a stream');
log('deepgram: a wrong key never opened');

for (const s of servers) { s.stopping = true; s.kill('SIGTERM'); }
console.log('provider_sdks: PASS');
process.exit(0);
