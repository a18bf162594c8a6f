// Reads this build's board file, which manifest.json bundles as the resource "board.json"; the Device validates it.
import Resource from "Resource";

/** The resource name manifest.json gives the board file of every platform. */
export const BOARD_RESOURCE = "board.json";

/** The parsed JSON of the board file. `file` is its path in the repo ("boards/esp32/nodemcu.json"), for messages. */
export function readBoardFile(file: string): unknown {
  if (!Resource.exists(BOARD_RESOURCE)) {
    throw new Error(`this build has no ${BOARD_RESOURCE}: the manifest's platforms entry for this board must put ${file} in "data"`);
  }
  // XS's native decoder: no per-byte work in JS and no long argument lists on the small device stack.
  const text = String.fromArrayBuffer(new Resource(BOARD_RESOURCE).slice(0));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
