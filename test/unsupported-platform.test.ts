/** What a platform does not have says so with ERR_UNSUPPORTED_PLATFORM, and names what to use instead, true for that platform. */
import { unsupportedPlatform } from '../src/unsupported-platform';
import { itOffWindows } from './support/platform';

const codeAndMessage = (call: () => unknown): [string, string] => {
  try {
    call();
  } catch (err) {
    return [(err as { code: string }).code, (err as Error).message];
  }
  throw new Error('did not throw');
};

describe('unsupportedPlatform', () => {
  it('on macOS, HandoverServer and the channel say which platforms they run on, without blaming Winsock', () => {
    const darwin = unsupportedPlatform('darwin');
    for (const call of [() => darwin.listenSocket({ host: '127.0.0.1', port: 0, backlog: 1 }), () => darwin.acceptLoop(3n, () => undefined, () => undefined)]) {
      const [code, message] = codeAndMessage(call);
      expect(code).toBe('ERR_UNSUPPORTED_PLATFORM');
      expect(message).toMatch(/^HandoverServer runs on Windows \(Winsock\) and Linux \(libc\); this is darwin/);
    }
    const [code, message] = codeAndMessage(() => darwin.channelTransport());
    expect(code).toBe('ERR_UNSUPPORTED_PLATFORM');
    expect(message).toMatch(/runs on Windows .* and Linux .*; this is darwin/);
  });

  it('points Linux token calls to the channel, and other platforms to child_process.send', () => {
    expect(codeAndMessage(() => unsupportedPlatform('linux').importSocket(Buffer.alloc(628)))).toEqual([
      'ERR_UNSUPPORTED_PLATFORM',
      expect.stringMatching(/^importSocket\(\) needs Winsock .* this is linux\. On Linux, hand sockets to another process with the channel/),
    ]);
    expect(codeAndMessage(() => unsupportedPlatform('darwin').duplicateSocket(3n, 1))[1]).toMatch(/child_process\.send\(message, socket\)/);
    expect(codeAndMessage(() => unsupportedPlatform('darwin').fileMappings())[1]).toMatch(/^socket_wsaprotocol_info_\*\(\) pass Winsock sockets through Windows file mappings/);
  });

  // Node's errno map holds POSIX numbers off Windows only (libuv numbers its own codes on Windows).
  itOffWindows('still knows the system text of an errno for socket_strerror()', 'Windows Node answers with its own system text', () => {
    expect(unsupportedPlatform('linux').errorText(13)).toMatch(/permission denied/i);
  });
});
