// Liveness (the store answers a read) and the back end's counters.
import express from 'express';
import { ping } from '../../store/queries.js';
import type { ApiContext } from '../context.js';

export function healthRoutes(ctx: ApiContext): express.Router {
  const { csms, store, ocpp } = ctx;
  const r = express.Router();
  r.get('/health', async (_req, res) => {
    let db = 'ok';
    try {
      await ping(store);
    } catch {
      db = 'error';
    }
    res.status(db === 'ok' ? 200 : 503).json({
      status: db === 'ok' ? 'ok' : 'degraded',
      db,
      uptimeSec: Math.round((Date.now() - ctx.startedAtMs) / 1000),
      version: ctx.version,
    });
  });

  r.get('/stats', (_req, res) => {
    res.json({
      store: store.stats(),
      connections: ocpp.connectionCount(),
      refusedUpgrades: { ...ocpp.refusedUpgrades },
      activeSessions: csms.activeSessionCount(),
    });
  });
  return r;
}
