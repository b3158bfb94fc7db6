#!/usr/bin/env node
// The `asymgen` bin. A source file, not the compiled cli.js itself: npm links a workspace's bin
// at install time, before `prepare` has built dist/, and skips a bin whose file is missing.
import "../dist/generator/cli.js";
