/**
 * The Node `UserStore`: an app's users in `users.json` under its `baseFilePath` (user-file.ts
 * holds the file format and its atomic replacement).
 */
import * as path from "node:path";
import type { UserStore } from "../app/user-store.js";
import { readUserFile, writeUserFile } from "./user-file.js";

/** The user store of app `appId`: the directory `baseFilePath`, by default `./asymgen-data/app-<appId>/`, resolved once. */
export function openNodeUserStore(appId: string, baseFilePath: string | undefined): UserStore {
  const directory = path.resolve(baseFilePath ?? path.join("asymgen-data", `app-${appId}`));
  return {
    location: directory,
    read: () => readUserFile(directory),
    write: (users) => writeUserFile(directory, users),
  };
}
