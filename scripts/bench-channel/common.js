'use strict';
/**
 * Shared by the processes of scripts/bench-channel.js (Windows Node) and
 * scripts/bench-channel-linux.js (Linux Node): the one-line protocol every server answers,
 * per-process counters, and the JSON-lines command loop on stdin.
 *
 * The load: a client connects, sends `req <i>\n`; whoever serves answers `ok <tag> <pid> <i>\n`
 * and closes (end()). The client checks tag, pid and i, so an answer from the wrong process, or a
 * lost or doubled connection, is an error and not a success.
 */
const { onLines } = require('../bench/lib');

const reply = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

/** Keeps at most `max` samples of something that went wrong, and a count of all. */
function errorLog(max = 10) {
  return {
    count: 0,
    samples: [],
    add(what, err) {
      this.count++;
      if (this.samples.length < max) this.samples.push(`${what}: ${(err && (err.code || err.message)) || err}`);
    },
    reset() {
      this.count = 0;
      this.samples = [];
    },
  };
}

/** Counters of a serving process (the direct server, Node's forked child, our receiver). */
function serveStats() {
  return {
    served: 0,
    errors: errorLog(),
    /** Accept-to-adoption delays (ns), when the front put its accept time in the message. */
    adoptNs: [],
    reset() {
      this.served = 0;
      this.errors.reset();
      this.adoptNs = [];
    },
  };
}

/**
 * Answers one connection: reads the request line, writes `ok <tag> <pid> <i>`, ends. A socket that
 * closes or fails before it was answered is counted as an error.
 */
function serve(socket, tag, stats) {
  let buffered = '';
  let answered = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    if (answered) return;
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl < 0) return;
    answered = true;
    const words = buffered.slice(0, nl).split(' ');
    socket.end(`ok ${tag} ${process.pid} ${words[1]}\n`);
    stats.served++;
  });
  socket.on('error', (err) => stats.errors.add(answered ? 'socket error after the answer' : 'socket error', err));
  socket.on('close', () => {
    if (!answered) stats.errors.add('closed before a request line', 'EOF');
  });
}

/**
 * Reads JSON commands from stdin, one per line, and answers with `handler(cmd)`'s value (awaited).
 * stdin closing exits the process: an orchestrator that died takes its children with it.
 */
function commandLoop(handler) {
  onLines(process.stdin, async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch {
      reply({ error: `bad command line: ${line.slice(0, 100)}` });
      return;
    }
    try {
      const out = await handler(cmd);
      if (out !== undefined) reply(out);
    } catch (err) {
      reply({ error: `${cmd.cmd}: ${err && err.stack ? err.stack : err}` });
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

/**
 * The command loop of every scenario process (direct-server.js, node-front.js, ours-front.js,
 * fast-front.js, ours-receiver.js): `reset` runs reset(), `stats` answers what stats() gives
 * ({ front } and/or { worker }), `exit` awaits close() (its server, sender, receiver or child),
 * then the process ends. Each may be async.
 */
function scenarioCommandLoop({ reset, stats, close }) {
  commandLoop(async (cmd) => {
    switch (cmd.cmd) {
      case 'reset':
        await reset();
        return { reset: true };
      case 'stats':
        return { stats: await stats() };
      case 'exit':
        await close();
        reply({ closed: true });
        setImmediate(() => process.exit(0));
        return undefined;
      default:
        throw new Error(`unknown command ${cmd.cmd}`);
    }
  });
}

/** process.cpuUsage() as µs since `since` (another cpuUsage() value). */
function cpuSince(since) {
  const d = process.cpuUsage(since);
  return { user_us: d.user, system_us: d.system };
}

/**
 * Names this process `<scenario>:<role>` on Linux, where that is its comm (what ps and perf show):
 * a system-wide profile of a bench run can then tell the processes apart (perf-split.js).
 */
function nameProcess(scenario, role) {
  if (process.platform === 'linux') process.title = `${scenario}:${role}`;
}

module.exports = { reply, errorLog, serveStats, serve, scenarioCommandLoop, cpuSince, nameProcess };
