// Runs stop pricing on a thread of its own. At 1,000 stops/s, pricing, the CDR and their JSON
// were about a quarter of the OCPP thread's time; on their own thread they no longer delay
// the other messages that thread answers. A pricing thread that dies is replaced on the next
// stop; the stops it held fail (and are answered InternalError, so the charger retries).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PricingReply, PricingRequest } from './stop-pricing-thread.js';
import { priceStop, type StopPricing, type StopPricingInput, type TariffForms } from './stop-pricing.js';

export interface StopPricer {
  /** input.tariffVid names a version tariffOf knows; an unknown one is priced as no tariff. */
  price(input: StopPricingInput): Promise<StopPricing>;
  close(): Promise<void>;
}

export type TariffLookup = (vid: number) => TariffForms | null;

/** Prices on the calling thread (tests that compare with the thread, tools). */
export function inlinePricer(tariffOf: TariffLookup): StopPricer {
  return {
    price: async (input) => priceStop(input, input.tariffVid === null ? null : tariffOf(input.tariffVid)),
    close: async () => undefined,
  };
}

interface Waiting {
  resolve: (p: StopPricing) => void;
  reject: (err: Error) => void;
}

export class ThreadPricer implements StopPricer {
  private worker: Worker | null = null;
  /** Tariff versions the current thread holds. */
  private sent = new Set<number>();
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private closed = false;

  constructor(private readonly tariffOf: TariffLookup) {}

  price(input: StopPricingInput): Promise<StopPricing> {
    if (this.closed) return Promise.reject(new Error('the pricing thread is closed'));
    const worker = this.worker ?? this.start();
    const tariffs: Array<[number, TariffForms]> = [];
    let tariffVid = input.tariffVid;
    if (tariffVid !== null && !this.sent.has(tariffVid)) {
      const forms = this.tariffOf(tariffVid);
      if (forms) {
        tariffs.push([tariffVid, forms]);
        this.sent.add(tariffVid);
      } else tariffVid = null;
    }
    const id = ++this.seq;
    const req: PricingRequest = { id, input: tariffVid === input.tariffVid ? input : { ...input, tariffVid }, tariffs };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('the pricing thread was closed'));
  }

  private start(): Worker {
    const w = new Worker(new URL(pricingThreadFile()));
    // Never what keeps the process alive: the OCPP server is.
    w.unref();
    w.on('message', (r: PricingReply) => {
      const wait = this.waiting.get(r.id);
      if (!wait) return;
      this.waiting.delete(r.id);
      if ('error' in r) wait.reject(new Error(`pricing failed: ${r.error}`));
      else wait.resolve(r.pricing);
    });
    const gone = (err: Error): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.sent = new Set();
      this.failAll(err);
    };
    w.on('error', (err) => gone(new Error(`the pricing thread failed: ${err.message}`)));
    w.on('exit', (code) => gone(new Error(`the pricing thread exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(err);
  }
}

/** The compiled thread file: next to this module (dist/), else <package root>/dist/backend/ (source run by vitest/tsx). */
function pricingThreadFile(): string {
  const here = fileURLToPath(new URL('./stop-pricing-thread.js', import.meta.url));
  if (existsSync(here)) return pathToFileURL(here).href;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the package root to locate dist/backend/stop-pricing-thread.js');
    dir = up;
  }
  const built = path.join(dir, 'dist', 'backend', 'stop-pricing-thread.js');
  if (!existsSync(built)) throw new Error(`${built} is missing; build first with 'npm run build'`);
  return pathToFileURL(built).href;
}
