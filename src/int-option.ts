/**
 * Native memory for reading int socket options (getsockopt), allocated once per process and reused
 * by every call: an int at offset 0 and its length at offset 4. Both platforms check each socket
 * they receive with it, so a check marshals nothing (no Buffer and no `_Inout_` array per call).
 */
import koffi from 'koffi';

let slot: { view: Buffer; value: number; length: number } | undefined;

/**
 * Calls `getsockopt(value, length)` with the addresses of the reused int and its length (set to 4),
 * and returns the int it wrote; undefined when the call returned non-zero, so that the caller reads
 * its error (errno, WSAGetLastError) at once, before any other call.
 */
export function readIntOption(getsockopt: (value: number, length: number) => number): number | undefined {
  if (slot === undefined) {
    const memory = koffi.alloc('uint8_t', 8);
    const address = Number(koffi.address(memory));
    slot = { view: Buffer.from(koffi.view(memory, 8)), value: address, length: address + 4 };
  }
  slot.view.writeUInt32LE(4, 4);
  if (getsockopt(slot.value, slot.length) !== 0) return undefined;
  return slot.view.readInt32LE(0);
}
