/** peers/php/SocketHandoff.php against the Node side, with php8.2-cli and its sockets extension (test/peers/peer-suite.ts). */
import { describePeer } from '../peer-suite';

describePeer('php');
