'use strict';
// CommonJS consumer: loads the installed package by name only.
const pkg = require('socket-handoff');
const php = require('socket-handoff/php');
const names = ['exportSocket', 'importSocket', 'openReceiver', 'openSender', 'HandoverServer', 'SocketHandle', 'SocketHandoffError', 'encodeProtocolInfo', 'decodeProtocolInfo', 'attachWebSocket'];
const phpNames = ['socket_wsaprotocol_info_export', 'socket_wsaprotocol_info_import', 'socket_wsaprotocol_info_release', 'socket_last_error', 'socket_strerror'];
process.stdout.write(JSON.stringify({
  resolved: require.resolve('socket-handoff'),
  types: Object.fromEntries(names.map((n) => [n, typeof pkg[n]])),
  php: Object.fromEntries(phpNames.map((n) => [n, typeof php[n]])),
  size: pkg.PROTOCOL_INFO_SIZE,
}));
