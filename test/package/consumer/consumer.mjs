// ES module consumer: named imports from the installed CommonJS package, by name only.
import { openReceiver, openSender, HandoverServer, PROTOCOL_INFO_SIZE, encodeProtocolInfo, decodeProtocolInfo } from 'socket-handoff';
import { socket_last_error, socket_strerror } from 'socket-handoff/php';
import pkg from 'socket-handoff';
const roundTrip = decodeProtocolInfo(encodeProtocolInfo(Buffer.alloc(PROTOCOL_INFO_SIZE))).ProtocolChain.ChainLen;
process.stdout.write(JSON.stringify({
  named: [typeof openReceiver, typeof openSender, typeof HandoverServer, typeof socket_last_error, typeof socket_strerror],
  defaultIsNamespace: pkg.openReceiver === openReceiver,
  roundTrip,
}));
