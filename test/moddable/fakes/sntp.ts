// Fake of the SDK's `sntp` module (typings/sntp.d.ts, documentation/network/network.md): the callback gets 1 (time,
// with seconds), 2 (retry) or -1 (error); returning a host name after an error makes the client try that host next.
import { sdk } from "./sdk";

export default class SNTP {
  static readonly time = 1;
  static readonly retry = 2;
  static readonly error = -1;
  constructor(options: { host: string }, callback: (message: -1 | 1 | 2, value?: number | string) => string | void) {
    if (sdk().sntpConstructorError !== undefined) throw new Error(sdk().sntpConstructorError);
    sdk().sntp.push({ host: options.host, callback });
  }
}
