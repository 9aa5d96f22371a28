import {
  checkReceiverHello,
  checkReceiverReply,
  checkSenderHello,
  checkSenderMessage,
  checkSocketMessage,
  chooseVersion,
  proofMatches,
  PROTOCOL_VERSION,
  secretProof,
  supportedVersions,
} from '../../src/channel/messages';

const coded = (code: string) => expect.objectContaining({ code });

describe('channel messages', () => {
  const receiverHello = { type: 'hello', role: 'receiver', versions: [1], pid: 10, nonce: 'abc', secret: false };
  const senderHello = { type: 'hello', role: 'sender', version: 1, pid: 20 };
  const socketMsg = { type: 'socket', id: 1, kind: 'socket', token: 'x', head: 'aGk=', meta: { a: 1 } };

  it('speaks protocol 2 where the transport can deliver on receipt, and always protocol 1', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    expect(supportedVersions(true)).toEqual([1, 2]);
    expect(supportedVersions(false)).toEqual([1]);
  });

  it('picks the highest version both sides speak, so version-1 peers keep working', () => {
    expect(chooseVersion([1], [1, 2])).toBe(1); // a version-1 receiver (docs of version 1, the C peer)
    expect(chooseVersion([1, 2], [1])).toBe(1); // a version-1 sender, or Windows
    expect(chooseVersion([1, 2], [1, 2])).toBe(2);
    expect(checkReceiverHello({ ...receiverHello, versions: [1] }, [1, 2])).toMatchObject({ versions: [1] });
    expect(checkSenderHello(senderHello, [1, 2])).toEqual(senderHello);
    expect(() => checkSenderHello({ ...senderHello, version: 2 }, [1])).toThrow(coded('ERR_UNSUPPORTED_VERSION'));
  });

  it('requires a deadline on socket frames in protocol 2 only', () => {
    const { token: _token, ...linuxSocket } = socketMsg;
    expect(checkSocketMessage(linuxSocket, 1)).toEqual(linuxSocket);
    expect(() => checkSocketMessage(linuxSocket, 2)).toThrow(coded('ERR_MALFORMED_FRAME'));
    expect(() => checkSocketMessage({ ...linuxSocket, deadline: -1 }, 2)).toThrow(coded('ERR_MALFORMED_FRAME'));
    expect(() => checkSocketMessage({ ...linuxSocket, deadline: 1.5 }, 2)).toThrow(coded('ERR_MALFORMED_FRAME'));
    expect(checkSenderMessage({ ...linuxSocket, deadline: 123456 }, 2)).toMatchObject({ deadline: 123456 });
    expect(checkSenderMessage({ type: 'commit', id: 3 }, 2)).toEqual({ type: 'commit', id: 3 });
  });

  it('takes `held` from a receiver in protocol 2 only', () => {
    expect(checkReceiverReply({ type: 'held', id: 4 }, 2)).toEqual({ type: 'held', id: 4 });
    expect(() => checkReceiverReply({ type: 'held', id: 4 }, 1)).toThrow(coded('ERR_UNEXPECTED_MESSAGE'));
    expect(() => checkReceiverReply({ type: 'held' }, 2)).toThrow(coded('ERR_MALFORMED_FRAME'));
  });

  it('accepts well-formed messages as they are', () => {
    expect(checkReceiverHello(receiverHello, [1])).toEqual(receiverHello);
    expect(checkSenderHello(senderHello, [1])).toEqual(senderHello);
    expect(checkSocketMessage(socketMsg)).toEqual(socketMsg);
    expect(checkReceiverReply({ type: 'ack', id: 3 })).toEqual({ type: 'ack', id: 3 });
    expect(checkReceiverReply({ type: 'nack', id: 3, code: 'WSAEINVAL', message: 'no' }).type).toBe('nack');
  });

  it('answers unknown versions with ERR_UNSUPPORTED_VERSION on both sides', () => {
    expect(() => checkSenderHello({ ...senderHello, version: 3 }, [1, 2])).toThrow(coded('ERR_UNSUPPORTED_VERSION'));
    expect(() => checkReceiverHello({ ...receiverHello, versions: [7, 8] }, [1, 2])).toThrow(coded('ERR_UNSUPPORTED_VERSION'));
  });

  it.each([
    ['a sender hello without pid', () => checkSenderHello({ ...senderHello, pid: undefined }, [1])],
    ['a sender hello with pid 0', () => checkSenderHello({ ...senderHello, pid: 0 }, [1])],
    ['a sender hello with a numeric proof', () => checkSenderHello({ ...senderHello, proof: 5 }, [1])],
    ['a receiver hello without nonce', () => checkReceiverHello({ ...receiverHello, nonce: 1 }, [1])],
    ['a socket without id', () => checkSocketMessage({ ...socketMsg, id: undefined })],
    ['a socket with id 1.5', () => checkSocketMessage({ ...socketMsg, id: 1.5 })],
    ['a socket of unknown kind', () => checkSocketMessage({ ...socketMsg, kind: 'pipe' })],
    ['a socket without token', () => checkSocketMessage({ ...socketMsg, token: 42 })],
    ['a socket whose head is not base64', () => checkSocketMessage({ ...socketMsg, head: 'not base64!' })],
    ['a nack without code', () => checkReceiverReply({ type: 'nack', id: 1, message: 'x' })],
  ])('rejects %s with ERR_MALFORMED_FRAME', (_name, fn) => {
    expect(fn).toThrow(coded('ERR_MALFORMED_FRAME'));
  });

  it('rejects messages out of place with ERR_UNEXPECTED_MESSAGE', () => {
    expect(() => checkSocketMessage({ type: 'ack', id: 1 })).toThrow(coded('ERR_UNEXPECTED_MESSAGE'));
    expect(() => checkReceiverReply({ type: 'socket' })).toThrow(coded('ERR_UNEXPECTED_MESSAGE'));
  });

  it('passes a receiver error in the hello through with its code', () => {
    expect(() => checkReceiverHello({ type: 'error', code: 'ERR_CHANNEL_AUTH', message: 'no' }, [1])).toThrow(coded('ERR_CHANNEL_AUTH'));
  });

  it('proves knowledge of the secret without sending it', () => {
    const proof = secretProof('s3cret', 'nonce-1');
    expect(proof).toMatch(/^[0-9a-f]{64}$/);
    expect(proof).not.toContain('s3cret');
    expect(proofMatches('s3cret', 'nonce-1', proof)).toBe(true);
    expect(proofMatches('s3cret', 'nonce-2', proof)).toBe(false);
    expect(proofMatches('other', 'nonce-1', proof)).toBe(false);
    expect(proofMatches('s3cret', 'nonce-1', proof.slice(1))).toBe(false);
    expect(proofMatches('s3cret', 'nonce-1', undefined)).toBe(false);
  });
});
