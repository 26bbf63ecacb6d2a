#!/usr/bin/env node
import { main } from './run.js';
import { EXIT } from './exit.js';

const code = await main(process.argv);
// `evident server` keeps running; every other command ends here.
if (code !== EXIT.OK || !process.argv.includes('server')) process.exitCode = code;
