'use strict';
/**
 * One version of the server that `npm run demo` restarts; started by scripts/demo/restart.js, not
 * meant to be run by hand.
 *
 *   node restart-server.js CHANNEL VERSION
 *
 * Version 1 listens itself, with a HandoverServer on 127.0.0.1 (a free port). Every later version
 * knows nothing but the channel name: it receives on CHANNEL until its predecessor hands it the
 * listening socket, then closes that receiver (so that its own successor can take the name) and
 * serves. Each answers GET with `version V (pid P)`.
 *
 * Commands, one JSON object per line on stdin:
 *   {"cmd": "handover"}   hand the listener to whoever receives on CHANNEL now, then exit once the
 *                         last connection this process accepted is done
 *   {"cmd": "stop"}       close the listener, finish the connections, exit (also when stdin closes)
 * To the parent, one JSON object per line on stdout:
 *   {"type": "ready" | "serving" | "handed-over" | "exiting" | "error", ...}
 */
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const [channel, versionArg] = process.argv.slice(2);
const version = Number(versionArg);
if (!channel || !Number.isInteger(version) || version < 1) {
  console.error('usage: restart-server.js CHANNEL VERSION (started by scripts/demo.js; run `npm run demo`)');
  process.exit(2);
}

const { tell, die, describeError, onParentCommands } = require('./child-io');

process.on('uncaughtException', (err) => die(`unexpected error: ${describeError(err)}`));
process.on('unhandledRejection', (err) => die(`unexpected error: ${describeError(err)}`));

const { HandoverServer, openReceiver, openSender } = require(path.join(__dirname, '..', '..', 'dist'));

// Open stderr now, before the first hand-off arrives. On Node 22 the package loads koffi lazily at
// the receiver's first connection, which opens process.stderr (a pipe here); the receiver's sender
// pid check takes the newest named pipe of the process for the sender's connection, would read
// this stderr pipe (whose other end is the demo) and refuse the predecessor with ERR_PID_MISMATCH.
void process.stderr;

let listener; // the HandoverServer, once this process has it
let leaving = false; // handed over or stopping: no new connections will come
let listenerClosed = false;
let open = 0; // connections accepted and not yet closed
let answered = 0;
let answeredAfter = 0; // answered after the listener was handed over (or closed)

const app = http.createServer((req, res) => {
  answered++;
  if (leaving) {
    answeredAfter++;
    res.setHeader('connection', 'close'); // a kept-alive client goes to the successor next time
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('x-version', String(version));
  res.setHeader('x-pid', String(process.pid));
  res.end(`version ${version} (pid ${process.pid})\n`);
});

function onConnection(socket) {
  open++;
  socket.on('close', () => {
    open--;
    maybeExit();
  });
  app.emit('connection', socket);
}

/** Exits once the listener is gone and every connection it accepted is done. */
let exiting = false;
function maybeExit() {
  if (exiting || !leaving || !listenerClosed || open > 0) return;
  exiting = true;
  process.stdout.write(`${JSON.stringify({ type: 'exiting', answered, answeredAfter })}\n`, () => process.exit(0));
}

function serve(server) {
  listener = server;
  listener.on('connection', onConnection);
  listener.on('error', (err) => die(`listener error: ${describeError(err)}`));
}

/** Stops accepting, closes the listener, and exits once the connections it accepted are done. */
function stop() {
  if (leaving) return;
  if (!listener) process.exit(0);
  leaving = true;
  listener.once('close', () => {
    listenerClosed = true;
    maybeExit();
  });
  listener.close();
}

async function handOver() {
  if (!listener || leaving) return;
  const sender = await openSender(channel, { connectTimeout: 3000, ackTimeout: 5000 });
  const sent = listener.listening ? new Promise((resolve) => listener.once('close', resolve)) : Promise.resolve();
  // Resolves once the successor holds the listener; this process's copy is then closed, and
  // connections not accepted here yet stay queued for the successor.
  const { receiverPid } = await sender.send(listener);
  leaving = true;
  tell({ type: 'handed-over', to: receiverPid, open });
  await sender.close();
  await sent;
  listenerClosed = true;
  maybeExit();
}

if (version === 1) {
  serve(HandoverServer.listen({ port: 0, host: '127.0.0.1' }));
  listener.once('listening', () => tell({ type: 'ready', pid: process.pid, port: listener.address().port }));
} else {
  // The predecessor's predecessor may still be letting go of the name: retry briefly.
  const receive = async () => {
    for (let tries = 1; ; tries++) {
      try {
        return await openReceiver(channel, onSocket);
      } catch (err) {
        if (err.code !== 'ERR_CHANNEL_IN_USE' || tries >= 30) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  let receiver;
  const onSocket = (socket, { pid }) => {
    if (listener || !(socket instanceof net.Server)) {
      socket.destroy ? socket.destroy() : socket.close();
      return;
    }
    serve(socket);
    // The name is free again for this version's own successor.
    Promise.resolve(receiver && receiver.close()).then(() =>
      tell({ type: 'serving', pid: process.pid, from: pid, port: listener.address().port }),
    );
  };
  receive().then(
    (r) => {
      receiver = r;
      receiver.on('error', (err) => tell({ type: 'log', text: `receiver error: ${describeError(err)}` }));
      tell({ type: 'ready', pid: process.pid, endpoint: receiver.endpoint });
    },
    (err) => die(`openReceiver(${channel}) failed: ${describeError(err)}`),
  );
}

onParentCommands((message) => {
  if (message.cmd === 'handover') handOver().catch((err) => die(`could not hand the listener over: ${describeError(err)}`));
  else if (message.cmd === 'stop') stop();
}, () => stop());
