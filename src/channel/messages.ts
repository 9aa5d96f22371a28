/**
 * The messages of the hand-off channel, protocol versions 1 and 2 (docs/protocol.md), and their
 * checks. Every check failure is a FrameError with a stable code; the receiver answers it with an
 * `error` message and closes that one connection.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { peerCode } from '../errors';
import { FrameError } from './frame-codec';

/** Version 1: ack, then commit or abort, then the receiver adopts. */
export const PROTOCOL_V1 = 1;
/** Version 2: the receiver adopts on receipt when its ack beat the frame's deadline (docs/protocol.md). */
export const PROTOCOL_V2 = 2;
/** The highest protocol version this package speaks (version 2 on Linux; Windows channels use version 1). */
export const PROTOCOL_VERSION = PROTOCOL_V2;

/**
 * The versions this side speaks over a transport. Version 2 needs a transport on which the sender
 * can read, synchronously at its deadline, every byte the receiver has written (Linux).
 */
export function supportedVersions(deliverOnReceipt: boolean): number[] {
  return deliverOnReceipt ? [PROTOCOL_V1, PROTOCOL_V2] : [PROTOCOL_V1];
}

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
  /** Windows, in place of `token` when the receiver's hello asked for it: a file mapping's name (PHP's form, socket-form.ts). */
  mapping?: string;
  head?: string;
  meta?: unknown;
  /** The sender's socket allowed half-open connections (Node's allowHalfOpen); the receiver's will too. */
  halfOpen?: boolean;
  /** Version 2 (required there): when the sender gives up, in microseconds on the shared monotonic clock. */
  deadline?: number;
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
/** Version 2: after an ack that may have come too late, the receiver waits for commit or abort. */
export interface HeldMessage {
  type: 'held';
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

/** Checks the receiver's hello; `speaks` is what this sender speaks (the highest common version is used). */
export function checkReceiverHello(msg: Record<string, unknown>, speaks: readonly number[]): ReceiverHello {
  if (msg.type === 'error') throw remoteError(msg);
  if (msg.type !== 'hello' || msg.role !== 'receiver') throw malformed('expected the receiver hello');
  if (!Array.isArray(msg.versions) || !msg.versions.every((v) => Number.isInteger(v))) throw malformed('hello.versions must be an array of integers');
  if (!isPid(msg.pid)) throw malformed('hello.pid must be a positive 32-bit integer');
  if (typeof msg.nonce !== 'string' || msg.nonce.length > 128) throw malformed('hello.nonce must be a short string');
  if (typeof msg.secret !== 'boolean') throw malformed('hello.secret must be a boolean');
  if (!speaks.some((v) => (msg.versions as number[]).includes(v))) {
    throw new FrameError('ERR_UNSUPPORTED_VERSION', `receiver speaks protocol versions ${JSON.stringify(msg.versions)}; this sender speaks ${speaks.join(', ')}`);
  }
  return msg as unknown as ReceiverHello;
}

/** The version a sender that speaks `speaks` uses with a receiver that offers `offered`: the highest common one. */
export function chooseVersion(offered: readonly number[], speaks: readonly number[]): number {
  return Math.max(...speaks.filter((v) => offered.includes(v)));
}

/** Checks a sender's hello against the versions this receiver offered. */
export function checkSenderHello(msg: Record<string, unknown>, offered: readonly number[]): SenderHello {
  if (msg.type !== 'hello' || msg.role !== 'sender') throw malformed('expected the sender hello');
  if (!Number.isInteger(msg.version)) throw malformed('hello.version must be an integer');
  if (!offered.includes(msg.version as number)) {
    throw new FrameError('ERR_UNSUPPORTED_VERSION', `protocol version ${String(msg.version)} is not supported; this receiver speaks ${offered.join(', ')}`);
  }
  if (!isPid(msg.pid)) throw malformed('hello.pid must be a positive 32-bit integer');
  if (msg.proof !== undefined && typeof msg.proof !== 'string') throw malformed('hello.proof must be a string');
  return msg as unknown as SenderHello;
}

export function checkSocketMessage(msg: Record<string, unknown>, version = PROTOCOL_V1): SocketMessage {
  if (msg.type !== 'socket') throw new FrameError('ERR_UNEXPECTED_MESSAGE', `unexpected message type ${JSON.stringify(msg.type)}; expected "socket"`);
  if (!isId(msg.id)) throw malformed('socket.id must be a positive integer');
  if (msg.kind !== 'socket' && msg.kind !== 'server') throw malformed('socket.kind must be "socket" or "server"');
  if (msg.token !== undefined && typeof msg.token !== 'string') throw malformed('socket.token must be a string');
  if (msg.mapping !== undefined && typeof msg.mapping !== 'string') throw malformed('socket.mapping must be a string');
  if (msg.head !== undefined && (typeof msg.head !== 'string' || !BASE64.test(msg.head))) throw malformed('socket.head must be base64');
  if (msg.halfOpen !== undefined && typeof msg.halfOpen !== 'boolean') throw malformed('socket.halfOpen must be a boolean');
  if (version >= PROTOCOL_V2 && !(typeof msg.deadline === 'number' && Number.isSafeInteger(msg.deadline) && msg.deadline >= 0)) {
    throw malformed('socket.deadline must be a non-negative integer (microseconds on the monotonic clock) in protocol 2');
  }
  return msg as unknown as SocketMessage;
}

/** A message from a sender after the handshake: socket, commit or abort. */
export function checkSenderMessage(msg: Record<string, unknown>, version = PROTOCOL_V1): SocketMessage | CommitMessage {
  if (msg.type === 'commit' || msg.type === 'abort') {
    if (!isId(msg.id)) throw malformed(`${msg.type}.id must be a positive integer`);
    return msg as unknown as CommitMessage;
  }
  return checkSocketMessage(msg, version);
}

/** A reply from the receiver to the sender: ready, ack, nack, error, and (version 2) held. */
export function checkReceiverReply(msg: Record<string, unknown>, version = PROTOCOL_V1): ReadyMessage | AckMessage | HeldMessage | NackMessage | ErrorMessage {
  switch (msg.type) {
    case 'ready':
      return msg as unknown as ReadyMessage;
    case 'ack':
      if (!isId(msg.id)) throw malformed('ack.id must be a positive integer');
      return msg as unknown as AckMessage;
    case 'held':
      if (version < PROTOCOL_V2) break;
      if (!isId(msg.id)) throw malformed('held.id must be a positive integer');
      return msg as unknown as HeldMessage;
    case 'nack':
      if (!isId(msg.id) || typeof msg.code !== 'string' || typeof msg.message !== 'string') throw malformed('nack needs id, code and message');
      return msg as unknown as NackMessage;
    case 'error':
      if (typeof msg.code !== 'string' || typeof msg.message !== 'string') throw malformed('error needs code and message');
      return msg as unknown as ErrorMessage;
    default:
      break;
  }
  throw new FrameError('ERR_UNEXPECTED_MESSAGE', `unexpected message type ${JSON.stringify(msg.type)} from the receiver`);
}

function remoteError(msg: Record<string, unknown>): FrameError {
  const code = typeof msg.code === 'string' ? msg.code : 'ERR_MALFORMED_FRAME';
  return new FrameError(peerCode(code), `the receiver refused: ${typeof msg.message === 'string' ? msg.message : 'no reason given'}`);
}
