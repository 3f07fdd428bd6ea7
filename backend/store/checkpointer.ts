// WAL checkpoints off the commit path. SQLite's automatic checkpoint runs inside the COMMIT
// that crosses the threshold: that commit copies about a thousand pages into the database file
// and waits for two fsyncs, and every message waiting on it (each is answered only once it is
// committed) waits too. Here a connection of its own runs PASSIVE checkpoints on a timer; WAL
// lets the writer go on appending meanwhile. The writer keeps a much higher automatic
// threshold as a backstop, should this connection fall behind.
import { Db } from './db.js';

/** Pages in the WAL after which the writer checkpoints by itself (about 80 MB with 4 KB pages). */
export const WRITER_CHECKPOINT_BACKSTOP_PAGES = 20_000;

export interface CheckpointStats {
  /** Checkpoints run by this connection. */
  runs: number;
  /** Frames in the WAL at the last checkpoint, and how many of them were in the database file after it. */
  walFrames: number;
  walFramesCheckpointed: number;
  /** Checkpoints that failed (the next tick tries again). */
  failures: number;
}

export class Checkpointer {
  readonly stats: CheckpointStats = { runs: 0, walFrames: 0, walFramesCheckpointed: 0, failures: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  private constructor(private readonly db: Db) {}

  static async start(path: string, intervalMs = 250): Promise<Checkpointer> {
    const db = await Db.open(path);
    db.raw.configure('busyTimeout', 1000);
    const c = new Checkpointer(db);
    c.timer = setInterval(() => void c.checkpoint(), intervalMs);
    c.timer.unref();
    return c;
  }

  /** One PASSIVE checkpoint now, unless one is under way (then that one). */
  checkpoint(): Promise<void> {
    this.running ??= this.db
      .get<{ busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)')
      .then(
        (row) => {
          this.stats.runs++;
          this.stats.walFrames = row?.log ?? 0;
          this.stats.walFramesCheckpointed = row?.checkpointed ?? 0;
        },
        () => {
          this.stats.failures++;
        },
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.db.close();
  }
}
