// The reference CSMS: one HTTP server carrying the REST API (/api) and the OCPP 1.6J
// WebSocket endpoint (ws://HOST:PORT/ocpp/{chargerId}), over a sqlite3 store.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARTY } from './cdrs/cdr.js';
import { Csms } from './core/csms.js';
import { createApi } from './http/app.js';
import { OcppEndpoint } from './ocpp/endpoint.js';
import type { CompletedSessionRow } from './cost-display/running-cost.js';
import { Store, type StoreStats } from './store/store.js';

export interface BackendOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  dbPath: string;
  unknownTagPolicy?: 'reject' | 'accept';
  heartbeatIntervalSec?: number;
  /** Simulated seconds between RunningCost messages to a charger's display (default 300; 0 = none). */
  runningCostIntervalSec?: number;
  /** Base URL drivers reach the back end at, for invoice links on charger displays (default http://HOST:PORT). */
  publicUrl?: string;
  log?: (line: string) => void;
  /** Most units of work committed in one transaction (default 500). */
  maxBatch?: number;
  /**
   * OCPI 2.2.1 endpoints: owner of CDRs and tariffs (default NL / CBX), page size maximum
   * (default 100) and an optional credentials token (default: the CHARGEBENCH_OCPI_TOKEN
   * environment variable; unset = no auth).
   */
  ocpi?: { countryCode?: string; partyId?: string; token?: string | null; maxLimit?: number };
}

export interface Backend {
  port: number;
  host: string;
  /** Group-commit counters (also at GET /api/stats). */
  stats(): StoreStats;
  close(): Promise<void>;
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'chargebench' && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export async function startBackend(opts: BackendOptions): Promise<Backend> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = await Store.open(opts.dbPath, { maxBatch: opts.maxBatch });
  const party = { countryCode: opts.ocpi?.countryCode ?? DEFAULT_PARTY.countryCode, partyId: opts.ocpi?.partyId ?? DEFAULT_PARTY.partyId };
  const ocpiToken = opts.ocpi?.token !== undefined ? opts.ocpi.token : process.env.CHARGEBENCH_OCPI_TOKEN || null;
  let server: Server | undefined;
  try {
    const csms = await Csms.create(store, {
      unknownTagPolicy: opts.unknownTagPolicy ?? 'reject',
      heartbeatIntervalSec: opts.heartbeatIntervalSec ?? 300,
      log,
      party,
    });
    let publicUrl = opts.publicUrl ?? '';
    const ocpp = new OcppEndpoint(csms, log, {
      completedSession: (id) => store.read<CompletedSessionRow>('sessionById', [id]),
      intervalSec: opts.runningCostIntervalSec ?? 300,
      invoiceUrl: (invoiceId) => `${publicUrl}/api/invoices/${invoiceId}.html`,
      log,
    });
    const app = createApi({
      csms,
      store,
      ocpp,
      version: packageVersion(),
      startedAtMs: Date.now(),
      ocpi: { party, token: ocpiToken, maxLimit: opts.ocpi?.maxLimit },
    });
    const srv = createServer({ noDelay: true }, app);
    server = srv;
    srv.on('upgrade', (req, socket: Duplex, head: Buffer) => ocpp.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      // A deep accept queue: a fleet opens thousands of sockets within seconds (capped by net.core.somaxconn).
      srv.listen({ host, port: opts.port ?? 8180, backlog: 4096 }, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const addr = srv.address();
    const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8180);
    if (!publicUrl) publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

    let closing: Promise<void> | null = null;
    return {
      port,
      host,
      stats: () => store.stats(),
      close(): Promise<void> {
        if (!closing) {
          closing = (async () => {
            const httpClosed = new Promise<void>((resolve) => srv.close(() => resolve()));
            // Answer what is in flight (each answer waits for its commit), then hang up.
            await ocpp.close();
            srv.closeIdleConnections();
            // In-flight HTTP requests get a few seconds to finish (their writes commit first).
            const grace = setTimeout(() => srv.closeAllConnections(), 5000);
            await httpClosed;
            clearTimeout(grace);
            await store.close();
          })();
        }
        return closing;
      },
    };
  } catch (err) {
    if (server?.listening) server.close();
    await store.close().catch(() => undefined);
    throw err;
  }
}
