// Fake of the SDK's `http` module, server side only (typings/http.d.ts; documentation/network/network.md, HTTP Server):
// `new Server({port})` listens (default port 80); the adapter installs `callback`; close() stops listening. Only the
// listening is modelled: requests are not (web/ has its own tests of the page and its limits). A second server on a
// port already open throws "bind socket failed", as the lin listener (socket/lin/modSocket.c) does.
import { sdk, type FakeHttpServer } from "./sdk";

export class Request {
  close(): void {
    throw new Error("fake http: requests are not modelled");
  }
}

export class Server {
  static readonly connection = 1;
  static readonly status = 2;
  static readonly header = 3;
  static readonly headersComplete = 4;
  static readonly requestFragment = 5;
  static readonly requestComplete = 6;
  static readonly prepareResponse = 8;
  static readonly responseFragment = 9;
  static readonly responseComplete = 10;
  static readonly error = -1;
  private readonly state: FakeHttpServer;

  constructor(options: { port?: number } = {}) {
    const port = options.port ?? 80;
    if (sdk().httpServers.some((s) => !s.closed && s.port === port)) throw new Error("bind socket failed");
    this.state = { port, callback: undefined, closed: false };
    sdk().httpServers.push(this.state);
  }

  get callback(): FakeHttpServer["callback"] {
    return this.state.callback;
  }

  set callback(callback: FakeHttpServer["callback"]) {
    this.state.callback = callback;
  }

  close(): void {
    this.state.closed = true;
  }
}
