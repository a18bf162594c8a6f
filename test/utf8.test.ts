// src/mqtt/utf8 at every edge of UTF-8, against Node's TextEncoder/TextDecoder as the oracle (the mutation run found
// `code < 0x80` changed to `<=`, the surrogate checks and the decoder's messages unchecked: the codec tests only send
// strings far from the edges, and their refusal tests matched "is not valid UTF-8" without its reason or offset).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { checkedUtf8Length, decodeUtf8, encodeUtf8, utf8Length, writeUtf8 } from "../src/mqtt/utf8";
import { thrown } from "./support/thrown";

const oracle = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** One character at each edge of the 1-, 2-, 3- and 4-byte forms and around the surrogate block. */
const EDGES = ["\u0001", "\u007f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{10ffff}", "\ud800\udc00", "\udbff\udfff"];

const refusal = (run: () => unknown): ProtocolError => thrown(ProtocolError, run);

describe("encoding", () => {
  it("agrees with TextEncoder at every edge, alone and after an ASCII prefix", () => {
    for (const edge of EDGES) {
      for (const text of [edge, `ab${edge}`, `${edge}z`, `a${edge}${edge}b`]) {
        const want = oracle.encode(text);
        expect(utf8Length(text), JSON.stringify(text)).toBe(want.length);
        expect(checkedUtf8Length(text, "PUBLISH", "topic"), JSON.stringify(text)).toBe(want.length);
        expect(Array.from(encodeUtf8(text)), JSON.stringify(text)).toEqual(Array.from(want));
        // Written at an offset into a larger buffer: the bytes before and after are untouched.
        const target = new Uint8Array(want.length + 4).fill(0xaa);
        expect(writeUtf8(target, 2, text)).toBe(2 + want.length);
        expect(Array.from(target)).toEqual([0xaa, 0xaa, ...Array.from(want), 0xaa, 0xaa]);
      }
    }
  });

  it("agrees with TextEncoder on any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        const want = oracle.encode(text);
        expect(utf8Length(text)).toBe(want.length);
        expect(checkedUtf8Length(text, "PUBLISH", "topic")).toBe(want.length);
        expect(Array.from(encodeUtf8(text))).toEqual(Array.from(want));
      }),
      { numRuns: 300 },
    );
  });

  it("counts a lone surrogate as 3 bytes, and refuses to send or write one, naming the field and index", () => {
    for (const [text, index] of [["\ud800", 0], ["a\udbff", 1], ["ab\udc00", 2], ["\udfff", 0], ["\ud800a", 0], ["x\ud800\ud800\udc00", 1], ["\udc00\ud800", 0],
      // A surrogate next to a character that is not its partner: a low one after a 3-byte character or after another
      // low one, a high one before a 2- or 3-byte character or before one above the surrogate block.
      ["\u0800\udc00", 1], ["\udc00\udc00", 0], ["\ud800\u0800", 0], ["\ud800é", 0], ["\ud800\ue000", 0]] as const) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(oracle.encode(text).length);
      const sent = refusal(() => checkedUtf8Length(text, "PUBLISH", "topic"));
      expect(sent.message).toBe(`PUBLISH: topic contains a lone surrogate at index ${index} [MQTT-1.5.3-1]`);
      const written = refusal(() => writeUtf8(new Uint8Array(16), 0, text, "payload"));
      expect(written.message).toBe(`UTF-8: payload contains a lone surrogate at index ${index} [MQTT-1.5.3-1]`);
    }
    expect(refusal(() => writeUtf8(new Uint8Array(4), 0, "\ud800")).message).toBe("UTF-8: string contains a lone surrogate at index 0 [MQTT-1.5.3-1]");
  });
});

describe("decoding", () => {
  const decode = (bytes: number[]) => decodeUtf8(Uint8Array.from(bytes));
  /** Decodes `bytes` placed at offset 3 of a larger buffer whose other bytes are valid ASCII. */
  const decodeInside = (bytes: number[], packetType = "PUBLISH", what = "topic") =>
    decodeUtf8(Uint8Array.from([0x41, 0x42, 0x43, ...bytes, 0x44, 0x45]), 3, 3 + bytes.length, packetType, what);

  it("reads every edge back", () => {
    for (const edge of EDGES) {
      expect(decode(Array.from(oracle.encode(edge)))).toBe(edge);
      expect(decodeInside(Array.from(oracle.encode(`q${edge}r`)))).toBe(`q${edge}r`);
    }
  });

  it("agrees with a strict TextDecoder on any bytes, refusing U+0000 besides", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        let want: string | undefined;
        try {
          want = strictDecoder.decode(bytes);
        } catch {
          want = undefined;
        }
        if (want !== undefined && !want.includes("\u0000")) expect(decodeUtf8(bytes)).toBe(want);
        else expect(() => decodeUtf8(bytes)).toThrow(ProtocolError);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses each kind of bad UTF-8 with its reason and the offset within the field", () => {
    const reason = (bytes: number[]) => refusal(() => decodeInside(bytes)).message;
    expect(reason([0x00])).toBe("PUBLISH: topic contains U+0000 [MQTT-1.5.3-2]");
    expect(reason([0x61, 0x00])).toBe("PUBLISH: topic contains U+0000 [MQTT-1.5.3-2]");
    expect(reason([0xc3, 0xa9, 0x00])).toBe("PUBLISH: topic contains U+0000 [MQTT-1.5.3-2]");
    expect(reason([0x61, 0x80])).toBe("PUBLISH: topic is not valid UTF-8 (byte 0x80 at 1) [MQTT-1.5.3-1]");
    expect(reason([0xc1, 0xbf])).toBe("PUBLISH: topic is not valid UTF-8 (byte 0xc1 at 0) [MQTT-1.5.3-1]");
    expect(reason([0xf5, 0x80, 0x80, 0x80])).toBe("PUBLISH: topic is not valid UTF-8 (byte 0xf5 at 0) [MQTT-1.5.3-1]");
    expect(reason([0xc3, 0x28])).toBe("PUBLISH: topic is not valid UTF-8 (bad continuation at 1) [MQTT-1.5.3-1]");
    expect(reason([0x61, 0xe2, 0x82, 0x28])).toBe("PUBLISH: topic is not valid UTF-8 (bad continuation at 3) [MQTT-1.5.3-1]");
    expect(reason([0xe0, 0x9f, 0xbf])).toBe("PUBLISH: topic is not valid UTF-8 (overlong or out of range) [MQTT-1.5.3-1]");
    expect(reason([0xf0, 0x8f, 0xbf, 0xbf])).toBe("PUBLISH: topic is not valid UTF-8 (overlong or out of range) [MQTT-1.5.3-1]");
    expect(reason([0xf4, 0x90, 0x80, 0x80])).toBe("PUBLISH: topic is not valid UTF-8 (overlong or out of range) [MQTT-1.5.3-1]");
    expect(reason([0xed, 0xa0, 0x80])).toBe("PUBLISH: topic encodes a surrogate code point [MQTT-1.5.3-1]");
    expect(reason([0xed, 0xbf, 0xbf])).toBe("PUBLISH: topic encodes a surrogate code point [MQTT-1.5.3-1]");
    // A sequence cut by the end of the field, even where the buffer goes on with bytes that would complete it.
    expect(reason([0xc3])).toBe("PUBLISH: topic ends inside a UTF-8 sequence [MQTT-1.5.3-1]");
    expect(reason([0x61, 0xe2, 0x82])).toBe("PUBLISH: topic ends inside a UTF-8 sequence [MQTT-1.5.3-1]");
    expect(reason([0xf0, 0x9f, 0x98])).toBe("PUBLISH: topic ends inside a UTF-8 sequence [MQTT-1.5.3-1]");
    const cut = Uint8Array.from([0x61, 0xc3, 0xa9]);
    expect(refusal(() => decodeUtf8(cut, 0, 2)).message).toBe("UTF-8: string ends inside a UTF-8 sequence [MQTT-1.5.3-1]");
    expect(decodeUtf8(cut, 1, 3)).toBe("é");
  });
});
