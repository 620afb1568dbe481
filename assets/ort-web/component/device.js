// The Latency page's "on this device" component: runs an ONNX model in this browser with onnxruntime-web
// (WebAssembly backend, SIMD; one thread unless the page is cross-origin isolated) and returns its timings.
//
// Streamlit components v1 protocol, by hand (no component library): "streamlit:componentReady" once,
// "streamlit:render" events bring the server's arguments, "streamlit:setComponentValue" sends a value back
// (which reruns the page on the server), "streamlit:setFrameHeight" sizes the iframe.
//
// Arguments: `job` (null when idle) = {token, label, index, total, input: [1, 3, H, W], seed, budget_s,
// warmup_s, min_runs, model_key, chunks}; `chunk_index` and `model_chunk` (bytes) when the server sends a
// piece of the ONNX file (large models come in several pieces, one rerun each).
// Values sent back, each with the job's token and a sequence number:
//   {kind: "chunk", next}                 send me piece `next` of the model
//   {kind: "result", median_ms, iqr_ms, runs, warmup_runs, backend, simd, threads, cross_origin_isolated,
//    hardware_concurrency, ua, outputs (first 10), checksum (sum of all outputs), session_ms}
//   {kind: "error", stage, reason}
// Nothing else leaves the browser. The server validates every field (explorer/devices/reports.py).

import { seededInput } from "./seeded.mjs";

const ORT_MODULE = "./ort/ort.wasm.bundle.min.mjs";
const ORT_WASM = new URL("./ort/ort-wasm-simd-threaded.wasm", location.href).href;
const HOW_TO_ENABLE =
  "onnxruntime-web is not installed on this server. To enable this component, install Node.js and npm, " +
  "then run `bash scripts/install-ort-web.sh` (or `make run`) and restart the app.";
const YIELD_EVERY_MS = 100; // let the page handle a cancel between runs

const statusBox = document.getElementById("status");
const bar = document.getElementById("bar");
const timeline = (window.__deviceTimeline = []); // for benchmarks and tests, kept in this page; never sent

let ortModule = null;
let seq = 0;
let active = null; // {token, job, args, abort}: the job this component was last given
let queue = Promise.resolve(); // one measurement at a time (a cancelled one finishes its run first)
let transfer = null; // {token, key, chunks, parts, resolve}
const models = new Map(); // model_key -> Uint8Array; one kept (AlexNet's file is about 240 MB)
let lastDone = ""; // the last finished measurement, still shown when the component is idle again

function mark(event, detail = null) {
  timeline.push({ event, t: Date.now(), detail });
}

function post(type, data) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}

function send(value) {
  seq += 1;
  post("streamlit:setComponentValue", { value: { ...value, seq }, dataType: "json" });
}

function show(text, { error = false, progress = null } = {}) {
  statusBox.textContent = text;
  statusBox.className = error ? "error" : "";
  bar.className = progress === null ? "" : "on";
  if (progress !== null) bar.value = Math.max(0, Math.min(1, progress));
  post("streamlit:setFrameHeight", { height: document.body.scrollHeight });
}

async function loadOrt() {
  if (ortModule) return ortModule;
  let module;
  try {
    module = await import(ORT_MODULE);
  } catch (error) {
    throw Object.assign(new Error(HOW_TO_ENABLE), { stage: "load" });
  }
  module.env.wasm.wasmPaths = { wasm: ORT_WASM };
  module.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  module.env.wasm.proxy = false;
  ortModule = module;
  return module;
}

function uaSummary() {
  const ua = navigator.userAgent || "";
  const browsers = [
    [/Edg(?:A|iOS)?\/(\d+)/, "Edge"], [/OPR\/(\d+)/, "Opera"], [/SamsungBrowser\/(\d+)/, "Samsung Internet"],
    [/(?:Firefox|FxiOS)\/(\d+)/, "Firefox"], [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
    [/(?:Chrome|CriOS)\/(\d+)/, "Chrome"], [/Version\/(\d+)[\d.]*.*Safari/, "Safari"],
  ];
  const systems = [
    [/Android/, "Android"], [/iPhone/, "iPhone"], [/iPad/, "iPad"], [/CrOS/, "ChromeOS"], [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"], [/Linux/, "Linux"],
  ];
  let browser = "Other browser";
  for (const [pattern, name] of browsers) {
    const found = ua.match(pattern);
    if (found) { browser = `${name} ${found[1]}`; break; }
  }
  const system = (systems.find(([pattern]) => pattern.test(ua)) || [null, "other OS"])[1];
  const arch = /aarch64|arm64/i.test(ua) ? " ARM64" : /x86_64|Win64|x64|amd64/i.test(ua) ? " x86-64" : "";
  return `${browser} on ${system}${arch}`;
}

function quantile(sorted, q) {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function pause() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

class Cancelled extends Error {}

async function timedRuns(run, session, feeds, seconds, minRuns, label, phase) {
  const samples = [];
  const start = performance.now();
  let lastYield = start;
  while (performance.now() - start < seconds * 1000 || samples.length < minRuns) {
    if (run.abort) throw new Cancelled();
    const t0 = performance.now();
    await session.run(feeds);
    const t1 = performance.now();
    if (!samples.length && phase === "timing") mark("first-timed-run");
    samples.push(t1 - t0);
    if (t1 - lastYield > YIELD_EVERY_MS) {
      const done = Math.min(1, (t1 - start) / (seconds * 1000));
      show(`${label}: ${phase}, ${samples.length} run${samples.length > 1 ? "s" : ""}…`, { progress: done });
      await pause();
      lastYield = performance.now();
    }
    if (samples.length >= 3 && t1 - t0 > 1000 && phase === "timing") minRuns = Math.min(minRuns, 3);
  }
  return samples;
}

async function receiveModel(run) {
  const job = run.job;
  if (models.has(job.model_key)) return models.get(job.model_key);
  const received = new Promise((resolve) => {
    transfer = { token: job.token, key: job.model_key, chunks: job.chunks, parts: [], resolve };
  });
  if (!takeChunk(run.args)) send({ kind: "chunk", token: job.token, next: 0 });
  show(`${job.label}: receiving the model…`, { progress: 0 });
  return received;
}

function takeChunk(args) {
  const job = args.job;
  if (!transfer || !job || job.token !== transfer.token) return false;
  if (args.chunk_index !== transfer.parts.length || !(args.model_chunk instanceof Uint8Array)) return false;
  transfer.parts.push(args.model_chunk);
  mark("piece", { index: args.chunk_index, bytes: args.model_chunk.length });
  if (transfer.parts.length < transfer.chunks) {
    show(`${job.label}: receiving the model (${transfer.parts.length} of ${transfer.chunks})…`,
      { progress: transfer.parts.length / transfer.chunks });
    send({ kind: "chunk", token: job.token, next: transfer.parts.length });
    return true;
  }
  const total = transfer.parts.reduce((sum, part) => sum + part.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of transfer.parts) { bytes.set(part, offset); offset += part.length; }
  models.clear();
  models.set(transfer.key, bytes);
  const { resolve } = transfer;
  transfer = null;
  resolve(bytes);
  return true;
}

async function measure(run) {
  const job = run.job;
  const label = `${job.label} (${job.index + 1} of ${job.total})`;
  let session = null;
  let stage = "load";
  try {
    mark("job-start");
    const [ort, bytes] = await Promise.all([loadOrt(), receiveModel(run)]);
    if (run.abort) throw new Cancelled();
    stage = "session";
    show(`${label}: creating the ONNX Runtime Web session…`, { progress: 0 });
    const t0 = performance.now();
    session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    const sessionMs = performance.now() - t0;
    mark("session-created");
    stage = "run";
    const count = job.input.reduce((a, b) => a * b, 1);
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", seededInput(count, job.seed), job.input) };
    const output = (await session.run(feeds))[session.outputNames[0]].data;
    let checksum = 0;
    for (const value of output) checksum += value;
    const warmup = await timedRuns(run, session, feeds, job.warmup_s, 1, label, "warming up");
    const samples = await timedRuns(run, session, feeds, job.budget_s, job.min_runs, label, "timing");
    samples.sort((a, b) => a - b);
    const result = {
      kind: "result", token: job.token, median_ms: quantile(samples, 0.5),
      iqr_ms: quantile(samples, 0.75) - quantile(samples, 0.25), runs: samples.length, warmup_runs: warmup.length,
      backend: "wasm", simd: true, threads: ort.env.wasm.numThreads, cross_origin_isolated: !!self.crossOriginIsolated,
      hardware_concurrency: Number.isInteger(navigator.hardwareConcurrency) ? navigator.hardwareConcurrency : null,
      ua: uaSummary(), outputs: Array.from(output.slice(0, 10)), checksum, session_ms: sessionMs,
    };
    send(result);
    mark("result-sent", result);
    lastDone = `Last: ${job.label}, ${quantile(samples, 0.5).toFixed(2)} ms (median of ${samples.length} runs).`;
    show(lastDone);
  } catch (error) {
    if (error instanceof Cancelled) {
      show(`${label}: cancelled.`);
      return;
    }
    const reason = String(error && error.message ? error.message : error).slice(0, 300);
    send({ kind: "error", token: job.token, stage: error.stage || stage, reason });
    show(`${label}: ${reason}`, { error: true });
  } finally {
    if (session) await session.release().catch(() => {});
  }
}

function onRender(args) {
  const job = args.job || null;
  if (!job) {
    if (active) active.abort = true;
    if (transfer) transfer = null;
    active = null;
    show(lastDone ? `${lastDone} Ready for the next.` : `Ready: ONNX Runtime Web ${args.ort_version || ""} ` +
      "(WebAssembly, SIMD) runs in this browser when you press a button above.");
    return;
  }
  if (active && active.token === job.token) {
    active.args = args;
    takeChunk(args);
    return;
  }
  if (active) active.abort = true;
  transfer = null;
  const run = (active = { token: job.token, job, args, abort: false });
  queue = queue.then(() => (run.abort ? null : measure(run)));
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !event.data || event.data.type !== "streamlit:render") return;
  onRender(event.data.args || {});
});
post("streamlit:componentReady", { apiVersion: 1 });
show("Loading…");
