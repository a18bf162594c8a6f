// Loads this build's board file, which the manifest bundles as the resource "board.json", and validates it.
import Resource from "Resource";
import type { Board } from "../../boards/schema";
import { validateBoard } from "../../boards/validate";

/** The resource name manifest.json gives the board file of every platform. */
export const BOARD_RESOURCE = "board.json";

/** `file` is the board's path in the repo ("boards/esp32/nodemcu.json"), used in error messages and checked against its subplatform. */
export function loadBoard(file: string): Board {
  if (!Resource.exists(BOARD_RESOURCE)) {
    throw new Error(`this build has no ${BOARD_RESOURCE}: the manifest's platforms entry for this board must put ${file} in "data"`);
  }
  // XS's native decoder: no per-byte work in JS, no large argument lists on the small device stack.
  const text = String.fromArrayBuffer(new Resource(BOARD_RESOURCE).slice(0));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validateBoard(data, file);
}
