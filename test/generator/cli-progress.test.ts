/**
 * The progress line: only on a terminal, only once a run has taken longer than the delay, and
 * cleared before the summary prints.
 */
import { describe, expect, test } from "@jest/globals";
import { createProgressLine } from "../../generator/cli/progress-line.js";

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe("progress line", () => {
  test("on a terminal, after the delay, shows the phase and count and clears itself", () => {
    const { stream, written } = fakeStream(true);
    const progress = createProgressLine(stream, 0);
    progress.update({ phase: "render", done: 40, total: 100 });
    progress.update({ phase: "write", done: 0, total: 1 });
    progress.stop();
    expect(written).toEqual(["\r\x1b[Krender 40/100…", "\r\x1b[Kwrite…", "\r\x1b[K"]);
  });

  test("prints nothing before the delay has passed", () => {
    const { stream, written } = fakeStream(true);
    const progress = createProgressLine(stream, 60_000);
    progress.update({ phase: "analyze", done: 0, total: 100 });
    progress.stop();
    expect(written).toEqual([]);
  });

  test("prints nothing when the stream is not a terminal (CI logs, pipes)", () => {
    const { stream, written } = fakeStream(false);
    const progress = createProgressLine(stream, 0);
    progress.update({ phase: "analyze", done: 0, total: 100 });
    progress.stop();
    expect(written).toEqual([]);
  });
});
