'use strict';
/**
 * The dispatcher of `npm run demo`: accepts TCP connections, reads each HTTP request head, and
 * hands the connection with its head to a worker, round-robin, over the worker's channel. If a
 * worker cannot take it (gone, refused, busy), the connection comes back intact and goes to the
 * next one; if none can, the dispatcher serves the request itself, on the very connection that
 * came back: the fallback users write as `sender.send(socket).catch(() => serveLocally(socket))`.
 */
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const { openSender } = require(path.join(__dirname, '..', '..', 'dist'));

const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * @param {{ channel: string, workers: string[], log: (text: string) => void }} options
 *   workers are names; worker NAME receives on channel `${channel}-${NAME}`.
 */
function createDispatcher({ channel, workers, log }) {
  const senders = new Map(); // name -> Promise<SocketSender>
  const handedTo = new Map(); // name -> connections handed over
  let next = 0;
  let closed = false;
  let servedLocally = 0;

  // The fallback: an http.Server that never listens; connections that no worker took are fed to it.
  const local = http.createServer((req, res) => {
    res.setHeader('x-worker', 'dispatcher');
    res.setHeader('x-worker-pid', String(process.pid));
    res.end(`the dispatcher (pid ${process.pid}) answers ${req.method} ${req.url} itself: no worker could take the connection\n`);
  });

  /** Serves a connection that came back: its request head goes back in front, and http takes it from there. */
  function serveLocally(socket, head) {
    servedLocally++;
    socket.unshift(head);
    local.emit('connection', socket);
    socket.resume();
  }

  function senderTo(name) {
    let sender = senders.get(name);
    if (!sender) {
      sender = openSender(`${channel}-${name}`, { connectTimeout: 3000, ackTimeout: 5000 });
      senders.set(name, sender);
      const forget = () => senders.get(name) === sender && senders.delete(name);
      sender.then((s) => s.on('close', forget), forget);
    }
    return sender;
  }

  /** Reads until the end of the request head; resolves with every byte read, or null. */
  function readHead(socket) {
    return new Promise((resolve) => {
      const chunks = [];
      let length = 0;
      const done = (head) => {
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.pause();
        resolve(head);
      };
      const onData = (chunk) => {
        chunks.push(chunk);
        length += chunk.length;
        const all = Buffer.concat(chunks);
        if (all.indexOf(HEAD_END) !== -1) done(all);
        else if (length > MAX_HEAD) {
          done(null);
          socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        }
      };
      const onEnd = () => {
        done(null);
        socket.end(); // the client left before finishing its request head
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
    });
  }

  async function dispatch(socket) {
    socket.on('error', () => {}); // a client that resets before its hand-off is its own problem
    const head = await readHead(socket);
    if (head === null || socket.destroyed) return;
    const requestLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const [method, target] = requestLine.split(' ');
    const upgrade = /\r\nupgrade:\s*websocket/i.test(head.toString('latin1'));
    const first = next;
    next = (next + 1) % workers.length;
    for (let i = 0; i < workers.length; i++) {
      const name = workers[(first + i) % workers.length];
      try {
        const sender = await senderTo(name);
        await sender.send(socket, { head, meta: { kind: 'http', method, target, upgrade } });
        handedTo.set(name, (handedTo.get(name) || 0) + 1);
        if (i > 0) log(`handed "${requestLine}" to worker ${name} instead`);
        return;
      } catch (err) {
        if (socket.destroyed) return;
        log(`worker ${name} cannot take "${requestLine}" (${err.code || err.message}); the connection is still here, intact`);
      }
    }
    log(`no worker can take "${requestLine}"; serving it here, on the connection that came back`);
    serveLocally(socket, head);
  }

  // allowHalfOpen: a client may half-close right after its request (HTTP/1.0 style); Node must not
  // end the connection by itself then, before or after the hand-off (http.Server does the same).
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (closed) socket.destroy();
    else dispatch(socket).catch((err) => log(`dispatching failed: ${err.message}`));
  });

  return {
    server,
    handedTo,
    /** Connections no worker could take, served by the dispatcher itself. */
    get servedLocally() {
      return servedLocally;
    },
    /** Connects to every worker now, so that the first requests do not wait for it. */
    async connectAll() {
      const result = [];
      for (const name of workers) {
        const sender = await senderTo(name);
        result.push({ name, pid: sender.receiverPid });
      }
      return result;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.removeListener('error', reject);
          resolve(server.address().port);
        });
      });
    },
    async close() {
      closed = true;
      await new Promise((resolve) => server.close(() => resolve()));
      await Promise.all([...senders.values()].map((s) => s.then((sender) => sender.close(), () => undefined)));
    },
  };
}

module.exports = { createDispatcher };
