// Moddable network modules: socket, securesocket, net, wifi, sntp (documentation/network/network.md, securesocket.md).

declare module "socket" {
  export interface SocketOptions {
    host?: string;
    address?: string;
    port: number;
    kind?: "TCP";
    noDelay?: boolean;
  }
  export class Socket {
    constructor(options: SocketOptions);
    /** -2 error, -1 disconnected, 1 connected, 2 readable (value: bytes), 3 writable (value: bytes). */
    callback: (message: number, value?: number) => void;
    read(type: typeof ArrayBuffer, until?: number): ArrayBuffer;
    read(): number;
    /** With no argument: bytes that can be written now. With data: all of it is written or it throws. */
    write(): number;
    write(...data: (ArrayBuffer | ArrayBufferView | string | number)[]): void;
    close(): void;
    static readonly connected: 1;
    static readonly readable: 2;
    static readonly writable: 3;
    static readonly disconnected: -1;
    static readonly error: -2;
  }
}

declare module "securesocket" {
  export default class SecureSocket {
    constructor(options: { host?: string; address?: string; port: number; secure?: Record<string, unknown> });
    callback: (message: number, value?: number) => void;
    read(type: typeof ArrayBuffer, until?: number): ArrayBuffer;
    write(): number;
    write(...data: (ArrayBuffer | ArrayBufferView | string | number)[]): void;
    close(): void;
  }
}

declare module "net" {
  const Net: {
    get(property: "IP" | "MAC" | "SSID" | "BSSID", iface?: "station" | "ap" | "ethernet"): string | undefined;
    get(property: "RSSI" | "CHANNEL"): number | undefined;
    resolve(host: string, callback: (name: string, address: string | undefined) => void): void;
  };
  export default Net;
}

declare module "wifi" {
  export type WiFiMessage = "connect" | "gotIP" | "lostIP" | "disconnect" | "station_connect" | "station_disconnect";
  export default class WiFi {
    constructor(options?: { ssid: string; password?: string }, callback?: (message: WiFiMessage) => void);
    close(): void;
    static connect(options?: { ssid: string; password?: string }): void;
    static disconnect(): void;
    static readonly gotIP: "gotIP";
    static readonly lostIP: "lostIP";
    static readonly connected: "connect";
    static readonly disconnected: "disconnect";
  }
}

declare module "sntp" {
  export default class SNTP {
    /** The callback may return another host name after an error to make the client try it next. */
    constructor(options: { host: string }, callback: (message: -1 | 1 | 2, value?: number | string) => string | void);
    static readonly time: 1;
    static readonly retry: 2;
    static readonly error: -1;
  }
}

declare module "http" {
  /** As the SDK's typings/http.d.ts declares it: detach(), connections and a request's socket are not in them. */
  export class Request {
    close(): void;
  }
  export type HTTPServerCallback = (this: Request, message: number, val1?: any, val2?: any) => void | number | boolean | string |
    ArrayBuffer | { status?: number; reason?: string; headers?: string[]; body: true | string | ArrayBuffer };
  export class Server {
    constructor(options?: { port?: number });
    close(): void;
    callback: HTTPServerCallback;
    static readonly connection: 1;
    static readonly status: 2;
    static readonly header: 3;
    static readonly headersComplete: 4;
    static readonly requestFragment: 5;
    static readonly requestComplete: 6;
    static readonly prepareResponse: 8;
    static readonly responseFragment: 9;
    static readonly responseComplete: 10;
    static readonly error: -1;
  }
}
