/**
 * Interop with peers in other languages (issue: PHP, Python, .NET, C): a C program written from
 * the SDK documentation (fixtures/c-peer/c-peer.c, built with mingw-w64 by scripts/build-c-peer.js)
 * runs next to Windows Node (under Wine off Windows) and speaks PHP's file-mapping format,
 * Python's share()/fromshare() bytes and the hand-off channel's protocol.
 */
import { NODE_LINES, runFixture } from './fixture-runner';

// Plain JavaScript, shared with scripts/build-c-peer: it calls the compiler directly, no shell.
const { buildCPeer } = require('../../scripts/build-c-peer.js') as { buildCPeer: () => string };

beforeAll(() => {
  // Fails (never skips) without mingw-w64 and without an up-to-date peer: .ci/run installs
  // gcc-mingw-w64-x86-64, and builds the peer on Linux before jest runs under Wine (no compiler there).
  buildCPeer();
}, 120000);

describe.each(NODE_LINES)('interop with a C peer, Windows Node %s', (line) => {
  const scenario = async (name: string) => {
    const { status, result } = await runFixture<any>('interop.js', [name], line);
    expect(result.error).toBeUndefined();
    expect(status).toBe(0);
    return result;
  };

  it('agrees with the real SDK headers on WSAPROTOCOL_INFOW (628 bytes), WSAPROTOCOL_INFOA (372) and every offset', async () => {
    const { sdk, ours } = await scenario('sizes');
    expect(sdk.WSAPROTOCOL_INFOW).toBe(628);
    expect(sdk.WSAPROTOCOL_INFOA).toBe(372);
    for (const [member, offset] of Object.entries(sdk.offsetsW)) expect([member, ours[member]]).toEqual([member, offset]);
    // The ANSI variant differs only in szProtocol's character size: same offsets up to it.
    for (const [member, offset] of Object.entries(sdk.offsetsA)) expect([member, offset]).toEqual([member, sdk.offsetsW[member]]);
  });

  it('runs the seed\'s example as written, translated line by line from PHP', async () => {
    const r = await scenario('seedExample');
    expect(r.logged).toEqual([`Failed to import socket: ${r.expectedText}`]);
    expect(r.expectedText).toMatch(/not find|not found/i);
  });

  it('passes a socket PHP-style between two Node processes (export for the child\'s pid, import by name)', async () => {
    const r = await scenario('phpNodeToNode');
    expect(r.imported).toEqual({ imported: true, listening: false });
    expect(r.text).toBe(`node child ${r.pid} got hello child\n`);
  });

  it('frees a mapping that was never released when its exporter exits', async () => {
    const r = await scenario('exporterExits');
    expect(r.id).toMatch(/^socket_handoff_wsa_/);
    expect(r.importedBeforeExit).toBe(true);
    expect(r.exited).toMatchObject({ exited: 0 });
    expect([r.afterExit, r.afterExitError]).toEqual([false, 2]);
  });

  it('imports with socket_wsaprotocol_info_import what C exported the PHP way (php_wsa_for_N), and the name is gone once released', async () => {
    const r = await scenario('phpFromC');
    expect(r.exported.id).toMatch(/^php_wsa_for_\d+$/);
    expect(r.released).toEqual({ released: true });
    expect(r.text).toBe('from node, on the socket C exported\n');
    expect(r.back).toBe('and back\n');
    expect(r.again).toBe(false);
    expect(r.againError).toBe(2); // ERROR_FILE_NOT_FOUND
  });

  it('exports with socket_wsaprotocol_info_export for a PHP-style importer that uses a blocking recv', async () => {
    const r = await scenario('phpToC');
    expect(r.id).toMatch(/^socket_handoff_wsa_\d+_\d+_[0-9a-f]{8}$/);
    expect(r.outcome).toEqual({ got: 'a line for php', pid: r.peerPid });
    expect(r.reply).toBe(`c-peer ${r.peerPid} got a line for php\n`);
    expect([r.released, r.releasedAgain]).toEqual([true, false]);
  });

  it('hands a token to C as Python\'s fromshare() takes it; blocking mode travels only when asked for', async () => {
    const r = await scenario('tokenToC');
    expect(r.blocking.outcome).toEqual({ got: 'a line for c', pid: r.blocking.peerPid });
    expect(r.blocking.reply).toBe(`c-peer ${r.blocking.peerPid} got a line for c\n`);
    // Without it the socket stays non-blocking (Node's mode) and a blocking-style recv fails at once.
    expect(r.nonBlocking.outcome).toEqual({ error: 'recv', code: 10035 }); // WSAEWOULDBLOCK
  });

  it('imports what C exported as Python\'s base64.b64encode(sock.share(pid)) does', async () => {
    const r = await scenario('tokenFromC');
    expect(r.tokenLength).toBe(840);
    expect(r.closed).toEqual({ closed: true });
    expect(r.text).toBe('python-style share, adopted by node\n');
  });

  it('hands a socket through the channel to a C receiver written from docs/protocol.md alone', async () => {
    const r = await scenario('channelToC');
    expect(r.sent).toEqual({ id: 1, receiverPid: r.listening.pid });
    expect(r.outcome).toEqual({ head: 'GET /from-node-to-c', pid: r.listening.pid });
    expect(r.reply).toBe(`c-peer ${r.listening.pid} got GET /from-node-to-c\n`);
  });

  it('sends a receiver that asks for the mapping form (PHP\'s import: OpenFileMappingA + WSASocketA) a mapping per socket: 60 hand-offs answered once each, every mapping released, handle count flat', async () => {
    const r = await scenario('mappingToC');
    expect(r.sent).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(r.wrong).toEqual([]);
    // Every frame had `mapping` and no `token`; each mapping was gone once the hand-off was committed.
    expect(r.outcome).toMatchObject({ mode: 'ack', served: 60, released: 60, tokens: 0, ourNames: 60 });
    expect(r.outcome.firstName).toMatch(/^socket_handoff_wsa_\d+_\d+_[0-9a-f]{8}$/);
    // The mapping form leaves Node's mode alone: the receiver sees the socket non-blocking before commit.
    expect(r.outcome.modeSeen).toBe('non-blocking');
    expect(r.handles.after - r.handles.before).toBe(0);
  });

  it('gives the socket back non-blocking and intact after the mapping-form receiver refuses it (nack) or stays silent (timeout), and releases the mapping', async () => {
    const r = await scenario('mappingGiveBack');
    expect(r.nack.settled).toEqual({ refused: expect.objectContaining({ code: 'ERR_HANDOFF_REFUSED' }), reason: 'ERR_HANDOFF_DECLINED' });
    expect(r.silent.settled).toEqual({ refused: expect.objectContaining({ code: 'ERR_HANDOFF_TIMEOUT' }) });
    for (const mode of ['nack', 'silent']) {
      // Head and rest, read once, by the sender that got the socket back.
      expect([mode, r[mode].reply]).toEqual([mode, `local ${r[mode].pid} got part-a-part-b\n`]);
      expect([mode, r[mode].peer.released]).toEqual([mode, 1]);
    }
    expect(r.nack.peer.modeSeen).toBe('non-blocking');
  });

  it('takes sockets from a sender that exports as PHP does (php_wsa_for_<n>, `mapping` in the frame): 60 served once each, handle count flat', async () => {
    const r = await scenario('mappingFromC');
    expect(r.outcome).toMatchObject({ mode: 'good', acks: 60, released: 60 });
    expect(r.served).toBe(63);
    expect(r.wrong).toEqual([]);
    expect(r.handles.after - r.handles.before).toBeLessThanOrEqual(0);
  });

  it('answers bad mappings with the codes of docs/errors.md, keeps the channel through the nacks, and leaks no handle', async () => {
    const r = await scenario('mappingBadFromC');
    expect(r.outcome).toEqual({
      mode: 'bad',
      rounds: 40,
      same: true,
      empty: 'nack ERR_INVALID_MAPPING',
      backslash: 'nack ERR_INVALID_MAPPING',
      missing: 'nack ERR_INVALID_MAPPING',
      small: 'nack ERR_INVALID_MAPPING',
      both: 'nack ERR_MALFORMED_FRAME',
      neither: 'nack ERR_MALFORMED_FRAME',
      notString: 'error ERR_MALFORMED_FRAME',
    });
    expect(r.clientErrors).toEqual(['ERR_MALFORMED_FRAME', 'ERR_MALFORMED_FRAME']);
    expect(r.adopted).toBe(1);
    expect(r.goodOutcome).toMatchObject({ mode: 'good', acks: 1, released: 1 });
    expect(r.handles.after - r.handles.before).toBe(0);
  });

  it('returns false with socket_last_error() for unknown, too small, garbage and released ids, and leaks no handle', async () => {
    const { codes, handles } = await scenario('badInput');
    expect(codes.unknown).toBe(2);
    expect(codes.tooSmall).toEqual(expect.any(Number));
    expect(codes.garbage).toEqual(expect.any(Number));
    expect(codes.zeros).toEqual(expect.any(Number));
    expect([codes.tooSmall, codes.garbage, codes.zeros].every((c: number) => c > 0)).toBe(true);
    expect(codes.releaseUnknown).toBe(false);
    expect(codes.typeErrors).toEqual(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);
    expect(codes.strerror).toMatch(/not find|not found/i);
    expect(handles.after - handles.before).toBeLessThanOrEqual(2);
  });
});
