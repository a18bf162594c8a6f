// Placeholder for the SDK's `securesocket` so transport.ts loads in the adapter tests. The TLS path and its fake are
// tested by the TLS work (not here): constructing one fails loudly rather than pretending to be TLS.
export default class SecureSocket {
  constructor() {
    throw new Error("SecureSocket is not faked by test/moddable (the TLS tests own it)");
  }
}
