'use strict';
/**
 * `--profile` for scripts/bench-channel.js: splits the per-hand-off time of the channel into its
 * parts by wrapping functions of the built package in place (dist/ only; nothing in src/ changes).
 * Each wrapped function gets a timer (calls, total, p50, p99); Winsock/libuv calls made by the SOCKET
 * lookup are counted. The wrappers cost a little themselves, so rates measured with --profile are
 * not written to bench-results.json.
 *
 * Sender (front process):
 *   send_sync         SocketSender.send(), the synchronous part (validation, export, frame write)
 *   attach            transport.attach = exportHeld: socket key + hold reading + lookup + duplicate + encode
 *   lookup            findNodeSocket (by async id once learned, else by address key: cache check or walk)
 *   duplicate         backend.duplicateSocket (WSADuplicateSocketW)
 *   encode_token      encodeProtocolInfo (628 bytes to base64)
 *   frame_write       FrameConnection.send, every frame (JSON + length prefix + pipe write)
 *   frame_decode      FrameDecoder.push (replies arriving)
 *   on_reply          handling of one reply message (ack: any further frame, closing this process's copy, resolve)
 *   close_copy        socket.destroy() of the sender's copy after the hand-off (closesocket)
 *   send_to_ack       send() called to its promise resolved
 * Receiver:
 *   frame_decode      FrameDecoder.push (frames arriving)
 *   on_message        handling of one message (socket: import + ack; a later commit, if the protocol
 *                     has one: adoption + onSocket), so calls = frames per hand-off x hand-offs
 *   detach            transport.detach = importSocket (token decode + checks + backend import)
 *   import            backend.importSocket (WSASocketW, then whatever checks the backend makes)
 *   adopt             SocketHandle.toNetSocket (tcp_wrap open + new net.Socket)
 *   frame_write       FrameConnection.send (ack and other replies)
 *   on_socket         the bench's onSocket callback
 * Functions that the built package no longer has are left out (the profile says which).
 */
const path = require('node:path');

const round1 = (x) => Math.round(x * 10) / 10;

function timerSet() {
  const timers = new Map();
  const get = (name) => {
    let t = timers.get(name);
    if (!t) timers.set(name, (t = { calls: 0, totalNs: 0, samples: [] }));
    return t;
  };
  return {
    record(name, ns) {
      const t = get(name);
      t.calls++;
      t.totalNs += ns;
      t.samples.push(ns);
    },
    missing: [],
    /** Wraps obj[name] so that every call is timed under `label`. */
    wrap(obj, name, label, filter) {
      const original = obj && obj[name];
      if (typeof original !== 'function') {
        this.missing.push(`${label} (${name})`);
        return;
      }
      const self = this;
      obj[name] = function (...args) {
        if (filter && !filter(args)) return original.apply(this, args);
        const t0 = process.hrtime.bigint();
        try {
          return original.apply(this, args);
        } finally {
          self.record(label, Number(process.hrtime.bigint() - t0));
        }
      };
    },
    reset() {
      timers.clear();
    },
    /** { label: { calls, total_ms, mean_us, p50_us, p99_us, per_handoff_us } } */
    summary(handoffs) {
      const out = {};
      for (const [name, t] of timers) {
        const s = t.samples.slice().sort((a, b) => a - b);
        const pick = (p) => round1(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] / 1000);
        out[name] = {
          calls: t.calls,
          total_ms: round1(t.totalNs / 1e6),
          mean_us: round1(t.totalNs / t.calls / 1000),
          p50_us: pick(0.5),
          p99_us: pick(0.99),
          per_handoff_us: handoffs ? round1(t.totalNs / handoffs / 1000) : null,
        };
      }
      return out;
    },
  };
}

/** Counts calls of module functions (Winsock / libuv bindings). */
function callCounter() {
  const counts = {};
  return {
    count(mod, name, label = name) {
      const original = mod && mod[name];
      if (typeof original !== 'function') return;
      counts[label] = 0;
      mod[name] = (...args) => {
        counts[label]++;
        return original(...args);
      };
    },
    reset() {
      for (const k of Object.keys(counts)) counts[k] = 0;
    },
    perHandoff(handoffs) {
      const out = {};
      for (const [k, v] of Object.entries(counts)) out[k] = handoffs ? Math.round((v / handoffs) * 100) / 100 : null;
      return out;
    },
  };
}

function common(distDir) {
  // A module the package no longer has gives {}: its timers are reported as not found.
  const req = (p) => {
    try {
      return require(path.join(distDir, p));
    } catch {
      return {};
    }
  };
  return {
    transport: req('win32/pipe-transport.js').win32PipeTransport,
    // The pipe transport calls these modules' exports directly (compiled as property reads, so wrapping them works).
    backend: req('win32/tokens.js'),
    lookup: req('win32/node-socket-lookup.js'),
    FrameConnection: req('channel/frame-connection.js').FrameConnection || function () {},
    FrameDecoder: req('channel/frame-codec.js').FrameDecoder || function () {},
    req,
  };
}

const isMessage = (args) => args[0] === 'message';

/** What both sides' profiles offer: record a timing, reset, and the summary per hand-off. */
function profileOf(timers, calls) {
  return {
    record: (name, ns) => timers.record(name, ns),
    reset() {
      timers.reset();
      calls.reset();
    },
    summary(handoffs) {
      return { timers: timers.summary(handoffs), calls_per_handoff: calls.perHandoff(handoffs), not_found: timers.missing };
    },
  };
}

function installSenderProfile(distDir) {
  const { transport, backend, lookup, FrameConnection, FrameDecoder, req } = common(distDir);
  const { SocketSender = function () {} } = req('channel/sender.js');
  const timers = timerSet();
  const calls = callCounter();
  timers.wrap(SocketSender.prototype, 'send', 'send_sync');
  timers.wrap(transport, 'attach', 'attach');
  timers.wrap(lookup, 'findNodeSocket', 'lookup');
  timers.wrap(backend, 'duplicateSocket', 'duplicate');
  timers.wrap(req('token-codec.js'), 'encodeProtocolInfo', 'encode_token');
  timers.wrap(FrameConnection.prototype, 'send', 'frame_write');
  timers.wrap(FrameConnection.prototype, 'emit', 'on_reply', isMessage);
  timers.wrap(FrameDecoder.prototype, 'push', 'frame_decode');
  const ws2 = req('win32/ws2_32.js');
  const libuv = req('win32/libuv.js');
  calls.count(ws2, 'getsockname');
  calls.count(ws2, 'getpeername');
  calls.count(ws2, 'WSADuplicateSocketW');
  calls.count(libuv, 'uv_fileno');
  calls.count(libuv, 'uv_handle_get_type');
  return {
    ...profileOf(timers, calls),
    /** Times socket.destroy() of the sender's copy (called by the sender once the ack arrived). */
    watchClose(socket) {
      timers.wrap(socket, 'destroy', 'close_copy');
    },
  };
}

function installReceiverProfile(distDir) {
  const { transport, backend, FrameConnection, FrameDecoder, req } = common(distDir);
  const { SocketHandle = function () {} } = req('socket-handle.js');
  const timers = timerSet();
  const calls = callCounter();
  timers.wrap(FrameDecoder.prototype, 'push', 'frame_decode');
  timers.wrap(FrameConnection.prototype, 'emit', 'on_message', isMessage);
  timers.wrap(transport, 'detach', 'detach');
  timers.wrap(backend, 'importSocket', 'import');
  timers.wrap(SocketHandle.prototype, 'toNetSocket', 'adopt');
  timers.wrap(FrameConnection.prototype, 'send', 'frame_write');
  const ws2 = req('win32/ws2_32.js');
  calls.count(ws2, 'WSASocketW');
  calls.count(ws2, 'getsockopt');
  return profileOf(timers, calls);
}

module.exports = { installSenderProfile, installReceiverProfile };
