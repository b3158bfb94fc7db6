/**
 * The `node` entry of "asymgen" (package.json's "node" and "default" conditions): installs the
 * Node platform before anything can open a queue or send a request, then exports the API.
 */
import { installPlatform } from "../platform/platform.js";
import { nodePlatform } from "./node-platform.js";

installPlatform(nodePlatform);

export * from "../exports.js";
