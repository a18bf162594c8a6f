// XS side of the harness: turns xsnap's handleCommand(ArrayBuffer) into a JSON command handler with a reply envelope.
// Uses xsnap's TextEncoder/TextDecoder for the JSON transport only; code under test must not rely on them.

declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (): { decode(bytes: Uint8Array): string } };

export type CommandHandler = (command: unknown) => unknown;

interface Envelope {
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}

function toBuffer(envelope: Envelope): ArrayBuffer {
  const bytes = new TextEncoder().encode(JSON.stringify(envelope));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function failure(error: unknown): Envelope {
  const e = error as { name?: unknown; message?: unknown };
  return { ok: false, error: { name: String(e?.name ?? "Error"), message: String(e?.message ?? error) } };
}

/**
 * Installs globalThis.handleCommand. A handler may return a promise: xsnap drains the job queue after each
 * command and then reads `result` from the returned object, so the reply is whatever the promise settled to.
 */
export function serveCommands(handler: CommandHandler): void {
  (globalThis as { handleCommand?: unknown }).handleCommand = (message: ArrayBuffer) => {
    const report: { result?: ArrayBuffer } = {};
    let command: unknown;
    try {
      command = JSON.parse(new TextDecoder().decode(new Uint8Array(message)));
      const value = handler(command);
      if (value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function") {
        (value as Promise<unknown>).then(
          (settled) => { report.result = toBuffer({ ok: true, value: settled }); },
          (error) => { report.result = toBuffer(failure(error)); },
        );
      } else {
        report.result = toBuffer({ ok: true, value });
      }
    } catch (error) {
      report.result = toBuffer(failure(error));
    }
    return report;
  };
}
