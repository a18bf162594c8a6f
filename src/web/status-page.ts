// The status page's request handling: routes, Basic auth for settings, and the JSON API, over the running firmware.
//
// Routes:
//   GET  /                      the page (one gzipped HTML file with its script and style, from a resource)
//   GET  /status.json[?since=N] live state (status.ts); with since, only samples newer than serial N
//   POST /settings/<command>    interval | deadband | heartbeat: the body is the MQTT command's JSON payload and goes
//                               through the same runCommand (sampler/commands, via the device's command inbox and
//                               its flash-write budget), so both paths validate and limit alike.
//                               Only with config web_password set, Basic auth, content-type application/json.
// Rule: handle() never throws and never blocks: it reads the firmware's state or calls one command, then returns.
// A browser on another site cannot post here with the owner's cached credentials: application/json and the
// x-requested-with header both need a CORS preflight, which this server never grants (OPTIONS is 405).
import type { Firmware } from "../app/firmware";
import type { Logger } from "../ports";
import { BasicAuth, DEFAULT_LOCKOUT, type LockoutPolicy } from "./auth";
import { RecentReadings, DEFAULT_RECENT_CAPACITY } from "./recent";
import { type BodySource, errorResponse, textBody, type WebRequest, type WebResponse } from "./request";
import { statusReport, type StatusExtras } from "./status";

/** The commands the page may run: settings only (read and health stay on MQTT). */
export const WEB_SETTINGS = Object.freeze(["interval", "deadband", "heartbeat"] as const);

export interface StatusPageOptions {
  readonly firmware: Firmware;
  /** The gzipped page (build step: scripts/build-web.mjs). */
  readonly page: BodySource;
  /** config web_password: "" keeps the page read-only. */
  readonly password: string;
  readonly extras: Omit<StatusExtras, "settingsWritable">;
  readonly recentCapacity?: number;
  readonly lockout?: LockoutPolicy;
  readonly logger?: Logger;
}

// Frozen, row by row: a preloaded module's constants then stay in flash on the device (xsl warns otherwise).
const COMMON_HEADERS: readonly (readonly [string, string])[] = Object.freeze([
  Object.freeze(["x-content-type-options", "nosniff"] as const),
  Object.freeze(["x-frame-options", "DENY"] as const),
  Object.freeze(["referrer-policy", "no-referrer"] as const),
]);

export class StatusPage {
  readonly recent: RecentReadings;
  private readonly auth: BasicAuth;
  private readonly writable: boolean;

  /** Starts recording samples: the firmware's sampler tells the ring (one listener: this page's). */
  constructor(private readonly options: StatusPageOptions) {
    const board = options.firmware.device.board;
    this.recent = new RecentReadings(board.sensors.map((s) => ({ id: s.id, channels: s.channels.length })), options.recentCapacity ?? DEFAULT_RECENT_CAPACITY);
    this.writable = options.password !== "";
    this.auth = new BasicAuth(options.password, () => options.firmware.clock.now(), options.lockout ?? DEFAULT_LOCKOUT);
    options.firmware.device.sampler.setSampleListener((sensor, values, uptimeMs) => this.recent.push(sensor, values, uptimeMs));
  }

  /** Answers one complete request. Never throws: an unexpected failure is a 500 that names it. */
  handle(request: WebRequest): WebResponse {
    try {
      return this.route(request);
    } catch (error) {
      this.options.logger?.warn(`status page: ${request.method} ${request.target.slice(0, 64)} failed: ${error instanceof Error ? error.message : String(error)}`);
      return errorResponse(500, "internal error (logged on the device)");
    }
  }

  private route(request: WebRequest): WebResponse {
    const q = request.target.indexOf("?");
    const path = q === -1 ? request.target : request.target.slice(0, q);
    const query = q === -1 ? "" : request.target.slice(q + 1);
    if (path === "/" || path === "/index.html") {
      if (request.method !== "GET") return methodNotAllowed("GET");
      return {
        status: 200,
        headers: [...COMMON_HEADERS, ["content-type", "text/html; charset=utf-8"], ["content-encoding", "gzip"], ["cache-control", "no-cache"]],
        body: this.options.page,
      };
    }
    if (path === "/status.json") {
      if (request.method !== "GET") return methodNotAllowed("GET");
      const since = sinceParameter(query);
      if (since === undefined) return errorResponse(400, "since must be a whole number (the serial of the last sample seen)");
      const report = statusReport(this.options.firmware, this.recent, { ...this.options.extras, settingsWritable: this.writable }, since);
      return json(200, report);
    }
    if (path.startsWith("/settings/")) {
      const name = path.slice("/settings/".length);
      if ((WEB_SETTINGS as readonly string[]).indexOf(name) === -1) return errorResponse(404, `no setting "${name.slice(0, 32)}"; settings: ${WEB_SETTINGS.join(", ")}`);
      if (request.method !== "POST") return methodNotAllowed("POST");
      return this.changeSetting(name, request);
    }
    return errorResponse(404, "not here; the page is at / and its data at /status.json");
  }

  private changeSetting(name: string, request: WebRequest): WebResponse {
    const auth = this.auth.check(request.authorization);
    if (!auth.ok) {
      switch (auth.reason) {
        case "disabled":
          return errorResponse(403, "settings are read-only: the device has no web_password set");
        case "locked":
          return errorResponse(429, `too many wrong passwords; try again in ${Math.ceil(auth.retryAfterMs / 1000)} s`, [["retry-after", String(Math.ceil(auth.retryAfterMs / 1000))]]);
        case "missing":
        case "wrong": {
          // The page's own fetches say x-requested-with: no challenge for them, so the browser shows no login dialog.
          const challenge: (readonly [string, string])[] = request.requestedWith === undefined ? [["www-authenticate", 'Basic realm="xsms settings", charset="UTF-8"']] : [];
          return errorResponse(401, auth.reason === "missing" ? "password needed" : "wrong password", challenge);
        }
      }
    }
    const type = (request.contentType ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") return errorResponse(415, "send the settings as content-type application/json");
    const firmware = this.options.firmware;
    // The device's command inbox runs it: runCommand with the same flash-write budget as the MQTT commands.
    const reply = firmware.device.commands.execute(name, request.body);
    if (reply.ok) this.options.logger?.info(`status page: ${name} changed (${JSON.stringify(reply)})`);
    return json(reply.ok ? 200 : 400, reply);
  }
}

function json(status: number, value: unknown): WebResponse {
  return { status, headers: [...COMMON_HEADERS, ["content-type", "application/json"], ["cache-control", "no-store"]], body: textBody(JSON.stringify(value)) };
}

function methodNotAllowed(allow: string): WebResponse {
  return errorResponse(405, `use ${allow}`, [["allow", allow]]);
}

/** 0 without a since parameter; undefined when it is malformed. Other query parameters are ignored. */
function sinceParameter(query: string): number | undefined {
  if (query === "") return 0;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const key = eq === -1 ? part : part.slice(0, eq);
    if (key !== "since") continue;
    const value = eq === -1 ? "" : part.slice(eq + 1);
    return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  }
  return 0;
}
