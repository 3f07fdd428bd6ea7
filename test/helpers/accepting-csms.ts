// A small in-test CSMS for simulator tests: ocpp-rpc, strict (every frame is schema-checked by an
// independent stack), that accepts everything and logs every call it receives, in arrival order.
import type { AddressInfo } from 'node:net';
import { RPCServer, type RpcClient, type RpcServer } from './rpc-server.js';

/** One call the CSMS received (or an entry a test's hooks add), in arrival order. */
export interface LoggedCall {
  identity: string;
  action: string;
  params: any;
}

export interface AcceptingCsmsOptions {
  /** Wall ms to wait before answering Authorize and StartTransaction (a slow CSMS). */
  answerDelayMs?: number;
  /** Runs for each new connection, before its calls are handled. */
  onClient?: (client: RpcClient, log: LoggedCall[]) => void;
  /** Runs for each call after it is logged, before it is answered. */
  onCall?: (client: RpcClient, method: string) => void;
}

export interface AcceptingCsms {
  server: RpcServer;
  log: LoggedCall[];
  url: string;
}

export async function startAcceptingCsms(opts: AcceptingCsmsOptions = {}): Promise<AcceptingCsms> {
  const log: LoggedCall[] = [];
  let txSeq = 0;
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  server.on('client', (client: RpcClient) => {
    const now = () => new Date().toISOString();
    opts.onClient?.(client, log);
    client.handle(async ({ method, params }) => {
      log.push({ identity: client.identity, action: method, params });
      opts.onCall?.(client, method);
      if (opts.answerDelayMs && (method === 'Authorize' || method === 'StartTransaction')) await new Promise((r) => setTimeout(r, opts.answerDelayMs));
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now(), interval: 3600 };
        case 'Heartbeat':
          return { currentTime: now() };
        case 'Authorize':
          return { idTagInfo: { status: 'Accepted' } };
        case 'StartTransaction':
          return { transactionId: ++txSeq, idTagInfo: { status: 'Accepted' } };
        case 'StopTransaction':
          return { idTagInfo: { status: 'Accepted' } };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  return { server, log, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp` };
}
