#!/usr/bin/env node
// The `gatehouse` command. Runs the compiled CLI (npm run build / tsc writes dist/).
import { main } from '../dist/cli/main.js';

await main(process.argv);
