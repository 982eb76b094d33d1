// What a panel has posted to its webview, kept for tests and diagnostics: each message summarised
// by its scalar fields (type, requestId, subject, path, error, message …; results, summaries and
// other objects left out), and only the latest ones, so a long evaluation streaming progress four
// times a second does not grow the log without bound. No vscode: the fast tier tests it.
import type { ChannelMessage } from '../../protocol/channel';

/** How many posted messages a panel keeps. */
export const POSTED_LOG_LIMIT = 200;

/** A posted message as tests see it: its type and its string, number and boolean fields. */
export interface PostedMessage {
  type: string;
  requestId?: number;
  [field: string]: string | number | boolean | undefined;
}

/** The scalar fields of a message (null and object fields are left out). */
export function summarise(message: ChannelMessage): PostedMessage {
  const summary: PostedMessage = { type: message.type };
  for (const [key, value] of Object.entries(message)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      summary[key] = value;
    }
  }
  return summary;
}

/** The summaries of the last `limit` messages posted, oldest first, and how many there were. */
export class PostedLog {
  private readonly kept: PostedMessage[] = [];
  private count = 0;

  constructor(private readonly limit = POSTED_LOG_LIMIT) {}

  /** Records a message as posted (dropping the oldest beyond the limit). */
  add(message: ChannelMessage): void {
    this.count += 1;
    this.kept.push(summarise(message));
    if (this.kept.length > this.limit) this.kept.splice(0, this.kept.length - this.limit);
  }

  /** The kept summaries, oldest first (a copy). */
  entries(): PostedMessage[] {
    return [...this.kept];
  }

  /** How many messages were posted in all, kept or not. */
  get total(): number {
    return this.count;
  }
}
