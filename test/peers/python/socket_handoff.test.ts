/** peers/python/socket_handoff.py against the Node side, with Debian's python3 (test/peers/peer-suite.ts). */
import { describePeer } from '../peer-suite';

describePeer('python');
