// fast-check arbitraries for hostile commands: topics under (and beyond) cmd/<name>, payload bytes, JSON of every
// shape, deep nesting, wrong types, retained and QoS 0/1/2 messages. Fixed seed; fast-check prints the failing
// seed and path, so a failure is replayable with { seed, path }.
import fc from "fast-check";
import { COMMANDS } from "../../src/sampler/commands";
import { COMMAND_PREFIX, type CommandCase } from "../xs/flows/command-flows";

export const COMMAND_FUZZ_SEED = 20_261_130;

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const utf8Latin1 = (text: string) => latin1(new TextEncoder().encode(text));

/** A topic level a broker could deliver: valid UTF-8, no wildcard, no U+0000. */
const level = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !/[+#\u0000/]/.test(s));

const topic = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...COMMANDS).map((name) => COMMAND_PREFIX + name) },
  { weight: 2, arbitrary: level.map((name) => COMMAND_PREFIX + name) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...COMMANDS), level).map(([name, more]) => `${COMMAND_PREFIX}${name}/${more}`) },
);

const nested = fc.tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom("[", '{"a":')).map(([depth, open]) => {
  const close = open === "[" ? "]" : "}";
  return open.repeat(depth) + "1" + close.repeat(depth);
});

const argValue = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 80 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.constantFrom("env", "t", "1%", "0.2", 100, 5000, 86_400_001));
const commandObject = fc.dictionary(fc.constantFrom("id", "ms", "sensor", "value", "channel", "s", "x", "__proto__", "constructor"), argValue, { maxKeys: 4 });

const payload = fc.oneof(
  { weight: 3, arbitrary: commandObject.map((o) => utf8Latin1(JSON.stringify(o))) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 700 }).map(latin1) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => utf8Latin1(JSON.stringify(v))) },
  { weight: 1, arbitrary: nested.map(utf8Latin1) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map(utf8Latin1) },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 30_000 }).map((n) => utf8Latin1(JSON.stringify({ id: "x".repeat(n) }))) },
);

export function commandCaseArbitrary(): fc.Arbitrary<CommandCase> {
  return fc.record({
    topic,
    payload,
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    gapMs: fc.constantFrom(0, 0, 31_000, 300_000),
  });
}
