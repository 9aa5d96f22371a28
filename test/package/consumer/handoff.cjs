'use strict';
// A real hand-off through the channel, natively on Linux, from the installed package: this process
// is both receiver and sender; the connection it hands over answers from the receiver's side.
const net = require('node:net');
const { openReceiver, openSender } = require('socket-handoff');

const name = `package-check-${process.pid}`;
(async () => {
  const receiver = await openReceiver(name, (socket, info) => {
    let text = '';
    socket.on('data', (d) => {
      text += d; // the head the sender passed, then what the client wrote
      if (text.length >= 'head:body'.length) socket.end(`${info.kind} ${info.meta.n} ${text}`);
    });
  });
  const sender = await openSender(name);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => sender.send(socket, { head: 'head:', meta: { n: 7 } }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reply = await new Promise((resolve, reject) => {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.write('body'));
    let text = '';
    c.on('data', (d) => (text += d)).on('close', () => resolve(text)).on('error', reject);
  });
  await sender.close();
  await receiver.close();
  server.close();
  process.stdout.write(JSON.stringify({ reply }));
})().catch((err) => {
  process.stdout.write(JSON.stringify({ error: `${err.code} ${err.message}` }));
  process.exitCode = 1;
});
