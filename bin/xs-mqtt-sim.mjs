#!/usr/bin/env node
// The xs-mqtt-sim package bin: runs the TypeScript simulator CLI (src/platform/node/sim/cli.ts) through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/platform/node/sim/cli.ts", import.meta.url).href);
