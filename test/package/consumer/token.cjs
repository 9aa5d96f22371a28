'use strict';
// One token round trip with the installed package, run by Windows Node (under Wine off Windows):
// exportSocket() a listening server for this process, importSocket() the token, serve through it.
const net = require('node:net');
const { exportSocket, importSocket } = require('socket-handoff');

const server = net.createServer().listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const token = exportSocket(server, process.pid);
  const imported = importSocket(token);
  const adopted = imported.toNetServer((socket) => socket.end('via token\n'));
  server.close(); // only the imported copy listens now
  const c = net.connect(port, '127.0.0.1');
  let text = '';
  c.on('data', (d) => (text += d));
  c.on('close', () => {
    adopted.close();
    process.stdout.write(`RESULT ${JSON.stringify({ tokenLength: token.length, listening: imported.listening, reply: text })}\n`);
  });
  c.on('error', (err) => {
    process.stdout.write(`RESULT ${JSON.stringify({ error: err.code })}\n`);
    process.exitCode = 1;
  });
});
