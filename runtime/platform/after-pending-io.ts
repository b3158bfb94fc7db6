/**
 * Runs a callback once the current turn of the event loop is over and pending I/O has been
 * handled: Node's `setImmediate` (after I/O callbacks, so answers that arrived and transactions
 * committed in them come first). Browsers have no `setImmediate`: there a message posted to
 * ourselves on a MessageChannel, which runs after the messages already waiting (in a queue
 * worker, the transactions the tabs sent meanwhile, so that they share the group flush) and at
 * once when none is. A zero timeout is slower: in a Chromium worker (150, a loaded 2-core
 * machine) 0.1–0.2 ms a hop from a message's task against 0.01–0.05 ms for the message, and
 * 4.6 ms once timeouts chain more than five deep (each scheduled from the previous one's task,
 * as a flush scheduling the next from its callback would: the HTML clamp). Hosts with neither
 * get the zero timeout.
 */
type Schedule = (callback: () => void) => void;

interface Port {
  postMessage(message: null): void;
  onmessage: (() => void) | null;
}
type MessageChannelClass = new () => { port1: Port; port2: Port };

const setImmediateIfAny = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
const MessageChannelIfAny = (globalThis as { MessageChannel?: MessageChannelClass }).MessageChannel;

/** A `Schedule` on a MessageChannel of its own, made at the first call (a page that never flushes makes none). */
function onMessageChannel(Channel: MessageChannelClass): Schedule {
  let send: Port | null = null;
  const callbacks: (() => void)[] = [];
  return (callback) => {
    if (send === null) {
      const channel = new Channel();
      // One message per callback, in order: each runs in a task of its own, as setImmediate's do.
      channel.port1.onmessage = () => callbacks.shift()?.();
      send = channel.port2;
    }
    callbacks.push(callback);
    send.postMessage(null);
  };
}

export const afterPendingIo: Schedule =
  typeof setImmediateIfAny === "function"
    ? (callback) => void setImmediateIfAny(callback)
    : typeof MessageChannelIfAny === "function"
      ? onMessageChannel(MessageChannelIfAny)
      : (callback) => void setTimeout(callback, 0);
