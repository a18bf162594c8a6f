// Packet identifiers: 1..65535, starting at 1 for a new session, wrapping to 1, never one that is still in use (2.3.1).

export const MAX_PACKET_ID = 65535;

export class PacketIdAllocator {
  private next: number;

  constructor(next = 1) {
    this.next = next >= 1 && next <= MAX_PACKET_ID ? next : 1;
  }

  /** The id the next allocation starts looking from (persisted with the session). */
  get cursor(): number {
    return this.next;
  }

  reset(): void {
    this.next = 1;
  }

  /**
   * Returns an id neither in `taken` (in-flight messages) nor `reserved` (the caller's other uses). Two arguments, not
   * one combined predicate: that closure would be built for every message. Throws only if all 65535 are in use.
   */
  allocate(taken: { has(id: number): boolean }, reserved: (id: number) => boolean): number {
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      const id = this.next;
      this.next = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!taken.has(id) && !reserved(id)) return id;
    }
    throw new RangeError("all 65535 packet ids are in use");
  }
}
