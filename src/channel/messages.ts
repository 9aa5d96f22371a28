/**
 * The messages of the hand-off channel, protocol version 1 (docs/protocol.md), and their checks.
 * Every check failure is a FrameError with a stable code; the receiver answers it with an
 * `error` message and closes that one connection.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { peerCode } from '../errors';
import { FrameError } from './frame-codec';

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** Receiver → sender, first frame on a connection. */
export interface ReceiverHello {
  type: 'hello';
  role: 'receiver';
  versions: number[];
  pid: number;
  nonce: string;
  secret: boolean;
}

/** Sender → receiver, the answer to ReceiverHello. */
export interface SenderHello {
  type: 'hello';
  role: 'sender';
  version: number;
  pid: number;
  proof?: string;
}

/** Sender → receiver: one socket to adopt. */
export interface SocketMessage {
  type: 'socket';
  id: number;
  kind: 'socket' | 'server';
  /** Windows: the base64 WSAPROTOCOL_INFOW. Absent on Linux, where the descriptor rides in SCM_RIGHTS. */
  token?: string;
  head?: string;
  meta?: unknown;
  /** The sender's socket allowed half-open connections (Node's allowHalfOpen); the receiver's will too. */
  halfOpen?: boolean;
}

/** Sender → receiver after an ack: the receiver now owns the socket (commit) or must drop it (abort). */
export interface CommitMessage {
  type: 'commit' | 'abort';
  id: number;
}

export interface ReadyMessage {
  type: 'ready';
}
export interface AckMessage {
  type: 'ack';
  id: number;
}
export interface NackMessage {
  type: 'nack';
  id: number;
  code: string;
  message: string;
}
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

const malformed = (what: string) => new FrameError('ERR_MALFORMED_FRAME', what);

function isPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 0xffffffff;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= Number.MAX_SAFE_INTEGER;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** HMAC-SHA256 of the receiver's nonce with the shared secret, hex: proves the sender knows it. */
export function secretProof(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(nonce).digest('hex');
}

/** Constant-time comparison of a proof against the expected one. */
export function proofMatches(secret: string, nonce: string, proof: unknown): boolean {
  if (typeof proof !== 'string') return false;
  const expected = Buffer.from(secretProof(secret, nonce), 'utf8');
  const given = Buffer.from(proof, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function checkReceiverHello(msg: Record<string, unknown>): ReceiverHello {
  if (msg.type === 'error') throw remoteError(msg);
  if (msg.type !== 'hello' || msg.role !== 'receiver') throw malformed('expected the receiver hello');
  if (!Array.isArray(msg.versions) || !msg.versions.every((v) => Number.isInteger(v))) throw malformed('hello.versions must be an array of integers');
  if (!isPid(msg.pid)) throw malformed('hello.pid must be a positive 32-bit integer');
  if (typeof msg.nonce !== 'string' || msg.nonce.length > 128) throw malformed('hello.nonce must be a short string');
  if (typeof msg.secret !== 'boolean') throw malformed('hello.secret must be a boolean');
  if (!msg.versions.includes(PROTOCOL_VERSION)) {
    throw new FrameError('ERR_UNSUPPORTED_VERSION', `receiver speaks protocol versions ${JSON.stringify(msg.versions)}; this sender speaks ${PROTOCOL_VERSION}`);
  }
  return msg as unknown as ReceiverHello;
}

export function checkSenderHello(msg: Record<string, unknown>): SenderHello {
  if (msg.type !== 'hello' || msg.role !== 'sender') throw malformed('expected the sender hello');
  if (!Number.isInteger(msg.version)) throw malformed('hello.version must be an integer');
  if (!SUPPORTED_VERSIONS.includes(msg.version as number)) {
    throw new FrameError('ERR_UNSUPPORTED_VERSION', `protocol version ${String(msg.version)} is not supported; this receiver speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (!isPid(msg.pid)) throw malformed('hello.pid must be a positive 32-bit integer');
  if (msg.proof !== undefined && typeof msg.proof !== 'string') throw malformed('hello.proof must be a string');
  return msg as unknown as SenderHello;
}

export function checkSocketMessage(msg: Record<string, unknown>): SocketMessage {
  if (msg.type !== 'socket') throw new FrameError('ERR_UNEXPECTED_MESSAGE', `unexpected message type ${JSON.stringify(msg.type)}; expected "socket"`);
  if (!isId(msg.id)) throw malformed('socket.id must be a positive integer');
  if (msg.kind !== 'socket' && msg.kind !== 'server') throw malformed('socket.kind must be "socket" or "server"');
  if (msg.token !== undefined && typeof msg.token !== 'string') throw malformed('socket.token must be a string');
  if (msg.head !== undefined && (typeof msg.head !== 'string' || !BASE64.test(msg.head))) throw malformed('socket.head must be base64');
  if (msg.halfOpen !== undefined && typeof msg.halfOpen !== 'boolean') throw malformed('socket.halfOpen must be a boolean');
  return msg as unknown as SocketMessage;
}

/** A message from a sender after the handshake: socket, commit or abort. */
export function checkSenderMessage(msg: Record<string, unknown>): SocketMessage | CommitMessage {
  if (msg.type === 'commit' || msg.type === 'abort') {
    if (!isId(msg.id)) throw malformed(`${msg.type}.id must be a positive integer`);
    return msg as unknown as CommitMessage;
  }
  return checkSocketMessage(msg);
}

/** A reply from the receiver to the sender: ready, ack, nack or error. */
export function checkReceiverReply(msg: Record<string, unknown>): ReadyMessage | AckMessage | NackMessage | ErrorMessage {
  switch (msg.type) {
    case 'ready':
      return msg as unknown as ReadyMessage;
    case 'ack':
      if (!isId(msg.id)) throw malformed('ack.id must be a positive integer');
      return msg as unknown as AckMessage;
    case 'nack':
      if (!isId(msg.id) || typeof msg.code !== 'string' || typeof msg.message !== 'string') throw malformed('nack needs id, code and message');
      return msg as unknown as NackMessage;
    case 'error':
      if (typeof msg.code !== 'string' || typeof msg.message !== 'string') throw malformed('error needs code and message');
      return msg as unknown as ErrorMessage;
    default:
      throw new FrameError('ERR_UNEXPECTED_MESSAGE', `unexpected message type ${JSON.stringify(msg.type)} from the receiver`);
  }
}

function remoteError(msg: Record<string, unknown>): FrameError {
  const code = typeof msg.code === 'string' ? msg.code : 'ERR_MALFORMED_FRAME';
  return new FrameError(peerCode(code), `the receiver refused: ${typeof msg.message === 'string' ? msg.message : 'no reason given'}`);
}
