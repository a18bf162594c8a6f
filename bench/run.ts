// `npm run bench [section ...]`: runs the named benchmark sections (all when none are named). Not part of the tests.
import { benchClient } from "./client";
import { benchCodec } from "./codec";
import { benchFleet } from "./fleet";
import { benchFlashWear } from "./flash-wear";
import { benchFootprint } from "./footprint";
import { benchMemory } from "./memory";
import { benchWireBytes } from "./wire-bytes";
import { benchXsClient } from "./xs-client";
import { benchXsStack } from "./xs-stack";

/** Add a section here: a name and an async function that prints its own table. */
const SECTIONS: Record<string, () => Promise<unknown>> = {
  codec: benchCodec,
  "wire-bytes": benchWireBytes,
  footprint: benchFootprint,
  fleet: benchFleet,
  "xs-client": benchXsClient,
  client: benchClient,
  memory: benchMemory,
  "flash-wear": benchFlashWear,
  "xs-stack": benchXsStack,
};

async function main(names: string[]): Promise<void> {
  const unknown = names.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) {
    console.error(`unknown bench section(s): ${unknown.join(", ")}; known: ${Object.keys(SECTIONS).join(", ")}`);
    process.exitCode = 2;
    return;
  }
  for (const name of names.length > 0 ? names : Object.keys(SECTIONS)) {
    console.log(`\n== ${name} ==`);
    await SECTIONS[name]();
  }
}

await main(process.argv.slice(2));
